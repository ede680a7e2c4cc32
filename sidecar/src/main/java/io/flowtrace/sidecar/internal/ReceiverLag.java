package io.flowtrace.sidecar.internal;

import io.flowtrace.tracer.model.Telemetry;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * Whether the engine is behind its OTLP receivers, and if so how far it has got in event time.
 * {@link InputClock} tells this of Kafka partitions from their lag; spans sent over OTLP have no
 * offsets, so it is told here from what waits: spans the receivers acknowledged that the engine has
 * not processed (in their queue, or in the engine's inbox) for more than {@value #BEHIND_MILLIS} ms,
 * or requests the receivers refused (429/503) in the last {@value #QUIET_MILLIS} ms — those spans
 * are still in the exporters, to be sent again.
 *
 * <p>While behind, the watermark stays at the latest event time the engine processed from the
 * receivers ({@link #heldAt}), so instances whose spans wait are not decided without them (as the
 * exporters send in order, what waits ended after that); and the Kafka input hands over no record
 * more than a slack later than that ({@link #kafkaUpTo}), so records do not run ahead of their spans
 * and pile up as open instances: the records wait on the broker (lag) instead of in the heap.
 *
 * <p>{@link #handedOver} and {@link #withdrawn} are called on the receivers' queue thread; the rest
 * on the engine thread, except {@link #kafkaUpTo} (any thread).
 */
public final class ReceiverLag {

  /** What {@link #heldAt} says when the receivers are not behind. */
  public static final long NOT_BEHIND = Long.MAX_VALUE;
  /** Spans acknowledged longer ago than this and not yet processed mean the engine is behind: 1 s. */
  public static final long BEHIND_MILLIS = 1000;
  /** After a refusal, the receivers count as behind until they have refused nothing for this long: 5 s. */
  public static final long QUIET_MILLIS = 5000;

  private record Received(Batch batch, long receivedEpochNanos) {}

  private final ConcurrentLinkedQueue<Received> inInbox = new ConcurrentLinkedQueue<>();
  private final long slackNanos;
  private long processedTo = InputClock.UNKNOWN;
  private long refusedSeen;
  private long lastRefusalNanos = Long.MIN_VALUE;
  private volatile long kafkaUpTo = Long.MAX_VALUE;

  /** @param slackNanos how far Kafka records may run ahead of the spans processed while behind */
  public ReceiverLag(long slackNanos) {
    this.slackNanos = slackNanos;
  }

  /** A batch the receivers acknowledged at {@code receivedEpochNanos} is about to enter the inbox. */
  public void handedOver(Batch batch, long receivedEpochNanos) {
    inInbox.add(new Received(batch, receivedEpochNanos));
  }

  /** A batch announced by {@link #handedOver} did not enter the inbox after all. */
  public void withdrawn(Batch batch) {
    inInbox.removeIf(r -> r.batch() == batch);
  }

  /** The engine processed {@code batch}: if it came from the receivers, its event times count. */
  public void processed(Batch batch) {
    Received head = inInbox.peek();
    if (head == null || head.batch() != batch) {
      return;
    }
    inInbox.poll();
    for (Telemetry t : batch.items()) {
      processedTo = Math.max(processedTo, t.arrivalEpochNanos());
    }
  }

  /**
   * Where the receivers hold the watermark: {@link #NOT_BEHIND}, or the latest event time processed
   * from them ({@link InputClock#UNKNOWN} when none yet). Also sets {@link #kafkaUpTo}.
   *
   * @param nowEpochNanos the wall clock
   * @param oldestQueuedEpochNanos when the oldest span still in the receivers' queue was acknowledged
   * @param refusedTotal requests the receivers refused as overloaded so far
   */
  public long heldAt(long nowEpochNanos, long oldestQueuedEpochNanos, long refusedTotal) {
    if (refusedTotal != refusedSeen) {
      refusedSeen = refusedTotal;
      lastRefusalNanos = nowEpochNanos;
    }
    Received head = inInbox.peek();
    long oldest = Math.min(oldestQueuedEpochNanos, head == null ? Long.MAX_VALUE : head.receivedEpochNanos());
    boolean behind = oldest != Long.MAX_VALUE && nowEpochNanos - oldest > TimeUnit.MILLISECONDS.toNanos(BEHIND_MILLIS)
        || lastRefusalNanos != Long.MIN_VALUE
            && nowEpochNanos - lastRefusalNanos < TimeUnit.MILLISECONDS.toNanos(QUIET_MILLIS);
    long held = behind ? processedTo : NOT_BEHIND;
    kafkaUpTo = held == NOT_BEHIND ? Long.MAX_VALUE : held == InputClock.UNKNOWN ? Long.MIN_VALUE : held + slackNanos;
    return held;
  }

  /** The latest event time a Kafka record handed to the engine now may have ({@link Long#MAX_VALUE}: any). */
  public long kafkaUpTo() {
    return kafkaUpTo;
  }
}
