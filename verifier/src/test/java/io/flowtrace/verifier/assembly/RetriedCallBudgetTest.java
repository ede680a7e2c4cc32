package io.flowtrace.verifier.assembly;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.check.ViolationKind;
import io.flowtrace.verifier.report.Verdict;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A lab's billing asks a payer to pre-authorize an order; the payer answers 503, billing asks again
 * three seconds later and is answered, and publishes the pre-authorization 0.8 s after the answer.
 * A budget from the payer's answer runs from the answer the flow went on from, not from the 503 (a
 * trial's draft, measured so, failed 34 of its 400 clean orders).
 */
class RetriedCallBudgetTest {

  private static final String SPEC = String.join("\n",
      "flow: preauth",
      "keys: [orderId]",
      "stages:",
      "  - id: ordered",
      "    events: [{id: ordered_msg, topic: lab.orders.created}]",
      "  - id: asked",
      "    after: ordered",
      "    events:",
      "      - id: payer_response",
      "        span: {service: billing, kind: CLIENT, attributes: {url.full: {regex: '/v2/preauthorizations$'}}}",
      "        payload: {attribute: http.response.body}",
      "  - id: preauthorized",
      "    after: asked",
      "    terminal: true",
      "    events: [{id: preauthorized_msg, topic: lab.billing.preauthorized}]",
      "budgets:",
      "  - {from: payer_response, to: preauthorized_msg, within: 2s}",
      "");
  private static final long T0 = 1_796_000_000_000L;
  private static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

  @TempDir Path dir;
  private final List<Telemetry> all = new ArrayList<>();
  private int offset;

  @Test
  void aBudgetFromACallThatWasMadeAgainRunsFromTheAttemptThatAnswered() throws Exception {
    record("lab.orders.created", "a1", 0);
    call("b1", 100, 150, 503, "{\"error\":\"unavailable\"}");
    call("b2", 3_150, 3_200, 200, "{\"orderId\":\"o-1\",\"preauthId\":\"PA-1\"}");
    record("lab.billing.preauthorized", "b3", 4_000);

    Verdict v = replay();

    assertThat(v.violations()).as(v.toString()).isEmpty();
  }

  @Test
  void aBudgetFromTheAnswerIsStillKept() throws Exception {
    record("lab.orders.created", "a1", 0);
    call("b1", 100, 150, 503, "{\"error\":\"unavailable\"}");
    call("b2", 3_150, 3_200, 200, "{\"orderId\":\"o-1\",\"preauthId\":\"PA-1\"}");
    record("lab.billing.preauthorized", "b3", 5_700);

    Verdict v = replay();

    assertThat(v.violations()).extracting(x -> x.kind()).containsExactly(ViolationKind.LATENCY_BUDGET_EXCEEDED);
    assertThat(v.violations().get(0).actual()).as("from the answer at 3.2 s").isEqualTo("2.5 s");
  }

  /** The payer took 2.25 s to answer and billing published 50 ms after the answer: within 2 s of it. */
  @Test
  void aBudgetFromAnAnswerRunsFromWhenItCameNotFromWhenItWasAskedFor() throws Exception {
    record("lab.orders.created", "a1", 0);
    call("b1", 3_150, 5_400, 200, "{\"orderId\":\"o-1\",\"preauthId\":\"PA-1\"}");
    record("lab.billing.preauthorized", "b3", 5_450);

    Verdict v = replay();

    assertThat(v.violations()).as(v.toString()).isEmpty();
    assertThat(v.unverified()).as(v.toString()).isEmpty();
  }

  private void call(String id, long startMs, long endMs, long status, String body) {
    all.add(Telemetry.of(Span.builder().traceId(TRACE).spanId(spanId(id)).parentSpanId(spanId("a1")).name("POST")
        .kind(SpanKind.CLIENT).service("billing").startEpochNanos((T0 + startMs) * 1_000_000L)
        .endEpochNanos((T0 + endMs) * 1_000_000L).attributes(Map.of("url.full", "https://payer.example/v2/preauthorizations",
            "http.response.status_code", status, "http.response.body", body)).build()));
  }

  private void record(String topic, String id, long ms) {
    all.add(Telemetry.of(new KafkaRecord(topic, 0, offset++, T0 + ms, "o-1",
        List.of(RecordHeader.ofString("traceparent", "00-" + TRACE + "-" + spanId(id) + "-01")),
        "{\"orderId\":\"o-1\"}".getBytes(StandardCharsets.UTF_8))));
  }

  private static String spanId(String id) {
    return String.format("%016x", (long) id.hashCode() & 0xffffffffL);
  }

  private Verdict replay() throws Exception {
    Files.writeString(dir.resolve("preauth.flow.yaml"), SPEC);
    List<Verdict> finals = EngineRun.finals(dir, all, T0 + 600_000);
    assertThat(finals).hasSize(1);
    return finals.get(0);
  }
}
