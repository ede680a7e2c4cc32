package io.flowtrace.tracer.otlp;

import com.google.protobuf.ByteString;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Status;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.SpanLink;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Converts OTLP trace messages into {@link Span}s. The service is the resource attribute {@code
 * service.name}; ids become lower-case hex; attribute values become {@link String}, {@link Long},
 * {@link Double}, {@link Boolean}, a {@link List} of those, or for a key-value list a nested
 * {@link Map}; bytes values become base64 text. A span whose trace, span or parent id is invalid is
 * handed to the {@code invalid} consumer and skipped; a link with an invalid id is reported and
 * dropped, its span kept.
 */
public final class OtlpSpans {

  /** The resource attribute naming the service. */
  public static final String SERVICE_NAME = "service.name";
  /** The resource attribute naming the host whose clock a span was read on ({@link Span#host()}). */
  public static final String HOST_NAME = "host.name";
  /** What names a span's host when the resource has no {@value #HOST_NAME}: the process, which has one clock. */
  public static final String SERVICE_INSTANCE_ID = "service.instance.id";

  static final int TRACE_ID_BYTES = 16;
  static final int SPAN_ID_BYTES = 8;

  private static final char[] HEX = "0123456789abcdef".toCharArray();
  private static final Map.Entry<?, ?>[] NO_ENTRIES = new Map.Entry<?, ?>[0];

  private OtlpSpans() {}

  /** Converts every span of the request; returns how many were emitted. */
  public static long convert(
      ExportTraceServiceRequest request, Consumer<? super Span> sink, Consumer<? super InvalidId> invalid) {
    long emitted = 0;
    for (int r = 0, n = request.getResourceSpansCount(); r < n; r++) {
      emitted += convert(request.getResourceSpans(r), r, sink, invalid);
    }
    return emitted;
  }

  /**
   * Converts the spans of one {@link ResourceSpans}; {@code resourceIndex} (0-based) only names
   * its place in problem reports. Returns how many spans were emitted.
   */
  public static long convert(
      ResourceSpans resourceSpans,
      int resourceIndex,
      Consumer<? super Span> sink,
      Consumer<? super InvalidId> invalid) {
    String service = serviceName(resourceSpans.getResource());
    String host = hostName(resourceSpans.getResource());
    long emitted = 0;
    for (int s = 0, ns = resourceSpans.getScopeSpansCount(); s < ns; s++) {
      ScopeSpans scope = resourceSpans.getScopeSpans(s);
      for (int i = 0, n = scope.getSpansCount(); i < n; i++) {
        Span span = span(scope.getSpans(i), service, host, resourceIndex, s, i, invalid);
        if (span != null) {
          sink.accept(span);
          emitted++;
        }
      }
    }
    return emitted;
  }

  /**
   * The span as flowtrace reads one that ends before it starts (a wall clock stepped back between
   * the two, or a writer's mistake): ending when it starts. Any other span is returned as it is.
   */
  public static Span endingNoEarlierThanItStarts(Span span) {
    if (span.endEpochNanos() >= span.startEpochNanos()) {
      return span;
    }
    return new Span(span.traceId(), span.spanId(), span.parentSpanId(), span.name(), span.kind(), span.service(),
        span.startEpochNanos(), span.startEpochNanos(), span.attributes(), span.links(), span.error(), span.host());
  }

  /**
   * For a problem report, a span that ends before it starts and what is made of it: {@code span
   * 'POST /orders' (service gateway, trace 4bf9…, span 00f0…) ends 12.5 ms before it starts; read as
   * ending when it starts}.
   */
  public static String endsBeforeItStarts(Span span) {
    double ms = (span.startEpochNanos() - span.endEpochNanos()) / 1e6;
    String amount = ms >= 1 ? String.format(java.util.Locale.ROOT, "%.1f ms", ms)
        : (span.startEpochNanos() - span.endEpochNanos()) + " ns";
    return described(span) + " ends " + amount + " before it starts; read as ending when it starts";
  }

