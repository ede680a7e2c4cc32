package io.flowtrace.tracer.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** The tracer tests' name for {@link io.flowtrace.kafka.testkit.Await}. */
public final class Await {
  public static final Duration DEFAULT = io.flowtrace.kafka.testkit.Await.DEFAULT;

  private Await() {}

  public static void until(BooleanSupplier condition, Supplier<String> whatWasSeen) {
    io.flowtrace.kafka.testkit.Await.until(condition, whatWasSeen);
  }

  public static void until(Duration timeout, BooleanSupplier condition, Supplier<String> whatWasSeen) {
    io.flowtrace.kafka.testkit.Await.until(timeout, condition, whatWasSeen);
  }
}
