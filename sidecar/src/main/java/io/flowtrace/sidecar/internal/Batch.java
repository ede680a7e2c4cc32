package io.flowtrace.sidecar.internal;

import io.flowtrace.tracer.model.Telemetry;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * Telemetry handed to the engine thread in one piece, with where it came from: for Kafka input the
 * next offset per partition once the batch is processed ({@code endOffsets}, empty for OTLP
 * receivers), and when it arrived (monotonic nanos and wall-clock millis).
 */
public record Batch(List<Telemetry> items, Map<TopicPartition, Long> endOffsets, long arrivalNanos,
    long arrivalMillis) {

  public Batch {
    items = List.copyOf(items);
    endOffsets = Map.copyOf(endOffsets);
  }

  public static Batch of(List<? extends Telemetry> items, Map<TopicPartition, Long> endOffsets) {
    return new Batch(List.copyOf(items), endOffsets, System.nanoTime(), System.currentTimeMillis());
  }
}
