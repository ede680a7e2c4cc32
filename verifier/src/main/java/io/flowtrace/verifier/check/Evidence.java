package io.flowtrace.verifier.check;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.verifier.model.Observation;

/**
 * Where a violation can be seen: a span (trace and span id) and/or a Kafka record (topic,
 * partition, offset). Absent parts are {@code null}.
 */
public record Evidence(String traceId, String spanId, String topic, Integer partition, Long offset) {

  public static final Evidence NONE = new Evidence(null, null, null, null, null);

  public static Evidence of(Span span) {
    return span == null ? NONE : new Evidence(span.traceId(), span.spanId(), null, null, null);
  }

  public static Evidence of(KafkaRecord record, Span producer) {
    if (record == null) {
      return of(producer);
    }
    String traceId = producer != null ? producer.traceId()
        : record.traceContext().map(c -> c.traceId()).orElse(null);
    String spanId = producer != null ? producer.spanId()
        : record.traceContext().map(c -> c.spanId()).orElse(null);
    return new Evidence(traceId, spanId, record.topic(), record.partition(), record.offset());
  }

  /** Where to look for an occurrence: its record (with its producer span) or its span. */
  public static Evidence of(Observation o) {
    return o.record() != null ? of(o.record(), o.span()) : of(o.span());
  }

  public boolean isEmpty() {
    return traceId == null && spanId == null && topic == null;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    if (topic != null) {
      sb.append(topic).append('[').append(partition).append("]@").append(offset);
    }
    if (traceId != null) {
      if (sb.length() > 0) sb.append(", ");
      sb.append("trace ").append(traceId);
      if (spanId != null) sb.append(" span ").append(spanId);
    }
    return sb.toString();
  }
}
