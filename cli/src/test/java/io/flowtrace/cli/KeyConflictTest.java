package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.verifier.check.ViolationKind;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A delivery's record that carries another order's id beside its own delivery's id (trial O): the
 * order it names did nothing wrong, the order whose delivery it is did. Its trace, or its record
 * key, says where it happened; the id it carried is that order's defect.
 */
class KeyConflictTest {

  private static final long T0 = 1_797_100_000_000L;
  private static final String FLOW = """
      flow: meals
      keys: [orderId, deliveryId]
      deadline: 1m
      stages:
        - id: placed
          events: [{id: orders_placed, topic: orders.placed}]
        - id: assigned
          after: placed
          events: [{id: couriers_assigned, topic: couriers.assigned, recordKey: deliveryId}]
        - id: delivered
          after: assigned
          terminal: true
          events: [{id: orders_delivered, topic: orders.delivered, recordKey: deliveryId}]
      enrichment:
        - {from: orders_placed, to: orders_delivered, carry: [orderId]}
      """;

  @TempDir Path work;

  @Test
  void aRecordCarryingAnotherOrdersIdFailsTheOrderWhoseTraceItIsIn() throws Exception {
    assertTheDeliveringOrderAloneFails(true);
  }

  @Test
  void withoutTraceContextTheRecordKeySaysWhoseDeliveryItIs() throws Exception {
    assertTheDeliveringOrderAloneFails(false);
  }

  /**
   * Trial P: a refund published in one dispute's own trace under another dispute's id, its only key.
   * It joined the dispute it named, which failed with six violations, and the guilty one was told
   * it missed its refund.
   */
  @Test
  void aRecordWhoseOnlyKeyNamesAnotherInstanceFailsTheOneWhoseTraceItIsIn() throws Exception {
    assertTheRefundingDisputeAloneFails(true);
  }

  /** The same where the traces were not sampled: the record's trace context still names the trace its dispute began in. */
  @Test
  void soItDoesWhereTheTracesWereNotSampled() throws Exception {
    assertTheRefundingDisputeAloneFails(false);
  }

  private void assertTheRefundingDisputeAloneFails(boolean sampled) throws Exception {
    Path flows = Files.createDirectories(work.resolve("dispute-flows"));
    Files.writeString(flows.resolve("disputes.flow.yaml"), """
        flow: disputes
        keys: [disputeId]
        deadline: 1m
        stages:
          - id: opened
            events:
              - {id: open_call, span: {service: disputes-api, kind: SERVER, name: POST /disputes}}
              - {id: disputes_opened, topic: disputes.opened}
          - id: refunded
            after: opened
            terminal: true
            events: [{id: refunds_issued, topic: refunds.issued}]
        enrichment:
          - {from: disputes_opened, to: refunds_issued, carry: [disputeId, amount]}
        """);
    Path recording = Files.createDirectories(work.resolve("disputes"));
    try (RecordingWriter file = RecordingWriter.open(recording)) {
      TracedTraffic out = new TracedTraffic(file);
      for (int i = 1; i <= 8; i++) {
        String trace = String.format("%032x", 0xd1a000L + i);
        long t = T0 + i * 2_000L;
        out.span(sampled, trace, "call-" + i, "", "POST /disputes", io.flowtrace.tracer.model.SpanKind.SERVER,
            "disputes-api", t, t + 50, Map.of("http.request.method", "POST"));
        out.record(sampled, trace, "opened-" + i, "call-" + i, "disputes-api", "disputes.opened", i, t + 20,
            "{\"disputeId\":\"D-" + i + "\",\"amount\":" + (10 * i) + "}");
        out.record(sampled, trace, "refund-" + i, "opened-" + i, "refunds", "refunds.issued", i, t + 900,
            "{\"disputeId\":\"D-" + (i == 5 ? 2 : i) + "\",\"amount\":" + (10 * i) + "}");
      }
    }

    Map<String, Verdict> verdicts = Replays.finals(new FlowSpecLoader().load(flows), recording).stream()
        .collect(Collectors.toMap(v -> v.keys().get("disputeId"), Function.identity()));

    assertThat(verdicts).hasSize(8);
    assertThat(verdicts.get("D-5").violations()).singleElement().satisfies(v -> {
      assertThat(v.kind()).isEqualTo(ViolationKind.BAD_TRANSFORMATION);
      assertThat(v.stage()).isEqualTo("refunded");
      assertThat(v.message()).contains("carried disputeId \"D-2\", the key of another instance (disputeId=D-2),"
          + " where this instance's is \"D-5\"");
    });
    assertThat(verdicts.values()).filteredOn(v -> !v.keys().get("disputeId").equals("D-5"))
        .allSatisfy(v -> assertThat(v.violations()).as(v.toString()).isEmpty());
  }

  private void assertTheDeliveringOrderAloneFails(boolean traced) throws Exception {
    Path flows = Files.createDirectories(work.resolve("flows"));
    Files.writeString(flows.resolve("meals.flow.yaml"), FLOW);
    Path recording = Files.createDirectories(work.resolve("recording"));
    try (RecordingWriter file = RecordingWriter.open(recording)) {
      TracedTraffic out = new TracedTraffic(file);
      for (int i = 1; i <= 8; i++) {
        String order = "O-" + i;
        String delivery = "D-" + i;
        String carried = i == 5 ? "O-2" : order;
        String trace = String.format("%032x", 0xbe0000L + i);
        long t = T0 + i * 2_000L;
        String placed = "{\"orderId\":\"" + order + "\",\"total\":" + (10 + i) + "}";
        String assigned = "{\"orderId\":\"" + order + "\",\"deliveryId\":\"" + delivery + "\"}";
        String delivered = "{\"orderId\":\"" + carried + "\",\"deliveryId\":\"" + delivery + "\"}";
        if (traced) {
          out.record(true, trace, "placed-" + i, "", "orders", "orders.placed", i, t, placed);
          out.record(true, trace, "assigned-" + i, "placed-" + i, "dispatch", "couriers.assigned", i, t + 300, assigned);
          out.record(true, trace, "delivered-" + i, "assigned-" + i, "delivery", "orders.delivered", i, t + 900,
              delivered);
        } else {
          file.accept(TracedTraffic.untraced("orders.placed", i, t, order, placed));
          file.accept(TracedTraffic.untraced("couriers.assigned", i, t + 300, delivery, assigned));
          file.accept(TracedTraffic.untraced("orders.delivered", i, t + 900, delivery, delivered));
        }
      }
    }

    Map<String, Verdict> verdicts = Replays.finals(new FlowSpecLoader().load(flows), recording).stream()
        .collect(Collectors.toMap(v -> v.keys().get("orderId"), Function.identity()));

    assertThat(verdicts).hasSize(8);
    assertThat(verdicts.get("O-5").violations()).singleElement().satisfies(v -> {
      assertThat(v.kind()).isEqualTo(ViolationKind.BAD_TRANSFORMATION);
      assertThat(v.stage()).isEqualTo("delivered");
      assertThat(v.field()).isEqualTo("orderId");
      assertThat(v.message()).contains("carried orderId \"O-2\", the key of another instance (orderId=O-2, "
          + "deliveryId=D-2), where this instance's is \"O-5\": deliveryId=D-5");
    });
    assertThat(verdicts.get("O-5").keys()).containsEntry("deliveryId", "D-5");
    List<Verdict> others = verdicts.values().stream().filter(v -> !v.keys().get("orderId").equals("O-5")).toList();
    assertThat(others).allSatisfy(v -> assertThat(v.violations()).as(v.toString()).isEmpty());
  }
}
