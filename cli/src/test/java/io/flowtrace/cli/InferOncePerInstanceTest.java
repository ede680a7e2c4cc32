package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.verifier.check.ViolationKind;
import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Effects no instance of the traffic had twice, with no redelivery to draft an idempotency from: a
 * dispute refunded once (or not at all) and notified once, its payout attempted once or, when the
 * bank asks to, again. Trials' drafts said "0 idempotency", and a dispute refunded twice passed them.
 */
class InferOncePerInstanceTest {

  @TempDir static Path work;
  static String yaml;
  static List<FlowSpec> draft;

  @BeforeAll
  static void draftFromDisputes() throws Exception {
    Path recording = Files.createDirectories(work.resolve("disputes"));
    try (RecordingWriter out = RecordingWriter.open(recording)) {
      disputes(out, 0, 120, -1);
    }
    Path drafts = work.resolve("drafts");
    Inference.builder().name("disputes").build().infer(recording).write(drafts);
    yaml = Files.readString(drafts.resolve("disputes/disputes.flow.yaml"));
    draft = new FlowSpecLoader().load(drafts);
  }

  @Test
  void effectsNoInstanceHadTwiceAreDraftedAtMostOnceEach() {
    assertThat(yaml).as(yaml)
        .containsPattern("# each at most once per instance: no instance had two of any \\(each seen in at least \\d+"
            + " of 120\\)")
        .contains("  - trigger: disputes_opened\n    effects: [refunds_issued, notifications_sent]\n");
  }

  @Test
  void otherTrafficOfTheSameShapePassesTheDraft() throws Exception {
    Path other = Files.createDirectories(work.resolve("other"));
    try (RecordingWriter out = RecordingWriter.open(other)) {
      disputes(out, 1_000, 150, -1);
    }

    assertThat(Replays.finals(draft, other)).hasSize(150)
        .allSatisfy(v -> assertThat(v.violations()).as(yaml).isEmpty());
  }

  @Test
  void aDisputeRefundedTwiceFailsTheDraft() throws Exception {
    Path defect = Files.createDirectories(work.resolve("defect"));
    try (RecordingWriter out = RecordingWriter.open(defect)) {
      disputes(out, 2_000, 40, 2_007);
    }

    List<Verdict> verdicts = Replays.finals(draft, defect);
    assertThat(verdicts).hasSize(40);
    assertThat(verdicts).filteredOn(v -> !v.violations().isEmpty())
        .singleElement()
        .satisfies(v -> assertThat(v.keys().values()).contains("DSP-2007"))
        .satisfies(v -> assertThat(v.violations()).anySatisfy(x -> {
          assertThat(x.kind()).isEqualTo(ViolationKind.NON_IDEMPOTENT);
          assertThat(x.message()).contains("refunds_issued happened 2 times");
        }));
  }

  /**
   * Disputes {@code from}…: opened, a payout attempted (a third of them twice: the bank asked to
   * retry), four in five refunded, each notified; the dispute {@code refundedTwice} is refunded again.
   */
  private static void disputes(RecordingWriter out, int from, int count, int refundedTwice) throws Exception {
    Random random = new Random(from + 5);
    long t0 = 1_797_600_000_000L + from * 60_000L;
    int offset = from * 6;
    for (int i = from; i < from + count; i++) {
      String id = "DSP-" + i;
      long t = t0 + (i - from) * 20_000L;
      int amount = 10 + random.nextInt(400);
      out.accept(TracedTraffic.untraced("disputes.opened", offset++, t, id,
          "{\"disputeId\":\"" + id + "\",\"amount\":" + amount + "}"));
      int attempts = random.nextInt(3) == 0 ? 2 : 1;
      for (int a = 1; a <= attempts; a++) {
        out.accept(TracedTraffic.untraced("payouts.attempted", offset++, t + 1_000L * a, id,
            "{\"disputeId\":\"" + id + "\",\"attempt\":" + a + ",\"result\":\"" + (a < attempts ? "RETRY" : "OK")
                + "\"}"));
      }
      boolean refunded = random.nextInt(5) != 0 || i == refundedTwice;
      if (refunded) {
        for (int r = 0; r < (i == refundedTwice ? 2 : 1); r++) {
          out.accept(TracedTraffic.untraced("refunds.issued", offset++, t + 4_000 + r * 700, id,
              "{\"disputeId\":\"" + id + "\",\"refundId\":\"RF-" + i + "-" + r + "\",\"amount\":" + amount + "}"));
        }
      }
      out.accept(TracedTraffic.untraced("notifications.sent", offset++, t + 6_000, id,
          "{\"disputeId\":\"" + id + "\",\"template\":\"" + (refunded ? "refunded" : "closed") + "\"}"));
    }
  }
}
