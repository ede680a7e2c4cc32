package io.flowtrace.tracer.otlp;

import com.google.protobuf.ByteString;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.SpanLink;
import io.flowtrace.tracer.otlp.OtlpSpans.InvalidId;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.TokenStreamContext;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.core.exc.UnexpectedEndOfInputException;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.core.json.JsonReadFeature;
import tools.jackson.core.sym.BinaryNameMatcher;
import tools.jackson.core.sym.PropertyNameMatcher;

/**
 * Decodes one OTLP/JSON {@code ExportTraceServiceRequest} straight into {@link Span}s with a
 * streaming JSON parser: no protobuf message and no JSON tree is built. (The OpenTelemetry
 * Collector hand-writes its OTLP/JSON unmarshaler for the same reason.)
 *
 * <p>The result is what {@link OtlpJson#parse} followed by {@link OtlpSpans#convert} gives for the
 * same text — that pair is the reference, and a differential test holds the two equal: ids in hex
 * or base64, in any case; 64-bit integers as strings or numbers, in any form JSON allows ({@code
 * 1e3}, {@code "1.0"}); enums by name or number; every attribute value kind; unknown fields of any
 * type at any depth ignored; {@code resourceSpans} or {@code resource_spans}. A request the
 * reference refuses is refused here too (a message field that is not an object, a number out of
 * range, two values in one {@code AnyValue}, messages nested deeper than {@value #RECURSION_LIMIT},
 * ...). Deliberate differences:
 *
 * <ul>
 *   <li>The text must be JSON (RFC 8259; raw control characters inside strings are let through).
 *       The reference's parser, Gson in its lenient mode, also takes comments, unquoted or
 *       single-quoted strings, {@code NaN} and text after the request, which no OTLP writer
 *       produces; those are refused here, with the column where the JSON goes wrong.
 *   <li>Spans under {@code instrumentationLibrarySpans} (OTLP before 0.19, which the protobuf
 *       classes no longer know) are read as the Collector reads them: as scope spans, when a
 *       resource has no {@code scopeSpans}.
 * </ul>
 *
 * <p>Spans and invalid-id reports are handed over only once the whole request has been read, in
 * the order the reference gives them; a request that fails hands over nothing. Given somewhere to
 * report {@link SkippedSpan}s, the decoder salvages what it can instead: a span the reference would
 * refuse the whole request for (a wrong-typed field, a number out of range, a {@code null} in the
 * span list) is skipped and reported, and the request's other spans are handed over as the
 * reference gives them for the request without that span. Text that is not JSON, and a problem
 * outside the spans (a resource's or scope's), still refuse the whole request, but text that
 * stops being JSON part way (a line cut short by a writer that died, or run into the next) keeps
 * what it read whole before that: the spans of a resource whose {@code resource} came first are
 * handed over, and the exception says how many ({@link MalformedRequestException#spansKept()}) and
 * where the lost text starts. An instance keeps a little state between calls to save allocation:
 * use one per thread.
 */
public final class OtlpJsonDecoder {

  /**
   * Messages nest at most this deep (the request is depth 0), as protobuf's JSON parser allows:
   * it matters only to attribute values nested in one another.
   */
  public static final int RECURSION_LIMIT = 100;

  /** JSON objects and arrays nest at most this deep, known or unknown fields alike. */
  public static final int MAX_JSON_DEPTH = 1000;

  /** Reads JSON as the decoder does; {@link OtlpJson} looks at text again with it. */
  static final JsonFactory FACTORY = JsonFactory.builder()
      .enable(JsonReadFeature.ALLOW_UNESCAPED_CONTROL_CHARS)
      .streamReadConstraints(StreamReadConstraints.builder()
          .maxNestingDepth(MAX_JSON_DEPTH)
          // Gson, under the reference, takes numbers, strings and names of any length; the line
          // reader bounds them all.
          .maxNumberLength(Integer.MAX_VALUE)
          .maxStringLength(Integer.MAX_VALUE)
          .maxNameLength(Integer.MAX_VALUE)
          .build())
      .build();

  /** Protobuf's JSON parser gives up on numbers longer than this where it needs BigDecimal. */
  private static final int MAX_NUMERIC_TEXT = 1000;
  private static final BigDecimal MAX_UINT32 = new BigDecimal(0xFFFFFFFFL);
  private static final BigDecimal MAX_UINT64 = new BigDecimal(new BigInteger("FFFFFFFFFFFFFFFF", 16));
  private static final BigDecimal MORE_THAN_ONE = new BigDecimal(String.valueOf(1.000001));
  private static final BigDecimal MAX_DOUBLE =
      new BigDecimal(String.valueOf(Double.MAX_VALUE)).multiply(MORE_THAN_ONE);
  private static final BigDecimal MIN_DOUBLE =
      new BigDecimal(String.valueOf(-Double.MAX_VALUE)).multiply(MORE_THAN_ONE);

  private static final String[] SPAN_KINDS = {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL",
      "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"};
  private static final String[] STATUS_CODES = {"STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"};
  private static final int STATUS_CODE_ERROR = 2;

  // Field names, per message, to codes: field number * 2, + 1 for the proto name where it differs
  // from the JSON (lowerCamelCase) name. A code is also the bit that records the name as met.
  private static final Fields REQUEST = fields("resourceSpans", "resource_spans", 1);
  private static final int ILS = 20;
  private static final Fields RESOURCE_SPANS = fields(
      "resource", null, 1, "scopeSpans", "scope_spans", 2, "schemaUrl", "schema_url", 3,
      "instrumentationLibrarySpans", "instrumentation_library_spans", ILS);
  private static final Fields RESOURCE = fields(
      "attributes", null, 1, "droppedAttributesCount", "dropped_attributes_count", 2,
      "entityRefs", "entity_refs", 3);
  private static final Fields ENTITY_REF = fields(
      "schemaUrl", "schema_url", 1, "type", null, 2, "idKeys", "id_keys", 3,
      "descriptionKeys", "description_keys", 4);
  private static final Fields SCOPE_SPANS = fields(
      "scope", null, 1, "spans", null, 2, "schemaUrl", "schema_url", 3);
  /** The old {@code InstrumentationLibrarySpans}: its library is read as a scope. */
  private static final Fields LIBRARY_SPANS = fields(
      "instrumentationLibrary", "instrumentation_library", 1, "spans", null, 2, "schemaUrl", "schema_url", 3);
  private static final Fields SCOPE = fields(
      "name", null, 1, "version", null, 2, "attributes", null, 3,
      "droppedAttributesCount", "dropped_attributes_count", 4);
  private static final Fields SPAN = fields(
      "traceId", "trace_id", 1, "spanId", "span_id", 2, "traceState", "trace_state", 3,
      "parentSpanId", "parent_span_id", 4, "flags", null, 16, "name", null, 5, "kind", null, 6,
      "startTimeUnixNano", "start_time_unix_nano", 7, "endTimeUnixNano", "end_time_unix_nano", 8,
      "attributes", null, 9, "droppedAttributesCount", "dropped_attributes_count", 10,
      "events", null, 11, "droppedEventsCount", "dropped_events_count", 12, "links", null, 13,
      "droppedLinksCount", "dropped_links_count", 14, "status", null, 15);
  private static final Fields EVENT = fields(
      "timeUnixNano", "time_unix_nano", 1, "name", null, 2, "attributes", null, 3,
      "droppedAttributesCount", "dropped_attributes_count", 4);
  private static final Fields LINK = fields(
      "traceId", "trace_id", 1, "spanId", "span_id", 2, "traceState", "trace_state", 3,
      "attributes", null, 4, "droppedAttributesCount", "dropped_attributes_count", 5, "flags", null, 6);
  private static final Fields STATUS = fields("message", null, 2, "code", null, 3);
  private static final Fields KEY_VALUE = fields(
      "key", null, 1, "value", null, 2, "keyStrindex", "key_strindex", 3);
  private static final Fields ANY_VALUE = fields(
      "stringValue", "string_value", 1, "boolValue", "bool_value", 2, "intValue", "int_value", 3,
      "doubleValue", "double_value", 4, "arrayValue", "array_value", 5, "kvlistValue", "kvlist_value", 6,
      "bytesValue", "bytes_value", 7, "stringValueStrindex", "string_value_strindex", 8);
  private static final Fields VALUES = fields("values", null, 1);

