package io.flowtrace.verifier.model;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.TraceContext;
import io.flowtrace.verifier.schema.SchemaProblem;
import io.flowtrace.verifier.spec.EventSpec;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * One occurrence of a declared event in an instance: a Kafka record (joined to its producer and
 * consumer spans when they were seen) or a matched span, with its decoded payload.
 *
 * @param timeEpochNanos when it happened: a span event's start; a record's producer span start, or
 *     its record timestamp (millisecond precision) when no producer span was seen
 * @param payload decoded payload, {@code null} when absent or undecodable
 * @param span a span event's span; for a record, its producer span when it was seen, else {@code null}
 * @param trace the trace context this occurrence carries on: a record's {@code traceparent} header
 *     ({@code null} when it has none, even if its producer span was found), or a span's own context
 * @param spansLost a record stamped before the engine could receive its trace's spans (a sidecar
 *     restarted, reading records again whose spans went to its earlier run): its trace counts as
 *     not sampled — what its spans would show is unobserved, not missing
 * @param otherInstance the keys of another instance that some of its key values named, where its
 *     trace, its record key or its other keys placed it in this one (a record carrying another
 *     order's id beside its own delivery's); empty when its keys named no other instance
 */
public record Observation(
    EventSpec event,
    long timeEpochNanos,
    JsonNode payload,
    List<SchemaProblem> schemaProblems,
    KafkaRecord record,
    Span span,
    List<Span> consumers,
    TraceContext trace,
    Map<String, String> keys,
    boolean spansLost,
    Map<String, String> otherInstance) {

  /** An occurrence whose trace's spans reached the engine as exported (see {@link #spansLost}). */
  public Observation(EventSpec event, long timeEpochNanos, JsonNode payload, List<SchemaProblem> schemaProblems,
      KafkaRecord record, Span span, List<Span> consumers, TraceContext trace, Map<String, String> keys) {
    this(event, timeEpochNanos, payload, schemaProblems, record, span, consumers, trace, keys, false, Map.of());
  }

  public Observation {
    schemaProblems = List.copyOf(schemaProblems);
    consumers = List.copyOf(consumers);
    keys = Map.copyOf(keys);
    otherInstance = otherInstance == null || otherInstance.isEmpty() ? Map.of()
        : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(otherInstance));
  }

  /**
   * Of {@code sources}, the one this came from: a consumer span of it is the parent of this one's
   * span (its producer's, for a record), or the span a record without a producer span of its own
   * was sent from; {@code null} when no span ties it to one.
   */
  public Observation causeAmong(List<Observation> sources) {
    Span made = isRecord() ? producer() : span;
    String parent = made != null ? made.parentSpanId() : null;
    String sentFrom = made == null && trace != null ? trace.spanId() : null;
    if (parent == null && sentFrom == null) {
      return null;
    }
    for (Observation f : sources) {
      for (Span c : f.consumers()) {
        if (c.spanId().equals(parent) || c.spanId().equals(sentFrom)) {
          return f;
        }
      }
    }
    return null;
  }

  public String eventId() {
    return event.id();
  }

  public String stageId() {
    return event.stageId();
  }

  /** Whether this is a Kafka record (else a span event). */
  public boolean isRecord() {
    return record != null;
  }

  /**
   * The trace this occurrence is known to be in: its trace context's, else its producer span's
   * (a record without {@code traceparent}), else {@code null}.
   */
  public String traceId() {
    return trace != null ? trace.traceId() : span != null ? span.traceId() : null;
  }

  /**
   * Whether its trace was sampled: a span was exported, so yes; a record's {@code traceparent}
   * says so in its flags (bit 0x01). A record without the header counts as sampled.
   */
  public boolean sampled() {
    return record == null || trace == null || trace.sampled() && !spansLost;
  }

  /** The producer span of a record, or {@code null} (also for span events). */
  public Span producer() {
    return record != null ? span : null;
  }

  private static final java.util.regex.Pattern REQUIRED = java.util.regex.Pattern.compile("required property '([^']+)'");

  /**
   * Whether the payload broke its schema at the field {@code path} ({@code total}, {@code
   * items[0].price}), in what holds it, or in it: a field sent as {@code "806"}, not 806. What else
   * reads that field (a rule, a carried value) is not reported beside that violation.
   */
  public boolean brokeSchemaAt(String path) {
    if (schemaProblems.isEmpty()) {
      return false;
    }
    String field = "$." + path;
    for (SchemaProblem p : schemaProblems) {
      // a required property missing is a problem of the object that lacks it, about that property
      java.util.regex.Matcher required = REQUIRED.matcher(p.message());
      String at = required.find() ? (p.path() == null ? "$" : p.path()) + "." + required.group(1) : p.path();
      if (at.equals(field) || at.startsWith(field + ".") || at.startsWith(field + "[")
          || field.startsWith(at + ".") || field.startsWith(at + "[")) {
        return true;
      }
    }
    return false;
  }

  /** A short human name: {@code orders.created[1]@42} or {@code order-service span 'POST' (trace …)}. */
  public String describe() {
    return record != null ? record.coordinates() : span != null ? span.describe() : event.id();
  }

  /** Identity of the underlying occurrence, to tell a repeat from the same thing seen twice. */
  public String identity() {
    return record != null ? record.coordinates() : span.traceId() + "/" + span.spanId();
  }
}