  /** Earliest start a span's time in epoch nanoseconds is taken for: 1973-03-03, as for a record's {@code ts}. */
  static final long EARLIEST_START_NANOS = 100_000_000L * 1_000_000_000L;

  /**
   * Why the span's start cannot be a time in epoch nanoseconds — seconds, milliseconds or
   * microseconds written where nanoseconds belong, all before 1973 as nanoseconds — or {@code null}
   * when it can (0, no time at all, is read as it is). Read as written, such a span opened an
   * instance in 1970 (or "took 498,920 h").
   */
  public static String implausibleStart(Span span) {
    long start = span.startEpochNanos();
    if (start >= EARLIEST_START_NANOS || start == 0) {
      return null;
    }
    String reading = start < 0 ? "after the year 2262, not a time"
        : start < 100_000_000_000L ? "seconds, not nanoseconds?"
        : start < 100_000_000_000_000L ? "milliseconds, not nanoseconds?" : "microseconds, not nanoseconds?";
    return described(span) + " starts at " + (start < 0 ? Long.toUnsignedString(start)
        : java.time.Instant.ofEpochSecond(0, start) + " (startTimeUnixNano " + start + ")") + ": " + reading
        + "; the span is left out";
  }

  private static String described(Span span) {
    return "span" + (span.name().isEmpty() ? "" : " '" + span.name() + "'") + " ("
        + (span.service().isEmpty() ? "" : "service " + span.service() + ", ") + "trace " + span.traceId()
        + ", span " + span.spanId() + ")";
  }

  /** The resource's {@code service.name} string, or empty. */
  public static String serviceName(Resource resource) {
    for (int i = 0, n = resource.getAttributesCount(); i < n; i++) {
      KeyValue kv = resource.getAttributes(i);
      if (SERVICE_NAME.equals(kv.getKey()) && kv.getValue().hasStringValue()) {
        return kv.getValue().getStringValue();
      }
    }
    return "";
  }

  /**
   * The resource's host, as {@link Span#host()} gives it: its {@code host.name} string, else its
   * {@code service.instance.id} string, else empty.
   */
  public static String hostName(Resource resource) {
    String instance = "";
    for (int i = 0, n = resource.getAttributesCount(); i < n; i++) {
      KeyValue kv = resource.getAttributes(i);
      if (!kv.getValue().hasStringValue()) {
        continue;
      }
      if (HOST_NAME.equals(kv.getKey())) {
        return Names.SHARED.canonical(kv.getValue().getStringValue());
      }
      if (instance.isEmpty() && SERVICE_INSTANCE_ID.equals(kv.getKey())) {
        instance = Names.SHARED.canonical(kv.getValue().getStringValue());
      }
    }
    return instance;
  }

  private static Span span(
      io.opentelemetry.proto.trace.v1.Span span,
      String service,
      String host,
      int resourceIndex,
      int scopeIndex,
      int spanIndex,
      Consumer<? super InvalidId> invalid) {
    ByteString traceBytes = span.getTraceId();
    ByteString spanBytes = span.getSpanId();
    ByteString parentBytes = span.getParentSpanId();
    String traceId = id(traceBytes, TRACE_ID_BYTES);
    String spanId = id(spanBytes, SPAN_ID_BYTES);
    String parentSpanId = parentBytes.isEmpty() || isZero(parentBytes) ? "" : id(parentBytes, SPAN_ID_BYTES);
    if (traceId == null || spanId == null || parentSpanId == null) {
      String field = traceId == null ? "traceId" : spanId == null ? "spanId" : "parentSpanId";
      ByteString value = traceId == null ? traceBytes : spanId == null ? spanBytes : parentBytes;
      invalid.accept(new InvalidId(resourceIndex, scopeIndex, spanIndex, -1, span.getName(), field, value));
      return null;
    }
    List<SpanLink> links = List.of();
    int linkCount = span.getLinksCount();
    if (linkCount > 0) {
      List<SpanLink> list = new ArrayList<>(linkCount);
      for (int l = 0; l < linkCount; l++) {
        io.opentelemetry.proto.trace.v1.Span.Link link = span.getLinks(l);
        String linkTrace = id(link.getTraceId(), TRACE_ID_BYTES);
        String linkSpan = id(link.getSpanId(), SPAN_ID_BYTES);
        if (linkTrace == null || linkSpan == null) {
          String field = linkTrace == null ? "traceId" : "spanId";
          ByteString value = linkTrace == null ? link.getTraceId() : link.getSpanId();
          invalid.accept(new InvalidId(resourceIndex, scopeIndex, spanIndex, l, span.getName(), field, value));
          continue;
        }
        list.add(new SpanLink(linkTrace, linkSpan, attributes(link.getAttributesList())));
      }
      links = list;
    }
    return new Span(
        traceId,
        spanId,
        parentSpanId,
        Names.SHARED.canonical(span.getName()),
        SpanKind.fromOtlp(span.getKindValue()),
        service,
        span.getStartTimeUnixNano(),
        span.getEndTimeUnixNano(),
        attributes(span.getAttributesList()),
        links,
        span.hasStatus() && span.getStatus().getCodeValue() == Status.StatusCode.STATUS_CODE_ERROR_VALUE,
        host);
  }