  private static final int UNKNOWN = -1;
  private static final int END = -2;
  private static final int STRING_VALUE = 1;
  private static final int STRING_VALUE_STRINDEX = 8;

  private JsonParser p;
  /** Message depth, counted as protobuf's JSON parser counts it. */
  private int depth;
  /** What the request gives, in order: {@link Span}s and {@link InvalidId}s. */
  private List<Object> out = new ArrayList<>();
  /** The service of the resource being read, as far as it is known. */
  private String service = "";
  /** The host of the resource being read ({@link Span#host()}), as far as it is known. */
  private String host = "";
  /** The case of the {@code AnyValue} last read (its field number), 0 for none. */
  private int valueCase;
  /** The key and value of the {@code KeyValue} last read. */
  private String kvKey;
  private Object kvValue;
  /** Whether a span that cannot be read is skipped (and reported) rather than refusing the request. */
  private boolean salvage;
  /** Where the resource being read starts, its first entry in {@link #out}, and whether its service is known. */
  private TokenStreamLocation resourceStart;
  private int resourceMark;
  private boolean resourcePlaced;
  /** Whether spans are being read into a resource's {@code instrumentationLibrarySpans}, not {@link #out}. */
  private boolean inLibrary;
  /** Where the span being read starts, or {@code null} between spans. */
  private TokenStreamLocation spanStart;

  /**
   * Decodes one request: hands each span to {@code sink} and each span or link whose id cannot
   * be used to {@code invalid} (with the id's text, so that {@link InvalidId#describe()} quotes
   * it). Returns how many spans were handed over.
   *
   * @throws MalformedRequestException when the text is not such a request; nothing was handed
   *     over then
   */
  public long decode(String json, Consumer<? super Span> sink, Consumer<? super InvalidId> invalid)
      throws MalformedRequestException {
    return decode(json, sink, invalid, null);
  }

  /**
   * {@link #decode(String, Consumer, Consumer)}, salvaging: each span that cannot be read goes to
   * {@code skipped} (in order with the invalid ids), and the request's other spans are handed over.
   * {@code skipped} may be {@code null}: then nothing is salvaged.
   *
   * @throws MalformedRequestException when the text is not JSON, or not such a request outside
   *     its spans; nothing was handed over then, but when the text stopped being JSON part way: then
   *     what was read whole before that ({@link MalformedRequestException#spansKept()})
   */
  public long decode(String json, Consumer<? super Span> sink, Consumer<? super InvalidId> invalid,
      Consumer<? super SkippedSpan> skipped) throws MalformedRequestException {
    return decode(FACTORY.createParser(ObjectReadContext.empty(), json), () -> json.indexOf('\n') >= 0, sink,
        invalid, skipped);
  }

  /**
   * {@link #decode(String, Consumer, Consumer)} for UTF-8 text given as {@code length} bytes from
   * {@code offset}, parsed as bytes (Jackson's byte parser), not decoded into a String first.
   * Malformed text is described by line and column as for a String when it is ASCII; in other
   * text the column counts bytes.
   */
  public long decode(byte[] utf8, int offset, int length, Consumer<? super Span> sink,
      Consumer<? super InvalidId> invalid) throws MalformedRequestException {
    return decode(utf8, offset, length, sink, invalid, null);
  }

  /**
   * {@link #decode(byte[], int, int, Consumer, Consumer)}, salvaging as {@link #decode(String,
   * Consumer, Consumer, Consumer)} does; a skipped span's offsets count bytes from {@code offset}.
   */
  public long decode(byte[] utf8, int offset, int length, Consumer<? super Span> sink,
      Consumer<? super InvalidId> invalid, Consumer<? super SkippedSpan> skipped) throws MalformedRequestException {
    return decode(FACTORY.createParser(ObjectReadContext.empty(), utf8, offset, length), () -> {
      for (int i = offset, end = offset + length; i < end; i++) {
        if (utf8[i] == '\n') {
          return true;
        }
      }
      return false;
    }, sink, invalid, skipped);
  }

  private long decode(JsonParser parser, java.util.function.BooleanSupplier multiLine, Consumer<? super Span> sink,
      Consumer<? super InvalidId> invalid, Consumer<? super SkippedSpan> skipped) throws MalformedRequestException {
    out.clear();
    depth = 0;
    service = "";
    salvage = skipped != null;
    resourcePlaced = true;
    inLibrary = false;
    spanStart = null;
    p = parser;
    try {
      JsonToken first = p.nextToken();
      if (first == null) {
        throw new Bad("there is no JSON value", null);
      }
      if (first != JsonToken.START_OBJECT) {
        throw new Bad("expected a request object, found " + found(), null);
      }
      readRequest();
      if (p.nextToken() != null) {
        throw new Bad("unexpected text after the request", null);
      }
    } catch (Bad e) {
      out.clear();
      throw malformed(multiLine, e.getMessage(), e.location, e.path);
    } catch (UnexpectedEndOfInputException e) {
      throw cut(multiLine, "the JSON ends early", e.getLocation(), sink, invalid, skipped);
    } catch (JacksonException e) {
      String reason = String.valueOf(e.getOriginalMessage()).startsWith("Unexpected end-of-input")
          ? "the JSON ends early" // between entries, where Jackson does not say UnexpectedEndOfInput
          : "not JSON: " + JacksonMessages.reason(e);
      throw cut(multiLine, reason, e.getLocation(), sink, invalid, skipped);
    } finally {
      parser.close();
      p = null;
    }
    return handOver(multiLine, sink, invalid, skipped);
  }

  private long handOver(java.util.function.BooleanSupplier multiLine, Consumer<? super Span> sink,
      Consumer<? super InvalidId> invalid, Consumer<? super SkippedSpan> skipped) {
    long spans = 0;
    for (int i = 0, n = out.size(); i < n; i++) {
      Object o = out.get(i);
      if (o instanceof Span span) {
        sink.accept(span);
        spans++;
      } else if (o instanceof SkippedSpan skip) {
        skipped.accept(skip.multiLine(multiLine.getAsBoolean()));
      } else {
        invalid.accept((InvalidId) o);
      }
    }
    out.clear();
    return spans;
  }

