package io.flowtrace.tracer.otlp;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.util.Base64;
import java.util.function.Function;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.MissingNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * OTLP/JSON for trace requests, as the OpenTelemetry Collector's file exporter and the OTLP/HTTP
 * JSON encoding write it. It differs from protobuf's canonical JSON mapping: ids are hex, not
 * base64, and enums are integers. Parsing accepts both forms (hex or base64 ids in any case, enums
 * as numbers or names, 64-bit integers as strings or numbers) and ignores unknown fields.
 */
public final class OtlpJson {

  private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();
  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().omittingInsignificantWhitespace().printingEnumsAsInts();
  private static final JsonMapper MAPPER = JsonMapper.builder().build();

  private static final String[] SPAN_ID_FIELDS = {"traceId", "spanId", "parentSpanId"};
  private static final String[] LINK_ID_FIELDS = {"traceId", "spanId"};

  private OtlpJson() {}

  /**
   * Parses one OTLP/JSON {@code ExportTraceServiceRequest}. Ids come back as their real bytes (16
   * for a trace, 8 for a span) whichever form they had; an id that is neither hex nor base64 of the
   * right length is left as decoded (or empty when it did not decode at all) for {@link OtlpSpans}
   * to report.
   *
   * @throws InvalidProtocolBufferException when the text is not such a request
   */
  public static ExportTraceServiceRequest parse(String json) throws InvalidProtocolBufferException {
    ExportTraceServiceRequest.Builder builder = ExportTraceServiceRequest.newBuilder();
    try {
      PARSER.merge(json, builder);
    } catch (InvalidProtocolBufferException e) {
      String sanitized = withoutUndecodableIds(json);
      if (sanitized == null) {
        throw e;
      }
      builder.clear();
      try {
        PARSER.merge(sanitized, builder);
      } catch (InvalidProtocolBufferException again) {
        throw e;
      }
    }
    normaliseIds(builder);
    return builder.build();
  }

