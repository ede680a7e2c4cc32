package io.flowtrace.verifier.assembly;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.Telemetry;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A small flow of the reference shape, as telemetry: a gateway ({@code gw}) takes an order and
 * publishes it; the order service ({@code ord}) accepts it, charges an external party over HTTP,
 * which calls back in a <em>new trace</em> (one per delivery); the notifier ({@code not}) consumes
 * the outcome and publishes the terminal record. Head sampling drops the spans of unsampled traces
 * and clears the sampled flag of their records' {@code traceparent}; a clock skew shifts a
 * service's spans and the create times of the records it produces. Every id is derived from the
 * order id, so a flow is the same whoever builds it.
 */
public final class ShopFlows {

  public static final String SPEC = String.join("\n",
      "flow: shop",
      "keys: [orderId]",
      "deadline: 10s",
      "stages:",
      "  - id: placed",
      "    events:",
      "      - id: request",
      "        span: {service: gw, kind: SERVER, name: POST /orders}",
      "        payload: {attribute: http.request.body}",
      "      - id: placed_msg",
      "        topic: t.placed",
      "  - id: accepted",
      "    after: placed",
      "    events:",
      "      - id: accepted_msg",
      "        topic: t.accepted",
      "  - id: charged",
      "    after: accepted",
      "    events:",
      "      - id: charge",
      "        span: {service: ord, kind: CLIENT, name: POST}",
      "        payload: {attribute: http.response.body}",
      "  - id: captured",
      "    after: charged",
      "    when: charge.status == \"ok\"",
      "    events:",
      "      - id: webhook",
      "        span: {service: ord, kind: SERVER, name: POST /hook}",
      "        payload: {attribute: http.request.body}",
      "        trace: new",
      "      - id: paid_msg",
      "        topic: t.paid",
      "  - id: declined",
      "    after: charged",
      "    when: charge.status == \"declined\"",
      "    events:",
      "      - id: declined_msg",
      "        topic: t.declined",
      "  - id: done",
      "    after: [captured, declined]",
      "    terminal: true",
      "    events:",
      "      - id: done_msg",
      "        topic: t.done",
      "enrichment:",
      "  - {from: request, to: placed_msg, carry: all, add: [userId]}",
      "rules:",
      "  - name: accepted total is the placed total",
      "    expr: accepted_msg.total == placed_msg.total",
      "  - name: the charge names a known status",
      "    expr: charge.status in [\"ok\", \"declined\"]",
      "idempotency:",
      "  - {trigger: webhook, dedupKey: eventId, effects: [paid_msg, declined_msg, done_msg]}",
      "budgets:",
      "  - {from: paid_msg, to: done_msg, within: 1s}",
      "");

  public static final long T0 = 1_764_000_000_000L; // epoch ms

  /** One order's shape. */
  public static final class Order {
    public final String orderId;
    final long startMs;
    boolean mainSampled = true;
    /** One entry per webhook delivery: its eventId; a declined order has none. */
    final List<String> deliveries = new ArrayList<>();
    final List<Boolean> deliverySampled = new ArrayList<>();
    /** Whether each delivery publishes t.paid (an idempotent handler ignores a repeat). */
    final List<Boolean> deliveryPublishes = new ArrayList<>();
    public boolean declined;
    boolean dropUserId;
    public boolean wrongAcceptedTotal;
    public boolean chargeBeforeAccepted;
    public boolean noDone;
    /** Whether the charge is first answered 503, with an error body, and made again. */
    public boolean chargeRetried;
    boolean doneWithoutTraceparent;
    /** Whether t.placed is sent without a traceparent: its consumer starts a trace of its own. */
    public boolean placedWithoutTraceparent;
    /** Whether t.accepted is sent without a traceparent (nothing consumes it). */
    public boolean acceptedWithoutTraceparent;
    /**
     * The notifier takes its outcomes in batches from several topics: one {@code process} span,
     * root of a trace of its own, naming no topic and linking to each record's producer span.
     */
    boolean notifierBatch;
    long doneDelayMs = 10;
    /** How long after its producer span starts a record is stamped. */
    long stampLagMs;
    /** How long t.paid waits in its topic before the notifier takes it. */
    long notifierLagMs;
    /** Time between webhook deliveries. */
    public long deliveryGapMs = 1000;
    final Map<String, Long> skewMs = new HashMap<>();

    public Order(String orderId, long startMs) {
      this.orderId = orderId;
      this.startMs = startMs;
    }

    public Order unsampled() {
      mainSampled = false;
      for (int i = 0; i < deliverySampled.size(); i++) {
        deliverySampled.set(i, false);
      }
      return this;
    }

    public Order delivery(String eventId, boolean sampled, boolean publishes) {
      deliveries.add(eventId);
      deliverySampled.add(sampled);
      deliveryPublishes.add(publishes);
      return this;
    }

    public Order skew(String service, long ms) {
      skewMs.put(service, ms);
      return this;
    }
  }

  /** A clean, fully sampled order confirmed by one webhook delivery. */
  public static Order order(String orderId, long startMs) {
    return new Order(orderId, startMs).delivery("evt-" + orderId, true, true);
  }