  /**
   * The text stopped being JSON at {@code location}. Salvaging, what was read whole before that is
   * handed over first: every span read, but those of a resource whose service is not known yet.
   */
  private MalformedRequestException cut(java.util.function.BooleanSupplier multiLine, String reason,
      TokenStreamLocation location, Consumer<? super Span> sink, Consumer<? super InvalidId> invalid,
      Consumer<? super SkippedSpan> skipped) {
    MalformedRequestException e = malformed(multiLine, reason, location, path(p.streamReadContext(), false));
    if (!salvage) {
      out.clear();
      return e;
    }
    TokenStreamLocation lost = spanStart;
    if (!resourcePlaced || inLibrary) {
      if (!resourcePlaced) {
        truncate(resourceMark);
      }
      lost = resourceStart;
    }
    long end = location == null ? -1 : offset(location);
    e.lostFrom = lost != null ? offset(lost) : Math.max(end, 0);
    e.spansKept = handOver(multiLine, sink, invalid, skipped);
    return e;
  }

  /**
   * The names of the fields of the JSON object {@code json}, in order (for saying what a request
   * without spans holds instead); none for text that is not an object.
   */
  public static List<String> fieldNames(String json) {
    try (JsonParser parser = FACTORY.createParser(ObjectReadContext.empty(), json)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        return List.of();
      }
      List<String> names = new ArrayList<>();
      while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
        names.add(parser.currentName());
        parser.nextToken();
        parser.skipChildren();
      }
      return names;
    } catch (JacksonException e) {
      return List.of();
    }
  }

  // --- the messages, outside in ---------------------------------------------------------------

  private void readRequest() {
    long seen = 0;
    int resources = 0;
    int code;
    while ((code = nextField(REQUEST)) != END) {
      p.nextToken();
      if (code < 0) {
        p.skipChildren();
        continue;
      }
      // resourceSpans
      if (met(seen, code)) {
        out.clear();
        resources = 0;
      } else if (metOther(seen, code) && resources > 0) {
        throw givenTwice();
      }
      seen |= 1L << code;
      if (startArray()) {
        while (nextElement()) {
          readResourceSpans(resources++);
        }
      }
    }
  }

  private void readResourceSpans(int r) {
    resourceStart = p.currentTokenLocation();
    enterObject();
    long seen = 0;
    int mark = out.size();
    resourceMark = mark;
    resourcePlaced = false;
    int scopes = 0;
    List<Object> library = null;
    int libraries = 0;
    String schemaUrl = "";
    service = "";
    host = "";
    int code;
    while ((code = nextField(RESOURCE_SPANS)) != END) {
      p.nextToken();
      if (code < 0) {
        p.skipChildren();
        continue;
      }
      boolean again = met(seen, code);
      boolean other = metOther(seen, code);
      seen |= 1L << code;
      switch (code >> 1) {
        case 1 -> {
          service = "";
          host = "";
          if (p.currentToken() != JsonToken.VALUE_NULL) {
            readResource();
          }
          resourcePlaced = true;
        }
        case 2 -> {
          if (again) {
            truncate(mark);
            scopes = 0;
          } else if (other && scopes > 0) {
            throw givenTwice();
          }
          if (startArray()) {
            while (nextElement()) {
              readScopeSpans(SCOPE_SPANS, r, scopes++);
            }
          }
        }
        case 3 -> {
          if (other && !schemaUrl.isEmpty()) {
            throw givenTwice();
          }
          schemaUrl = orEmpty(string());
        }
        default -> { // instrumentationLibrarySpans
          if (again || library == null) {
            library = new ArrayList<>();
            libraries = 0;
          } else if (other && libraries > 0) {
            throw givenTwice();
          }
          if (startArray()) {
            List<Object> saved = out;
            out = library;
            inLibrary = true;
            try {
              while (nextElement()) {
                readScopeSpans(LIBRARY_SPANS, r, libraries++);
              }
            } finally {
              out = saved;
            }
            inLibrary = false; // left set when the text is cut inside: what was read there is lost
          }
        }
      }
    }
    exit();
    resourcePlaced = true;
    if (scopes == 0 && library != null) {
      out.addAll(library);
    }
    for (int i = mark, n = out.size(); i < n; i++) {
      if (out.get(i) instanceof Span span && !(span.service().equals(service) && span.host().equals(host))) {
        out.set(i, withResource(span, service, host));
      }
    }
  }

  /** Reads a {@code Resource} into {@link #service} and {@link #host} (each empty when not named). */
  private void readResource() {
    enterObject();
    long seen = 0;
    String found = null;
    String hostName = null;
    String instance = null;
    int refs = 0;
    long dropped = 0;
    int code;
    while ((code = nextField(RESOURCE)) != END) {
      p.nextToken();
      if (code < 0) {
        p.skipChildren();
        continue;
      }
      boolean other = metOther(seen, code);
      seen |= 1L << code;
      switch (code >> 1) {
        case 1 -> {
          found = null;
          hostName = null;
          instance = null;
          if (startArray()) {
            while (nextElement()) {
              readKeyValue();
              if (valueCase != STRING_VALUE) {
                continue;
              }
              if (found == null && OtlpSpans.SERVICE_NAME.equals(kvKey)) {
                found = (String) kvValue;
              } else if (hostName == null && OtlpSpans.HOST_NAME.equals(kvKey)) {
                hostName = (String) kvValue;
              } else if (instance == null && OtlpSpans.SERVICE_INSTANCE_ID.equals(kvKey)) {
                instance = (String) kvValue;
              }
            }
          }
        }
        case 2 -> {
          if (other && dropped != 0) {
            throw givenTwice();
          }
          dropped = uint32(0);
        }
        default -> {
          if (other && refs > 0) {
            throw givenTwice();
          }
          refs = 0;
          if (startArray()) {
            while (nextElement()) {
              readEntityRef();
              refs++;
            }
          }
        }
      }
    }
    exit();
    service = found == null ? "" : found;
    host = Names.SHARED.canonical(hostName != null ? hostName : instance != null ? instance : "");
  }

  private void readEntityRef() {
    enterObject();
    long seen = 0;
    String schemaUrl = "";
    int idKeys = 0;
    int descriptionKeys = 0;
    int code;
    while ((code = nextField(ENTITY_REF)) != END) {
      p.nextToken();
      if (code < 0) {
        p.skipChildren();
        continue;
      }
      boolean other = metOther(seen, code);
      seen |= 1L << code;
      switch (code >> 1) {
        case 1 -> {
          if (other && !schemaUrl.isEmpty()) {
            throw givenTwice();
          }
          schemaUrl = orEmpty(string());
        }
        case 2 -> string();
        case 3 -> {
          if (other && idKeys > 0) {
            throw givenTwice();
          }
          idKeys = strings();
        }
        default -> {
          if (other && descriptionKeys > 0) {
            throw givenTwice();
          }
          descriptionKeys = strings();
        }
      }
    }
    exit();
  }

  /** Reads a {@code ScopeSpans} (or an old {@code InstrumentationLibrarySpans}): its spans go out. */
  private void readScopeSpans(Fields fields, int r, int s) {
    enterObject();
    long seen = 0;
    int mark = out.size();
    int spans = 0;
    String schemaUrl = "";
    int code;
    while ((code = nextField(fields)) != END) {
      p.nextToken();
      if (code < 0) {
        p.skipChildren();
        continue;
      }
      boolean again = met(seen, code);
      boolean other = metOther(seen, code);
      seen |= 1L << code;
      switch (code >> 1) {
        case 1 -> {
          if (p.currentToken() != JsonToken.VALUE_NULL) {
            readScope();
          }
        }
        case 2 -> {
          if (again) {
            truncate(mark);
            spans = 0;
          }
          if (startArray()) {
            spans = readSpans(r, s, spans);
          }
        }
        default -> {
          if (other && !schemaUrl.isEmpty()) {
            throw givenTwice();
          }
          schemaUrl = orEmpty(string());
        }
      }
    }
    exit();
  }

  private void readScope() {
    enterObject();
    long seen = 0;
    long dropped = 0;
    int code;
    while ((code = nextField(SCOPE)) != END) {
      p.nextToken();
      if (code < 0) {
        p.skipChildren();
        continue;
      }
      boolean other = metOther(seen, code);
      seen |= 1L << code;
      switch (code >> 1) {
        case 1, 2 -> string();
        case 3 -> skipAttributes();
        default -> {
          if (other && dropped != 0) {
            throw givenTwice();
          }
          dropped = uint32(0);
        }
      }
    }
    exit();
  }

  /**
   * Reads the elements of a {@code spans} array (the parser at its start) as spans numbered from
   * {@code first}; returns the number after the last. Salvaging, a span that cannot be read is
   * passed over to its end and reported in its place.
   */
  private int readSpans(int r, int s, int first) {
    int arrayDepth = p.streamReadContext().getNestingDepth();
    int i = first;
    while (true) {
      int messageDepth = depth;
      TokenStreamLocation start = null;
      try {
        if (!nextElement()) {
          return i;
        }
        start = p.currentTokenLocation();
        spanStart = start;
        readSpan(r, s, i);
        spanStart = null;
      } catch (Bad e) {
        if (!salvage) {
          throw e;
        }
        depth = messageDepth;
        if (start == null) {
          start = p.currentTokenLocation(); // a null element
        }
        while (p.streamReadContext().getNestingDepth() != arrayDepth || isStart(p.currentToken())) {
          p.nextToken();
        }
        TokenStreamLocation end = p.currentLocation();
        TokenStreamLocation at = e.location == null ? start : e.location;
        out.add(new SkippedSpan(r, s, i, e.getMessage(), e.path, at.getLineNr(), at.getColumnNr(), false,
            offset(start), offset(end)));
        spanStart = null;
      }
      i++;
    }
  }

  private static long offset(TokenStreamLocation location) {
    return location.getCharOffset() >= 0 ? location.getCharOffset() : location.getByteOffset();
  }

  private void readSpan(int r, int s, int i) {
    enterObject();
    long seen = 0;
    String traceId = null;
    boolean traceIdString = false;
    String spanId = null;
    boolean spanIdString = false;
    String parentId = null;
    boolean parentIdString = false;
    String traceState = "";
    long flags = 0;
    String name = "";
    int kind = 0;
    long start = 0;
    long end = 0;
    Map<String, Object> attributes = Map.of();
    long droppedAttributes = 0;
    long droppedEvents = 0;
    List<LinkDraft> links = List.of();
    long droppedLinks = 0;
    int statusCode = 0;
    int code;
    while ((code = nextField(SPAN)) != END) {
      JsonToken token = p.nextToken();
      if (code < 0) {
        p.skipChildren();
        continue;
      }
      boolean other = metOther(seen, code);
      seen |= 1L << code;
      switch (code >> 1) {
        case 1 -> {
          if (other && !idBytesEmpty(traceId, traceIdString)) {
            throw givenTwice();
          }
          traceId = idText();
          traceIdString = token == JsonToken.VALUE_STRING;
        }
        case 2 -> {
          if (other && !idBytesEmpty(spanId, spanIdString)) {
            throw givenTwice();
          }
          spanId = idText();
          spanIdString = token == JsonToken.VALUE_STRING;
        }
        case 3 -> {
          if (other && !traceState.isEmpty()) {
            throw givenTwice();
          }
          traceState = orEmpty(string());
        }
        case 4 -> {
          if (other && !idBytesEmpty(parentId, parentIdString)) {
            throw givenTwice();
          }
          parentId = idText();
          parentIdString = token == JsonToken.VALUE_STRING;
        }
        case 16 -> flags = uint32(0);
        case 5 -> name = orEmpty(cached(StringCache.NAMES));
        case 6 -> kind = enumNumber(SPAN_KINDS);
        case 7 -> {
          if (other && start != 0) {
            throw givenTwice();
          }
          start = uint64(0);
        }
        case 8 -> {
          if (other && end != 0) {
            throw givenTwice();
          }
          end = uint64(0);
        }
        case 9 -> attributes = readAttributes();
        case 10 -> {
          if (other && droppedAttributes != 0) {
            throw givenTwice();
          }
          droppedAttributes = uint32(0);
        }
        case 11 -> {
          if (startArray()) {
            while (nextElement()) {
              readEvent();
            }
          }
        }
        case 12 -> {
          if (other && droppedEvents != 0) {
            throw givenTwice();
          }
          droppedEvents = uint32(0);
        }
        case 13 -> links = readLinks();
        case 14 -> {
          if (other && droppedLinks != 0) {
            throw givenTwice();
          }
          droppedLinks = uint32(0);
        }
        default -> statusCode = token == JsonToken.VALUE_NULL ? 0 : readStatus();
      }
    }
    exit();

    Object trace = id(traceId, traceIdString, OtlpSpans.TRACE_ID_BYTES, false);
    Object span = id(spanId, spanIdString, OtlpSpans.SPAN_ID_BYTES, false);
    Object parent = id(parentId, parentIdString, OtlpSpans.SPAN_ID_BYTES, true);
    if (!(trace instanceof String) || !(span instanceof String) || !(parent instanceof String)) {
      String what = !(trace instanceof String) ? "traceId" : !(span instanceof String) ? "spanId" : "parentSpanId";
      Object bad = !(trace instanceof String) ? trace : !(span instanceof String) ? span : parent;
      out.add(((BadId) bad).report(r, s, i, -1, name, what));
      return;
    }
    List<SpanLink> spanLinks = List.of();
    if (!links.isEmpty()) {
      List<SpanLink> list = new ArrayList<>(links.size());
      for (int l = 0; l < links.size(); l++) {
        LinkDraft link = links.get(l);
        if (link.traceId instanceof BadId bad) {
          out.add(bad.report(r, s, i, l, name, "traceId"));
        } else if (link.spanId instanceof BadId bad) {
          out.add(bad.report(r, s, i, l, name, "spanId"));
        } else {
          list.add(new SpanLink((String) link.traceId, (String) link.spanId, link.attributes));
        }
      }
      spanLinks = list;
    }
    out.add(new Span((String) trace, (String) span, (String) parent, name, SpanKind.fromOtlp(kind), service,
        start, end, attributes, spanLinks, statusCode == STATUS_CODE_ERROR, host));
  }

  /** A link as read: each id valid hex or a {@link BadId}. */
  private record LinkDraft(Object traceId, Object spanId, Map<String, Object> attributes) {}

  private List<LinkDraft> readLinks() {
    if (!startArray()) {
      return List.of();
    }
    List<LinkDraft> links = new ArrayList<>(2);
    while (nextElement()) {
      links.add(readLink());
    }
    return links;
  }

  private LinkDraft readLink() {
    enterObject();
    long seen = 0;
    String traceId = null;
    boolean traceIdString = false;
    String spanId = null;
    boolean spanIdString = false;
    String traceState = "";
    Map<String, Object> attributes = Map.of();
    long dropped = 0;
    int code;
    while ((code = nextField(LINK)) != END) {
      JsonToken token = p.nextToken();
      if (code < 0) {
        p.skipChildren();
        continue;
      }
      boolean other = metOther(seen, code);
      seen |= 1L << code;
      switch (code >> 1) {
        case 1 -> {
          if (other && !idBytesEmpty(traceId, traceIdString)) {
            throw givenTwice();
          }
          traceId = idText();
          traceIdString = token == JsonToken.VALUE_STRING;
        }
        case 2 -> {
          if (other && !idBytesEmpty(spanId, spanIdString)) {
            throw givenTwice();
          }
          spanId = idText();
          spanIdString = token == JsonToken.VALUE_STRING;
        }
        case 3 -> {
          if (other && !traceState.isEmpty()) {
            throw givenTwice();
          }
          traceState = orEmpty(string());
        }
        case 4 -> attributes = readAttributes();
        case 5 -> {
          if (other && dropped != 0) {
            throw givenTwice();
          }
          dropped = uint32(0);
        }
        default -> uint32(0);
      }
    }
    exit();
    return new LinkDraft(id(traceId, traceIdString, OtlpSpans.TRACE_ID_BYTES, false),
        id(spanId, spanIdString, OtlpSpans.SPAN_ID_BYTES, false), attributes);
  }

  private void readEvent() {
    enterObject();
    long seen = 0;
    long time = 0;
    long dropped = 0;
    int code;
    while ((code = nextField(EVENT)) != END) {
      p.nextToken();
      if (code < 0) {
        p.skipChildren();
        continue;
      }
      boolean other = metOther(seen, code);
      seen |= 1L << code;
      switch (code >> 1) {
        case 1 -> {
          if (other && time != 0) {
            throw givenTwice();
          }
          time = uint64(0);
        }
        case 2 -> string();
        case 3 -> skipAttributes();
        default -> {
          if (other && dropped != 0) {
            throw givenTwice();
          }
          dropped = uint32(0);
        }
      }
    }
    exit();
  }

  /** Reads a {@code Status}; returns its code's number. */
  private int readStatus() {
    enterObject();
    int code = 0;
    int field;
    while ((field = nextField(STATUS)) != END) {
      p.nextToken();
      if (field < 0) {
        p.skipChildren();
      } else if (field >> 1 == 2) {
        string();
      } else {
        code = enumNumber(STATUS_CODES);
      }
    }
    exit();
    return code;
  }

  // --- attributes -----------------------------------------------------------------------------

  /**
   * Reads a list of {@code KeyValue}s (the current token) into a map as {@link
   * OtlpSpans#attributes} makes it: values without a value left out, of repeated keys the last.
   */
  @SuppressWarnings("unchecked")
  private Map<String, Object> readAttributes() {
    if (!startArray()) {
      return Map.of();
    }
    if (!nextElement()) {
      return Map.of();
    }
    ArrayList<Map.Entry<String, Object>> entries = new ArrayList<>();
    do {
      readKeyValue();
      if (kvValue != null) {
        entries.add(Map.entry(kvKey, kvValue));
      }
    } while (nextElement());
    if (entries.isEmpty()) {
      return Map.of();
    }
    return OtlpSpans.attributeMap(entries.toArray((Map.Entry<String, Object>[]) new Map.Entry<?, ?>[0]));
  }

  /** Reads and checks a list of {@code KeyValue}s whose values are not needed. */
  private void skipAttributes() {
    if (startArray()) {
      while (nextElement()) {
        readKeyValue();
      }
    }
  }

  /** Reads a {@code KeyValue} into {@link #kvKey}, {@link #kvValue} and {@link #valueCase}. */
  private void readKeyValue() {
    enterObject();
    long seen = 0;
    String key = "";
    Object value = null;
    int kase = 0;
    int keyIndex = 0;
    int code;
    while ((code = nextField(KEY_VALUE)) != END) {
      JsonToken token = p.nextToken();
      if (code < 0) {
        p.skipChildren();
        continue;
      }
      boolean other = metOther(seen, code);
      seen |= 1L << code;
      switch (code >> 1) {
        case 1 -> key = orEmpty(cached(StringCache.NAMES));
        case 2 -> {
          if (token == JsonToken.VALUE_NULL) {
            value = null;
            kase = 0;
          } else {
            value = readAnyValue();
            kase = valueCase;
          }
        }
        default -> {
          if (other && keyIndex != 0) {
            throw givenTwice();
          }
          keyIndex = int32(0);
        }
      }
    }
    exit();
    kvKey = key;
    kvValue = value;
    valueCase = kase;
  }

  /**
   * Reads an {@code AnyValue} (the current token): returns it in model form ({@link
   * OtlpSpans#value}), or {@code null} when it has none; {@link #valueCase} tells which it had.
   */
  private Object readAnyValue() {
    enterObject();
    long seen = 0;
    Object value = null;
    int kase = 0;
    int code;
    while ((code = nextField(ANY_VALUE)) != END) {
      JsonToken token = p.nextToken();
      if (code < 0) {
        p.skipChildren();
        continue;
      }
      int field = code >> 1;
      if (met(seen, code)) {
        if (kase == field) { // the same name again: the last one counts
          kase = 0;
          value = null;
        }
      } else if (metOther(seen, code) && kase == field) {
        throw givenTwice();
      }
      seen |= 1L << code;
      if (token == JsonToken.VALUE_NULL) {
        continue;
      }
      Object v = switch (field) {
        case 1 -> cached(StringCache.VALUES);
        case 2 -> bool();
        case 3 -> int64(0);
        case 4 -> float64();
        case 5 -> readArrayValue();
        case 6 -> readKeyValueList();
        case 7 -> Base64.getEncoder().encodeToString(bytes());
        default -> int32(0);
      };
      if (kase != 0) {
        throw new Bad("a value has both " + caseName(kase) + " and " + caseName(field), null);
      }
      kase = field;
      value = v;
    }
    exit();
    valueCase = kase;
    return kase == STRING_VALUE_STRINDEX ? null : value;
  }

  private static String caseName(int field) {
    return ANY_VALUE.name(field * 2);
  }

  /** Reads an {@code ArrayValue}: its values without those that have none. */
  private List<Object> readArrayValue() {
    enterObject();
    List<Object> list = List.of();
    int code;
    while ((code = nextField(VALUES)) != END) {
      p.nextToken();
      if (code < 0) {
        p.skipChildren();
        continue;
      }
      List<Object> values = new ArrayList<>();
      if (startArray()) {
        while (nextElement()) {
          Object item = readAnyValue();
          if (item != null) {
            values.add(item);
          }
        }
      }
      list = List.copyOf(values);
    }
    exit();
    return list;
  }

  /** Reads a {@code KeyValueList} into a map, as attributes. */
  private Map<String, Object> readKeyValueList() {
    enterObject();
    Map<String, Object> map = Map.of();
    int code;
    while ((code = nextField(VALUES)) != END) {
      p.nextToken();
      if (code < 0) {
        p.skipChildren();
        continue;
      }
      map = readAttributes();
    }
    exit();
    return map;
  }

  // --- structure ------------------------------------------------------------------------------

  /** Enters a message: the current token must start an object. */
  private void enterObject() {
    if (depth >= RECURSION_LIMIT) {
      throw new Bad("messages nest deeper than " + RECURSION_LIMIT, null);
    }
    if (p.currentToken() != JsonToken.START_OBJECT) {
      throw expected("an object");
    }
    depth++;
  }

  private void exit() {
    depth--;
  }

  /** Whether a repeated field has elements to read; {@code null} means none, anything but an array fails. */
  private boolean startArray() {
    JsonToken token = p.currentToken();
    if (token == JsonToken.VALUE_NULL) {
      return false;
    }
    if (token != JsonToken.START_ARRAY) {
      throw expected("an array");
    }
    return true;
  }

  /** Moves to the next element of an array; false at its end. A {@code null} element fails. */
  private boolean nextElement() {
    JsonToken token = p.nextToken();
    if (token == JsonToken.END_ARRAY) {
      return false;
    }
    if (token == JsonToken.VALUE_NULL) {
      throw new Bad("an array holds null", null);
    }
    return true;
  }

  /** Reads and checks a repeated string field; returns how many strings it has. */
  private int strings() {
    int n = 0;
    if (startArray()) {
      while (nextElement()) {
        string();
        n++;
      }
    }
    return n;
  }

  /** Forgets what went out after {@code mark}: a name given again replaces what it gave before. */
  private void truncate(int mark) {
    out.subList(mark, out.size()).clear();
  }

  // --- scalars, as protobuf's JSON parser reads them ------------------------------------------

  /**
   * The scalar at the current token as text, as protobuf's JSON parser sees it (Gson's {@code
   * getAsString}): a string as it is, a number as written, {@code true}/{@code false}, and an
   * array of exactly one such value as that value. {@code null} for JSON {@code null}.
   */
  private String scalarText() {
    JsonToken token = p.currentToken();
    switch (token) {
      case VALUE_STRING:
      case VALUE_NUMBER_INT:
      case VALUE_NUMBER_FLOAT:
        return p.getString();
      case VALUE_TRUE:
        return "true";
      case VALUE_FALSE:
        return "false";
      case VALUE_NULL:
        return null;
      case START_ARRAY:
        return onlyElement();
      default:
        throw expected("a single value");
    }
  }

  private String onlyElement() {
    JsonToken token = p.nextToken();
    String text;
    switch (token) {
      case VALUE_STRING:
      case VALUE_NUMBER_INT:
      case VALUE_NUMBER_FLOAT:
        text = p.getString();
        break;
      case VALUE_TRUE:
        text = "true";
        break;
      case VALUE_FALSE:
        text = "false";
        break;
      case START_ARRAY:
        text = onlyElement();
        break;
      default:
        throw expected("a single value");
    }
    if (p.nextToken() != JsonToken.END_ARRAY) {
      throw new Bad("expected a single value, found an array of more than one", null);
    }
    return text;
  }

  /** A string field's value; {@code null} for JSON {@code null}. */
  private String string() {
    JsonToken token = p.currentToken();
    return token == JsonToken.VALUE_STRING ? p.getString() : scalarText();
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }

  private boolean bool() {
    JsonToken token = p.currentToken();
    if (token == JsonToken.VALUE_TRUE) {
      return true;
    }
    if (token == JsonToken.VALUE_FALSE) {
      return false;
    }
    String text = scalarText();
    if ("true".equals(text)) {
      return true;
    }
    if ("false".equals(text)) {
      return false;
    }
    throw not("a boolean", text);
  }

  /** An int64 field; {@code absent} for JSON {@code null}. */
  private long int64(long absent) {
    if (p.currentToken() == JsonToken.VALUE_NUMBER_INT && isLong()) {
      return p.getLongValue();
    }
    String text = scalarText();
    if (text == null) {
      return absent;
    }
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      // as a decimal below
    }
    try {
      return decimal(text).longValueExact();
    } catch (RuntimeException e) {
      throw not("a 64-bit integer", text);
    }
  }

  /**
   * A fixed64 or uint64 field; {@code absent} for JSON {@code null}. As protobuf's parser reads it,
   * number or string alike: exactly, never through a double ({@code 1732530000954992840e0} is that
   * integer); a fraction ({@code 1.5}, {@code 1.7325300000000000001e18}) is not one, a negative or
   * above 2^64 - 1 is out of range.
   */
  private long uint64(long absent) {
    if (p.currentToken() == JsonToken.VALUE_NUMBER_INT && isLong()) {
      long value = p.getLongValue();
      if (value >= 0) {
        return value;
      }
    }
    String text = scalarText();
    if (text == null) {
      return absent;
    }
    try {
      return Long.parseUnsignedLong(text);
    } catch (NumberFormatException e) {
      // as a decimal below
    }
    BigDecimal value;
    try {
      value = decimal(text);
    } catch (RuntimeException e) {
      throw not("an unsigned 64-bit integer", text);
    }
    if (value.signum() < 0 || value.compareTo(MAX_UINT64) > 0) {
      throw new Bad("out of range for an unsigned 64-bit integer: " + quote(text), null);
    }
    if (value.remainder(BigDecimal.ONE).signum() != 0) {
      throw not("an unsigned 64-bit integer", text);
    }
    return value.longValue();
  }

  /** A fixed32 or uint32 field (as a long); {@code absent} for JSON {@code null}. */
  private long uint32(long absent) {
    if (p.currentToken() == JsonToken.VALUE_NUMBER_INT && isLong()) {
      long value = p.getLongValue();
      if (value >= 0 && value <= 0xFFFFFFFFL) {
        return value;
      }
      throw new Bad("out of range for an unsigned 32-bit integer: " + quote(p.getString()), null);
    }
    String text = scalarText();
    if (text == null) {
      return absent;
    }
    long parsed;
    try {
      parsed = Long.parseLong(text);
    } catch (NumberFormatException e) {
      BigDecimal value;
      try {
        value = decimal(text);
      } catch (RuntimeException notDecimal) {
        throw not("an unsigned 32-bit integer", text);
      }
      if (value.signum() < 0 || value.compareTo(MAX_UINT32) > 0) {
        throw new Bad("out of range for an unsigned 32-bit integer: " + quote(text), null);
      }
      if (value.remainder(BigDecimal.ONE).signum() != 0) {
        throw not("an unsigned 32-bit integer", text);
      }
      return value.longValue();
    }
    if (parsed < 0 || parsed > 0xFFFFFFFFL) {
      throw new Bad("out of range for an unsigned 32-bit integer: " + quote(text), null);
    }
    return parsed;
  }

  /** An int32 field; {@code absent} for JSON {@code null}. */
  private int int32(int absent) {
    String text = scalarText();
    if (text == null) {
      return absent;
    }
    Integer value = parseInt32(text);
    if (value == null) {
      throw not("a 32-bit integer", text);
    }
    return value;
  }

  private static Integer parseInt32(String text) {
    try {
      return Integer.parseInt(text);
    } catch (NumberFormatException e) {
      // as a decimal below
    }
    try {
      return decimal(text).intValueExact();
    } catch (RuntimeException e) {
      return null;
    }
  }

  private double float64() {
    JsonToken token = p.currentToken();
    if (token == JsonToken.VALUE_NUMBER_FLOAT || token == JsonToken.VALUE_NUMBER_INT) {
      double value = p.getDoubleValue();
      // Zero and infinity take the exact way: protobuf's parser makes -0 +0.0 and refuses what is
      // far beyond the range of a double.
      if (value != 0 && !Double.isInfinite(value)) {
        return value;
      }
    }
    String text = scalarText();
    if (text.equals("NaN")) {
      return Double.NaN;
    }
    if (text.equals("Infinity")) {
      return Double.POSITIVE_INFINITY;
    }
    if (text.equals("-Infinity")) {
      return Double.NEGATIVE_INFINITY;
    }
    BigDecimal value;
    try {
      value = decimal(text);
    } catch (RuntimeException e) {
      throw not("a number", text);
    }
    if (value.compareTo(MAX_DOUBLE) > 0 || value.compareTo(MIN_DOUBLE) < 0) {
      throw new Bad("out of range for a double: " + quote(text), null);
    }
    return value.doubleValue();
  }

  /** A bytes field: base64 in either alphabet, with or without padding. */
  private byte[] bytes() {
    String text = scalarText();
    byte[] bytes = base64(text);
    if (bytes == null) {
      throw not("base64 text", text);
    }
    return bytes;
  }

  private static byte[] base64(String text) {
    try {
      return Base64.getDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      try {
        return Base64.getUrlDecoder().decode(text);
      } catch (IllegalArgumentException e2) {
        return null;
      }
    }
  }

  /** An enum field's number: by name, else as a number; anything else leaves the field unset (0). */
  private int enumNumber(String[] names) {
    JsonToken token = p.currentToken();
    if (token == JsonToken.VALUE_NUMBER_INT && p.getNumberType() == JsonParser.NumberType.INT) {
      return p.getIntValue();
    }
    String text = scalarText();
    if (text == null) {
      return 0;
    }
    for (int i = 0; i < names.length; i++) {
      if (names[i].equals(text)) {
        return i;
      }
    }
    Integer number = parseInt32(text);
    return number == null ? 0 : number;
  }

  private boolean isLong() {
    JsonParser.NumberType type = p.getNumberType();
    return type == JsonParser.NumberType.INT || type == JsonParser.NumberType.LONG;
  }

  private static BigDecimal decimal(String text) {
    if (text.length() > MAX_NUMERIC_TEXT) {
      throw new NumberFormatException("numeric text longer than " + MAX_NUMERIC_TEXT);
    }
    return new BigDecimal(text);
  }

  // --- ids ------------------------------------------------------------------------------------

  /** An id field's text; {@code null} when absent. */
  private String idText() {
    return cached(StringCache.IDS);
  }

  /** A string field's value as {@link #string()} reads it, looked up in a cache before it is made. */
  private String cached(StringCache cache) {
    if (p.currentToken() != JsonToken.VALUE_STRING) {
      return cache.kept(scalarText());
    }
    return cache.get(p.getStringCharacters(), p.getStringOffset(), p.getStringLength());
  }

  /**
   * The id as lower-case hex when its text is {@code 2 * length} hex digits, not all zeros (the
   * common case, taken without decoding); else {@code null}.
   */
  private static String hexId(String text, int length) {
    if (text == null || text.length() != 2 * length) {
      return null;
    }
    boolean lower = true;
    boolean zero = true;
    for (int i = 0, n = text.length(); i < n; i++) {
      char c = text.charAt(i);
      if (c >= '0' && c <= '9') {
        zero &= c == '0';
      } else if (c >= 'a' && c <= 'f') {
        zero = false;
      } else if (c >= 'A' && c <= 'F') {
        zero = false;
        lower = false;
      } else {
        return null;
      }
    }
    return zero ? null : lower ? text : text.toLowerCase(Locale.ROOT);
  }

  /**
   * The id's bytes as the reference reads them: {@code 2 * length} hex digits are hex (JsonFormat
   * takes them for base64, and {@link OtlpJson} undoes that), anything else base64. Text that is not
   * base64 leaves the id empty when it was a JSON string ({@link OtlpJson} drops such an id, so
   * that its span is reported rather than the request refused); otherwise the request fails.
   */
  private byte[] idBytes(String text, boolean isString, int length) {
    if (text == null) {
      return new byte[0];
    }
    if (text.length() == 2 * length) {
      byte[] hex = hex(text);
      if (hex != null) {
        return hex;
      }
    }
    byte[] bytes = base64(text);
    if (bytes != null) {
      return bytes;
    }
    if (isString) {
      return new byte[0];
    }
    throw new Bad("not base64 text: " + quote(text), null);
  }

  /** Whether the id, as read so far, is empty (protobuf: has no value); for names given twice. */
  private static boolean idBytesEmpty(String text, boolean isString) {
    if (text == null) {
      return true;
    }
    byte[] bytes = base64(text);
    return bytes == null ? isString : bytes.length == 0;
  }

  private static byte[] hex(String text) {
    byte[] out = new byte[text.length() / 2];
    for (int i = 0; i < out.length; i++) {
      int hi = Character.digit(text.charAt(2 * i), 16);
      int lo = Character.digit(text.charAt(2 * i + 1), 16);
      if (hi < 0 || lo < 0 || text.charAt(2 * i) > 'f' || text.charAt(2 * i + 1) > 'f') {
        return null;
      }
      out[i] = (byte) ((hi << 4) | lo);
    }
    return out;
  }

  /**
   * An id as {@link OtlpSpans} judges it: lower-case hex when valid ({@code length} bytes, not all
   * zeros), else a {@link BadId}. A parent that is absent, empty or all zeros is {@code ""} (a root).
   */
  private Object id(String text, boolean isString, int length, boolean parent) {
    String hex = hexId(text, length);
    if (hex != null) {
      return hex;
    }
    byte[] bytes = idBytes(text, isString, length);
    if (parent && (bytes.length == 0 || isZero(bytes))) {
      return "";
    }
    if (bytes.length != length || isZero(bytes)) {
      return new BadId(bytes, isString ? text : "");
    }
    return OtlpSpans.hex(ByteString.copyFrom(bytes));
  }

  /** An id that cannot be used: its bytes and its JSON text ({@code ""} when not a string). */
  private record BadId(byte[] bytes, String text) {
    InvalidId report(int r, int s, int i, int l, String spanName, String field) {
      return new InvalidId(r, s, i, l, spanName, field, ByteString.copyFrom(bytes), text);
    }
  }

  private static boolean isZero(byte[] bytes) {
    for (byte b : bytes) {
      if (b != 0) {
        return false;
      }
    }
    return true;
  }

  private static Span withResource(Span s, String service, String host) {
    return new Span(s.traceId(), s.spanId(), s.parentSpanId(), s.name(), s.kind(), service,
        s.startEpochNanos(), s.endEpochNanos(), s.attributes(), s.links(), s.error(), host);
  }

  // --- names ----------------------------------------------------------------------------------

  /**
   * A message's field names and their codes, matched by the parser against the bytes of a name
   * before (or instead of) making a string of it.
   */
  private record Fields(PropertyNameMatcher matcher, int[] codes) {
    /** The name of a code. */
    String name(int code) {
      for (int i = 0; i < codes.length; i++) {
        if (codes[i] == code) {
          return matcher.nameLookup()[i];
        }
      }
      return "?";
    }
  }

  private static Fields fields(Object... triples) {
    List<String> names = new ArrayList<>();
    List<Integer> codes = new ArrayList<>();
    for (int i = 0; i < triples.length; i += 3) {
      int number = (Integer) triples[i + 2];
      names.add((String) triples[i]);
      codes.add(number * 2);
      if (triples[i + 1] != null) {
        names.add((String) triples[i + 1]);
        codes.add(number * 2 + 1);
      }
    }
    return new Fields(BinaryNameMatcher.construct(names), codes.stream().mapToInt(Integer::intValue).toArray());
  }

  /**
   * The code of the next field's name, {@link #UNKNOWN} for a name the message does not have, or
   * {@link #END} at the end of the object.
   */
  private int nextField(Fields fields) {
    int match = p.nextNameMatch(fields.matcher());
    if (match >= 0) {
      return fields.codes()[match];
    }
    return match == PropertyNameMatcher.MATCH_UNKNOWN_NAME ? UNKNOWN : END;
  }

  /** Whether this very name was met before in the object: its last value counts, as in Gson's tree. */
  private static boolean met(long seen, int code) {
    return (seen & (1L << code)) != 0;
  }

  /** Whether the field's other name (JSON or proto) was met before in the object. */
  private static boolean metOther(long seen, int code) {
    return (seen & (1L << (code ^ 1))) != 0;
  }

  // --- problems -------------------------------------------------------------------------------

  /** A request that is not one; the reason and where in the text it went wrong. */
  public static final class MalformedRequestException extends Exception {
    private final String reason;
    private final String path;
    private final int line;
    private final int column;
    private final boolean multiLine;
    private long spansKept;
    private long lostFrom = -1;

    MalformedRequestException(String reason, String path, int line, int column, boolean multiLine) {
      super(null, null, false, false);
      this.reason = reason;
      this.path = path;
      this.line = line;
      this.column = column;
      this.multiLine = multiLine;
    }

    /**
     * How many spans the salvaging decoder handed over from before the place where the text
     * stopped being JSON; 0 when it handed over nothing.
     */
    public long spansKept() {
      return spansKept;
    }

    /**
     * Where the text that was lost starts (chars, or bytes for a byte input, from its start): the
     * span or resource cut short, or the end of what was read; -1 when nothing was salvaged.
     */
    public long lostFrom() {
      return lostFrom;
    }

    /** What is wrong, e.g. {@code expected an array, found an object}. */
    public String reason() {
      return reason;
    }

    /** Where in the request, e.g. {@code $.resourceSpans[0].scopeSpans[0].spans}; empty at the top. */
    public String path() {
      return path;
    }

    /** The line (1-based) of the text where it went wrong, or -1 when unknown. */
    public int line() {
      return line;
    }

    /** The column (1-based) of that line, or -1 when unknown. */
    public int column() {
      return column;
    }

    /**
     * The reason with its place, lines counted from {@code firstLine} (the number of the text's
     * first line in its file): {@code expected an array, found an object at column 60
     * ($.resourceSpans[0].scopeSpans)}; a text of one line is placed by column alone.
     */
    public String describe(long firstLine) {
      return placed(new StringBuilder(reason), line, column, multiLine, firstLine, path);
    }

    @Override
    public String getMessage() {
      return describe(1);
    }
  }

  /**
   * A span passed over while salvaging a request, and why: what the reference would have refused
   * the whole request for.
   *
   * @param resourceIndex its resource's place in the request (0-based)
   * @param scopeIndex its scope's place in the resource (0-based)
   * @param spanIndex its place in the scope (0-based)
   * @param reason what is wrong, e.g. {@code expected an object, found the string "x"}
   * @param path where in the request, e.g. {@code $.resourceSpans[0].scopeSpans[0].spans[2].kind}
   * @param line the line (1-based) of the text where it went wrong, or -1 when unknown
   * @param column the column (1-based) of that line, or -1 when unknown
   * @param multiLine whether the text has more than one line (a pretty-printed request)
   * @param startOffset where the span's text starts: chars into a String, bytes into UTF-8 input
   * @param endOffset where the span's text ends (exclusive), counted the same way
   */
  public record SkippedSpan(int resourceIndex, int scopeIndex, int spanIndex, String reason, String path, int line,
      int column, boolean multiLine, long startOffset, long endOffset) {

    SkippedSpan multiLine(boolean multi) {
      return multi == multiLine ? this : new SkippedSpan(resourceIndex, scopeIndex, spanIndex, reason, path, line,
          column, multi, startOffset, endOffset);
    }

    /** Where it is, 1-based: {@code span 3 of resource 1, scope 1}. */
    public String where() {
      return "span " + (spanIndex + 1) + " of resource " + (resourceIndex + 1) + ", scope " + (scopeIndex + 1);
    }

    /**
     * A sentence for a reader, lines counted from {@code firstLine} (the number of the text's first
     * line in its file): {@code span 3 of resource 1, scope 1 is skipped: not an unsigned 64-bit
     * integer: "soon" at column 412 ($.resourceSpans[0].scopeSpans[0].spans[2].endTimeUnixNano)}.
     */
    public String describe(long firstLine) {
      return placed(new StringBuilder(where()).append(" is skipped: ").append(reason), line, column, multiLine,
          firstLine, path);
    }
  }

  /** {@code text} followed by its place: {@code  at line 4, column 12 ($.resourceSpans[0])}. */
  private static String placed(StringBuilder text, int line, int column, boolean multiLine, long firstLine,
      String path) {
    if (line > 0 && column > 0) {
      text.append(" at ");
      if (multiLine) {
        text.append("line ").append(firstLine + line - 1).append(", ");
      }
      text.append("column ").append(column);
    }
    if (!path.isEmpty()) {
      text.append(" (").append(path).append(')');
    }
    return text.toString();
  }

  /** A problem met while reading; becomes a {@link MalformedRequestException}. */
  private final class Bad extends RuntimeException {
    final TokenStreamLocation location;
    final String path;

    Bad(String message, String path) {
      super(message, null, false, false);
      this.location = p == null ? null : p.currentTokenLocation();
      this.path = path != null ? path : p == null ? "" : path(p.streamReadContext(), isStart(p.currentToken()));
    }
  }

  private static boolean isStart(JsonToken token) {
    return token == JsonToken.START_OBJECT || token == JsonToken.START_ARRAY;
  }

  private Bad expected(String what) {
    return new Bad("expected " + what + ", found " + found(), null);
  }

  /** {@code not an unsigned 64-bit integer: "soon"}: {@code what} comes with its article. */
  private Bad not(String what, String text) {
    return new Bad("not " + what + ": " + quote(text), null);
  }

  private Bad givenTwice() {
    return new Bad("the field " + p.currentName() + " is given under both its names", null);
  }

  /** The current token in words: {@code an object}, {@code the number 12}, {@code the string "x"}. */
  private String found() {
    JsonToken token = p.currentToken();
    if (token == null) {
      return "nothing";
    }
    return switch (token) {
      case START_OBJECT -> "an object";
      case START_ARRAY -> "an array";
      case VALUE_STRING -> "the string " + quote(p.getString());
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "the number " + cut(p.getString());
      case VALUE_TRUE -> "true";
      case VALUE_FALSE -> "false";
      case VALUE_NULL -> "null";
      default -> token.name();
    };
  }

  private static String quote(String text) {
    return text == null ? "null" : "\"" + cut(text) + "\"";
  }

  private static String cut(String text) {
    return text.length() > 40 ? text.substring(0, 40) + "..." : text;
  }

  /** {@code $.resourceSpans[0].scopeSpans}: where the parser is, JSONPath style; empty at the top. */
  private static String path(TokenStreamContext context, boolean atStart) {
    TokenStreamContext c = atStart && context != null ? context.getParent() : context;
    List<String> parts = new ArrayList<>();
    for (; c != null && !c.inRoot(); c = c.getParent()) {
      if (c.inArray()) {
        parts.add("[" + c.getCurrentIndex() + "]");
      } else if (c.currentName() != null) {
        parts.add("." + c.currentName());
      }
    }
    if (parts.isEmpty()) {
      return "";
    }
    StringBuilder out = new StringBuilder("$");
    for (int i = parts.size() - 1; i >= 0; i--) {
      out.append(parts.get(i));
    }
    return out.toString();
  }

  private static MalformedRequestException malformed(
      java.util.function.BooleanSupplier multiLine, String reason, TokenStreamLocation location, String path) {
    int line = location == null ? -1 : location.getLineNr();
    int column = location == null ? -1 : location.getColumnNr();
    return new MalformedRequestException(reason, path, line, column, multiLine.getAsBoolean());
  }
}
