package io.flowtrace.tracer.receiver;

import static java.util.Objects.requireNonNull;

import io.flowtrace.tracer.model.Telemetry;
import java.util.List;

/**
 * Where received telemetry goes. {@link BoundedTelemetryQueue} calls a sink from its one consumer
 * thread, so an implementation need not be thread-safe for that use; it may block, which is how a
 * slow downstream pushes back on the receivers (they refuse requests once the queue is full).
 */
@FunctionalInterface
public interface TelemetrySink {

  /** Takes one span or record. */
  void accept(Telemetry telemetry);

  /** Takes a batch, in order. Defaults to {@link #accept} for each. */
  default void acceptAll(List<? extends Telemetry> batch) {
    for (Telemetry telemetry : batch) {
      accept(telemetry);
    }
  }

  /**
   * Takes a batch that a queue held since {@code receivedEpochNanos} (when a receiver acknowledged
   * it), e.g. to tell how far behind the receivers the sink is. Defaults to {@link #acceptAll(List)}.
   */
  default void acceptAll(List<? extends Telemetry> batch, long receivedEpochNanos) {
    acceptAll(batch);
  }

  /** A sink that hands everything to each of {@code sinks} in turn. */
  static TelemetrySink composite(TelemetrySink... sinks) {
    List<TelemetrySink> all = List.of(sinks);
    if (all.size() == 1) {
      return all.get(0);
    }
    return new TelemetrySink() {
      @Override
      public void accept(Telemetry telemetry) {
        for (TelemetrySink sink : all) {
          sink.accept(telemetry);
        }
      }

      @Override
      public void acceptAll(List<? extends Telemetry> batch) {
        for (TelemetrySink sink : all) {
          sink.acceptAll(batch);
        }
      }
    };
  }

  /** A sink that discards everything. */
  static TelemetrySink noop() {
    return telemetry -> requireNonNull(telemetry, "telemetry");
  }
}
