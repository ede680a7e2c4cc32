package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import io.flowtrace.verifier.spec.StageSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A call made of spans alone on one branch of a flow, under head sampling: it is seen only in the
 * sampled instances of that branch. Returns of goods: requested, inspected, then refunded when the
 * goods came back in good condition — the refund a call to a bank (a CLIENT span with its request
 * body) and a record — else declined. 40 % of traces are not sampled; their records say so (flags 00).
 */
class InferSampledBranchTest {

  @TempDir Path work;

  @Test
  void aCallOnlySampledTracesShowIsDeclaredWithItsBranchsCondition() throws Exception {
    Path recording = writeReturns(Files.createDirectories(work.resolve("returns")));
    Path drafts = work.resolve("drafts");
    Inference.builder().name("returns").build().infer(recording).write(drafts);
    String yaml = Files.readString(drafts.resolve("returns/returns.flow.yaml"));
    FlowSpec flow = new FlowSpecLoader().load(drafts).get(0);

    StageSpec refundCall = flow.stages().stream()
        .filter(s -> s.events().stream().anyMatch(e -> !e.isTopic())).findFirst().orElse(null);
    assertThat(refundCall).as(yaml).isNotNull();
    assertThat(refundCall.when()).as(yaml).isNotNull();
    assertThat(refundCall.when().source()).isEqualTo("returns_inspected.condition == \"GOOD\"");
    assertThat(yaml).doesNotContain("not declared: stage " + refundCall.id());
    StageSpec refunded = flow.stages().stream()
        .filter(st -> st.events().stream().anyMatch(e -> "returns.refunded".equals(e.topic()))).findFirst().orElseThrow();
    assertThat(refunded.after()).as("the refund record follows the bank call, a step of its branch\n%s", yaml)
        .containsExactly(refundCall.id());
    assertThat(refunded.when()).isNull();

    List<Verdict> verdicts = Replays.finals(List.of(flow), recording);
    assertThat(verdicts).hasSize(300);
    assertThat(verdicts).allSatisfy(v -> assertThat(v.violations()).as(yaml).isEmpty());
  }

  @Test
  void theDocsCountTheCallsBranchInEveryInstanceWhoseDataChoseItSampledOrNot() throws Exception {
    Path recording = writeReturns(Files.createDirectories(work.resolve("returns")));
    Path drafts = work.resolve("drafts");
    Inference.builder().name("returns").build().infer(recording).write(drafts);
    Random random = new Random(11); // writeReturns' draws: which returns were refunded unsampled
    int unsampledRefunds = 0;
    for (int i = 0; i < 300; i++) {
      unsampledRefunds += random.nextInt(10) >= 6 && i % 4 != 0 ? 1 : 0;
    }

    Path docs = work.resolve("docs");
    assertThat(FlowTraceCli.run("docs", "--flows", drafts.toString(), "--out", docs.toString(), recording.toString()))
        .isZero();

    assertThat(Files.readString(docs.resolve("returns.md")))
        .containsPattern("when `returns_inspected.condition == \"GOOD\"` — taken by 225 of the 300 observed instances"
            + " that reached [\\w-]+ \\(" + unsampledRefunds + " of them chosen by the data without the stage's own spans")
        .containsPattern("when `returns_inspected.condition == \"DAMAGED\"`[^\\n]* — taken by 75 of the 300 observed"
            + " instances that reached [\\w-]+\\n");
  }

