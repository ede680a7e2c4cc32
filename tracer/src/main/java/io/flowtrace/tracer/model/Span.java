package io.flowtrace.tracer.model;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One finished span, reduced to what flow verification needs. Ids are lower-case hex; attribute
 * values are {@link String}, {@link Long}, {@link Double}, {@link Boolean}, or a {@link List} of
 * those. {@code parentSpanId} is empty for a root span. {@code host} names the machine whose clock
 * the span's times were read on — its resource's {@code host.name}, else its {@code
 * service.instance.id} — or is empty when the resource names neither: replicas of one service on
 * different hosts read different clocks.
 */
public record Span(
    String traceId,
    String spanId,
    String parentSpanId,
    String name,
    SpanKind kind,
    String service,
    long startEpochNanos,
    long endEpochNanos,
    Map<String, Object> attributes,
    List<SpanLink> links,
    boolean error,
    String host) {

  public Span {
    requireNonNull(traceId, "traceId");
    requireNonNull(spanId, "spanId");
    parentSpanId = parentSpanId == null ? "" : parentSpanId;
    name = name == null ? "" : name;
    kind = kind == null ? SpanKind.UNSPECIFIED : kind;
    service = service == null ? "" : service;
    attributes = attributes == null ? Map.of() : Map.copyOf(attributes);
    links = links == null ? List.of() : List.copyOf(links);
    host = host == null ? "" : host;
  }

  /** A span whose resource names no host. */
  public Span(String traceId, String spanId, String parentSpanId, String name, SpanKind kind, String service,
      long startEpochNanos, long endEpochNanos, Map<String, Object> attributes, List<SpanLink> links, boolean error) {
    this(traceId, spanId, parentSpanId, name, kind, service, startEpochNanos, endEpochNanos, attributes, links,
        error, "");
  }

  /** This span with other attributes (a slimmed copy keeps everything else, its host included). */
  public Span withAttributes(Map<String, Object> attributes) {
    return new Span(traceId, spanId, parentSpanId, name, kind, service, startEpochNanos, endEpochNanos, attributes,
        links, error, host);
  }

  /** The attribute as text (numbers and booleans in their usual form), or {@code null}. */
  public String attribute(String key) {
    Object value = attributes.get(key);
    return value == null ? null : value.toString();
  }

  /** The first present attribute of the given keys as text, or {@code null}. */
  public String firstAttribute(String... keys) {
    for (String key : keys) {
      Object value = attributes.get(key);
      if (value != null) {
        return value.toString();
      }
    }
    return null;
  }

  /** The attribute as a long when it is a number or a numeric string, else {@code null}. */
  public Long longAttribute(String... keys) {
    for (String key : keys) {
      Object value = attributes.get(key);
      if (value instanceof Long l) {
        return l;
      }
      if (value instanceof Integer i) {
        return i.longValue();
      }
      if (value != null) {
        return parseLong(value.toString());
      }
    }
    return null;
  }

  private static Long parseLong(String text) {
    try {
      return Long.parseLong(text.trim());
    } catch (NumberFormatException e) {
      return null;
    }
  }

  public boolean isRoot() {
    return parentSpanId.isEmpty();
  }

  /** A short human reference: {@code service "name" trace/span}. */
  public String describe() {
    return service + " span '" + name + "' (trace " + traceId + ", span " + spanId + ")";
  }

  /** A builder with empty defaults; ids are required. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds a {@link Span}; reports every missing required field at once. */
  public static final class Builder {
    private String traceId;
    private String spanId;
    private String parentSpanId = "";
    private String name = "";
    private SpanKind kind = SpanKind.INTERNAL;
    private String service = "";
    private long startEpochNanos;
    private long endEpochNanos;
    private Map<String, Object> attributes = Map.of();
    private final List<SpanLink> links = new ArrayList<>();
    private boolean error;
    private String host = "";

    public Builder traceId(String v) { this.traceId = v; return this; }
    public Builder spanId(String v) { this.spanId = v; return this; }
    public Builder parentSpanId(String v) { this.parentSpanId = v; return this; }
    public Builder name(String v) { this.name = v; return this; }
    public Builder kind(SpanKind v) { this.kind = v; return this; }
    public Builder service(String v) { this.service = v; return this; }
    public Builder startEpochNanos(long v) { this.startEpochNanos = v; return this; }
    public Builder endEpochNanos(long v) { this.endEpochNanos = v; return this; }
    public Builder attributes(Map<String, Object> v) { this.attributes = v; return this; }
    public Builder addLink(SpanLink v) { this.links.add(v); return this; }
    public Builder error(boolean v) { this.error = v; return this; }
    public Builder host(String v) { this.host = v; return this; }

    public Span build() {
      String missing = "";
      if (traceId == null || traceId.isEmpty()) missing += " traceId";
      if (spanId == null || spanId.isEmpty()) missing += " spanId";
      if (!missing.isEmpty()) {
        throw new IllegalStateException("Missing :" + missing);
      }
      return new Span(traceId, spanId, parentSpanId, name, kind, service, startEpochNanos,
          endEpochNanos, attributes, links, error, host);
    }
  }
}
