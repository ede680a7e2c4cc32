package io.flowtrace.tracer.tap;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;

/**
 * What {@link KafkaTap} and {@link OtlpSpansTopicSource} share: where a fresh partition starts and
 * the offsets a caller asked to commit. Package-private: not API.
 */
final class ConsumerSupport {

  private ConsumerSupport() {}

  /**
   * Positions partitions the consumer has not read before: at the group's committed offset when
   * {@code resumeFromCommitted} and there is one, else at {@code start}.
   */
  static void position(Consumer<?, ?> consumer, Collection<TopicPartition> fresh, StartPosition start,
      boolean resumeFromCommitted) {
    List<TopicPartition> rest = new ArrayList<>(fresh);
    if (resumeFromCommitted && !rest.isEmpty()) {
      Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(new HashSet<>(rest));
      for (TopicPartition tp : fresh) {
        OffsetAndMetadata at = committed.get(tp);
        if (at != null) {
          consumer.seek(tp, at.offset());
          rest.remove(tp);
        }
      }
    }
    if (rest.isEmpty()) {
      return;
    }
    switch (start.kind()) {
      case EARLIEST -> consumer.seekToBeginning(rest);
      case LATEST -> consumer.seekToEnd(rest);
      case TIMESTAMP -> {
        Map<TopicPartition, Long> query = new LinkedHashMap<>();
        rest.forEach(tp -> query.put(tp, start.timestampMillis()));
        Map<TopicPartition, OffsetAndTimestamp> found = consumer.offsetsForTimes(query);
        List<TopicPartition> none = new ArrayList<>();
        for (TopicPartition tp : rest) {
          OffsetAndTimestamp at = found.get(tp);
          if (at == null) {
            none.add(tp);
          } else {
            consumer.seek(tp, at.offset());
          }
        }
        if (!none.isEmpty()) {
          consumer.seekToEnd(none);
        }
      }
    }
  }

  /**
   * As {@link #position(Consumer, Collection, StartPosition, boolean)}, except that a partition of
   * a topic that appeared after the reader started starts at its beginning when {@code start} is
   * {@link StartPosition#LATEST}: all of it was written after the reader started, and "latest" would
   * lose what was written before the reader noticed the topic. A timestamp start is kept.
   */
  static void position(Consumer<?, ?> consumer, Collection<TopicPartition> fresh, StartPosition start,
      boolean resumeFromCommitted, TopicSubscription subscription) {
    List<TopicPartition> appeared = new ArrayList<>();
    List<TopicPartition> rest = new ArrayList<>();
    for (TopicPartition tp : fresh) {
      (subscription.appearedAfterStart(tp.topic()) ? appeared : rest).add(tp);
    }
    position(consumer, rest, start, resumeFromCommitted);
    position(consumer, appeared, start.kind() == StartPosition.Kind.LATEST ? StartPosition.EARLIEST : start,
        resumeFromCommitted);
  }

  /** Checks offsets handed to {@code commit}: no nulls, no negative offsets. Returns a copy. */
  static Map<TopicPartition, OffsetAndMetadata> checkOffsets(Map<TopicPartition, OffsetAndMetadata> offsets) {
    requireNonNull(offsets, "offsets");
    Map<TopicPartition, OffsetAndMetadata> copy = new HashMap<>();
    offsets.forEach((tp, at) -> {
      requireNonNull(tp, "offsets: topic partition");
      requireNonNull(at, () -> "offsets: offset of " + tp);
      copy.put(tp, at);
    });
    return copy;
  }

  /**
   * Offsets a caller asked to commit, kept until the polling thread commits them; per partition
   * the highest offset wins (committing never moves a group backwards). Thread-safe.
   */
  static final class PendingCommits {
    private final Map<TopicPartition, OffsetAndMetadata> pending = new HashMap<>();
    private long committed;
    private long failed;

    synchronized void add(Map<TopicPartition, OffsetAndMetadata> offsets) {
      offsets.forEach((tp, at) -> pending.merge(tp, at, (a, b) -> a.offset() >= b.offset() ? a : b));
    }

    synchronized Map<TopicPartition, OffsetAndMetadata> take() {
      Map<TopicPartition, OffsetAndMetadata> taken = Map.copyOf(pending);
      pending.clear();
      return taken;
    }

    synchronized long committed() {
      return committed;
    }

    synchronized long failed() {
      return failed;
    }

    /**
     * Commits what is pending, synchronously, on the calling (polling) thread. A wake-up puts the
     * offsets back (they are committed on close); any other failure is logged and counted.
     */
    void commitNow(Consumer<?, ?> consumer, Logger log, String who) {
      Map<TopicPartition, OffsetAndMetadata> offsets = take();
      if (offsets.isEmpty()) {
        return;
      }
      try {
        consumer.commitSync(offsets);
        synchronized (this) {
          committed++;
        }
      } catch (WakeupException e) {
        add(offsets);
        throw e;
      } catch (KafkaException e) {
        synchronized (this) {
          failed++;
        }
        log.warn("{} could not commit {}: {}", who, offsets, e.toString());
      }
    }

    /** The last commit before the consumer closes; a pending wake-up (from close) is spent first. */
    void commitOnClose(Consumer<?, ?> consumer, Logger log, String who) {
      try {
        commitNow(consumer, log, who);
      } catch (WakeupException e) {
        try {
          commitNow(consumer, log, who);
        } catch (RuntimeException again) {
          log.warn("{}: the last commit failed: {}", who, again.toString());
        }
      } catch (RuntimeException e) {
        log.warn("{}: the last commit failed: {}", who, e.toString());
      }
    }
  }
}
