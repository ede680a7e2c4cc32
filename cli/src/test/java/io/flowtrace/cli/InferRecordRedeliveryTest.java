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
}
