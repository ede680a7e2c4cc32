package io.flowtrace.kafka.testkit;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Polls a condition until it holds or a deadline passes, so tests never sleep a fixed time. */
public final class Await {

  /** The timeout of {@link #until(BooleanSupplier, Supplier)}: 30 s. */
  public static final Duration DEFAULT = Duration.ofSeconds(30);

  private Await() {}

  /** Waits up to {@link #DEFAULT}. */
  public static void until(BooleanSupplier condition, Supplier<String> whatWasSeen) {
    until(DEFAULT, condition, whatWasSeen);
  }

  /**
   * Polls {@code condition} every 20 ms until it is true.
   *
   * @throws AssertionError after {@code timeout}, with {@code whatWasSeen}
   */
  public static void until(Duration timeout, BooleanSupplier condition, Supplier<String> whatWasSeen) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("Condition not met within " + timeout + "; saw " + whatWasSeen.get());
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
      if (Thread.interrupted()) {
        Thread.currentThread().interrupt();
        throw new AssertionError("Interrupted while waiting");
      }
    }
  }

  /**
   * Polls {@code condition} every 20 ms for the whole of {@code period}: what must not happen
   * (a verdict while its data is held back) is checked throughout, and fails at once when it does.
   *
   * @throws AssertionError the first time the condition is false, with {@code whatWasSeen}
   */
  public static void during(Duration period, BooleanSupplier condition, Supplier<String> whatWasSeen) {
    long end = System.nanoTime() + period.toNanos();
    while (System.nanoTime() < end) {
      if (!condition.getAsBoolean()) {
        throw new AssertionError("Condition broken within " + period + "; saw " + whatWasSeen.get());
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
      if (Thread.interrupted()) {
        Thread.currentThread().interrupt();
        throw new AssertionError("Interrupted while watching");
      }
    }
  }
}
