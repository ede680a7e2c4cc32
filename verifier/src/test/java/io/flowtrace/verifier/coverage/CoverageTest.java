package io.flowtrace.verifier.coverage;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Declared events held up against traffic: what matched, what almost did, what no flow covers. */
class CoverageTest {

  private static final AtomicLong IDS = new AtomicLong(1);

  @TempDir
  Path dir;

  private List<FlowSpec> flow(String events) throws Exception {
    Path file = dir.resolve("f.flow.yaml");
    Files.writeString(file, "flow: f\nkeys: [id]\nstages:\n  - id: s\n    terminal: true\n    events:\n" + events);
    return new FlowSpecLoader().load(file);
  }

  private static Span span(String service, SpanKind kind, String name, Map<String, Object> attributes) {
    String id = String.format("%016x", IDS.getAndIncrement());
    return Span.builder().traceId("0af7651916cd43dd8448eb211c80319c").spanId(id).service(service).kind(kind)
        .name(name).attributes(attributes).startEpochNanos(1).endEpochNanos(2).build();
  }

  private static KafkaRecord record(String topic) {
    return new KafkaRecord(topic, 0, IDS.getAndIncrement(), 1, "k", List.of(), "{}".getBytes());
  }

  private static CoverageReport.EventCoverage event(CoverageReport report, String id) {
    return report.flows().get(0).events().stream().filter(e -> e.id().equals(id)).findFirst().orElseThrow();
  }

  @Test
  void aRecordDumpedTwiceIsCountedOnceAndSaidSo() throws Exception {
    Coverage c = new Coverage(flow("""
              - id: placed
                topic: orders.placed
        """));
    List<Long> offsets = List.of(5L, 6L, 7L, 9L, 8L, 6L, 9L, 4L, 4L); // a dump of 4..9 with 6, 9 and 4 twice
    for (long offset : offsets) {
      c.accept(Telemetry.of(new KafkaRecord("orders.placed", 0, offset, 1, "k", List.of(), "{}".getBytes())));
    }
    c.accept(Telemetry.of(new KafkaRecord("orders.placed", 1, 6, 1, "k", List.of(), "{}".getBytes()))); // another partition
    CoverageReport report = c.report();

    assertThat(report.records()).isEqualTo(7);
    assertThat(report.recordsReadAgain()).isEqualTo(3);
    assertThat(event(report, "placed").matched()).isEqualTo(7);
    assertThat(report.lines()).contains("  ✓ placed  topic orders.placed: 7 records",
        "note: 3 records read again (the same topic, partition and offset twice in the recording) counted once");
  }

  @Test
  void aTopicTwoFlowsDeclareIsNamedWithTheEventsOfEach() throws Exception {
    Files.writeString(dir.resolve("a.flow.yaml"),
        "flow: a\nkeys: [id]\nstages:\n  - id: s\n    terminal: true\n    events:\n      - {id: closed, topic: t.closed}\n");
    Files.writeString(dir.resolve("b.flow.yaml"),
        "flow: b\nkeys: [id]\nstages:\n  - id: s\n    terminal: true\n    events:\n      - {id: begins, topic: t.closed}\n");
    Coverage c = new Coverage(new FlowSpecLoader().load(dir));
    c.accept(Telemetry.of(record("t.closed")));

    assertThat(c.report().lines()).contains("note: topic t.closed is an event of 2 flows (a: closed, b: begins): each"
        + " of its records is verified in every one of them — meant, if one flow's end starts another; if each"
        + " record is one flow's but carries another's key too (a cancellation's release names its booking),"
        + " declare the event `keys: {}` in the flows it is not of: it then joins their instances by trace alone,"
        + " not every instance of its key");
  }

  @Test
  void aTopicTwoFlowsDeclareButOneJoinsByTraceAloneIsNamedSoWithoutAdvice() throws Exception {
    Files.writeString(dir.resolve("a.flow.yaml"),
        "flow: a\nkeys: [id]\nstages:\n  - id: s\n    terminal: true\n    events:\n      - {id: closed, topic: t.closed}\n");
    Files.writeString(dir.resolve("b.flow.yaml"), "flow: b\nkeys: [id]\nstages:\n  - id: o\n"
        + "    events:\n      - {id: opened, topic: t.opened}\n  - id: s\n    after: o\n    terminal: true\n"
        + "    events:\n      - {id: ends, topic: t.closed, keys: {}}\n");
    Coverage c = new Coverage(new FlowSpecLoader().load(dir));
    c.accept(Telemetry.of(record("t.closed")));

    assertThat(c.report().lines()).contains("note: topic t.closed is an event of 2 flows (a: closed, b: ends by"
        + " trace alone): each of its records is verified in every one of them");
  }

