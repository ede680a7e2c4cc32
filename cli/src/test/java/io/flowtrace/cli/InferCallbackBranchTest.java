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
 * An analyzer's result comes by webhook, in a trace of its own sampled one time in four; a
 * critical result pages the doctor (a call, then its record) in that trace. Drafted from that
 * traffic, the page's condition read the webhook's body — a span only a quarter of the traces
 * show — because the record's field was measured against the order's trace: 323 of the 400 orders
 * it was drafted from were incomplete against the draft.
 */
class InferCallbackBranchTest {

  @TempDir Path work;

  @Test
  void aBranchInACallbacksTraceIsDecidedByTheRecordThatTheCallbackWrote() throws Exception {
    Path recording = Files.createDirectories(work.resolve("results"));
    try (RecordingWriter writer = RecordingWriter.open(recording)) {
      TracedTraffic out = new TracedTraffic(writer);
      long offset = 0;
      for (int i = 0; i < 200; i++) {
        String order = String.format("%032x", 0xE000L + i);
        String hook = String.format("%032x", 0xF000L + i);
        boolean sampled = i % 4 == 0;
        boolean critical = i % 5 == 2;
        String id = "LO-" + (10_000 + i);
        long t = 1_798_000_000_000L + i * 60_000L;
        out.record(true, order, "a" + i, "", "orders", "orders.created", offset++, t, "{\"orderId\":\"" + id + "\"}");
        long at = t + 30_000;
        out.span(sampled, hook, "w" + i, "", "POST /webhooks/results", SpanKind.SERVER, "middleware", at, at + 50,
            Map.of("http.route", "/webhooks/results", "http.request.body",
                "{\"orderId\":\"" + id + "\",\"critical\":" + critical + "}"));
        out.record(sampled, hook, "v" + i, "w" + i, "middleware", "results.verified", offset++, at + 10,
            "{\"orderId\":\"" + id + "\",\"resultId\":\"RS-" + i + "\",\"critical\":" + critical + "}");
        String last = "v" + i;
        if (critical) {
          out.span(sampled, hook, "c" + i, "v" + i, "results.verified process", SpanKind.CONSUMER, "pager", at + 20,
              at + 90, TracedTraffic.consumed("results.verified"));
          out.span(sampled, hook, "p" + i, "c" + i, "POST", SpanKind.CLIENT, "pager", at + 30, at + 80,
              Map.of("url.full", "https://pager.example/v1/pages", "http.response.body", "{\"paged\":true}"));
          out.record(sampled, hook, "q" + i, "c" + i, "pager", "critical.paged", offset++, at + 85,
              "{\"orderId\":\"" + id + "\",\"resultId\":\"RS-" + i + "\"}");
          last = "q" + i;
        }
        out.record(sampled, hook, "r" + i, last, "reporting", "reports.final", offset++, at + 2_000,
            "{\"orderId\":\"" + id + "\",\"resultId\":\"RS-" + i + "\"}");
      }
    }
    Path drafts = work.resolve("drafts");
    Inference.builder().name("results").build().infer(recording).write(drafts);
    String spec = Files.readString(drafts.resolve("results/results.flow.yaml"));
    FlowSpec flow = new FlowSpecLoader().load(drafts).get(0);

    assertThat(flow.stages()).filteredOn(s -> s.when() != null).extracting(s -> s.when().source()).as(spec)
        .isNotEmpty().allSatisfy(when -> assertThat(when).startsWith("results_verified.critical"));
    assertThat(Replays.finals(List.of(flow), recording)).hasSize(200)
        .allSatisfy(v -> assertThat(v.status()).as(v + "\n" + spec).isEqualTo(VerdictStatus.PASSED));
  }
}