  /**
   * Flattens OTLP attributes into an immutable map (see the class comment for value types).
   * Attributes without a value are left out; of repeated keys the last wins.
   */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> attributes(List<KeyValue> attributes) {
    int n = attributes.size();
    if (n == 0) {
      return Map.of();
    }
    Map.Entry<String, Object>[] entries = (Map.Entry<String, Object>[]) new Map.Entry<?, ?>[n];
    int count = 0;
    for (int i = 0; i < n; i++) {
      KeyValue kv = attributes.get(i);
      Object value = value(kv.getValue());
      if (value != null) {
        entries[count++] = Map.entry(Names.SHARED.canonical(kv.getKey()), value);
      }
    }
    if (count < n) {
      entries = count == 0 ? (Map.Entry<String, Object>[]) NO_ENTRIES : java.util.Arrays.copyOf(entries, count);
    }
    return attributeMap(entries);
  }

  /**
   * The immutable map of attribute entries (none {@code null}), as every decoder of attributes makes
   * it: of repeated keys the last wins.
   */
  public static Map<String, Object> attributeMap(Map.Entry<String, Object>[] entries) {
    try {
      return Map.ofEntries(entries);
    } catch (IllegalArgumentException duplicateKey) {
      Map<String, Object> map = new HashMap<>();
      for (Map.Entry<String, Object> e : entries) {
        map.put(e.getKey(), e.getValue());
      }
      return Map.copyOf(map);
    }
  }

  /** One OTLP value in model form, or {@code null} when it has none. */
  public static Object value(AnyValue value) {
    switch (value.getValueCase()) {
      case STRING_VALUE:
        return string(value.getStringValueBytes(), value);
      case BOOL_VALUE:
        return value.getBoolValue();
      case INT_VALUE:
        return value.getIntValue();
      case DOUBLE_VALUE:
        return value.getDoubleValue();
      case BYTES_VALUE:
        return Base64.getEncoder().encodeToString(value.getBytesValue().toByteArray());
      case ARRAY_VALUE:
        List<AnyValue> values = value.getArrayValue().getValuesList();
        List<Object> list = new ArrayList<>(values.size());
        for (AnyValue v : values) {
          Object item = value(v);
          if (item != null) {
            list.add(item);
          }
        }
        return List.copyOf(list);
      case KVLIST_VALUE:
        return attributes(value.getKvlistValue().getValuesList());
      default:
        return null;
    }
  }

  /** The bytes as lower-case hex. */
  public static String hex(ByteString bytes) {
    int n = bytes.size();
    byte[] out = new byte[n * 2];
    for (int i = 0; i < n; i++) {
      int b = bytes.byteAt(i);
      out[2 * i] = (byte) HEX[(b >> 4) & 0xf];
      out[2 * i + 1] = (byte) HEX[b & 0xf];
    }
    return StringCache.IDS.getAscii(out, 0, out.length);
  }

