package io.flowtrace.tracer.otlp;

import static io.flowtrace.tracer.TestObjects.PRODUCER_SPAN_ID;
import static io.flowtrace.tracer.TestObjects.SERVER_SPAN_ID;
import static io.flowtrace.tracer.TestObjects.TRACE_ID;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.otlp.OtlpJsonDecoderDifferentialTest.Outcome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OtlpJsonDecoderTest {

  private final OtlpJsonDecoder decoder = new OtlpJsonDecoder();
  private final List<Span> spans = new ArrayList<>();
  private final List<String> invalid = new ArrayList<>();

  static String line(String... spans) {
    return "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"
        + "{\"stringValue\":\"gateway\"}}]},\"scopeSpans\":[{\"spans\":[" + String.join(",", spans) + "]}]}]}";
  }

  static String resource(String service, String... spans) {
    return "{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"" + service
        + "\"}}]},\"scopeSpans\":[{\"spans\":[" + String.join(",", spans) + "]}]}";
  }

  static String span(String fields) {
    return "{\"traceId\":\"" + TRACE_ID + "\",\"spanId\":\"" + SERVER_SPAN_ID + "\""
        + (fields.isEmpty() ? "" : "," + fields) + "}";
  }

  private long decode(String json) throws OtlpJsonDecoder.MalformedRequestException {
    return decoder.decode(json, spans::add, id -> invalid.add(id.describe()));
  }

  private String refusal(String json) {
    try {
      decode(json);
    } catch (OtlpJsonDecoder.MalformedRequestException e) {
      assertThat(spans).isEmpty();
      return e.getMessage();
    }
    throw new AssertionError("decoded " + spans);
  }

  private Span only(String json) throws Exception {
    assertThat(decode(json)).isEqualTo(1);
    assertThat(invalid).isEmpty();
    return spans.get(0);
  }

  @Test
  void readsTheAgentLineAsTheReferenceDoes() throws Exception {
    String json = Files.readString(Path.of(getClass().getResource("/recordings/agent.otlp.jsonl").toURI())).strip();

    decode(json);

    assertThat(spans).isEqualTo(OtlpJsonDecoderDifferentialTest.reference(json).spans());
    assertThat(spans).extracting(Span::spanId, Span::kind, Span::error).containsExactly(
        org.assertj.core.groups.Tuple.tuple(SERVER_SPAN_ID, SpanKind.SERVER, false),
        org.assertj.core.groups.Tuple.tuple(PRODUCER_SPAN_ID, SpanKind.PRODUCER, true),
        org.assertj.core.groups.Tuple.tuple("b7ad6b7169203331", SpanKind.CONSUMER, false));
    assertThat(spans.get(1).attributes()).containsEntry("flowtrace.nested", Map.of("a", 1L))
        .containsEntry("flowtrace.raw", "AAAAAAE=").containsEntry("flowtrace.keys", List.of("requestId", "orderId"));
  }

  @Test
  void theServiceMayComeAfterTheSpans() throws Exception {
    String json = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[" + span("") + "]}],"
        + "\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"late\"}}]}}]}";

    assertThat(only(json).service()).isEqualTo("late");
  }

  @Test
  void theHostIsTheResourcesHostNameElseItsServiceInstanceWhereverTheResourceComes() throws Exception {
    String instance = "{\"key\":\"service.instance.id\",\"value\":{\"stringValue\":\"pod-uid-7\"}}";
    String hostName = "{\"key\":\"host.name\",\"value\":{\"stringValue\":\"node-3\"}}";
    String service = "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"orders\"}}";
    String both = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[" + span("") + "]}],"
        + "\"resource\":{\"attributes\":[" + instance + "," + service + "," + hostName + "]}}]}";
    String instanceOnly = "{\"resourceSpans\":[{\"resource\":{\"attributes\":[" + service + "," + instance
        + "]},\"scopeSpans\":[{\"spans\":[" + span("") + "]}]}]}";

    assertThat(only(both).host()).isEqualTo("node-3");
    assertThat(OtlpJsonDecoderDifferentialTest.reference(both).spans()).containsExactlyElementsOf(spans);
    spans.clear();
    assertThat(only(instanceOnly).host()).isEqualTo("pod-uid-7");
    assertThat(OtlpJsonDecoderDifferentialTest.reference(instanceOnly).spans()).containsExactlyElementsOf(spans);
    spans.clear();
    assertThat(only(line(span(""))).host()).isEmpty();
  }

  @Test
  void ignoresUnknownFieldsOfEveryTypeAtEveryDepth() throws Exception {
    String unknown = "\"future\":{\"a\":[1,{\"b\":null},\"x\",true,-0.5e-3]},\"more\":[[[]]],\"n\":null";
    String json = "{" + unknown + ",\"resourceSpans\":[{" + unknown + ",\"resource\":{" + unknown
        + "},\"scopeSpans\":[{" + unknown + ",\"scope\":{" + unknown + "},\"spans\":[" + span(unknown
        + ",\"status\":{" + unknown + ",\"code\":2},\"attributes\":[{" + unknown + ",\"key\":\"k\",\"value\":{"
        + unknown + ",\"intValue\":\"1\"}}]") + "]}]}]}";

    Span span = only(json);

    assertThat(span.error()).isTrue();
    assertThat(span.attributes()).isEqualTo(Map.of("k", 1L));
    assertThat(OtlpJsonDecoderDifferentialTest.reference(json).spans()).containsExactly(span);
  }

  @Test
  void numbersInOddFormsAreReadAsProtobufsParserReadsThem() throws Exception {
    String json = line(span("\"kind\":3.0,\"startTimeUnixNano\":1732530000954992840e0,"
        + "\"endTimeUnixNano\":\"18446744073709551615\",\"attributes\":["
        + "{\"key\":\"int\",\"value\":{\"intValue\":1e3}},"
        + "{\"key\":\"exact\",\"value\":{\"intValue\":\"9.007199254740993e15\"}},"
        + "{\"key\":\"negativeZero\",\"value\":{\"doubleValue\":-0}},"
        + "{\"key\":\"underflow\",\"value\":{\"doubleValue\":\"-1e-400\"}},"
        + "{\"key\":\"nan\",\"value\":{\"doubleValue\":\"NaN\"}},"
        + "{\"key\":\"text\",\"value\":{\"stringValue\":1E3}}]"));

    Span span = only(json);

    assertThat(span.kind()).isEqualTo(SpanKind.CLIENT);
    assertThat(span.startEpochNanos()).isEqualTo(1_732_530_000_954_992_840L); // exact: no double on the way
    assertThat(span.endEpochNanos()).isEqualTo(-1L); // 2^64 - 1, as the unsigned value it is
    assertThat(span.attributes()).containsEntry("int", 1000L).containsEntry("exact", 9_007_199_254_740_993L)
        .containsEntry("negativeZero", 0.0).containsEntry("underflow", -0.0).containsEntry("nan", Double.NaN)
        .containsEntry("text", "1E3");
    assertThat(OtlpJsonDecoderDifferentialTest.reference(json).spans()).containsExactly(span);
  }

  /** Protobuf reads a 64-bit integer exactly, as a BigDecimal when it is not plain digits. */
  @ParameterizedTest
  @ValueSource(strings = {
      "1.7325300000000000001e18: not an unsigned 64-bit integer: \"1.7325300000000000001e18\"",
      "\"1.5\": not an unsigned 64-bit integer: \"1.5\"",
      "-1: out of range for an unsigned 64-bit integer: \"-1\"",
      "\"-0.5\": out of range for an unsigned 64-bit integer: \"-0.5\"",
      "18446744073709551616: out of range for an unsigned 64-bit integer: \"18446744073709551616\"",
      "1e400: out of range for an unsigned 64-bit integer: \"1e400\"",
      "\"0x10\": not an unsigned 64-bit integer: \"0x10\"",
      "\" 5\": not an unsigned 64-bit integer: \" 5\""})
  void aTimestampThatIsNoUnsigned64BitIntegerIsRefusedAsProtobufRefusesIt(String valueAndReason) {
    int colon = valueAndReason.indexOf(": ");
    String json = line(span("\"startTimeUnixNano\":" + valueAndReason.substring(0, colon)));

    assertThat(refusal(json)).startsWith(valueAndReason.substring(colon + 2) + " at column ");
    assertThat(OtlpJsonDecoderDifferentialTest.reference(json).refused()).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"1e19", "\"1e19\"", "1.8446744073709551615e19", "\"+5\"", "-0", "\"-0.0\"", "10E-1",
      "[\"7\"]", "\"\u0661\u0662\""})
  void aTimestampInAnyFormProtobufTakesIsReadAsProtobufReadsIt(String value) throws Exception {
    String json = line(span("\"startTimeUnixNano\":" + value));

    assertThat(only(json)).isEqualTo(OtlpJsonDecoderDifferentialTest.reference(json).spans().get(0));
  }

  @Test
  void anUndecodableIdDoesNotChangeHowTheRestOfTheRequestIsRead() throws Exception {
    String json = line(
        span("\"startTimeUnixNano\":1732530000954992840e0,\"name\":-0"),
        "{\"traceId\":\"zz!\",\"spanId\":\"" + SERVER_SPAN_ID + "\"}");

    assertThat(decode(json)).isEqualTo(1);

    assertThat(spans.get(0).startEpochNanos()).isEqualTo(1_732_530_000_954_992_840L);
    assertThat(spans.get(0).name()).isEqualTo("-0");
    assertThat(OtlpJsonDecoderDifferentialTest.reference(json).spans()).isEqualTo(spans);
  }

  @Test
  void aScalarMayComeAsAnArrayOfOneAsProtobufsParserTakesIt() throws Exception {
    Span span = only(line(span("\"name\":[\"wrapped\"],\"kind\":[[\"SPAN_KIND_SERVER\"]]")));

    assertThat(span.name()).isEqualTo("wrapped");
    assertThat(span.kind()).isEqualTo(SpanKind.SERVER);
  }

  @Test
  void idsAreHexOrBase64InAnyCaseAndAnInvalidIdIsReportedWithItsText() throws Exception {
    String json = line(
        span("\"name\":\"hex\""),
        "{\"traceId\":\"W47/95gDgQPSabYzgT/GDA==\",\"spanId\":\"7uGbfsPBsXQ\",\"name\":\"base64\"}",
        "{\"traceId\":\"zz!\",\"spanId\":\"" + SERVER_SPAN_ID + "\",\"name\":\"not base64\"}",
        "{\"traceId\":\"" + "0".repeat(32) + "\",\"spanId\":\"" + SERVER_SPAN_ID + "\",\"name\":\"zeros\"}",
        span("\"name\":\"bad link\",\"links\":[{\"traceId\":\"" + TRACE_ID + "\",\"spanId\":\"abc\"}]"));

    assertThat(decode(json)).isEqualTo(3);

    assertThat(spans).extracting(Span::name, Span::traceId, Span::spanId).containsExactly(
        org.assertj.core.groups.Tuple.tuple("hex", TRACE_ID, SERVER_SPAN_ID),
        org.assertj.core.groups.Tuple.tuple("base64", TRACE_ID, SERVER_SPAN_ID),
        org.assertj.core.groups.Tuple.tuple("bad link", TRACE_ID, SERVER_SPAN_ID));
    assertThat(spans.get(2).links()).isEmpty();
    assertThat(invalid).containsExactly(
        "span 3 'not base64' of resource 1, scope 1 has traceId 'zz!' which is not 16 bytes of hex",
        "span 4 'zeros' of resource 1, scope 1 has traceId '00000000000000000000000000000000' which is all zeros",
        "link 1 of span 5 'bad link' of resource 1, scope 1 has spanId 'abc' which is not 8 bytes of hex");
    Outcome reference = OtlpJsonDecoderDifferentialTest.reference(json);
    assertThat(reference.spans()).isEqualTo(spans);
    assertThat(reference.invalidIds()).isEqualTo(invalid);
  }

  @Test
  void aRequestThatFailsLateHandsOverNothing() {
    String json = line(span("\"name\":\"fine\""), span("\"startTimeUnixNano\":\"soon\""));

    assertThat(refusal(json)).isEqualTo("not an unsigned 64-bit integer: \"soon\" at column "
        + (json.indexOf("\"soon\"") + 1) + " ($.resourceSpans[0].scopeSpans[0].spans[1].startTimeUnixNano)");
    assertThat(invalid).isEmpty();
  }

  @Test
  void salvagingSkipsOnlyTheSpansThatCannotBeReadAndSaysWhereTheyAre() throws Exception {
    String json = line(span("\"name\":\"first\""), span("\"name\":\"late\",\"startTimeUnixNano\":\"soon\""),
        "null", "\"a string\"", span("\"name\":\"deep\",\"attributes\":[{\"key\":\"k\",\"value\":"
            + "{\"kvlistValue\":{\"values\":[{\"key\":\"x\",\"value\":{\"intValue\":[1,2]}}]}}}]"),
        span("\"name\":\"last\",\"kind\":2"));
    List<OtlpJsonDecoder.SkippedSpan> skipped = new ArrayList<>();

    long read = decoder.decode(json, spans::add, id -> invalid.add(id.describe()), skipped::add);

    assertThat(read).isEqualTo(2);
    assertThat(spans).extracting(Span::name, Span::service).containsExactly(tuple("first", "gateway"),
        tuple("last", "gateway"));
    assertThat(spans.get(1).kind()).isEqualTo(SpanKind.SERVER);
    assertThat(skipped).extracting(OtlpJsonDecoder.SkippedSpan::spanIndex).containsExactly(1, 2, 3, 4);
    assertThat(skipped.get(0).describe(7)).isEqualTo("span 2 of resource 1, scope 1 is skipped: not an unsigned "
        + "64-bit integer: \"soon\" at column " + (json.indexOf("\"soon\"") + 1)
        + " ($.resourceSpans[0].scopeSpans[0].spans[1].startTimeUnixNano)");
    assertThat(skipped.get(1).reason()).isEqualTo("an array holds null");
    assertThat(skipped.get(2).reason()).isEqualTo("expected an object, found the string \"a string\"");
    assertThat(skipped.get(3).reason()).isEqualTo("expected a single value, found an array of more than one");
    assertThat(json.substring((int) skipped.get(0).startOffset(), (int) skipped.get(0).endOffset()))
        .isEqualTo(span("\"name\":\"late\",\"startTimeUnixNano\":\"soon\""));
    spans.clear();
    assertThat(refusal(json)).as("without salvaging").startsWith("not an unsigned 64-bit integer");
  }

  @Test
  void salvagingStillRefusesARequestWhoseProblemIsOutsideItsSpans() {
    List<OtlpJsonDecoder.SkippedSpan> skipped = new ArrayList<>();
    String json = "{\"resourceSpans\":[{\"resource\":\"gateway\",\"scopeSpans\":[{\"spans\":[" + span("") + "]}]}]}";

    assertThatThrownBy(() -> decoder.decode(json, spans::add, id -> invalid.add(id.describe()), skipped::add))
        .isInstanceOf(OtlpJsonDecoder.MalformedRequestException.class)
        .hasMessageStartingWith("expected an object, found the string \"gateway\"");
    assertThat(spans).isEmpty();
    assertThat(skipped).isEmpty();
  }

  @Test
  void salvagingKeepsWhatWasReadWholeBeforeTheTextStopsBeingJson() {
    List<OtlpJsonDecoder.SkippedSpan> skipped = new ArrayList<>();
    String broken = span("\"name\":}");
    String json = "{\"resourceSpans\":[" + resource("gateway", span("\"name\":\"first resource\"")) + ","
        + resource("orders", span("\"name\":\"x\""), broken) + "]}";
    byte[] utf8 = json.getBytes(StandardCharsets.UTF_8);

    for (boolean bytes : new boolean[] {false, true}) {
      spans.clear();
      assertThatThrownBy(() -> {
        if (bytes) {
          decoder.decode(utf8, 0, utf8.length, spans::add, id -> invalid.add(id.describe()), skipped::add);
        } else {
          decoder.decode(json, spans::add, id -> invalid.add(id.describe()), skipped::add);
        }
      }).isInstanceOfSatisfying(OtlpJsonDecoder.MalformedRequestException.class, e -> {
        assertThat(e.getMessage()).startsWith("not JSON: Unexpected character ('}'");
        assertThat(e.spansKept()).isEqualTo(2);
        assertThat(json.substring((int) e.lostFrom())).startsWith(broken);
      });
      assertThat(spans).extracting(Span::name, Span::service).as(bytes ? "bytes" : "text")
          .containsExactly(tuple("first resource", "gateway"), tuple("x", "orders"));
    }

    spans.clear();
    assertThat(refusal(json)).as("without salvaging").startsWith("not JSON");

    String serviceNotYetKnown = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[" + span("\"name\":\"y\"")
        + "]}],\"resource\":{\"attrib";
    assertThatThrownBy(() -> decoder.decode(serviceNotYetKnown, spans::add, id -> invalid.add(id.describe()),
        skipped::add)).isInstanceOfSatisfying(OtlpJsonDecoder.MalformedRequestException.class, e -> {
          assertThat(e.spansKept()).isZero();
          assertThat(e.lostFrom()).isEqualTo(serviceNotYetKnown.indexOf("{\"scopeSpans"));
        });
    assertThat(spans).isEmpty();
    assertThat(skipped).isEmpty();
  }

  @Test
  void saysWhatIsWrongAndWhere() {
    assertThat(refusal("[1,2]")).isEqualTo("expected a request object, found an array at column 1");
    assertThat(refusal("{\"resourceSpans\":{}}"))
        .isEqualTo("expected an array, found an object at column 18 ($.resourceSpans)");
    assertThat(refusal("{\"resourceSpans\":[null]}"))
        .isEqualTo("an array holds null at column 19 ($.resourceSpans[0])");
    assertThat(refusal("{\"resourceSpans\":[{\"resource\":\"gateway\"}]}"))
        .isEqualTo("expected an object, found the string \"gateway\" at column 31 ($.resourceSpans[0].resource)");
    assertThat(refusal(line(span("\"attributes\":[{\"key\":\"k\",\"value\":{\"stringValue\":\"a\",\"intValue\":1}}]"))))
        .startsWith("a value has both stringValue and intValue at column ");
    assertThat(refusal(line(span("\"trace_id\":\"" + TRACE_ID + "\""))))
        .startsWith("the field trace_id is given under both its names at column ");
    assertThat(refusal("{\"resourceSpans\":[]} {}")).isEqualTo("unexpected text after the request at column 22");
    assertThat(refusal("{\"resourceSpans\":[")).isEqualTo("the JSON ends early at column 19 ($.resourceSpans[0])");
    assertThat(refusal("garbage")).isEqualTo("not JSON: Unrecognized token 'garbage' at column 1");
  }

  @Test
  void aDocumentOfManyLinesIsPlacedByLine() {
    String json = "{\n  \"resourceSpans\": [\n    {\"scopeSpans\": 7}\n  ]\n}";

    assertThatThrownBy(() -> decode(json))
        .isInstanceOfSatisfying(OtlpJsonDecoder.MalformedRequestException.class, e -> {
          assertThat(e.line()).isEqualTo(3);
          assertThat(e.describe(40)).isEqualTo(
              "expected an array, found the number 7 at line 42, column 20 ($.resourceSpans[0].scopeSpans)");
        });
  }

  @Test
  void attributeValuesNestAtMostAsDeepAsProtobufsParserAllows() throws Exception {
    assertThat(refusal(line(span("\"attributes\":[{\"key\":\"deep\",\"value\":" + kvlists(32) + "}]"))))
        .startsWith("messages nest deeper than 100 at column ");
    assertThat(OtlpJsonDecoderDifferentialTest.reference(
        line(span("\"attributes\":[{\"key\":\"deep\",\"value\":" + kvlists(32) + "}]"))).refused()).isTrue();

    Span span = only(line(span("\"attributes\":[{\"key\":\"deep\",\"value\":" + kvlists(31) + "}]")));
    assertThat(span.attributes()).containsKey("deep");
  }

  /** An AnyValue of {@code levels} key-value lists, one in the other (each level is three messages). */
  private static String kvlists(int levels) {
    String value = "{\"stringValue\":\"bottom\"}";
    for (int i = 0; i < levels; i++) {
      value = "{\"kvlistValue\":{\"values\":[{\"key\":\"k\",\"value\":" + value + "}]}}";
    }
    return value;
  }

  @Test
  void spansUnderTheOldInstrumentationLibrarySpansAreReadWhenThereAreNoScopeSpans() throws Exception {
    String old = "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"
        + "{\"stringValue\":\"legacy\"}}]},\"instrumentationLibrarySpans\":[{\"instrumentationLibrary\":"
        + "{\"name\":\"io.opentelemetry.kafka\",\"version\":\"1.0\"},\"spans\":[" + span("\"name\":\"old\"") + "]}]}]}";

    assertThat(only(old).name()).isEqualTo("old");
    // the protobuf classes no longer know the field: as scopeSpans the reference reads the same span
    assertThat(OtlpJsonDecoderDifferentialTest.reference(old.replace("instrumentationLibrarySpans", "scopeSpans")
        .replace("instrumentationLibrary", "scope")).spans()).containsExactlyElementsOf(spans);

    spans.clear();
    String both = old.replace("\"instrumentationLibrarySpans\"",
        "\"scopeSpans\":[{\"spans\":[" + span("\"name\":\"new\"") + "]}],\"instrumentationLibrarySpans\"");
    assertThat(only(both).name()).isEqualTo("new");
  }

  /**
   * Protobuf's JSON parser reads with Gson in its lenient mode, which takes what is not JSON; no
   * OTLP writer writes it, and the decoder, reading JSON, refuses it.
   */
  @ParameterizedTest
  @ValueSource(strings = {
      "{\"resourceSpans\":[]} trailing",
      "{\"resourceSpans\":[]}{\"resourceSpans\":[]}",
      "{resourceSpans:[]}",
      "{'resourceSpans':[]}",
      "{\"resourceSpans\":[]/* comment */}",
      "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":unquoted}]}]}]}",
      "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"attributes\":[{\"key\":\"k\",\"value\":{\"doubleValue\":NaN}}]}]}]}]}"})
  void textThatIsNotJsonIsRefusedWhereTheReferenceWasLenient(String json) {
    assertThat(OtlpJsonDecoderDifferentialTest.reference(json).refused()).isFalse();
    assertThat(OtlpJsonDecoderDifferentialTest.streaming(json).refused()).isTrue();
  }
}
