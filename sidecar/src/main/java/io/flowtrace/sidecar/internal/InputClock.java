package io.flowtrace.sidecar.internal;

import io.flowtrace.tracer.model.Telemetry;
import java.util.ArrayDeque;
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
 * <p>A caught-up partition whose records have lately been arriving late — a producer running
 * behind, its records stamped when it meant to send them, seconds before it could — holds the
 * watermark that far behind the wall clock (the median delay of its last few batches, forgotten
 * after 30 s; delays over two minutes are a backlog, read as such), so instances are not decided
 * at their grace or deadline while their records are still on their way.
 *
 * <p>A behind partition with no event processed yet holds the watermark where it was. Engine
 * thread only.
 */
public final class InputClock {

  /** Not yet known: do not advance. */
  public static final long UNKNOWN = Long.MIN_VALUE;
  /** Records stamped longer ago than this are a backlog (read as one), not a producer running behind. */
  static final long MAX_PRODUCER_DELAY_NANOS = 120_000_000_000L;
  static final int DELAY_SAMPLES = 9;
  static final long DELAY_MEMORY_MILLIS = 30_000;

  private final Map<TopicPartition, Long> processedEnd = new HashMap<>();
  private final Map<TopicPartition, Long> processedTime = new HashMap<>();
  /** Per partition, its last batches' arrival (epoch nanos) and how long after its newest record's time that was. */
  private final Map<TopicPartition, ArrayDeque<long[]>> delays = new HashMap<>();
  private long last = UNKNOWN;

  /** Records that a batch was processed: its partitions' next offsets and its latest event time. */
  public void processed(Batch batch) {
    if (batch.endOffsets().isEmpty()) {
      return;
    }
    long latest = UNKNOWN;
    long latestRecord = UNKNOWN;
    for (Telemetry t : batch.items()) {
      latest = Math.max(latest, t.arrivalEpochNanos());
      if (t instanceof Telemetry.RecordEvent) {
        latestRecord = Math.max(latestRecord, t.arrivalEpochNanos());
      }
    }
    processed(batch.endOffsets(), latest);
    if (latestRecord != UNKNOWN) {
      long arrived = batch.arrivalMillis() * 1_000_000L;
      long delay = Math.max(0, arrived - latestRecord); // a producer's clock ahead is no delay
      if (delay <= MAX_PRODUCER_DELAY_NANOS) {
        for (TopicPartition tp : batch.endOffsets().keySet()) {
          delays.computeIfAbsent(tp, k -> new ArrayDeque<>()).addLast(new long[] {arrived, delay});
          while (delays.get(tp).size() > DELAY_SAMPLES) {
            delays.get(tp).pollFirst();
          }
        }
      }
    }
  }

  /**
   * How late the partition's records have been arriving lately (the median of its last few batches,
   * within {@value #DELAY_MEMORY_MILLIS} ms): a producer that is behind writes records stamped
   * seconds before they reach the broker.
   */
  private long producerDelay(TopicPartition tp, long nowNanos) {
    ArrayDeque<long[]> recent = delays.get(tp);
    if (recent == null) {
      return 0;
    }
    while (!recent.isEmpty() && nowNanos - recent.peekFirst()[0] > DELAY_MEMORY_MILLIS * 1_000_000L) {
      recent.pollFirst();
    }
    if (recent.isEmpty()) {
      delays.remove(tp);
      return 0;
    }
    long[] sorted = new long[recent.size()];
    int i = 0;
    for (long[] d : recent) {
      sorted[i++] = d[1];
    }
    java.util.Arrays.sort(sorted);
    return sorted[sorted.length / 2];
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

  /** The offset after the last record of the partition processed, or -1 when none was. */
  public long processedEnd(TopicPartition partition) {
    return processedEnd.getOrDefault(partition, -1L);
  }

  /** Forgets partitions another owner reads now. */
  public void revoked(Collection<TopicPartition> partitions) {
    partitions.forEach(tp -> {
      processedEnd.remove(tp);
      processedTime.remove(tp);
      delays.remove(tp);
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
    long held = heldAt(nowNanos, inputs);
    if (held == UNKNOWN) {
      return last;
    }
    last = Math.max(last, Math.min(held, receiversHeldAt));
    return last;
  }

  /**
   * Where the inputs hold the clock now, in epoch nanoseconds, regardless of where it was before:
   * the wall clock, or less where a partition is behind or its producer is; {@link #UNKNOWN} while a
   * partition is behind with nothing of it processed yet. A router's progress marks say this, so a
   * partition it takes over behind the others holds the engines back.
   */
  public long heldAt(long nowNanos, Map<TopicPartition, KafkaInput.Progress> inputs) {
    long held = nowNanos;
    for (Map.Entry<TopicPartition, KafkaInput.Progress> e : inputs.entrySet()) {
      KafkaInput.Progress read = e.getValue();
      long done = processedEnd.getOrDefault(e.getKey(), -1L);
      boolean behind = read.lag() != 0 || done < read.readEnd();
      if (!behind) {
        held = Math.min(held, nowNanos - producerDelay(e.getKey(), nowNanos));
        continue;
      }
      Long time = processedTime.get(e.getKey());
      if (time == null) {
        return UNKNOWN;
      }
      held = Math.min(held, time);
    }
    return held;
  }
}
