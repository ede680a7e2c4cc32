package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import io.flowtrace.verifier.spec.StageSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lab orders as a trial drafted them: billing (a payer call, then its record) and labeling each
 * consume the order, and collection waits for both; a critical result pages the on-call doctor
 * before the report every result gets. The draft hung labeling after billing's payer call (it
 * always came later in a quiet recording, and a lagging billing consumer then failed 40 clean
 * orders), drafted the page terminal (a 30-second amendment window failed every critical order
 * decided before its report), and timed the join from whichever side came first.
 */
class InferBranchEndsTest {

  @TempDir static Path work;
  private static Path recording;
  private static String spec;
  private static FlowSpec flow;

  @BeforeAll
  static void draft() throws Exception {
    recording = Files.createDirectories(work.resolve("orders"));
    Random random = new Random(5);
    try (RecordingWriter writer = RecordingWriter.open(recording)) {
      TracedTraffic out = new TracedTraffic(writer);
      long offset = 0;
      for (int i = 0; i < 200; i++) {
        String trace = String.format("%032x", 0xC000L + i);
        String id = "LO-" + (10_000 + i);
        long t = 1_798_000_000_000L + i * 30_000L;
        out.span(true, trace, "a" + i, "", "POST /orders", SpanKind.SERVER, "gateway", t, t + 20,
            Map.of("http.route", "/orders", "http.request.body", "{\"test\":\"CBC\"}"));
        out.record(true, trace, "b" + i, "a" + i, "gateway", "orders.created", offset++, t + 5,
            "{\"orderId\":\"" + id + "\",\"test\":\"CBC\",\"patientId\":\"P-" + i + "\"}");
        // billing: its consumer calls the payer, then says so
        out.span(true, trace, "c" + i, "b" + i, "orders.created process", SpanKind.CONSUMER, "billing", t + 40, t + 160,
            TracedTraffic.consumed("orders.created"));
        out.span(true, trace, "d" + i, "c" + i, "POST", SpanKind.CLIENT, "billing", t + 50, t + 150,
            Map.of("url.full", "https://payer.example/v2/preauthorizations", "http.response.body",
                "{\"ok\":true,\"patientId\":\"P-" + i + "\"}"));
        long billed = t + 200 + random.nextInt(600);
        out.record(true, trace, "e" + i, "c" + i, "billing", "billing.preauthorized", offset++, billed,
            "{\"orderId\":\"" + id + "\",\"authorized\":true}");
        // labeling consumes the order too, later than the payer call but before or after billing's record
        long labeled = t + 400 + random.nextInt(600);
        out.span(true, trace, "f" + i, "b" + i, "orders.created process", SpanKind.CONSUMER, "labeling", labeled - 20,
            labeled + 5, TracedTraffic.consumed("orders.created"));
        out.record(true, trace, "g" + i, "f" + i, "labeling", "specimens.labeled", offset++, labeled,
            "{\"orderId\":\"" + id + "\",\"specimenId\":\"SP-" + i + "\"}");
        // collection takes both records and schedules once it has the second
        long joined = Math.max(billed, labeled) + 50;
        out.span(true, trace, "i" + i, "e" + i, "billing.preauthorized process", SpanKind.CONSUMER, "collection",
            billed + 10, billed + 15, TracedTraffic.consumed("billing.preauthorized"));
        out.span(true, trace, "h" + i, "g" + i, "specimens.labeled process", SpanKind.CONSUMER, "collection",
            labeled + 10, labeled + 15, TracedTraffic.consumed("specimens.labeled"));
        out.record(true, trace, "j" + i, "h" + i, "collection", "collection.scheduled", offset++, joined,
            "{\"orderId\":\"" + id + "\",\"specimenId\":\"SP-" + i + "\"}");
        boolean critical = i % 7 == 3;
        long verified = joined + 1_000;
        out.record(true, trace, "k" + i, "j" + i, "collection", "results.verified", offset++, verified,
            "{\"orderId\":\"" + id + "\",\"resultId\":\"RS-" + i + "\",\"critical\":" + critical + "}");
        long before = verified;
        String parent = "k" + i;
        if (critical) {
          out.span(true, trace, "m" + i, "k" + i, "results.verified process", SpanKind.CONSUMER, "pager", verified + 10,
              verified + 80, TracedTraffic.consumed("results.verified"));
          out.record(true, trace, "n" + i, "m" + i, "pager", "critical.paged", offset++, verified + 70,
              "{\"orderId\":\"" + id + "\"}");
          before = verified + 70;
          parent = "n" + i;
        }
        long report = before + 20_000 + random.nextInt(40_000);
        out.span(true, trace, "p" + i, parent, "process", SpanKind.CONSUMER, "reporting", report - 10, report + 5,
            TracedTraffic.consumed(critical ? "critical.paged" : "results.verified"));
        out.record(true, trace, "q" + i, "p" + i, "reporting", "reports.final", offset++, report,
            "{\"orderId\":\"" + id + "\",\"resultId\":\"RS-" + i + "\",\"critical\":" + critical
                + ",\"patientId\":\"P-" + i + "\"}");
      }
    }
    Path drafts = work.resolve("drafts");
    Inference.builder().name("lab").build().infer(recording).write(drafts);
    spec = Files.readString(drafts.resolve("lab/lab.flow.yaml"));
    flow = new FlowSpecLoader().load(drafts).get(0);
  }

  private static StageSpec stageOf(String topic) {
    return flow.stages().stream().filter(s -> s.events().stream().anyMatch(e -> topic.equals(e.topic())))
        .findFirst().orElseThrow(() -> new AssertionError("no stage of " + topic + "\n" + spec));
  }

  @Test
  void aConsumerOfTheOrderBesideBillingFollowsTheOrderNotBillingsPayerCall() {
    assertThat(stageOf("specimens.labeled").after()).as(spec).containsExactly(stageOf("orders.created").id());
    assertThat(stageOf("collection.scheduled").after()).as(spec)
        .containsExactlyInAnyOrder(stageOf("billing.preauthorized").id(), stageOf("specimens.labeled").id());
  }

  @Test
  void theEndOfABranchThatEveryInstanceWentOnFromIsNoEndOfTheFlow() {
    assertThat(stageOf("critical.paged").terminal()).as(spec).isFalse();
    assertThat(stageOf("reports.final").after()).as(spec).contains(stageOf("critical.paged").id());
  }

  @Test
  void aJoinIsNotTimedFromASideThatCameFirst() {
    assertThat(spec).doesNotContain("to: collection_scheduled, within");
  }

  @Test
  void theDraftPassesItsOwnTrafficUnderTheSidecarsAmendmentWindow() throws Exception {
    assertThat(Replays.run(List.of(flow), recording, Duration.ofSeconds(30)).finals()).hasSize(200)
        .allSatisfy(v -> assertThat(v.status()).as(v + "\n" + spec).isEqualTo(VerdictStatus.PASSED));
  }

  /** A trial's report took its patient from the payer call, a span 80 % of traces do not export. */
  @Test
  void aFieldCarriedFromAnEarlierEventIsTakenFromTheNearestRecordBeforeAnySpan() {
    assertThat(spec).contains("  - from: orders_created\n    to: reports_final\n    carry: [patientId]");
  }
}
