package io.flowtrace.tracer.otlp;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.MissingNode;

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
  /**
   * For quoting an invalid id as the JSON had it: it reads what the Gson parser under JsonFormat
   * reads (raw control characters in strings, numbers of any length), else an id in such a request
   * would lose its quote.
   */
  private static final JsonMapper MAPPER = JsonMapper.builder(OtlpJsonDecoder.FACTORY).build();

  private static final String[] SPAN_ID_FIELDS = {"traceId", "spanId", "parentSpanId"};
  private static final String[] LINK_ID_FIELDS = {"traceId", "spanId"};
  /** A name no message of a trace request has, so that the JSON parser ignores what it names. */
  private static final String DROPPED_ID = "\"flowtrace.droppedId\"";

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
   * keep the request's other spans, such ids are dropped (the spans are then reported as having
   * none) as if removed from the request's JSON tree: every name under which the id is given is
   * renamed to one protobuf does not know. The rest of the text is left as it was; printing the
   * tree again would round numbers such as {@code 1732530000954992840e0} through a double. Returns
   * the rewritten JSON, or {@code null} when that would not help.
   */
  private static String withoutUndecodableIds(String json) {
    Node root;
    try (JsonParser parser = OtlpJsonDecoder.FACTORY.createParser(ObjectReadContext.empty(), json)) {
      if (parser.nextToken() == null) {
        return null;
      }
      root = Node.read(parser);
      if (parser.nextToken() != null) {
        return null;
      }
    } catch (JacksonException e) {
      return null;
    }
    List<Integer> dropped = new ArrayList<>();
    for (Node resource : root.field("resourceSpans", "resource_spans").values()) {
      for (Node scope : resource.field("scopeSpans", "scope_spans").values()) {
        for (Node span : scope.field("spans", "spans").values()) {
          span.undecodableIdNames(SPAN_ID_FIELDS, dropped);
          for (Node link : span.field("links", "links").values()) {
            link.undecodableIdNames(LINK_ID_FIELDS, dropped);
          }
        }
      }
    }
    if (dropped.isEmpty()) {
      return null;
    }
    Collections.sort(dropped);
    StringBuilder out = new StringBuilder(json.length() + 16 * dropped.size());
    int copied = 0;
    for (int at : dropped) {
      out.append(json, copied, at).append(DROPPED_ID);
      copied = endOfString(json, at);
    }
    return out.append(json, copied, json.length()).toString();
  }

  /** The offset just past the JSON string that starts (with its quote) at {@code start}. */
  private static int endOfString(String json, int start) {
    int i = start + 1;
    while (json.charAt(i) != '"') {
      i += json.charAt(i) == '\\' ? 2 : 1;
    }
    return i + 1;
  }

  /**
   * A JSON value as a tree that keeps where each member's name stands in the text. A name given
   * twice in an object keeps its first place and its last value, as in Gson's and Jackson's trees.
   */
  private static final class Node {
    private static final Node MISSING = new Node(null, null, null);

    /** The members of an object, else {@code null}; each with the offsets of its names. */
    private final Map<String, Member> members;
    private final List<Node> elements;
    private final String string;

    /** A member's last value and where each of its names starts. */
    private record Member(Node value, List<Integer> names) {}

    private Node(Map<String, Member> members, List<Node> elements, String string) {
      this.members = members;
      this.elements = elements;
      this.string = string;
    }

    /** Reads the value at the parser's current token. */
    static Node read(JsonParser parser) {
      switch (parser.currentToken()) {
        case START_OBJECT -> {
          Map<String, Member> members = new LinkedHashMap<>();
          while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
            String name = parser.currentName();
            int at = (int) parser.currentTokenLocation().getCharOffset();
            parser.nextToken();
            Node value = read(parser);
            Member before = members.get(name);
            List<Integer> names = before == null ? new ArrayList<>(1) : before.names();
            names.add(at);
            members.put(name, new Member(value, names));
          }
          return new Node(members, null, null);
        }
        case START_ARRAY -> {
          List<Node> elements = new ArrayList<>();
          while (parser.nextToken() != JsonToken.END_ARRAY) {
            elements.add(read(parser));
          }
          return new Node(null, elements, null);
        }
        case VALUE_STRING -> {
          return new Node(null, null, parser.getString());
        }
        default -> {
          return MISSING;
        }
      }
    }

    /**
     * The elements the parse took of a repeated field: those under its JSON name, or under its
     * proto name when the JSON name has none (protobuf refuses a field given under both names
     * unless the first it meets has no elements).
     */
    Node field(String jsonName, String protoName) {
      if (members == null) {
        return MISSING;
      }
      Member json = members.get(jsonName);
      Member proto = members.get(protoName);
      if (json == null || proto != null && json.value().values().isEmpty()) {
        return proto == null ? MISSING : proto.value();
      }
      return json.value();
    }

    /** What a Jackson tree iterates over: an array's elements, an object's values. */
    List<Node> values() {
      if (elements != null) {
        return elements;
      }
      return members == null ? List.of() : members.values().stream().map(Member::value).toList();
    }

    /** Adds the offsets of every name under which one of the ids is text that is not base64. */
    void undecodableIdNames(String[] fields, List<Integer> offsets) {
      if (members == null) {
        return;
      }
      for (String field : fields) {
        for (String name : new String[] {field, snakeCase(field)}) {
          var member = members.get(name);
          if (member != null && member.value().string != null && !isBase64(member.value().string)) {
            offsets.addAll(member.names());
          }
        }
      }
    }
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
    JsonNode value = field(owner, id.field(), snakeCase(id.field()));
    return value.isString() ? value.stringValue() : null;
  }

  /**
   * The value the parse kept of a field that may be given under both its names: the one under
   * the JSON name unless it is empty (no elements, no bytes, null) and the proto name is given too;
   * protobuf refuses a field given under both names unless the first it meets is empty.
   */
  private static JsonNode field(JsonNode node, String jsonName, String protoName) {
    JsonNode json = node.get(jsonName);
    JsonNode proto = node.get(protoName);
    if (json == null || proto != null && isEmpty(json)) {
      return proto == null ? MissingNode.getInstance() : proto;
    }
    return json;
  }

  private static boolean isEmpty(JsonNode value) {
    if (value.isString()) {
      String text = value.stringValue();
      return !isBase64(text) || base64Length(text) == 0;
    }
    return value.isNull() || value.isContainer() && value.isEmpty();
  }

  private static int base64Length(String text) {
    try {
      return Base64.getDecoder().decode(text).length;
    } catch (IllegalArgumentException e) {
      return Base64.getUrlDecoder().decode(text).length;
    }
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
