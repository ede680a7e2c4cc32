package io.flowtrace.tracer.otlp;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.TestObjects;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.SpanLink;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OtlpEncoderTest {

  private static final String TRACE = TestObjects.TRACE_ID;

  private static Span span(String service, String spanId, String parent, SpanKind kind, boolean error,
      Map<String, Object> attributes, List<SpanLink> links) {
    return new Span(TRACE, spanId, parent, "op " + spanId, kind, service, TestObjects.START_NANOS,
        TestObjects.START_NANOS + 1_234_567, attributes, links, error);
  }

  private static List<Span> roundTrip(List<Span> spans) {
    ExportTraceServiceRequest request = OtlpEncoder.request(spans);
    List<Span> back = new ArrayList<>();
    List<OtlpSpans.InvalidId> invalid = new ArrayList<>();
    OtlpSpans.convert(request, back::add, invalid::add);
    assertThat(invalid).isEmpty();
    return back;
  }

  @Test
  void roundTripThroughOtlpSpansGivesEqualSpans() {
    List<Span> spans = List.of(
        span("gateway", "eee19b7ec3c1b174", "", SpanKind.SERVER, false,
            Map.of("http.route", "/orders", "http.status_code", 201L, "ratio", 0.25, "ok", true,
                "tags", List.of("a", "b"), "nums", List.of(1L, 2L), "nested", Map.of("k", "v", "n", 3L)),
            List.of()),
        span("order-service", "a1b2c3d4e5f60718", "eee19b7ec3c1b174", SpanKind.CONSUMER, true,
            Map.of("messaging.destination.name", "orders.requested"),
            List.of(new SpanLink("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", Map.of("why", "batch")),
                new SpanLink(TRACE, "00f067aa0ba902b7", Map.of()))),
        span("gateway", "00f067aa0ba902b7", "eee19b7ec3c1b174", SpanKind.PRODUCER, false, Map.of(), List.of()),
        span("", "1111111111111111", "", SpanKind.UNSPECIFIED, false, Map.of(), List.of()));

    assertThat(roundTrip(spans)).containsExactlyInAnyOrderElementsOf(spans);
  }

  @Test
  void groupsSpansIntoOneResourcePerServiceNamedByServiceName() {
    ExportTraceServiceRequest request = OtlpEncoder.request(List.of(
        span("gateway", "eee19b7ec3c1b174", "", SpanKind.SERVER, false, Map.of(), List.of()),
        span("order-service", "a1b2c3d4e5f60718", "", SpanKind.CONSUMER, false, Map.of(), List.of()),
        span("gateway", "00f067aa0ba902b7", "", SpanKind.PRODUCER, false, Map.of(), List.of())));

    assertThat(request.getResourceSpansList()).extracting(r -> OtlpSpans.serviceName(r.getResource()))
        .containsExactly("gateway", "order-service");
    assertThat(request.getResourceSpans(0).getScopeSpans(0).getSpansCount()).isEqualTo(2);
    assertThat(request.getResourceSpans(1).getScopeSpans(0).getSpans(0).getParentSpanId().isEmpty()).isTrue();
  }

  @Test
  void errorBecomesStatusErrorAndKindItsOtlpNumber() {
    io.opentelemetry.proto.trace.v1.Span otlp = OtlpEncoder.span(
        span("gateway", "eee19b7ec3c1b174", "", SpanKind.CLIENT, true, Map.of(), List.of()));

    assertThat(otlp.getStatus().getCode())
        .isEqualTo(io.opentelemetry.proto.trace.v1.Status.StatusCode.STATUS_CODE_ERROR);
    assertThat(otlp.getKind()).isEqualTo(io.opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_CLIENT);
    assertThat(OtlpSpans.hex(otlp.getTraceId())).isEqualTo(TRACE);
  }
}
