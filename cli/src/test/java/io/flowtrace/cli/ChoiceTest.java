package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.check.ViolationKind;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpecException;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A kitchen accepts or rejects each order, on two topics, and nothing earlier says which (trial O):
 * the two stages are the ways of one choice. Exactly one must happen: an order never answered is
 * missing its answer, one both rejected and accepted took a second way.
 */
class ChoiceTest {

  private static final long T0 = 1_797_300_000_000L;
  private static final String FLOW = """
      flow: kitchen
      keys: [orderId]
      deadline: 20s
      stages:
        - id: placed
          events: [{id: orders_placed, topic: orders.placed}]
        - id: accepted
          after: placed
          choice: answer
          events: [{id: orders_accepted, topic: orders.accepted}]
        - id: rejected
          after: placed
          choice: answer
          terminal: true
          events: [{id: orders_rejected, topic: orders.rejected}]
        - id: delivered
          after: accepted
          terminal: true
          events: [{id: orders_delivered, topic: orders.delivered}]
      """;

  @TempDir static Path work;
  static Map<String, Verdict> verdicts;

  @BeforeAll
  static void replayOrders() throws Exception {
    Path flows = Files.createDirectories(work.resolve("flows"));
    Files.writeString(flows.resolve("kitchen.flow.yaml"), FLOW);
    Path recording = Files.createDirectories(work.resolve("recording"));
    try (RecordingWriter out = RecordingWriter.open(recording)) {
      int[] offset = {0};
      for (int i = 0; i < 12; i++) {
        String order = "K-" + i;
        long t = T0 + i * 1_000L;
        record(out, offset, "orders.placed", t, order);
        switch (i) {
          case 3 -> { } // never answered
          case 5 -> {
            record(out, offset, "orders.rejected", t + 500, order);
            record(out, offset, "orders.accepted", t + 900, order);
            record(out, offset, "orders.delivered", t + 5_000, order);
          }
          default -> {
            if (i % 4 == 1) {
              record(out, offset, "orders.rejected", t + 500, order);
            } else {
              record(out, offset, "orders.accepted", t + 500, order);
              record(out, offset, "orders.delivered", t + 5_000, order);
            }
          }
        }
      }
      record(out, new int[] {99}, "orders.placed", T0 + 60_000L, "K-late"); // the input goes on past every deadline
    }
    verdicts = Replays.finals(new FlowSpecLoader().load(flows), recording).stream()
        .collect(Collectors.toMap(v -> v.keys().get("orderId"), Function.identity()));
  }

  @Test
  void eitherWayPassesAndIsDecidedOnlyOnceItCame() {
    assertThat(verdicts.get("K-1").status()).isEqualTo(VerdictStatus.PASSED);
    assertThat(verdicts.get("K-2").status()).isEqualTo(VerdictStatus.PASSED);
    assertThat(verdicts.get("K-2").revision()).as("not first decided at the order, then amended").isZero();
    assertThat(verdicts.values()).filteredOn(v -> !v.keys().get("orderId").matches("K-(3|5|late)"))
        .hasSize(10).allSatisfy(v -> assertThat(v.status()).as(v.toString()).isEqualTo(VerdictStatus.PASSED));
  }

  @Test
  void anOrderNeverAnsweredMissesItsAnswer() {
    assertThat(verdicts.get("K-3").violations()).singleElement().satisfies(v -> {
      assertThat(v.kind()).isEqualTo(ViolationKind.MISSING_STAGE);
      assertThat(v.message()).isEqualTo("neither accepted nor rejected happened within 20 s of the flow's start;"
          + " one way of choice 'answer' must");
    });
  }

