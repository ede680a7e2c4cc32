package io.flowtrace.verifier.assembly;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.check.ViolationKind;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictListener;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stage follows every event of the stages it comes after. The SMS gateway's receipt overtakes
 * the record that announces the SMS: the flow fails as declared, and the violation says which part
 * of the earlier stage did come first, so that the spec can be split there.
 */
class StageOrderTest {
  private static final String SPEC = String.join("\n",
      "flow: sms",
      "keys: [parcelId]",
      "stages:",
      "  - id: notified",
      "    events:",
      "      - id: sms_call",
      "        span: {service: notifier, kind: CLIENT, name: POST}",
      "        payload: {attribute: http.request.body}",
      "      - {id: sent_msg, topic: t.sent}",
      "  - id: delivered",
      "    after: notified",
      "    terminal: true",
      "    events:",
      "      - id: receipt",
      "        span: {service: notifier, kind: SERVER, name: POST /receipts}",
      "        payload: {attribute: http.request.body}",
      "        trace: new",
      "");
  private static final long T0 = 1_790_000_000_000L;
  private static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String BODY = "{\"parcelId\":\"p-1\"}";

  @TempDir Path dir;

  @Test
  void aStageThatOvertakesPartOfTheStageItFollowsSaysWhichPartCameFirst() throws Exception {
    Violation v = orderViolation(120);

    assertThat(v.message()).contains("85 ms before sent_msg").endsWith("; sms_call of notified did come before it:"
        + " a stage follows every event of the stages it comes after (if only sms_call must, it is a stage of its own)");
  }

  @Test
  void aStageBeforeEveryEventOfTheStageItFollowsNamesNoPart() throws Exception {
    Violation v = orderViolation(-20);

    assertThat(v.message()).contains("before sent_msg").doesNotContain("did come before it");
  }

  /** The SMS call at +10 ms, the record announcing it at +205 ms, the receipt at {@code receiptMs}. */
  private Violation orderViolation(long receiptMs) throws Exception {
    Files.writeString(dir.resolve("sms.flow.yaml"), SPEC);
    List<Telemetry> all = new ArrayList<>();
    all.add(Telemetry.of(span(TRACE, "a1", SpanKind.CLIENT, "POST", 10, 100)));
    all.add(Telemetry.of(new Span(TRACE, id("a2"), id("a0"), "send t.sent", SpanKind.PRODUCER, "notifier", nanos(205),
        nanos(206), Map.of("messaging.system", "kafka", "messaging.destination.name", "t.sent",
            "messaging.operation.type", "send"), List.of(), false)));
    all.add(Telemetry.of(new KafkaRecord("t.sent", 0, 0, T0 + 205, "p-1",
        List.of(RecordHeader.ofString("traceparent", "00-" + TRACE + "-" + id("a2") + "-01")),
        BODY.getBytes(StandardCharsets.UTF_8))));
    all.add(Telemetry.of(span("5bf92f3577b34da6a3ce929d0e0e4736", "b1", SpanKind.SERVER, "POST /receipts", receiptMs,
        receiptMs + 2)));
    List<Verdict> finals = new ArrayList<>();
    FlowEngine engine = FlowEngine.builder(new FlowSpecLoader().load(dir)).listener(new VerdictListener() {
      @Override
      public void finalized(Verdict verdict) {
        finals.add(verdict);
      }
    }).build();
    all.sort(java.util.Comparator.comparingLong(Telemetry::arrivalEpochNanos));
    all.forEach(engine::accept);
    engine.advanceTo(nanos(120_000));
    engine.finish();

    assertThat(finals).hasSize(1);
    assertThat(finals.get(0).violations()).extracting(Violation::kind).containsExactly(ViolationKind.ORDER_VIOLATION);
    return finals.get(0).violations().get(0);
  }

  private static Span span(String trace, String spanId, SpanKind kind, String name, long startMs, long endMs) {
    return new Span(trace, id(spanId), kind == SpanKind.CLIENT ? id("a0") : "", name, kind, "notifier",
        nanos(startMs), nanos(endMs), Map.of("http.request.body", BODY), List.of(), false);
  }

  private static long nanos(long ms) {
    return (T0 + ms) * 1_000_000L;
  }

  private static String id(String id) {
    return String.format("%016x", (long) id.hashCode() & 0xffffffffL);
  }
}
