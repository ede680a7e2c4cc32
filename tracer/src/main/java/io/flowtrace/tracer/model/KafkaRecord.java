package io.flowtrace.tracer.model;

import static java.util.Objects.requireNonNull;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * One Kafka record as the broker stored it: where it is (topic, partition, offset), when
 * (broker or create time, epoch milliseconds), its key, headers and raw value bytes.
 */
public record KafkaRecord(
    String topic,
    int partition,
    long offset,
    long timestampMillis,
    String key,
    List<RecordHeader> headers,
    byte[] value) {

  /** The W3C trace context header name producers put on every record. */
  public static final String TRACEPARENT = "traceparent";

  public KafkaRecord {
    requireNonNull(topic, "topic");
    headers = headers == null ? List.of() : List.copyOf(headers);
  }

  /** The last header of that name (as Kafka's {@code Headers.lastHeader}), if any. */
  public Optional<RecordHeader> lastHeader(String name) {
    for (int i = headers.size() - 1; i >= 0; i--) {
      if (headers.get(i).name().equals(name)) {
        return Optional.of(headers.get(i));
      }
    }
    return Optional.empty();
  }

  /**
   * Whether {@code other} carries the same message: the same topic, partition, key and value (at
   * another offset, it is the message sent again — a producer's retry — or another send of it).
   */
  public boolean sameMessageAs(KafkaRecord other) {
    return topic.equals(other.topic) && partition == other.partition && java.util.Objects.equals(key, other.key)
        && Arrays.equals(value, other.value);
  }

  /** The parsed {@code traceparent} header, if present and well-formed. */
  public Optional<TraceContext> traceContext() {
    return lastHeader(TRACEPARENT).map(RecordHeader::valueAsString).flatMap(TraceContext::parse);
  }

  /** {@code topic[partition]@offset}, the way people name one record. */
  public String coordinates() {
    return topic + "[" + partition + "]@" + offset;
  }

  public long timestampNanos() {
    return timestampMillis * 1_000_000L;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof KafkaRecord r
        && r.topic.equals(topic)
        && r.partition == partition
        && r.offset == offset
        && r.timestampMillis == timestampMillis
        && java.util.Objects.equals(r.key, key)
        && r.headers.equals(headers)
        && Arrays.equals(r.value, value);
  }

  @Override
  public int hashCode() {
    return (topic.hashCode() * 31 + partition) * 31 + Long.hashCode(offset);
  }

  @Override
  public String toString() {
    return "KafkaRecord{" + coordinates() + ", ts=" + timestampMillis + ", key=" + key + "}";
  }
}