  /** Prints the request as one line of OTLP/JSON: hex ids, enums as integers, no line breaks. */
  public static String print(ExportTraceServiceRequest request) {
    StringBuilder out = new StringBuilder(request.getSerializedSize() * 2);
    try {
      appendTo(request, out);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toString();
  }

  /** Appends the request as one line of OTLP/JSON (without a line break). */
  public static void appendTo(ExportTraceServiceRequest request, Appendable out) throws IOException {
    PRINTER.appendTo(withHexIdsForPrinting(request), out);
  }

  /** Replaces ids that were hex text, which the JSON parser took for base64, by the real bytes. */
  private static void normaliseIds(ExportTraceServiceRequest.Builder request) {
    for (ResourceSpans.Builder resource : request.getResourceSpansBuilderList()) {
      for (ScopeSpans.Builder scope : resource.getScopeSpansBuilderList()) {
        for (Span.Builder span : scope.getSpansBuilderList()) {
          ByteString id = fromHexMisreadAsBase64(span.getTraceId(), OtlpSpans.TRACE_ID_BYTES);
          if (id != null) {
            span.setTraceId(id);
          }
          id = fromHexMisreadAsBase64(span.getSpanId(), OtlpSpans.SPAN_ID_BYTES);
          if (id != null) {
            span.setSpanId(id);
          }
          id = fromHexMisreadAsBase64(span.getParentSpanId(), OtlpSpans.SPAN_ID_BYTES);
          if (id != null) {
            span.setParentSpanId(id);
          }
          for (int l = 0, n = span.getLinksCount(); l < n; l++) {
            Span.Link link = span.getLinks(l);
            ByteString linkTrace = fromHexMisreadAsBase64(link.getTraceId(), OtlpSpans.TRACE_ID_BYTES);
            ByteString linkSpan = fromHexMisreadAsBase64(link.getSpanId(), OtlpSpans.SPAN_ID_BYTES);
            if (linkTrace != null || linkSpan != null) {
              Span.Link.Builder fixed = link.toBuilder();
              if (linkTrace != null) {
                fixed.setTraceId(linkTrace);
              }
              if (linkSpan != null) {
                fixed.setSpanId(linkSpan);
              }
              span.setLinks(l, fixed);
            }
          }
        }
      }
    }
  }

  /**
   * Hex text of {@code 2 * length} digits decodes as base64 to {@code 1.5 * length} bytes, and
   * encoding those bytes as base64 gives the text back exactly. Returns the id the text meant, or
   * {@code null} when the value was not such text (real base64, empty, or garbage).
   */
  static ByteString fromHexMisreadAsBase64(ByteString decoded, int length) {
    if (decoded.size() != length * 3 / 2) {
      return null;
    }
    String text = Base64.getEncoder().encodeToString(decoded.toByteArray());
    byte[] id = new byte[length];
    for (int i = 0; i < length; i++) {
      int hi = Character.digit(text.charAt(2 * i), 16);
      int lo = Character.digit(text.charAt(2 * i + 1), 16);
      if (hi < 0 || lo < 0) {
        return null;
      }
      id[i] = (byte) ((hi << 4) | lo);
    }
    return ByteString.copyFrom(id);
  }

  /** The inverse for printing: bytes that JsonFormat's base64 printer turns into the hex text. */
  private static ByteString hexForBase64Printer(ByteString id, int length) {
    return id.size() == length ? ByteString.copyFrom(Base64.getDecoder().decode(OtlpSpans.hex(id))) : id;
  }

  private static ExportTraceServiceRequest withHexIdsForPrinting(ExportTraceServiceRequest request) {
    ExportTraceServiceRequest.Builder builder = request.toBuilder();
    for (ResourceSpans.Builder resource : builder.getResourceSpansBuilderList()) {
      for (ScopeSpans.Builder scope : resource.getScopeSpansBuilderList()) {
        for (Span.Builder span : scope.getSpansBuilderList()) {
          span.setTraceId(hexForBase64Printer(span.getTraceId(), OtlpSpans.TRACE_ID_BYTES));
          span.setSpanId(hexForBase64Printer(span.getSpanId(), OtlpSpans.SPAN_ID_BYTES));
          span.setParentSpanId(hexForBase64Printer(span.getParentSpanId(), OtlpSpans.SPAN_ID_BYTES));
          for (Span.Link.Builder link : span.getLinksBuilderList()) {
            link.setTraceId(hexForBase64Printer(link.getTraceId(), OtlpSpans.TRACE_ID_BYTES));
            link.setSpanId(hexForBase64Printer(link.getSpanId(), OtlpSpans.SPAN_ID_BYTES));
          }
        }
      }
    }
    return builder.build();
  }

  /**
   * The JSON parser rejects a whole request when one id is not base64 at all ({@code "zz!"}). To
   * keep the request's other spans, such ids are removed (the spans are then reported as having
   * none). Returns the rewritten JSON, or {@code null} when that would not help.
   */
  private static String withoutUndecodableIds(String json) {
    JsonNode root;
    try {
      root = MAPPER.readTree(json);
    } catch (JacksonException e) {
      return null;
    }
    boolean changed = false;
    for (JsonNode resource : field(root, "resourceSpans", "resource_spans")) {
      for (JsonNode scope : field(resource, "scopeSpans", "scope_spans")) {
        for (JsonNode span : field(scope, "spans", "spans")) {
          changed |= removeUndecodable(span, SPAN_ID_FIELDS);
          for (JsonNode link : field(span, "links", "links")) {
            changed |= removeUndecodable(link, LINK_ID_FIELDS);
          }
        }
      }
    }
    return changed ? MAPPER.writeValueAsString(root) : null;
  }

  private static boolean removeUndecodable(JsonNode node, String[] fields) {
    if (!(node instanceof ObjectNode object)) {
      return false;
    }
    boolean changed = false;
    for (String name : fields) {
      for (String key : new String[] {name, snakeCase(name)}) {
        JsonNode value = object.get(key);
        if (value != null && value.isString() && !isBase64(value.stringValue())) {
          object.remove(key);
          changed = true;
        }
      }
    }
    return changed;
  }

  /**
   * Describes an invalid id of a request parsed from {@code json}, quoting the id as the JSON had
   * it: {@code span 3 of resource 1, scope 1 has traceId 'xyz' which is not 16 bytes of hex}.
   */
  public static String describe(String json, OtlpSpans.InvalidId id) {
    return describer(json).apply(id);
  }

  /** Like {@link #describe} for many ids of one request: parses the JSON once, when first needed. */
  public static Function<OtlpSpans.InvalidId, String> describer(String json) {
    JsonNode[] root = new JsonNode[1];
    return id -> {
      if (root[0] == null) {
        try {
          root[0] = MAPPER.readTree(json);
        } catch (JacksonException e) {
          root[0] = MissingNode.getInstance();
        }
      }
      return describe(root[0], id);
    };
  }

  private static String describe(JsonNode root, OtlpSpans.InvalidId id) {
    return id.withText(originalIdText(root, id)).describe();
  }

  /** The JSON text an id field had in the request, or {@code null}. */
  private static String originalIdText(JsonNode root, OtlpSpans.InvalidId id) {
    JsonNode span = field(field(field(root, "resourceSpans", "resource_spans").path(id.resourceIndex()),
        "scopeSpans", "scope_spans").path(id.scopeIndex()), "spans", "spans").path(id.spanIndex());
    JsonNode owner = id.linkIndex() < 0 ? span : field(span, "links", "links").path(id.linkIndex());
    JsonNode value = owner.get(id.field());
    if (value == null) {
      value = owner.get(snakeCase(id.field()));
    }
    return value != null && value.isString() ? value.stringValue() : null;
  }

  private static JsonNode field(JsonNode node, String jsonName, String protoName) {
    JsonNode value = node.get(jsonName);
    if (value == null) {
      value = node.get(protoName);
    }
    return value == null ? MissingNode.getInstance() : value;
  }

  private static String snakeCase(String camel) {
    StringBuilder out = new StringBuilder(camel.length() + 4);
    for (int i = 0; i < camel.length(); i++) {
      char c = camel.charAt(i);
      if (Character.isUpperCase(c)) {
        out.append('_').append(Character.toLowerCase(c));
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  private static boolean isBase64(String text) {
    try {
      Base64.getDecoder().decode(text);
      return true;
    } catch (IllegalArgumentException e) {
      try {
        Base64.getUrlDecoder().decode(text);
        return true;
      } catch (IllegalArgumentException e2) {
        return false;
      }
    }
  }
}