  private final List<Telemetry> out = new ArrayList<>();
  private long offset;

  /** The order's spans and records, in the order an exporter and a tap would deliver them. */
  public List<Telemetry> telemetry(Order o) {
    out.clear();
    long t = o.startMs;
    String main = trace(o.orderId, "main");
    String request = span(o.orderId, "request");
    String json = "{\"items\":1,\"total\":10}";
    emit(o, o.mainSampled, spanOf(main, request, "", "POST /orders", SpanKind.SERVER, "gw", t, t + 6,
        Map.of("http.request.body", json)));
    String sendPlaced = span(o.orderId, "send-placed");
    emit(o, o.mainSampled, producer(main, sendPlaced, request, "t.placed", "gw", t + 1));
    record(o, "gw", "t.placed", t + 1, o.placedWithoutTraceparent ? null : main, sendPlaced, o.mainSampled,
        "{\"orderId\":\"" + o.orderId + "\",\"items\":1,\"total\":10" + (o.dropUserId ? "" : ",\"userId\":\"u-1\"") + "}");
    String consumePlaced = span(o.orderId, "process-placed");
    String down = o.placedWithoutTraceparent ? trace(o.orderId, "lost") : main;
    emit(o, o.mainSampled, consumer(down, consumePlaced, o.placedWithoutTraceparent ? "" : sendPlaced, "t.placed", "ord",
        t + 4));
    String sendAccepted = span(o.orderId, "send-accepted");
    emit(o, o.mainSampled, producer(down, sendAccepted, consumePlaced, "t.accepted", "ord", t + 6));
    record(o, "ord", "t.accepted", t + 6, o.acceptedWithoutTraceparent ? null : down, sendAccepted, o.mainSampled,
        "{\"orderId\":\"" + o.orderId + "\",\"total\":" + (o.wrongAcceptedTotal ? 11 : 10) + "}");
    long chargeAt = o.chargeBeforeAccepted ? t + 3 : t + 10;
    if (o.chargeRetried) {
      emit(o, o.mainSampled, spanOf(down, span(o.orderId, "charge-503"), consumePlaced, "POST", SpanKind.CLIENT, "ord",
          chargeAt, chargeAt + 5, Map.of("url.full", "http://psp/charges", "http.response.status_code", 503L,
              "http.response.body", "{\"error\":\"unavailable\"}")));
      chargeAt += 20;
    }
    emit(o, o.mainSampled, spanOf(down, span(o.orderId, "charge"), consumePlaced, "POST", SpanKind.CLIENT, "ord",
        chargeAt, t + 60, Map.of("url.full", "http://psp/charges",
            "http.response.body", "{\"status\":\"" + (o.declined ? "declined" : "ok") + "\"}")));
    if (o.declined) {
      String sendDeclined = span(o.orderId, "send-declined");
      emit(o, o.mainSampled, producer(down, sendDeclined, consumePlaced, "t.declined", "ord", t + 62));
      record(o, "ord", "t.declined", t + 62, down, sendDeclined, o.mainSampled, "{\"orderId\":\"" + o.orderId + "\"}");
      done(o, down, sendDeclined, "t.declined", o.mainSampled, t + 70, t + 71 + o.doneDelayMs);
    }
    for (int i = 0; i < o.deliveries.size() && !o.declined; i++) {
      long at = t + 300 + i * o.deliveryGapMs;
      String w = trace(o.orderId, "webhook-" + i);
      boolean sampled = o.deliverySampled.get(i);
      String hook = span(o.orderId, "hook-" + i);
      emit(o, sampled, spanOf(w, hook, "", "POST /hook", SpanKind.SERVER, "ord", at, at + 5,
          Map.of("http.request.body", "{\"orderId\":\"" + o.orderId + "\",\"eventId\":\"" + o.deliveries.get(i) + "\"}")));
      if (!o.deliveryPublishes.get(i)) {
        continue;
      }
      String sendPaid = span(o.orderId, "send-paid-" + i);
      emit(o, sampled, producer(w, sendPaid, hook, "t.paid", "ord", at + 1));
      record(o, "ord", "t.paid", at + 1, w, sendPaid, sampled, "{\"orderId\":\"" + o.orderId + "\"}");
      done(o, w, sendPaid, "t.paid", sampled, at + 10 + o.notifierLagMs, at + 11 + o.notifierLagMs + o.doneDelayMs);
    }
    return List.copyOf(out);
  }

