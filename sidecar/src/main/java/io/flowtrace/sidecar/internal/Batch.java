package io.flowtrace.sidecar.internal;

import io.flowtrace.tracer.model.Telemetry;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.TopicPartition;

/**
 * What the engine thread takes from its inbox, in order: telemetry, with where it came from — for
 * Kafka input the next offset per partition once it is processed ({@code endOffsets}, empty for
 * OTLP receivers), the partition it came from when it is one ({@code source}, else -1) and when it
 * arrived — or, with {@code revoked} set, word that those partitions now belong to another sidecar
 * ({@code done} counts down once the engine acted on it).
 */
public record Batch(List<Telemetry> items, Map<TopicPartition, Long> endOffsets, int source, long arrivalNanos,
    long arrivalMillis, Set<TopicPartition> revoked, CountDownLatch done) {

  public Batch {
    items = List.copyOf(items);
    endOffsets = Map.copyOf(endOffsets);
    revoked = revoked == null ? null : Set.copyOf(revoked);
  }

  public static Batch of(List<? extends Telemetry> items, Map<TopicPartition, Long> endOffsets) {
    return of(items, endOffsets, -1);
  }

  public static Batch of(List<? extends Telemetry> items, Map<TopicPartition, Long> endOffsets, int source) {
    return new Batch(List.copyOf(items), endOffsets, source, System.nanoTime(), System.currentTimeMillis(), null, null);
  }

  /** Word that these partitions were revoked; queued behind everything read from them. */
  public static Batch revocation(Collection<TopicPartition> partitions) {
    return new Batch(List.of(), Map.of(), -1, System.nanoTime(), System.currentTimeMillis(), Set.copyOf(partitions),
        new CountDownLatch(1));
  }

  public boolean isRevocation() {
    return revoked != null;
  }
}
