package io.flowtrace.sidecar.internal;

import io.flowtrace.tracer.model.Telemetry;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * The sidecar's watermark: the time up to which everything its Kafka inputs hold has been
 * processed. Live, every partition is caught up and the watermark is the wall clock. While a
 * partition is behind — records left to read (lag), or read but not yet processed — the watermark
 * stays at the event time that partition has been processed to. So a backlog (after a restart or
 * an outage, or while a traffic spike is worked off) is judged as a replay would judge it: its
 * instances are not decided before their later events are read, and those events are not "late".
 *
 * <p>A behind partition with no event processed yet holds the watermark where it was. Engine
 * thread only.
 */
public final class InputClock {

  /** Not yet known: do not advance. */
  public static final long UNKNOWN = Long.MIN_VALUE;

  private final Map<TopicPartition, Long> processedEnd = new HashMap<>();
  private final Map<TopicPartition, Long> processedTime = new HashMap<>();
  private long last = UNKNOWN;

  /** Records that a batch was processed: its partitions' next offsets and its latest event time. */
  public void processed(Batch batch) {
    if (batch.endOffsets().isEmpty()) {
      return;
    }
    long latest = UNKNOWN;
    for (Telemetry t : batch.items()) {
      latest = Math.max(latest, t.arrivalEpochNanos());
    }
    processed(batch.endOffsets(), latest);
  }

  /** As {@link #processed(Batch)}, given the batch's next offsets and latest event time ({@link #UNKNOWN}: none). */
  public void processed(Map<TopicPartition, Long> endOffsets, long latest) {
    for (Map.Entry<TopicPartition, Long> e : endOffsets.entrySet()) {
      processedEnd.merge(e.getKey(), e.getValue(), Math::max);
      if (latest != UNKNOWN) {
        processedTime.merge(e.getKey(), latest, Math::max);
      }
    }
  }

  /** Forgets partitions another owner reads now. */
  public void revoked(Collection<TopicPartition> partitions) {
    partitions.forEach(tp -> {
      processedEnd.remove(tp);
      processedTime.remove(tp);
    });
  }

  /**
   * The watermark in epoch nanoseconds, never lower than before; {@link #UNKNOWN} until it can be
   * told.
   *
   * @param nowNanos the wall clock
   * @param inputs what the Kafka inputs report of each partition they own
   */
  public long watermark(long nowNanos, Map<TopicPartition, KafkaInput.Progress> inputs) {
    return watermark(nowNanos, inputs, ReceiverLag.NOT_BEHIND);
  }

  /**
   * As {@link #watermark(long, Map)}, held at {@code receiversHeldAt} as well: where the OTLP
   * receivers, when behind, hold it ({@link ReceiverLag#heldAt}; {@link ReceiverLag#NOT_BEHIND}
   * when they are not, {@link #UNKNOWN} when behind with nothing processed yet).
   */
  public long watermark(long nowNanos, Map<TopicPartition, KafkaInput.Progress> inputs, long receiversHeldAt) {
    if (receiversHeldAt == UNKNOWN) {
      return last;
    }
    long watermark = Math.min(nowNanos, receiversHeldAt);
    for (Map.Entry<TopicPartition, KafkaInput.Progress> e : inputs.entrySet()) {
      KafkaInput.Progress read = e.getValue();
      long done = processedEnd.getOrDefault(e.getKey(), -1L);
      boolean behind = read.lag() != 0 || done < read.readEnd();
      if (!behind) {
        continue;
      }
      Long time = processedTime.get(e.getKey());
      if (time == null) {
        return last;
      }
      watermark = Math.min(watermark, time);
    }
    last = Math.max(last, watermark);
    return last;
  }
}