  @Test
  void aLaterStagesSpansThatEachStartATraceAskForTraceNew() throws Exception {
    String spec = "flow: f\nkeys: [id]\nstages:\n  - id: a\n    events:\n      - {id: placed, topic: t.placed}\n"
        + "  - id: b\n    after: a\n    terminal: true\n    events:\n"
        + "      - {id: hook, span: {service: api, kind: SERVER, name: POST /hook}%s}\n";
    for (String newTrace : List.of("", ", trace: new")) {
      Files.writeString(dir.resolve("f.flow.yaml"), spec.formatted(newTrace));
      Coverage c = new Coverage(new FlowSpecLoader().load(dir));
      c.accept(Telemetry.of(record("t.placed")));
      c.accept(Telemetry.of(span("api", SpanKind.SERVER, "POST /hook", Map.of())));
      c.accept(Telemetry.of(span("api", SpanKind.SERVER, "POST /hook", Map.of())));

      if (newTrace.isEmpty()) {
        assertThat(c.report().lines()).contains("note: f: every span hook matched (2 spans) starts a trace of its own, as"
            + " a call from outside does (a webhook): declare it `trace: new`, or verification reads each as a hop that"
            + " lost the trace context");
      } else {
        assertThat(c.report().lines()).noneMatch(l -> l.contains("trace of its own"));
      }
    }
  }

  @Test
  void eventsMatchAsTheEngineMatchesThem() throws Exception {
    Coverage c = new Coverage(flow("""
              - id: req
                span: {service: api, kind: SERVER, name: POST /orders}
                payload: {attribute: http.request.body}
              - id: placed
                topic: orders.placed
        """));
    c.accept(Telemetry.of(span("api", SpanKind.SERVER, "POST /orders", Map.of("http.request.body", "{}"))));
    c.accept(Telemetry.of(span("api", SpanKind.SERVER, "POST /orders", Map.of())));
    c.accept(Telemetry.of(record("orders.placed")));
    CoverageReport report = c.report();

    assertThat(report.everyEventMatched()).isTrue();
    assertThat(report.lines()).containsExactly(
        "f (" + dir.resolve("f.flow.yaml") + "): all 2 declared events matched",
        "  ✓ req     SERVER span 'POST /orders' of api: 2 spans",
        "      but 1 of them lacks attribute http.request.body, which its payload is read from",
        "  ✓ placed  topic orders.placed: 1 record",
        "all HTTP server/client spans and topics in the recording are covered by a flow");
  }

  @Test
  void nearMissesSayWhatIsOff() throws Exception {
    Coverage c = new Coverage(flow("""
              - id: by_case
                span: {service: api, kind: SERVER, name: POST /Orders}
              - id: by_route
                span: {service: api, kind: SERVER, name: "GET /orders/{id}"}
              - id: by_kind
                span: {service: api, kind: CLIENT, name: DELETE /carts}
              - id: by_service
                span: {service: order-service, kind: SERVER, name: PUT /stock}
              - id: by_regex
                span: {service: api, kind: CLIENT, attributes: {url.full: {regex: "/payments$"}}}
              - id: by_attribute
                span: {service: billing, kind: CLIENT, attributes: {url.path: {regex: "/invoices"}}}
              - id: by_separator
                topic: orders.shipped
              - id: far_away
                topic: audit
        """));
    c.accept(Telemetry.of(span("api", SpanKind.SERVER, "POST /orders", Map.of())));
    c.accept(Telemetry.of(span("api", SpanKind.SERVER, "GET /orders/42", Map.of())));
    c.accept(Telemetry.of(span("api", SpanKind.SERVER, "DELETE /carts", Map.of())));
    c.accept(Telemetry.of(span("orders-service", SpanKind.SERVER, "PUT /stock", Map.of())));
    c.accept(Telemetry.of(span("api", SpanKind.CLIENT, "POST", Map.of("url.full", "https://psp/payments/"))));
    c.accept(Telemetry.of(span("billing", SpanKind.CLIENT, "POST", Map.of("http.target", "/invoices"))));
    c.accept(Telemetry.of(record("orders_shipped")));
    CoverageReport report = c.report();

    assertThat(report.everyEventMatched()).isFalse();
    assertThat(event(report, "by_case").nearMisses()).containsExactly(
        "api SERVER 'POST /orders' (1 span): its name differs only in case");
    assertThat(event(report, "by_route").nearMisses()).containsExactly(
        "api SERVER 'GET /orders/42' (1 span): its name differs only by a route parameter");
    assertThat(event(report, "by_kind").nearMisses()).containsExactly(
        "api SERVER 'DELETE /carts' (1 span): it is a SERVER span, not CLIENT");
    assertThat(event(report, "by_service").nearMisses()).containsExactly(
        "orders-service SERVER 'PUT /stock' (1 span): its service differs by 1 character ('order-service' declared)");
    assertThat(event(report, "by_regex").nearMisses()).containsExactly(
        "api CLIENT 'POST https://psp/payments/' (1 span): its url.full 'https://psp/payments/' would match"
            + " //payments$/ without its trailing '/'");
    assertThat(event(report, "by_attribute").nearMisses()).containsExactly(
        "billing CLIENT 'POST' (1 span): it has no attribute url.path (it has http.target: '/invoices')");
    assertThat(event(report, "by_separator").nearMisses()).containsExactly(
        "topic orders_shipped (1 record): its name differs only in separators");
    assertThat(event(report, "far_away").nearMisses()).isEmpty();
    assertThat(report.lines()).contains(
        "  ✗ far_away      topic audit: matched nothing",
        "      nothing in the recording comes close",
        "traffic no flow covers:",
        "  topic orders_shipped: 1 record");
  }