  @Test
  void anOrderRejectedThenAcceptedTookASecondWay() {
    assertThat(verdicts.get("K-5").violations()).extracting(Violation::kind, Violation::stage)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(ViolationKind.BAD_TRANSFORMATION, "accepted"));
    assertThat(verdicts.get("K-5").violations().get(0).message())
        .contains("although rejected, another way of choice 'answer', had happened first");
  }

  @Test
  void aChoiceOfOneWayIsAnError() throws Exception {
    Path flows = Files.createDirectories(work.resolve("one-way"));
    Files.writeString(flows.resolve("kitchen.flow.yaml"),
        FLOW.replace("choice: answer\n    terminal: true", "terminal: true"));

    assertThatThrownBy(() -> new FlowSpecLoader().load(flows)).isInstanceOf(FlowSpecException.class)
        .hasMessageContaining("choice 'answer' has one way, stage 'accepted': give the same 'choice' to each stage"
            + " that may happen instead of it");
  }

  /**
   * Trial P: a way made of spans alone (a call to the card network) is not seen where the trace was
   * not sampled; the dispute then waited for a way of its choice and failed at its deadline, with
   * no violation, though the refund after that way had come.
   */
  @Test
  void aWayOfSpansAloneInATraceNotSampledIsNotOwed() throws Exception {
    Path flows = Files.createDirectories(work.resolve("dispute-flows"));
    Files.writeString(flows.resolve("disputes.flow.yaml"), """
        flow: disputes
        keys: [disputeId]
        deadline: 20s
        stages:
          - id: opened
            events: [{id: disputes_opened, topic: disputes.opened}]
          - id: filed
            after: opened
            choice: outcome
            events: [{id: network_call, span: {service: chargebacks, kind: CLIENT, name: POST /cases}}]
          - id: rejected
            after: opened
            choice: outcome
            terminal: true
            events: [{id: disputes_rejected, topic: disputes.rejected}]
          - id: refunded
            after: filed
            terminal: true
            events: [{id: refunds_issued, topic: refunds.issued}]
        """);
    Path recording = Files.createDirectories(work.resolve("disputes"));
    try (RecordingWriter file = RecordingWriter.open(recording)) {
      TracedTraffic out = new TracedTraffic(file);
      for (int i = 0; i < 6; i++) {
        String trace = String.format("%032x", 0xd15000L + i);
        boolean sampled = i % 2 == 0;
        long t = T0 + i * 1_000L;
        String body = "{\"disputeId\":\"D-" + i + "\"}";
        out.record(sampled, trace, "opened-" + i, "", "disputes-api", "disputes.opened", i, t, body);
        if (i == 5) {
          out.record(sampled, trace, "rejected-" + i, "opened-" + i, "investigations", "disputes.rejected", i, t + 300, body);
          continue;
        }
        out.span(sampled, trace, "call-" + i, "opened-" + i, "POST /cases", io.flowtrace.tracer.model.SpanKind.CLIENT,
            "chargebacks", t + 100, t + 180, Map.of("http.request.method", "POST"));
        out.record(sampled, trace, "refund-" + i, "call-" + i, "chargebacks", "refunds.issued", i, t + 200, body);
      }
      out.record(true, String.format("%032x", 0xd15999L), "late", "", "disputes-api", "disputes.opened", 99,
          T0 + 60_000L, "{\"disputeId\":\"D-late\"}");
    }

    Map<String, Verdict> disputes = Replays.finals(new FlowSpecLoader().load(flows), recording).stream()
        .collect(Collectors.toMap(v -> v.keys().get("disputeId"), Function.identity()));

    assertThat(disputes.values()).filteredOn(v -> !v.keys().get("disputeId").equals("D-late")).hasSize(6)
        .allSatisfy(v -> assertThat(v.status()).as(v.toString()).isEqualTo(VerdictStatus.PASSED));
    assertThat(disputes.get("D-1").verification()).isEqualTo(Verdict.Verification.PARTIAL);
  }

  private static void record(RecordingWriter out, int[] offset, String topic, long ms, String order) {
    out.accept(TracedTraffic.untraced(topic, offset[0]++, ms, order, "{\"orderId\":\"" + order + "\"}"));
  }
}
