package io.flowtrace.tracer.otlp;

import static io.flowtrace.tracer.TestObjects.PRODUCER_SPAN_ID;
import static io.flowtrace.tracer.TestObjects.SERVER_SPAN_ID;
import static io.flowtrace.tracer.TestObjects.START_NANOS;
import static io.flowtrace.tracer.TestObjects.TRACE_ID;
import static io.flowtrace.tracer.TestObjects.attribute;
import static io.flowtrace.tracer.TestObjects.id;
import static io.flowtrace.tracer.TestObjects.request;
import static io.flowtrace.tracer.TestObjects.span;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.flowtrace.tracer.TestObjects;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanLink;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.ArrayValue;
import io.opentelemetry.proto.common.v1.KeyValueList;
import io.opentelemetry.proto.trace.v1.Span.SpanKind;
import io.opentelemetry.proto.trace.v1.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OtlpSpansTest {

  private final List<Span> spans = new ArrayList<>();
  private final List<OtlpSpans.InvalidId> invalid = new ArrayList<>();

  private long convert(ExportTraceServiceRequest request) {
    return OtlpSpans.convert(request, spans::add, invalid::add);
  }

  @Test
  void convertsIdsNamesKindsServiceTimesAndStatus() {
    ExportTraceServiceRequest request = request("gateway",
        span(SERVER_SPAN_ID, "", "POST /api/orders", SpanKind.SPAN_KIND_SERVER)
            .addAttributes(attribute("http.request.method", "POST"))
            .addAttributes(attribute("http.response.status_code", 201))
            .setStatus(Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_OK)),
        span(PRODUCER_SPAN_ID, SERVER_SPAN_ID, "send orders.requested", SpanKind.SPAN_KIND_PRODUCER)
            .addAttributes(attribute("messaging.system", "kafka"))
            .setStatus(Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_ERROR)));

    assertThat(convert(request)).isEqualTo(2);

    assertThat(invalid).isEmpty();
    assertThat(spans).containsExactly(
        new Span(TRACE_ID, SERVER_SPAN_ID, "", "POST /api/orders", io.flowtrace.tracer.model.SpanKind.SERVER,
            "gateway", START_NANOS, START_NANOS + 1_000_000,
            Map.of("http.request.method", "POST", "http.response.status_code", 201L), List.of(), false),
        new Span(TRACE_ID, PRODUCER_SPAN_ID, SERVER_SPAN_ID, "send orders.requested",
            io.flowtrace.tracer.model.SpanKind.PRODUCER, "gateway", START_NANOS, START_NANOS + 1_000_000,
            Map.of("messaging.system", "kafka"), List.of(), true));
  }

  @Test
  void flattensEveryAttributeValueType() {
    AnyValue array = AnyValue.newBuilder().setArrayValue(ArrayValue.newBuilder()
        .addValues(AnyValue.newBuilder().setIntValue(1))
        .addValues(AnyValue.newBuilder().setIntValue(2))
        .addValues(AnyValue.getDefaultInstance())).build();
    AnyValue kvlist = AnyValue.newBuilder().setKvlistValue(KeyValueList.newBuilder()
        .addValues(attribute("city", "Berlin"))
        .addValues(attribute("zip", 10115))).build();

    convert(request("gateway", span(SERVER_SPAN_ID, "", "x", SpanKind.SPAN_KIND_INTERNAL)
        .addAttributes(attribute("s", "text"))
        .addAttributes(attribute("l", Long.MAX_VALUE))
        .addAttributes(attribute("d", AnyValue.newBuilder().setDoubleValue(12.5).build()))
        .addAttributes(attribute("b", AnyValue.newBuilder().setBoolValue(true).build()))
        .addAttributes(attribute("a", array))
        .addAttributes(attribute("m", kvlist))
        .addAttributes(attribute("bytes", AnyValue.newBuilder()
            .setBytesValue(ByteString.copyFrom(TestObjects.AVRO_VALUE)).build()))
        .addAttributes(attribute("empty", AnyValue.getDefaultInstance()))));

    assertThat(spans).singleElement().extracting(Span::attributes).isEqualTo(Map.of(
        "s", "text",
        "l", Long.MAX_VALUE,
        "d", 12.5,
        "b", true,
        "a", List.of(1L, 2L),
        "m", Map.of("city", "Berlin", "zip", 10115L),
        "bytes", "AAAAAAEGYUBi/w=="));
  }

  @Test
  void repeatedAttributeKeyKeepsTheLastValue() {
    convert(request("gateway", span(SERVER_SPAN_ID, "", "x", SpanKind.SPAN_KIND_SERVER)
        .addAttributes(attribute("k", "first"))
        .addAttributes(attribute("k", "second"))));

    assertThat(spans.get(0).attributes()).containsExactly(Map.entry("k", "second"));
  }

  @Test
  void mapsKindNumbersAndTreatsUnknownOnesAsUnspecified() {
    convert(request("svc",
        span(SERVER_SPAN_ID, "", "consumer", SpanKind.SPAN_KIND_CONSUMER),
        span(PRODUCER_SPAN_ID, "", "future", SpanKind.SPAN_KIND_INTERNAL).setKindValue(99)));

    assertThat(spans).extracting(Span::kind).containsExactly(
        io.flowtrace.tracer.model.SpanKind.CONSUMER, io.flowtrace.tracer.model.SpanKind.UNSPECIFIED);
  }

  @Test
  void convertsLinksWithTheirAttributes() {
    convert(request("order-service", span(SERVER_SPAN_ID, "", "process orders.requested", SpanKind.SPAN_KIND_CONSUMER)
        .addLinks(io.opentelemetry.proto.trace.v1.Span.Link.newBuilder()
            .setTraceId(id("0af7651916cd43dd8448eb211c80319c"))
            .setSpanId(id(PRODUCER_SPAN_ID))
            .addAttributes(attribute("messaging.kafka.offset", 42)))));

    assertThat(spans.get(0).links()).containsExactly(new SpanLink(
        "0af7651916cd43dd8448eb211c80319c", PRODUCER_SPAN_ID, Map.of("messaging.kafka.offset", 42L)));
  }

  @Test
  void missingServiceNameAndAllZeroParentGiveEmptyServiceAndRootSpan() {
    ExportTraceServiceRequest request = ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(io.opentelemetry.proto.trace.v1.ResourceSpans.newBuilder()
            .addScopeSpans(io.opentelemetry.proto.trace.v1.ScopeSpans.newBuilder()
                .addSpans(span(SERVER_SPAN_ID, "0000000000000000", "root", SpanKind.SPAN_KIND_SERVER))))
        .build();

    convert(request);

    assertThat(spans).singleElement().satisfies(span -> {
      assertThat(span.service()).isEmpty();
      assertThat(span.isRoot()).isTrue();
    });
  }

  @Test
  void reportsAndSkipsSpansWithInvalidIdsAndKeepsTheOthers() {
    convert(request("gateway",
        span(SERVER_SPAN_ID, "", "good", SpanKind.SPAN_KIND_SERVER),
        span(SERVER_SPAN_ID, "", "short trace", SpanKind.SPAN_KIND_SERVER).setTraceId(id("0102030405")),
        span(SERVER_SPAN_ID, "", "", SpanKind.SPAN_KIND_SERVER).clearSpanId(),
        span("0000000000000000", "", "zero span", SpanKind.SPAN_KIND_SERVER),
        span(PRODUCER_SPAN_ID, "01", "bad parent", SpanKind.SPAN_KIND_SERVER),
        span(PRODUCER_SPAN_ID, SERVER_SPAN_ID, "also good", SpanKind.SPAN_KIND_SERVER)));

    assertThat(spans).extracting(Span::name).containsExactly("good", "also good");
    assertThat(invalid).extracting(OtlpSpans.InvalidId::describe).containsExactly(
        "span 2 'short trace' of resource 1, scope 1 has a traceId of 5 bytes (0102030405), not 16",
        "span 3 of resource 1, scope 1 has no spanId",
        "span 4 'zero span' of resource 1, scope 1 has spanId 0000000000000000 which is all zeros",
        "span 5 'bad parent' of resource 1, scope 1 has a parentSpanId of 1 bytes (01), not 8");
  }

  @Test
  void dropsALinkWithAnInvalidIdButKeepsItsSpan() {
    convert(request("order-service", span(SERVER_SPAN_ID, "", "process", SpanKind.SPAN_KIND_CONSUMER)
        .addLinks(io.opentelemetry.proto.trace.v1.Span.Link.newBuilder()
            .setTraceId(id(TRACE_ID)).setSpanId(id("abcd")))
        .addLinks(io.opentelemetry.proto.trace.v1.Span.Link.newBuilder()
            .setTraceId(id(TRACE_ID)).setSpanId(id(PRODUCER_SPAN_ID)))));

    assertThat(spans).singleElement().extracting(Span::links)
        .isEqualTo(List.of(new SpanLink(TRACE_ID, PRODUCER_SPAN_ID, Map.of())));
    assertThat(invalid).extracting(OtlpSpans.InvalidId::describe).containsExactly(
        "link 1 of span 1 'process' of resource 1, scope 1 has a spanId of 2 bytes (abcd), not 8");
  }
}