  /**
   * A hotel trial: an amendment made after the bank call on the main branch, and on the rare other
   * branch too (a few of the damaged returns), was drafted after the bank call — the few on the
   * other branch looked like 5 % of noise — and the draft failed them.
   */
  @Test
  void anOptionalStepAlsoTakenOnARareOtherBranchIsNotDraftedAfterTheCallThatBranchLacks() throws Exception {
    Path recording = writeReturns(Files.createDirectories(work.resolve("amended")), true);
    Path drafts = work.resolve("drafts");
    Inference.builder().name("returns").build().infer(recording).write(drafts);
    String yaml = Files.readString(drafts.resolve("returns/returns.flow.yaml"));
    FlowSpec flow = new FlowSpecLoader().load(drafts).get(0);

    StageSpec refundCall = flow.stages().stream()
        .filter(s -> s.events().stream().anyMatch(e -> !e.isTopic())).findFirst().orElseThrow();
    StageSpec amended = flow.stages().stream()
        .filter(st -> st.events().stream().anyMatch(e -> "returns.amended".equals(e.topic()))).findFirst().orElseThrow();
    assertThat(amended.after()).as(yaml).doesNotContain(refundCall.id());
    assertThat(Replays.finals(List.of(flow), recording)).hasSize(300)
        .allSatisfy(v -> assertThat(v.violations()).as(yaml).isEmpty());
  }

  private static Path writeReturns(Path dir) throws Exception {
    return writeReturns(dir, false);
  }

  /** With {@code amendments}: a rare damaged branch, and an amendment in 2 of 5 returns, after the refund or the decline. */
  private static Path writeReturns(Path dir, boolean amendments) throws Exception {
    Random random = new Random(11);
    long t0 = 1_796_000_000_000L;
    long[] offsets = new long[5];
    try (RecordingWriter out = RecordingWriter.open(dir)) {
      for (int i = 0; i < 300; i++) {
        String id = "RET-" + (50_000 + i);
        String trace = String.format("%032x", 0xabc000L + i);
        boolean sampled = random.nextInt(10) < 6;
        boolean good = amendments ? i % 25 != 0 : i % 4 != 0;
        long t = t0 + i * 300L;
        out.accept(record("returns.requested", offsets, 0, id, trace, sampled, t,
            "{\"returnId\":\"" + id + "\",\"items\":" + (1 + i % 3) + "}"));
        out.accept(record("returns.inspected", offsets, 1, id, trace, sampled, t + 40,
            "{\"returnId\":\"" + id + "\",\"condition\":\"" + (good ? "GOOD" : "DAMAGED") + "\"}"));
        if (good) {
          if (sampled) {
            out.accept(Telemetry.of(Span.builder().traceId(trace).spanId(String.format("%016x", 0x5000L + i))
                .name("POST").kind(SpanKind.CLIENT).service("refund-service")
                .startEpochNanos((t + 80) * 1_000_000L).endEpochNanos((t + 95) * 1_000_000L)
                .attributes(Map.of("http.request.method", "POST", "url.full", "https://bank.example/v2/refunds",
                    "http.request.body", "{\"reference\":\"" + id + "\",\"amount\":" + (10 + i) + "}"))
                .build()));
          }
          out.accept(record("returns.refunded", offsets, 2, id, trace, sampled, t + 120,
              "{\"returnId\":\"" + id + "\",\"status\":\"REFUNDED\"}"));
        } else {
          out.accept(record("returns.declined", offsets, 3, id, trace, sampled, t + 70,
              "{\"returnId\":\"" + id + "\",\"reason\":\"DAMAGED\"}"));
        }
        if (amendments && (good ? i % 5 < 2 : i % 100 == 0 || i == 75)) {
          out.accept(record("returns.amended", offsets, 4, id, trace, sampled, t + 150,
              "{\"returnId\":\"" + id + "\",\"note\":\"address changed\"}"));
        }
      }
    }
    return dir;
  }

  private static Telemetry record(String topic, long[] offsets, int slot, String id, String trace, boolean sampled,
      long ms, String json) {
    String traceparent = "00-" + trace + "-" + String.format("%016x", 0x1000L + offsets[slot] * 3 + slot)
        + (sampled ? "-01" : "-00");
    return Telemetry.of(new KafkaRecord(topic, 0, offsets[slot]++, ms, id,
        List.of(RecordHeader.ofString("traceparent", traceparent)), json.getBytes(StandardCharsets.UTF_8)));
  }
}
