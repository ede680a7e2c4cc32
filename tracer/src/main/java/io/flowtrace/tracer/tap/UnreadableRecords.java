package io.flowtrace.tracer.tap;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;

/**
 * Tells which record a failed {@code poll()} could not get past, so that a reader can skip it
 * instead of retrying the same fetch forever.
 *
 * <p>Kafka's consumer reports an unreadable record in two ways: a deserializer failure as a {@link
 * RecordDeserializationException} (partition and offset attached), and a record or batch that fails
 * its CRC check or cannot be parsed as a plain {@link KafkaException} whose message names the
 * partition and offset ("Record batch for partition orders.created-0 at offset 7 is invalid,
 * cause: ..."), sometimes wrapped in "Received exception when fetching the next record from
 * orders.created-0". Both are recognised here. Any other failure (network, authorisation, a
 * rebalance) is not a bad record and yields empty: retry it.
 *
 * <p>A corrupt batch is reported by its base offset each time any offset inside it is fetched, so
 * the place to resume is one past the later of that offset and the consumer's position: each call
 * then moves at least one record on, and a batch of {@code n} corrupt records costs {@code n}
 * fetches, each reported as one skipped record.
 */
public final class UnreadableRecords {

  private static final Pattern INVALID = Pattern.compile(
      "Record (?:batch )?for partition (.+)-(\\d+) at offset (\\d+) is invalid, cause: (.*)", Pattern.DOTALL);
  private static final Pattern WRAPPED = Pattern.compile(
      "Received exception when fetching the next record from (.+)-(\\d+)\\. If needed.*", Pattern.DOTALL);

  private UnreadableRecords() {}

  /** A record a reader cannot read: where it is, where to resume, and why. */
  public record Skip(TopicPartition partition, long offset, long resumeAt, String reason) {

    /** {@code topic[partition]@offset}, as the readers name places. */
    public String coordinates() {
      return partition.topic() + "[" + partition.partition() + "]@" + offset;
    }
  }

  /**
   * When {@code failure} (thrown by {@code consumer.poll}) is about one record, seeks {@code
   * consumer} past it and returns what was skipped, for the caller to log and count; otherwise
   * leaves the consumer alone and returns empty. Call on the polling thread.
   */
  public static Optional<Skip> skipPast(Consumer<?, ?> consumer, KafkaException failure) {
    Optional<Skip> skip = locate(consumer, failure);
    skip.ifPresent(s -> consumer.seek(s.partition(), s.resumeAt()));
    return skip;
  }

  /**
   * The record {@code failure} (thrown by {@code consumer.poll}) could not get past, or empty when
   * the failure is not about one record. Call on the polling thread: it may ask the consumer for
   * its position.
   */
  public static Optional<Skip> locate(Consumer<?, ?> consumer, KafkaException failure) {
    if (failure instanceof RecordDeserializationException e) {
      return Optional.of(skip(consumer, e.topicPartition(), e.offset(), "unreadable record: " + e.getMessage()));
    }
    TopicPartition wrappedPartition = null;
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      String message = t.getMessage();
      if (message == null) {
        continue;
      }
      Matcher invalid = INVALID.matcher(message);
      if (invalid.matches()) {
        TopicPartition tp = new TopicPartition(invalid.group(1), Integer.parseInt(invalid.group(2)));
        return Optional.of(skip(consumer, tp, Long.parseLong(invalid.group(3)),
            "corrupt record: " + invalid.group(4)));
      }
      Matcher wrapped = WRAPPED.matcher(message);
      if (wrapped.matches() && wrappedPartition == null) {
        wrappedPartition = new TopicPartition(wrapped.group(1), Integer.parseInt(wrapped.group(2)));
      }
    }
    if (wrappedPartition != null) {
      Throwable cause = failure.getCause() == null ? failure : failure.getCause();
      long position = positionOf(consumer, wrappedPartition);
      if (position >= 0) {
        return Optional.of(new Skip(wrappedPartition, position, position + 1, "unreadable record: " + cause));
      }
    }
    return Optional.empty();
  }

  private static Skip skip(Consumer<?, ?> consumer, TopicPartition tp, long reported, String reason) {
    long position = positionOf(consumer, tp);
    long offset = Math.max(reported, position);
    return new Skip(tp, offset, offset + 1, reason);
  }

  private static long positionOf(Consumer<?, ?> consumer, TopicPartition tp) {
    try {
      return consumer.assignment().contains(tp) ? consumer.position(tp) : -1;
    } catch (KafkaException | IllegalStateException e) {
      return -1;
    }
  }
}