  /** Room for a short string value's bytes; one per decoding thread. */
  private static final ThreadLocal<byte[]> SHORT_VALUE = ThreadLocal.withInitial(() -> new byte[64]);

  /** A string value: a short ASCII one looked up in {@link StringCache#VALUES} from its bytes. */
  private static String string(ByteString bytes, AnyValue value) {
    int n = bytes.size();
    if (n <= 64) {
      byte[] scratch = SHORT_VALUE.get();
      bytes.copyTo(scratch, 0);
      boolean ascii = true;
      for (int i = 0; i < n && ascii; i++) {
        ascii = scratch[i] > 0;
      }
      if (ascii) {
        return StringCache.VALUES.getAscii(scratch, 0, n);
      }
    }
    return value.getStringValue();
  }

  /** Hex of a valid id, or {@code null} when it has the wrong length or is all zeros. */
  private static String id(ByteString bytes, int length) {
    return bytes.size() != length || isZero(bytes) ? null : hex(bytes);
  }

  static boolean isZero(ByteString bytes) {
    for (int i = 0, n = bytes.size(); i < n; i++) {
      if (bytes.byteAt(i) != 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * A span (or one of its links) whose id could not be used. Indexes are 0-based positions in the
   * request; {@code linkIndex} is -1 when the span's own id is at fault. {@code value} is the id's
   * bytes as decoded; {@code text} is the id as OTLP/JSON text had it ({@code ""} when the JSON had
   * no string there), or {@code null} for a protobuf request.
   */
  public record InvalidId(
      int resourceIndex,
      int scopeIndex,
      int spanIndex,
      int linkIndex,
      String spanName,
      String field,
      ByteString value,
      String text) {

    /** An id of a protobuf request, described by its bytes. */
    public InvalidId(
        int resourceIndex, int scopeIndex, int spanIndex, int linkIndex, String spanName, String field,
        ByteString value) {
      this(resourceIndex, scopeIndex, spanIndex, linkIndex, spanName, field, value, null);
    }

    /** The same id, described by the text it had in OTLP/JSON ({@code null} or empty: none). */
    public InvalidId withText(String text) {
      return new InvalidId(resourceIndex, scopeIndex, spanIndex, linkIndex, spanName, field, value,
          text == null ? "" : text);
    }

    /** Bytes an id of this field must have: 16 for a trace id, else 8. */
    public int expectedBytes() {
      return field.equals("traceId") ? TRACE_ID_BYTES : SPAN_ID_BYTES;
    }

    /** Where it is, 1-based: {@code span 3 'GET /x' of resource 1, scope 1}. */
    public String where() {
      String span = "span " + (spanIndex + 1) + (spanName.isEmpty() ? "" : " '" + spanName + "'")
          + " of resource " + (resourceIndex + 1) + ", scope " + (scopeIndex + 1);
      return linkIndex < 0 ? span : "link " + (linkIndex + 1) + " of " + span;
    }

    /**
     * A sentence naming the id: for protobuf input by its bytes ({@code ... has a traceId of 5 bytes
     * (0102030405), not 16}), for OTLP/JSON by its text ({@code ... has traceId 'xyz' which is not 16
     * bytes of hex}).
     */
    public String describe() {
      if (text != null) {
        return describeText();
      }
      if (value.isEmpty()) {
        return where() + " has no " + field;
      }
      if (value.size() == expectedBytes()) {
        return where() + " has " + field + " " + hex(value) + " which is all zeros";
      }
      return where() + " has a " + field + " of " + value.size() + " bytes (" + hex(value)
          + "), not " + expectedBytes();
    }

    private String describeText() {
      if (text.isEmpty()) {
        return where() + " has no " + field;
      }
      String quoted = "'" + (text.length() > 64 ? text.substring(0, 64) + "..." : text) + "'";
      if (value.size() == expectedBytes() && isZero(value)) {
        return where() + " has " + field + " " + quoted + " which is all zeros";
      }
      return where() + " has " + field + " " + quoted + " which is not " + expectedBytes() + " bytes of hex";
    }
  }
}
