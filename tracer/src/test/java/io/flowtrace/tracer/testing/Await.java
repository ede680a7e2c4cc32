package io.flowtrace.tracer.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Polls a condition until it holds or a deadline passes; tests never sleep a fixed time. */
public final class Await {
  public static final Duration DEFAULT = Duration.ofSeconds(30);

  private Await() {}

  public static void until(BooleanSupplier condition, Supplier<String> whatWasSeen) {
    until(DEFAULT, condition, whatWasSeen);
  }

  public static void until(Duration timeout, BooleanSupplier condition, Supplier<String> whatWasSeen) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("Condition not met within " + timeout + "; saw " + whatWasSeen.get());
      }
      Thread.onSpinWait();
      try {
        Thread.sleep(20); // poll interval, not a wait for an outcome
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("Interrupted while waiting", e);
      }
    }
  }
}
