package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Payouts in a team that does not trace its Kafka traffic: a bank's callbacks are relayed to a
 * topic, some delivered twice with the same callbackId. A trial's draft declared no idempotency
 * (only a webhook span in a new trace was a trigger), so a payout settled twice passed.
 */
class InferRecordRedeliveryTest {

  @TempDir Path work;

  @Test
  void aRecordTheTrafficShowsDeliveredAgainIsATriggerAndWhatFollowsItsEffects() throws Exception {
    Path recording = Files.createDirectories(work.resolve("payouts"));
    long t0 = 1_796_000_000_000L;
    try (RecordingWriter out = RecordingWriter.open(recording)) {
      int callbacks = 0;
      for (int i = 0; i < 120; i++) {
        String payout = "PO-" + (700_000 + i);
        long t = t0 + i * 60_000L;
        out.accept(TracedTraffic.untraced("payouts.requested", i, t, payout,
            "{\"payoutId\":\"" + payout + "\",\"eventId\":\"ev-" + i + "\",\"amount\":" + (100 + i) + "}"));
        String callback = "{\"payoutId\":\"" + payout + "\",\"callbackId\":\"cb-" + i + "\",\"status\":\"SETTLED\"}";
        out.accept(TracedTraffic.untraced("bank.callbacks", callbacks++, t + 20_000, payout, callback));
        if (i % 10 == 3) {
          out.accept(TracedTraffic.untraced("bank.callbacks", callbacks++, t + 50_000, payout, callback));
        }
        out.accept(TracedTraffic.untraced("payouts.settled", i, t + 21_000, payout,
            "{\"payoutId\":\"" + payout + "\",\"settledAmount\":" + (100 + i) + "}"));
      }
    }
    Path drafts = work.resolve("drafts");
    Inference.builder().name("payouts").build().infer(recording).write(drafts);
    String yaml = Files.readString(drafts.resolve("payouts/payouts.flow.yaml"));
    List<FlowSpec> flows = new FlowSpecLoader().load(drafts);

    assertThat(yaml).contains("  - trigger: bank_callbacks\n    dedupKey: callbackId\n    effects: [payouts_settled]")
        .contains("with no trace context on its records").doesNotContain("trigger: payouts_requested");
    assertThat(flows.get(0).idempotency()).hasSize(1);
    List<Verdict> verdicts = Replays.finals(flows, recording);
    assertThat(verdicts).hasSize(120).allSatisfy(v -> assertThat(v.status()).as(v.toString()).isEqualTo(VerdictStatus.PASSED));
  }

  /**
   * A hotel chain's loyalty service takes a captured payment again now and then (a rebalance) and
   * awards the points once. A trial's draft declared no idempotency, though the consumer spans
   * showed the redeliveries, so a payment awarded twice passed.
   */
  @Test
  void aRecordItsConsumersTookAgainIsATriggerToldApartByItsKey() throws Exception {
    Path clean = traced("clean", -1);
    Path defect = traced("defect", 42);
    Path drafts = work.resolve("drafts");
    Inference.builder().name("stays").build().infer(clean).write(drafts);
    String yaml = Files.readString(drafts.resolve("stays/stays.flow.yaml"));
    List<FlowSpec> flows = new FlowSpecLoader().load(drafts);

    assertThat(yaml).contains("  - trigger: payments_captured\n    dedupKey: paymentId\n    effects: [loyalty_points]")
        .contains("loyalty took some of its records again (redelivered)");
    assertThat(Replays.finals(flows, clean)).hasSize(100)
        .allSatisfy(v -> assertThat(v.status()).as(v.toString()).isEqualTo(VerdictStatus.PASSED));
    assertThat(Replays.finals(flows, defect)).filteredOn(v -> v.status() != VerdictStatus.PASSED)
        .singleElement().satisfies(v -> {
          assertThat(v.keys()).containsValue("pay-42");
          assertThat(v.violations()).anySatisfy(x -> assertThat(x.kind().name()).isEqualTo("NON_IDEMPOTENT"));
        });
  }

