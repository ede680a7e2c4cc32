package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Insurance claims as a trial drafted them: a claim is filed, scored and its claimant notified; one
 * claimant in five amends the claim, in a trace of its own, at a moment of their choosing — nearly
 * always after the scoring, twice before it — and no service reads the amendments. The draft hung
 * the amendment after the scoring (it failed the two that came before) and made the notification
 * wait for it (it failed those notified before the claimant amended).
 */
class InferOutsideAmendmentTest {

  @TempDir Path work;

  @Test
  void anAmendmentACallerSendsWhenItLikesFollowsWhatAlwaysCameBeforeItAndHoldsUpNothing() throws Exception {
    Path recording = Files.createDirectories(work.resolve("claims"));
    try (RecordingWriter writer = RecordingWriter.open(recording)) {
      TracedTraffic out = new TracedTraffic(writer);
      long offset = 0;
      long amendments = 0;
      for (int i = 0; i < 150; i++) {
        String trace = String.format("%032x", 0xC000L + i);
        String claim = "CLM-" + (40_000 + i);
        long t = 1_798_000_000_000L + i * 2_000L;
        out.span(true, trace, "a" + i, "", "POST /claims", SpanKind.SERVER, "claims-api", t, t + 20,
            Map.of("http.route", "/claims", "http.request.body", "{\"policy\":\"POL-" + i + "\"}"));
        out.record(true, trace, "b" + i, "a" + i, "claims-api", "claims.submitted", offset++, t + 5,
            "{\"claimId\":\"" + claim + "\",\"policy\":\"POL-" + i + "\"}");
        out.span(true, trace, "c" + i, "b" + i, "claims.submitted process", SpanKind.CONSUMER, "scorer", t + 200,
            t + 260, TracedTraffic.consumed("claims.submitted"));
        out.record(true, trace, "d" + i, "c" + i, "scorer", "claims.scored", offset++, t + 250,
            "{\"claimId\":\"" + claim + "\",\"risk\":" + (i % 7) + "}");
        out.span(true, trace, "e" + i, "d" + i, "claims.scored process", SpanKind.CONSUMER, "notifier", t + 300,
            t + 330, TracedTraffic.consumed("claims.scored"));
        out.record(true, trace, "f" + i, "e" + i, "notifier", "claims.notified", offset++, t + 320,
            "{\"claimId\":\"" + claim + "\"}");
        if (i % 5 == 2) {
          // the claimant amends: twice before the scoring, else some time after it, before or after the notice
          long at = i == 2 || i == 77 ? t + 100 : t + 280 + i % 3 * 40;
          String own = String.format("%032x", 0xE000L + i);
          out.span(true, own, "p" + i, "", "PATCH /claims/{claimId}", SpanKind.SERVER, "claims-api", at, at + 10,
              Map.of("http.route", "/claims/{claimId}", "http.request.body", "{\"phone\":\"555-01" + i + "\"}"));
          out.record(true, own, "q" + i, "p" + i, "claims-api", "claims.amended", amendments++, at + 5,
              "{\"claimId\":\"" + claim + "\",\"phone\":\"555-01" + i + "\"}");
        }
      }
    }
    Path drafts = work.resolve("drafts");
    Inference.builder().name("claims").build().infer(recording).write(drafts);
    String spec = Files.readString(drafts.resolve("claims/claims.flow.yaml"));
    FlowSpec flow = new FlowSpecLoader().load(drafts).get(0);
    String amended = flow.event("claims_amended").stageId();
    String submitted = flow.event("claims_submitted").stageId();
    String notified = flow.event("claims_notified").stageId();

    assertThat(flow.stage(amended).optional()).as(spec).isTrue();
    assertThat(flow.stage(amended).after()).as(spec).containsExactly(submitted);
    assertThat(flow.stage(notified).after()).as(spec).doesNotContain(amended);
    assertThat(Replays.finals(List.of(flow), recording)).hasSize(150)
        .allSatisfy(v -> assertThat(v.status()).as(v + "\n" + spec).isEqualTo(VerdictStatus.PASSED));
  }
}
