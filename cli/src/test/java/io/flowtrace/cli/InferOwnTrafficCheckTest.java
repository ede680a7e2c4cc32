package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Drafts that failed their own traffic in a trial (a KYC onboarding): a screening call made as a
 * GET with its parameters in the query string, under either URL attribute, and a manual review
 * that takes minutes in one application of ten. {@code infer} then says how its own traffic fares.
 */
class InferOwnTrafficCheckTest {

  @TempDir Path work;

  /**
   * 120 applications; every {@code reviewEvery}-th (none when 0) decided by a person 90–300 s later;
   * with {@code stalled}, three never open their account.
   */
  private Path applications(String urlAttribute, int reviewEvery, boolean stalled) throws Exception {
    Path recording = Files.createDirectories(work.resolve("kyc"));
    try (RecordingWriter writer = RecordingWriter.open(recording)) {
      TracedTraffic out = new TracedTraffic(writer);
      long t0 = 1_798_000_000_000L;
      for (int i = 0; i < 120; i++) {
        String trace = String.format("%032x", 0x9100L + i);
        String app = "APP-" + (70_000 + i);
        long t = t0 + i * 700L;
        boolean review = reviewEvery > 0 && i % reviewEvery == 3;
        out.span(true, trace, "a" + i, "", "POST /applications", SpanKind.SERVER, "kyc-service", t, t + 40,
            Map.of("http.route", "/applications", "http.request.body", "{\"applicantName\":\"Ada " + i + "\"}"));
        out.span(true, trace, "b" + i, "a" + i, "GET", SpanKind.CLIENT, "kyc-service", t + 5, t + 30,
            Map.of(urlAttribute, "https://screening.example/v1/sanctions?name=Ada+" + i + "&country=DE",
                "http.response.body", "{\"listed\":false,\"checkedAt\":\"2026-12-0" + (1 + i % 5) + "\"}"));
        out.record(true, trace, "c" + i, "a" + i, "kyc-service", "kyc.decisions", i, t + 35,
            "{\"applicationId\":\"" + app + "\",\"decision\":\"" + (review ? "REVIEW" : "APPROVED") + "\"}");
        long opened = review ? t + 90_000 + (i * 7_919L) % 210_000 : t + 60 + i % 5;
        if (stalled && i % 40 == 7) {
          continue;
        }
        out.record(true, trace, "d" + i, "c" + i, "account-service", "accounts.opened", i, opened,
            "{\"applicationId\":\"" + app + "\",\"accountId\":\"ACC-" + (90_000 + i) + "\"}");
      }
    }
    return recording;
  }

  private List<Verdict> draftAndReplay(Path recording) throws Exception {
    Path drafts = work.resolve("drafts");
    Inference.builder().name("kyc").build().infer(recording).write(drafts);
    return Replays.finals(new FlowSpecLoader().load(drafts), recording);
  }

  @Test
  void aGetWhoseUrlHasAQueryStringIsMatchedByItsPath() throws Exception {
    List<Verdict> verdicts = draftAndReplay(applications("url.full", 0, false));

    assertThat(Files.readString(work.resolve("drafts/kyc/kyc.flow.yaml")))
        .contains("url.full: {regex: '/v1/sanctions([?#].*)?$'}");
    assertThat(verdicts).hasSize(120).allSatisfy(v -> assertThat(v.status()).as(v.toString()).isEqualTo(VerdictStatus.PASSED));
  }

  @Test
  void aUrlUnderTheOlderConventionsAttributeIsMatchedUnderThatName() throws Exception {
    List<Verdict> verdicts = draftAndReplay(applications("http.url", 0, false));

    assertThat(Files.readString(work.resolve("drafts/kyc/kyc.flow.yaml")))
        .contains("http.url: {regex: '/v1/sanctions([?#].*)?$'}");
    assertThat(verdicts).hasSize(120).allSatisfy(v -> assertThat(v.status()).as(v.toString()).isEqualTo(VerdictStatus.PASSED));
  }

  @Test
  void aSlowWayOfOneInstanceInTenIsNotLeftOutOfTheLimitsAsOutliers() throws Exception {
    List<Verdict> verdicts = draftAndReplay(applications("url.full", 10, false));

    assertThat(Files.readString(work.resolve("drafts/kyc/kyc.flow.yaml")))
        .contains("12 much slower (up to ")
        .contains("are a way of their own, not outliers");
    assertThat(verdicts).hasSize(120).allSatisfy(v -> assertThat(v.status()).as(v.toString()).isEqualTo(VerdictStatus.PASSED));
  }

  @Test
  void inferReplaysItsOwnTrafficAgainstTheDraft() throws Exception {
    CliRun run = CliRun.of("infer", "--out", work.resolve("drafts").toString(), "--name", "kyc",
        applications("url.full", 0, false).toString());

    assertThat(run.exit()).as(run.stderr()).isZero();
    assertThat(run.stdout()).contains("replayed against the draft: 120 flows: 120 passed, 0 failed, 0 incomplete")
        .doesNotContain("review what failed");
  }

  @Test
  void inferNamesWhatOfItsOwnTrafficFailsTheDraft() throws Exception {
    CliRun run = CliRun.of("infer", "--out", work.resolve("drafts").toString(), "--name", "kyc",
        applications("url.full", 0, true).toString());

    assertThat(run.exit()).as(run.stderr()).isZero();
    assertThat(run.stdout()).contains("replayed against the draft: 120 flows: 117 passed, 3 failed, 0 incomplete")
        .contains("review what failed")
        .containsPattern("\\s3 × kyc: MISSING_STAGE at accounts-opened");
  }
}
