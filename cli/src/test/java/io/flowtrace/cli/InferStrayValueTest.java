package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Claims drafted from traffic with a defect in it: three decisions say {@code APPROVE}, a typo,
 * and were paid all the same. The schema leaves the typo out of the decision's enum as too rare to
 * belong; a trial's draft still put it in the payout's condition, so the draft failed its own lint
 * ("please report this").
 */
class InferStrayValueTest {

  @TempDir Path work;

  @Test
  void aValueTooRareForTheSchemaIsNoValueOfACondition() throws Exception {
    Path recording = Files.createDirectories(work.resolve("claims"));
    long t0 = 1_796_000_000_000L;
    try (RecordingWriter out = RecordingWriter.open(recording)) {
      int payouts = 0;
      for (int i = 0; i < 200; i++) {
        String claim = "CLM-" + (400_000 + i);
        String decision = i % 67 == 5 ? "APPROVE" : i % 3 == 0 ? "DENIED" : "APPROVED";
        long t = t0 + i * 60_000L;
        out.accept(TracedTraffic.untraced("claims.filed", i, t, claim,
            "{\"claimId\":\"" + claim + "\",\"amount\":" + (100 + i) + "}"));
        out.accept(TracedTraffic.untraced("claims.decided", i, t + 5_000, claim,
            "{\"claimId\":\"" + claim + "\",\"decision\":\"" + decision + "\"}"));
        if (!decision.equals("DENIED")) {
          out.accept(TracedTraffic.untraced("payouts.requested", payouts++, t + 9_000, claim,
              "{\"claimId\":\"" + claim + "\",\"amount\":" + (100 + i) + "}"));
        }
      }
    }
    Path drafts = work.resolve("drafts");
    Inference.builder().name("claims").build().infer(recording).write(drafts);
    String yaml = Files.readString(drafts.resolve("claims/claims.flow.yaml"));

    assertThat(new FlowSpecLoader().load(drafts)).as(yaml).hasSize(1);
    assertThat(yaml).contains("when: 'claims_decided.decision == \"APPROVED\"'").contains("3 went against it");
    assertThat(Files.readString(drafts.resolve("claims/schemas/claims_decided.schema.json")))
        .contains("left out as too rare to belong: APPROVE (3×)");
  }
}
