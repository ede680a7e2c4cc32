package io.flowtrace.tracer.model;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/** A link from one span to another span's context, possibly in another trace. */
public record SpanLink(String traceId, String spanId, Map<String, Object> attributes) {
  public SpanLink {
    requireNonNull(traceId, "traceId");
    requireNonNull(spanId, "spanId");
    attributes = attributes == null ? Map.of() : Map.copyOf(attributes);
  }
}
