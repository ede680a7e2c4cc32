package io.flowtrace.tracer.otlp;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanLink;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.ArrayValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.common.v1.KeyValueList;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Status;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Converts model {@link Span}s back into OTLP protobuf, the inverse of {@link OtlpSpans}: spans are
 * grouped into one {@link ResourceSpans} per service and host (resource attributes {@value
 * OtlpSpans#SERVICE_NAME} and {@value OtlpSpans#HOST_NAME}, each left out when empty), ids go
 * from hex to bytes, the kind
 * to its OTLP number, {@code error} to status {@code STATUS_CODE_ERROR}. Attribute values map back
 * by type ({@link String}, {@link Long} and other integral numbers, {@link Double} and {@link
 * Float}, {@link Boolean}, {@link List} as an array, {@link Map} as a key-value list; anything else
 * as its text). What the model does not keep (scopes, events, status messages, resource attributes
 * other than the service and host) is not invented, so {@code OtlpSpans.convert(encode(spans))} gives back
 * equal spans.
 */
public final class OtlpEncoder {

  private static final HexFormat HEX = HexFormat.of();

  private OtlpEncoder() {}

  /** One request holding {@code spans}, grouped by service and host in order of first appearance. */
  public static ExportTraceServiceRequest request(Collection<Span> spans) {
    requireNonNull(spans, "spans");
    Map<List<String>, ScopeSpans.Builder> byResource = new LinkedHashMap<>();
    for (Span span : spans) {
      byResource.computeIfAbsent(List.of(span.service(), span.host()), s -> ScopeSpans.newBuilder())
          .addSpans(span(span));
    }
    ExportTraceServiceRequest.Builder request = ExportTraceServiceRequest.newBuilder();
    byResource.forEach((serviceAndHost, scope) -> {
      Resource.Builder resource = Resource.newBuilder();
      if (!serviceAndHost.get(0).isEmpty()) {
        resource.addAttributes(keyValue(OtlpSpans.SERVICE_NAME, serviceAndHost.get(0)));
      }
      if (!serviceAndHost.get(1).isEmpty()) {
        resource.addAttributes(keyValue(OtlpSpans.HOST_NAME, serviceAndHost.get(1)));
      }
      request.addResourceSpans(ResourceSpans.newBuilder().setResource(resource).addScopeSpans(scope));
    });
    return request.build();
  }

  /** The span in OTLP form (without its service, which belongs to the resource). */
  public static io.opentelemetry.proto.trace.v1.Span span(Span span) {
    requireNonNull(span, "span");
    io.opentelemetry.proto.trace.v1.Span.Builder b = io.opentelemetry.proto.trace.v1.Span.newBuilder()
        .setTraceId(id(span.traceId()))
        .setSpanId(id(span.spanId()))
        .setName(span.name())
        .setKindValue(span.kind().ordinal())
        .setStartTimeUnixNano(span.startEpochNanos())
        .setEndTimeUnixNano(span.endEpochNanos())
        .addAllAttributes(attributes(span.attributes()));
    if (!span.parentSpanId().isEmpty()) {
      b.setParentSpanId(id(span.parentSpanId()));
    }
    for (SpanLink link : span.links()) {
      b.addLinks(io.opentelemetry.proto.trace.v1.Span.Link.newBuilder()
          .setTraceId(id(link.traceId()))
          .setSpanId(id(link.spanId()))
          .addAllAttributes(attributes(link.attributes())));
    }
    if (span.error()) {
      b.setStatus(Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_ERROR));
    }
    return b.build();
  }

  /** Attributes in OTLP form; entries with a {@code null} value are left out. */
  public static List<KeyValue> attributes(Map<String, ?> attributes) {
    List<KeyValue> out = new ArrayList<>(attributes.size());
    attributes.forEach((key, value) -> {
      if (value != null) {
        out.add(KeyValue.newBuilder().setKey(key).setValue(value(value)).build());
      }
    });
    return out;
  }

  /** One model value in OTLP form (see the class comment). */
  public static AnyValue value(Object value) {
    requireNonNull(value, "value");
    AnyValue.Builder b = AnyValue.newBuilder();
    if (value instanceof String s) {
      b.setStringValue(s);
    } else if (value instanceof Boolean bool) {
      b.setBoolValue(bool);
    } else if (value instanceof Double || value instanceof Float) {
      b.setDoubleValue(((Number) value).doubleValue());
    } else if (value instanceof Long || value instanceof Integer || value instanceof Short
        || value instanceof Byte) {
      b.setIntValue(((Number) value).longValue());
    } else if (value instanceof List<?> list) {
      ArrayValue.Builder array = ArrayValue.newBuilder();
      for (Object item : list) {
        if (item != null) {
          array.addValues(value(item));
        }
      }
      b.setArrayValue(array);
    } else if (value instanceof Map<?, ?> map) {
      KeyValueList.Builder kvs = KeyValueList.newBuilder();
      map.forEach((k, v) -> {
        if (v != null) {
          kvs.addValues(KeyValue.newBuilder().setKey(String.valueOf(k)).setValue(value(v)));
        }
      });
      b.setKvlistValue(kvs);
    } else {
      b.setStringValue(value.toString());
    }
    return b.build();
  }

  private static KeyValue keyValue(String key, String value) {
    return KeyValue.newBuilder().setKey(key).setValue(AnyValue.newBuilder().setStringValue(value)).build();
  }

  /** Hex id to bytes; an id that is not hex is kept as its UTF-8 text (the reader reports it). */
  private static ByteString id(String hex) {
    try {
      return ByteString.copyFrom(HEX.parseHex(hex));
    } catch (IllegalArgumentException e) {
      return ByteString.copyFromUtf8(hex);
    }
  }
}
