package io.flowtrace.verifier.report;

import io.flowtrace.verifier.check.Evidence;
import io.flowtrace.verifier.check.Violation;
import tools.jackson.core.JsonGenerator;

/** Writes a {@link Verdict} as the contract's JSON flow object (plus extra, meaning-preserving fields), and a {@link LateEvent}. */
public final class VerdictJson {
  private VerdictJson() {}

  /**
   * A late event as one JSON object: {@code {"flow", "keys", "event", "where", "eventTime",
   * "finalizedAt"}} ({@code finalizedAt} when known).
   */
  public static void write(LateEvent e, JsonGenerator g) {
    g.writeStartObject();
    g.writeStringProperty("flow", e.flow());
    g.writeName("keys");
    g.writeStartObject();
    new java.util.TreeMap<>(e.keys()).forEach(g::writeStringProperty);
    g.writeEndObject();
    g.writeStringProperty("event", e.event());
    g.writeStringProperty("where", e.where());
    g.writeStringProperty("eventTime", java.time.Instant.ofEpochSecond(0, e.eventEpochNanos()).toString());
    if (e.finalizedEpochNanos() != Long.MIN_VALUE) {
      g.writeStringProperty("finalizedAt", java.time.Instant.ofEpochSecond(0, e.finalizedEpochNanos()).toString());
    }
    g.writeEndObject();
  }

  public static void write(Verdict v, JsonGenerator g) {
    g.writeStartObject();
    g.writeStringProperty("flow", v.flow());
    g.writeName("keys");
    g.writeStartObject();
    v.keys().forEach(g::writeStringProperty);
    g.writeEndObject();
    g.writeStringProperty("status", v.status().name());
    g.writeName("violations");
    g.writeStartArray();
    for (Violation x : v.violations()) {
      g.writeStartObject();
      g.writeStringProperty("kind", x.kind().name());
      g.writeStringProperty("stage", x.stage());
      if (x.field() != null) g.writeStringProperty("field", x.field());
      g.writeStringProperty("message", x.message());
      if (x.event() != null) g.writeStringProperty("event", x.event());
      if (x.expected() != null) g.writeStringProperty("expected", x.expected());
      if (x.actual() != null) g.writeStringProperty("actual", x.actual());
      Evidence e = x.evidence();
      if (e.traceId() != null) g.writeStringProperty("traceId", e.traceId());
      if (e.spanId() != null) g.writeStringProperty("spanId", e.spanId());
      if (e.topic() != null) {
        g.writeStringProperty("topic", e.topic());
        g.writeNumberProperty("partition", e.partition());
        g.writeNumberProperty("offset", e.offset());
      }
      g.writeEndObject();
    }
    g.writeEndArray();
    g.writeName("traceIds");
    g.writeStartArray();
    for (String t : v.traceIds()) {
      g.writeString(t);
    }
    g.writeEndArray();
    g.writeStringProperty("start", java.time.Instant.ofEpochSecond(0, v.startEpochNanos()).toString());
    if (v.revision() > 0) {
      g.writeNumberProperty("revision", v.revision());
    }
    if (!v.reason().isEmpty()) {
      g.writeStringProperty("reason", v.reason());
    }
    g.writeStringProperty("verification", v.verification().name().toLowerCase(java.util.Locale.ROOT));
    if (!v.unverified().isEmpty()) {
      g.writeName("unverified");
      g.writeStartArray();
      for (io.flowtrace.verifier.check.Unverified u : v.unverified()) {
        g.writeStartObject();
        g.writeStringProperty("check", u.check());
        g.writeStringProperty("stage", u.stage());
        g.writeStringProperty("subject", u.subject());
        g.writeStringProperty("reason", u.reason());
        g.writeEndObject();
      }
      g.writeEndArray();
    }
    if (!v.notes().isEmpty()) {
      g.writeName("notes");
      g.writeStartArray();
      for (String n : v.notes()) {
        g.writeString(n);
      }
      g.writeEndArray();
    }
    g.writeEndObject();
  }
}