  /** The notifier consumes the outcome at {@code consumeAt} and publishes t.done at {@code produceAt}. */
  private void done(Order o, String trace, String sendOutcome, String outcomeTopic, boolean sampled, long consumeAt,
      long produceAt) {
    if (o.noDone) {
      return;
    }
    String consume = span(o.orderId, "process-" + outcomeTopic + consumeAt);
    if (o.notifierBatch) {
      String batch = trace(o.orderId, "batch-" + consumeAt);
      emit(o, sampled, new Span(batch, consume, "", "process", SpanKind.CONSUMER, "not",
          nanos(consumeAt), nanos(produceAt + 1),
          Map.of("messaging.system", "kafka", "messaging.operation.type", "process", "messaging.batch.message_count", 3L),
          List.of(new io.flowtrace.tracer.model.SpanLink(trace, sendOutcome, Map.of())), false));
      trace = batch;
    } else {
      emit(o, sampled, spanOf(trace, consume, sendOutcome, "process " + outcomeTopic, SpanKind.CONSUMER, "not",
          consumeAt, produceAt + 1, Map.of("messaging.system", "kafka", "messaging.destination.name", outcomeTopic,
              "messaging.operation.type", "process")));
    }
    String sendDone = span(o.orderId, "send-done" + consumeAt);
    emit(o, sampled, producer(trace, sendDone, consume, "t.done", "not", produceAt));
    record(o, "not", "t.done", produceAt, o.doneWithoutTraceparent ? null : trace, sendDone, sampled,
        "{\"orderId\":\"" + o.orderId + "\"}");
  }

  private void emit(Order o, boolean sampled, Span span) {
    if (!sampled) {
      return;
    }
    long skew = o.skewMs.getOrDefault(span.service(), 0L) * 1_000_000L;
    out.add(Telemetry.of(new Span(span.traceId(), span.spanId(), span.parentSpanId(), span.name(), span.kind(),
        span.service(), span.startEpochNanos() + skew, span.endEpochNanos() + skew, span.attributes(), span.links(),
        false)));
  }

  private void record(Order o, String producedBy, String topic, long ms, String trace, String parent, boolean sampled,
      String json) {
    long skew = o.skewMs.getOrDefault(producedBy, 0L);
    List<RecordHeader> headers = trace == null ? List.of()
        : List.of(RecordHeader.ofString("traceparent", "00-" + trace + "-" + parent + (sampled ? "-01" : "-00")));
    out.add(Telemetry.of(new KafkaRecord(topic, 0, offset++, T0 + ms + o.stampLagMs + skew, o.orderId, headers,
        json.getBytes(StandardCharsets.UTF_8))));
  }

  /** A producer span; like the Java agent's, it names the partition and offset of the record it sent (the next). */
  private Span producer(String trace, String id, String parent, String topic, String service, long ms) {
    return spanOf(trace, id, parent, "send " + topic, SpanKind.PRODUCER, service, ms, ms + 1,
        Map.of("messaging.system", "kafka", "messaging.destination.name", topic, "messaging.operation.type", "send",
            "messaging.destination.partition.id", "0", "messaging.kafka.offset", offset));
  }

  static Span consumer(String trace, String id, String parent, String topic, String service, long ms) {
    return spanOf(trace, id, parent, "process " + topic, SpanKind.CONSUMER, service, ms, ms + 1,
        Map.of("messaging.system", "kafka", "messaging.destination.name", topic, "messaging.operation.type", "process"));
  }

  private static Span spanOf(String trace, String id, String parent, String name, SpanKind kind, String service,
      long startMs, long endMs, Map<String, Object> attributes) {
    return new Span(trace, id, parent, name, kind, service, nanos(startMs), nanos(endMs), attributes, List.of(), false);
  }

  public static long nanos(long ms) {
    return (T0 + ms) * 1_000_000L;
  }

  /**
   * The final verdicts of {@code spec} (written to {@code dir} as one flow file) over {@code
   * telemetry} fed in arrival order, with event time moved to {@code untilMs} after {@link #T0}.
   */
  static List<io.flowtrace.verifier.report.Verdict> finals(java.nio.file.Path dir, String spec,
      List<io.flowtrace.tracer.model.Telemetry> telemetry, long untilMs) throws Exception {
    java.nio.file.Files.writeString(dir.resolve("flow.flow.yaml"), spec);
    List<io.flowtrace.verifier.report.Verdict> finals = new java.util.ArrayList<>();
    FlowEngine engine = FlowEngine.builder(new io.flowtrace.verifier.spec.FlowSpecLoader().load(dir))
        .listener(new io.flowtrace.verifier.report.VerdictListener() {
          @Override
          public void finalized(io.flowtrace.verifier.report.Verdict v) {
            finals.add(v);
          }
        }).build();
    telemetry.stream().sorted(java.util.Comparator.comparingLong(io.flowtrace.tracer.model.Telemetry::arrivalEpochNanos))
        .forEach(engine::accept);
    engine.advanceTo(nanos(untilMs));
    engine.finish();
    return finals;
  }

  public static String trace(String orderId, String what) {
    return hex(orderId + "/" + what, 32);
  }

  static String span(String orderId, String what) {
    return hex(orderId + "/" + what, 16);
  }

  private static String hex(String text, int length) {
    long h1 = 1125899906842597L;
    long h2 = 31L;
    for (char c : text.toCharArray()) {
      h1 = 31 * h1 + c;
      h2 = 131 * h2 + c * 7L;
    }
    String s = String.format("%016x%016x", h1, h2);
    return s.substring(32 - length);
  }
}
