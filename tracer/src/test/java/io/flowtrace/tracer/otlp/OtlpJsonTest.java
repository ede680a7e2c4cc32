package io.flowtrace.tracer.otlp;

import static io.flowtrace.tracer.TestObjects.PRODUCER_SPAN_ID;
import static io.flowtrace.tracer.TestObjects.SERVER_SPAN_ID;
import static io.flowtrace.tracer.TestObjects.TRACE_ID;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.flowtrace.tracer.TestObjects;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.SpanLink;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OtlpJsonTest {

  static String line(String... spans) {
    return "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"
        + "{\"stringValue\":\"gateway\"}}]},\"scopeSpans\":[{\"spans\":[" + String.join(",", spans)
        + "]}]}]}";
  }

  static String span(String fields) {
    return "{\"traceId\":\"" + TRACE_ID + "\",\"spanId\":\"" + SERVER_SPAN_ID + "\"," + fields + "}";
  }

  private static List<Span> spans(String json) throws InvalidProtocolBufferException {
    List<Span> spans = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    OtlpSpans.convert(OtlpJson.parse(json), spans::add, invalid -> problems.add(OtlpJson.describe(json, invalid)));
    assertThat(problems).isEmpty();
    return spans;
  }

  private static Span only(String json) throws InvalidProtocolBufferException {
    List<Span> spans = spans(json);
    assertThat(spans).hasSize(1);
    return spans.get(0);
  }

  @Test
  void readsALineAsTheJavaAgentAndCollectorWriteIt() throws Exception {
    String json = Files.readString(resource("agent.otlp.jsonl")).strip();

    assertThat(spans(json)).containsExactly(
        new Span(TRACE_ID, SERVER_SPAN_ID, "", "POST /api/orders", SpanKind.SERVER, "gateway",
            1732530000000000000L, 1732530000123456789L,
            Map.of("http.request.method", "POST",
                "http.route", "/api/orders",
                "http.response.status_code", 201L,
                "http.request.body", "{\"items\":[{\"productId\":\"p-1\",\"quantity\":2}]}"),
            List.of(), false),
        new Span(TRACE_ID, PRODUCER_SPAN_ID, SERVER_SPAN_ID, "send orders.requested", SpanKind.PRODUCER,
            "gateway", 1732530000050000000L, 1732530000060000000L,
            Map.of("messaging.system", "kafka",
                "messaging.destination.name", "orders.requested",
                "messaging.destination.partition.id", "0",
                "messaging.kafka.offset", 42L,
                "messaging.batch.fill", 0.5,
                "messaging.kafka.message.tombstone", false,
                "flowtrace.keys", List.of("requestId", "orderId"),
                "flowtrace.raw", "AAAAAAE=",
                "flowtrace.nested", Map.of("a", 1L)),
            List.of(), true),
        new Span("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", "", "process orders.requested",
            SpanKind.CONSUMER, "gateway", 1732530000070000000L, 1732530000080000000L, Map.of(),
            List.of(new SpanLink(TRACE_ID, PRODUCER_SPAN_ID, Map.of("messaging.kafka.offset", 42L))),
            false));
  }

  @Test
  void keepsTheSpanFlagsAndEntityRefsOfTheAgentLine() throws Exception {
    ExportTraceServiceRequest request = OtlpJson.parse(Files.readString(resource("agent.otlp.jsonl")));

    assertThat(request.getResourceSpans(0).getScopeSpans(0).getSpans(0).getFlags()).isEqualTo(769);
    assertThat(request.getResourceSpans(0).getResource().getEntityRefs(0).getType()).isEqualTo("service");
    assertThat(request.getResourceSpans(0).getScopeSpans(0).getSpans(0).getTraceId())
        .isEqualTo(TestObjects.id(TRACE_ID));
  }

  @Test
  void upperCaseHexIdsBecomeLowerCase() throws Exception {
    Span span = only(line("{\"traceId\":\"5B8EFFF798038103D269B633813FC60C\",\"spanId\":\"EEE19B7EC3C1B174\","
        + "\"parentSpanId\":\"A1B2C3D4E5F60718\"}"));

    assertThat(span.traceId()).isEqualTo(TRACE_ID);
    assertThat(span.spanId()).isEqualTo(SERVER_SPAN_ID);
    assertThat(span.parentSpanId()).isEqualTo(PRODUCER_SPAN_ID);
  }

  @Test
  void readsBase64IdsOfProtobufsCanonicalJsonMapping() throws Exception {
    String canonical = JsonFormat.printer().print(TestObjects.gatewayRequest());
    assertThat(canonical).contains("\"traceId\": \"W47/95gDgQPSabYzgT/GDA==\"");

    assertThat(spans(canonical)).extracting(Span::traceId, Span::spanId, Span::parentSpanId, Span::kind)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(TRACE_ID, SERVER_SPAN_ID, "", SpanKind.SERVER),
            org.assertj.core.groups.Tuple.tuple(TRACE_ID, PRODUCER_SPAN_ID, SERVER_SPAN_ID, SpanKind.PRODUCER));
  }

  @Test
  void emptyOrAbsentParentSpanIdMeansRoot() throws Exception {
    assertThat(only(line(span("\"parentSpanId\":\"\""))).isRoot()).isTrue();
    assertThat(only(line(span("\"name\":\"no parent field\""))).isRoot()).isTrue();
  }

  @Test
  void kindMayBeANumberOrAnEnumName() throws Exception {
    assertThat(only(line(span("\"kind\":3"))).kind()).isEqualTo(SpanKind.CLIENT);
    assertThat(only(line(span("\"kind\":\"SPAN_KIND_CLIENT\""))).kind()).isEqualTo(SpanKind.CLIENT);
    assertThat(only(line(span("\"kind\":\"SPAN_KIND_FROM_THE_FUTURE\""))).kind()).isEqualTo(SpanKind.UNSPECIFIED);
  }

  @Test
  void sixtyFourBitIntegersMayBeStringsOrExactNumbers() throws Exception {
    Span span = only(line(span("\"startTimeUnixNano\":\"1732530000000000001\","
        + "\"endTimeUnixNano\":1732530000999999999,"
        + "\"attributes\":[{\"key\":\"a\",\"value\":{\"intValue\":\"9007199254740993\"}},"
        + "{\"key\":\"b\",\"value\":{\"intValue\":9007199254740993}}]")));

    assertThat(span.startEpochNanos()).isEqualTo(1732530000000000001L);
    assertThat(span.endEpochNanos()).isEqualTo(1732530000999999999L);
    assertThat(span.attributes()).containsEntry("a", 9007199254740993L).containsEntry("b", 9007199254740993L);
  }

  @Test
  void ignoresUnknownFieldsAtEveryLevel() throws Exception {
    String json = "{\"resourceSpans\":[{\"resource\":{\"attributes\":[],\"entityRefs\":[{\"type\":\"service\"}],"
        + "\"futureResourceField\":true},\"scopeSpans\":[{\"scope\":{\"name\":\"s\",\"futureScope\":1},"
        + "\"spans\":[" + span("\"futureSpanField\":{\"nested\":[1,2]}") + "]}],\"futureRs\":\"x\"}],"
        + "\"futureTop\":null}";

    assertThat(only(json).spanId()).isEqualTo(SERVER_SPAN_ID);
  }

  @Test
  void anIdThatIsNotBase64AtAllLosesOnlyItsOwnSpan() throws Exception {
    String json = line(span("\"name\":\"good\""),
        "{\"traceId\":\"zz!\",\"spanId\":\"" + SERVER_SPAN_ID + "\",\"name\":\"bad\"}");
    List<Span> spans = new ArrayList<>();
    List<String> problems = new ArrayList<>();

    OtlpSpans.convert(OtlpJson.parse(json), spans::add, invalid -> problems.add(OtlpJson.describe(json, invalid)));

    assertThat(spans).extracting(Span::name).containsExactly("good");
    assertThat(problems).containsExactly(
        "span 2 'bad' of resource 1, scope 1 has traceId 'zz!' which is not 16 bytes of hex");
  }

  @Test
  void rejectsTextThatIsNotARequest() {
    assertThatThrownBy(() -> OtlpJson.parse("[1,2]"))
        .isInstanceOf(InvalidProtocolBufferException.class)
        .hasMessage("Expect message object but got: [1,2]");
  }

  @Test
  void printsOneLineWithHexIdsIntegerEnumsAndStringInt64s() {
    String json = OtlpJson.print(TestObjects.gatewayRequest());

    assertThat(json)
        .doesNotContain("\n")
        .contains("\"traceId\":\"" + TRACE_ID + "\"")
        .contains("\"spanId\":\"" + PRODUCER_SPAN_ID + "\",\"parentSpanId\":\"" + SERVER_SPAN_ID + "\"")
        .contains("\"kind\":2")
        .contains("\"startTimeUnixNano\":\"1732530000000000000\"")
        .contains("{\"key\":\"http.response.status_code\",\"value\":{\"intValue\":\"201\"}}")
        .doesNotContain("SPAN_KIND");
  }

  @Test
  void printedJsonParsesBackToTheSameRequest() throws Exception {
    ExportTraceServiceRequest request = TestObjects.gatewayRequest();

    assertThat(OtlpJson.parse(OtlpJson.print(request))).isEqualTo(request);
  }

  static Path resource(String name) throws URISyntaxException {
    return Path.of(OtlpJsonTest.class.getResource("/recordings/" + name).toURI());
  }

}