  /**
   * Trial M: the only repeats of the points were a producer's retries (the same record sent again as
   * it was, which replay counts once), and guests amend their stays in traces of their own. The
   * draft left the points out of the effects and put the amendment in, so a payment awarded twice
   * passed and a guest who amended twice failed.
   */
  @Test
  void aRecordSentAgainAsItWasIsOneEffectAndWhatACallerBeginsInItsOwnTraceIsNone() throws Exception {
    Path clean = traced("clean", -1, true);
    Path defect = traced("defect", 42, true);
    Path drafts = work.resolve("drafts");
    Inference.builder().name("stays").build().infer(clean).write(drafts);
    String yaml = Files.readString(drafts.resolve("stays/stays.flow.yaml"));
    List<FlowSpec> flows = new FlowSpecLoader().load(drafts);

    assertThat(yaml).contains("  - trigger: payments_captured\n    dedupKey: paymentId\n    effects: [loyalty_points]")
        .contains("not effects, as their records are never in a delivery's trace (begun by a caller of their own):"
            + " stays_amended");
    assertThat(Replays.finals(flows, clean)).hasSize(100)
        .allSatisfy(v -> assertThat(v.status()).as(v.toString()).isEqualTo(VerdictStatus.PASSED));
    assertThat(Replays.finals(flows, defect)).filteredOn(v -> v.status() != VerdictStatus.PASSED)
        .singleElement().satisfies(v -> assertThat(v.keys()).containsValue("pay-42"));
  }

  private Path traced(String name, int twice) throws Exception {
    return traced(name, twice, false);
  }

  /**
   * Payments captured and points awarded; every 10th payment taken again by loyalty; {@code twice}'s
   * points awarded twice. With {@code retriesAndAmendments}, every 7th award is sent again as it was
   * and every 5th guest amends the stay, twice, each time in a trace of its own.
   */
  private Path traced(String name, int twice, boolean retriesAndAmendments) throws Exception {
    Path recording = Files.createDirectories(work.resolve(name));
    long t0 = 1_796_000_000_000L;
    try (RecordingWriter out = RecordingWriter.open(recording)) {
      TracedTraffic traffic = new TracedTraffic(out);
      long offset = 0;
      long amendments = 0;
      for (int i = 0; i < 100; i++) {
        String pay = "pay-" + i;
        String trace = String.format("%032x", 0xabc000L + i);
        long t = t0 + i * 1_000L;
        traffic.record(true, trace, "cap" + i, "", "payments", "payments.captured", i, t,
            "{\"paymentId\":\"" + pay + "\",\"amount\":" + (100 + i) + "}");
        int takes = i % 10 == 3 ? 2 : 1;
        for (int k = 0; k < takes; k++) {
          traffic.span(true, trace, "take" + i + "-" + k, "cap" + i, "payments.captured process", io.flowtrace.tracer.model.SpanKind.CONSUMER,
              "loyalty", t + 5 + k * 200, t + 8 + k * 200, TracedTraffic.consumed("payments.captured"));
        }
        for (int k = 0; k < (i == twice ? 2 : 1); k++) {
          long at = offset++;
          String points = "{\"paymentId\":\"" + pay + "\",\"points\":" + (10 + i + k) + "}";
          traffic.record(true, trace, "pts" + i + "-" + k, "take" + i + "-0", "loyalty", "loyalty.points", at,
              t + 7 + k * 200, points);
          if (retriesAndAmendments && i % 7 == 2 && k == 0) {
            out.accept(TracedTraffic.published("loyalty.points", offset++, t + 9, "k" + at, trace,
                TracedTraffic.spanId("pts" + i + "-0"), true, points));
          }
        }
        for (int k = 0; retriesAndAmendments && i % 5 == 1 && k < 2; k++) {
          String own = String.format("%032x", 0xdef000L + i * 10 + k);
          traffic.span(true, own, "amend" + i + "-" + k, "", "PATCH /stays", io.flowtrace.tracer.model.SpanKind.SERVER,
              "stays", t + 300 + k * 100, t + 305 + k * 100, java.util.Map.of("http.route", "/stays"));
          traffic.record(true, own, "amended" + i + "-" + k, "amend" + i + "-" + k, "stays", "stays.amended",
              amendments++, t + 302 + k * 100, "{\"paymentId\":\"" + pay + "\",\"note\":\"late arrival " + k + "\"}");
        }
      }
    }
    return recording;
  }
}