  @Test
  void trafficNoFlowCoversIsCountedByServiceKindAndNameAndByTopic() throws Exception {
    Coverage c = new Coverage(flow("""
              - id: placed
                topic: orders.placed
        """));
    for (int i = 0; i < 3; i++) {
      c.accept(Telemetry.of(span("api", SpanKind.SERVER, "GET /health", Map.of())));
      c.accept(Telemetry.of(span("api", SpanKind.CLIENT, "GET",
          Map.of("url.full", "http://users/users/" + (100 + i) + "?full=1"))));
      c.accept(Telemetry.of(span("api", SpanKind.PRODUCER, "send audit.events",
          Map.of("messaging.system", "kafka", "messaging.destination.name", "audit.events"))));
      c.accept(Telemetry.of(span("api", SpanKind.PRODUCER, "orders.placed publish", Map.of())));
      c.accept(Telemetry.of(span("api", SpanKind.INTERNAL, "compute", Map.of())));
      c.accept(Telemetry.of(record("orders.placed")));
    }
    c.accept(Telemetry.of(record("audit.events")));

    assertThat(c.report().uncovered()).containsExactly(
        new CoverageReport.Traffic("topic audit.events", 3, 1),
        new CoverageReport.Traffic("api CLIENT 'GET http://users/users/{id}'", 3, 0),
        new CoverageReport.Traffic("api SERVER 'GET /health'", 3, 0));
  }

  @Test
  void recordsAreCountedForTheEventsThatSelectThemAndRecordsTwoEventsTakeAreNamed() throws Exception {
    Coverage c = new Coverage(flow("""
              - {id: created, topic: orders, where: {type: OrderCreated}}
              - {id: paid, topic: orders, where: {type: OrderPaid}}
              - {id: any, topic: orders}
        """));
    for (String type : List.of("OrderCreated", "OrderPaid", "OrderPaid", "OrderNoted")) {
      c.accept(Telemetry.of(new KafkaRecord("orders", 0, IDS.getAndIncrement(), 1, "k", List.of(),
          ("{\"type\":\"" + type + "\"}").getBytes())));
    }
    CoverageReport report = c.report();

    assertThat(event(report, "created").matched()).isEqualTo(1);
    assertThat(event(report, "paid").matched()).isEqualTo(2);
    assertThat(event(report, "any").matched()).isEqualTo(4);
    assertThat(report.lines()).contains("  ✓ paid     topic orders where type = 'OrderPaid': 2 records",
        "note: f: 1 record of topic orders is both created and any, so each stands for both events (one seen"
            + " twice): where the topic carries several kinds of record, give each event a `where: {field: value}`"
            + " (or `headers:`) that selects its own",
        "note: f: 2 records of topic orders are both paid and any, so each stands for both events (one seen"
            + " twice): where the topic carries several kinds of record, give each event a `where: {field: value}`"
            + " (or `headers:`) that selects its own");
  }
}
