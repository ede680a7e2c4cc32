package io.flowtrace.verifier.infer;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Span;
import tools.jackson.databind.JsonNode;

/**
 * One observed occurrence of an event type in the traffic: a Kafka record, or one side (request
 * or response body) of an HTTP span.
 *
 * @param type what kind of event it is
 * @param time when it happened (span start; a record's producer span start, else its timestamp)
 * @param traceId the trace it is in ({@code null} for a record without trace context)
 * @param payload the JSON payload, or {@code null} (none, binary, or not JSON)
 * @param record the record, for record events
 * @param span the span (a span event's; a record's producer span when seen)
 * @param producer for a record, the span that produced it, else {@code null}
 */
record Occurrence(EventType type, long time, String traceId, JsonNode payload, KafkaRecord record, Span span,
    Span producer) {

  boolean isRecord() {
    return record != null;
  }
}
