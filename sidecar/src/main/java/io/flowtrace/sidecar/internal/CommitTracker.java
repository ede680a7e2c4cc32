package io.flowtrace.sidecar.internal;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * Which input offsets are safe to commit. A consumed message is held for {@code holdMillis} after
 * it arrived — long enough that every instance it can belong to has been decided (deadline +
 * completion grace + lateness) — and released then; the caller flushes its verdict outputs before
 * committing what {@link #releasable} returns. After a crash, what was not committed is read again,
 * and instances whose verdicts were already written are recognised from those verdicts.
 * Not thread-safe: the engine thread owns it.
 */
public final class CommitTracker {

  private record Mark(long endOffset, long arrivalMillis) {}

  private final long holdMillis;
  private final Map<TopicPartition, ArrayDeque<Mark>> held = new HashMap<>();
  private final Map<TopicPartition, Long> consumed = new HashMap<>();

  public CommitTracker(long holdMillis) {
    this.holdMillis = holdMillis;
  }

  /** How long a consumed message is held. */
  public long holdMillis() {
    return holdMillis;
  }

  /** Records that everything below {@code endOffsets} of each partition was consumed at {@code arrivalMillis}. */
  public void consumed(Map<TopicPartition, Long> endOffsets, long arrivalMillis) {
    endOffsets.forEach((tp, end) -> {
      ArrayDeque<Mark> marks = held.computeIfAbsent(tp, t -> new ArrayDeque<>());
      Mark last = marks.peekLast();
      if (last != null && last.arrivalMillis() == arrivalMillis) {
        marks.pollLast();
      }
      marks.addLast(new Mark(end, arrivalMillis));
      consumed.merge(tp, end, Math::max);
    });
  }

  /** The offsets to commit now (only partitions that moved), releasing what was held long enough. */
  public Map<TopicPartition, Long> releasable(long nowMillis) {
    Map<TopicPartition, Long> out = new HashMap<>();
    held.forEach((tp, marks) -> {
      Long commit = null;
      while (!marks.isEmpty() && marks.peekFirst().arrivalMillis() + holdMillis <= nowMillis) {
        commit = marks.pollFirst().endOffset();
      }
      if (commit != null) {
        out.put(tp, commit);
      }
    });
    return out;
  }

  /** Every consumed offset (when all instances were decided, as at a draining shutdown). */
  public Map<TopicPartition, Long> all() {
    held.clear();
    return Map.copyOf(consumed);
  }

  /** Forgets partitions this sidecar no longer owns. */
  public void revoked(java.util.Collection<TopicPartition> partitions) {
    partitions.forEach(tp -> {
      held.remove(tp);
      consumed.remove(tp);
    });
  }

  /** Messages held, over all partitions (a gauge). */
  public int heldMarks() {
    int n = 0;
    for (ArrayDeque<Mark> m : held.values()) {
      n += m.size();
    }
    return n;
  }
}
