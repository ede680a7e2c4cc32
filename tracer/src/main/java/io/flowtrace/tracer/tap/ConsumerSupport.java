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
import org.apache.kafka.common.TopicPartition;

/**
 * Where a fresh partition starts, and checking offsets handed to {@code commit}, for {@link
 * PartitionedConsumer}. Package-private: not API.
 */
final class ConsumerSupport {

  private ConsumerSupport() {}

  /**
   * Positions partitions the consumer has not read before: at the group's committed offset when
   * {@code resumeFromCommitted} and there is one, else at {@code start}. Returns those positioned
   * at {@code start} (no committed offset was used).
   */
  static List<TopicPartition> position(Consumer<?, ?> consumer, Collection<TopicPartition> fresh, StartPosition start,
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
      return rest;
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
    return rest;
  }

  /**
   * As {@link #position(Consumer, Collection, StartPosition, boolean)}, except that a partition
   * {@code writtenAfterStart} says all of was written after the reader started (a topic that
   * appeared later, a partition added since) starts at its beginning when {@code start} is {@link
   * StartPosition#LATEST}: "latest" would lose what was written before the reader noticed it. A
   * timestamp start is kept. Returns those positioned at a start (no committed offset was used).
   */
  static List<TopicPartition> position(Consumer<?, ?> consumer, Collection<TopicPartition> fresh, StartPosition start,
      boolean resumeFromCommitted, java.util.function.Predicate<TopicPartition> writtenAfterStart) {
    List<TopicPartition> appeared = new ArrayList<>();
    List<TopicPartition> rest = new ArrayList<>();
    for (TopicPartition tp : fresh) {
      (writtenAfterStart.test(tp) ? appeared : rest).add(tp);
    }
    List<TopicPartition> started = new ArrayList<>(position(consumer, rest, start, resumeFromCommitted));
    started.addAll(position(consumer, appeared,
        start.kind() == StartPosition.Kind.LATEST ? StartPosition.EARLIEST : start, resumeFromCommitted));
    return started;
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
}
