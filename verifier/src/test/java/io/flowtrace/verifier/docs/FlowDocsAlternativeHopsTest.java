package io.flowtrace.verifier.docs;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.assembly.FlowEngine;
import io.flowtrace.verifier.report.TimelineEntry;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictListener;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A claim's notice follows its decision when it is denied, and its payout when it is paid. A trial's
 * page measured the decision → notice arrow, drawn as the denial's, over every claim: p50 66.6 min
 * where denials took 32 s, because paid claims counted the hours of their payout too.
 */
class FlowDocsAlternativeHopsTest {

  @TempDir Path dir;

  @Test
  void aStageThatFollowsOneOfSeveralIsMeasuredFromTheOneItFollowed() throws Exception {
    Files.writeString(dir.resolve("c.flow.yaml"), String.join("\n",
        "flow: c",
        "keys: [id]",
        "stages:",
        "  - id: decided",
        "    events: [{id: decided_msg, topic: claims.decided}]",
        "  - id: paid",
        "    after: decided",
        "    events: [{id: paid_msg, topic: payouts.settled}]",
        "  - id: noticed",
        "    after: [decided, paid]",
        "    terminal: true",
        "    events: [{id: notice_msg, topic: notices}]",
        ""));
    FlowSpec spec = new FlowSpecLoader().load(dir).get(0);
    FlowDocs docs = new FlowDocs(List.of(spec));
    for (int i = 0; i < 6; i++) {
      boolean denied = i % 3 == 0;
      List<TimelineEntry> timeline = new ArrayList<>();
      timeline.add(record("decided", "decided_msg", "claims.decided", i, 0));
      if (!denied) {
        timeline.add(record("paid", "paid_msg", "payouts.settled", i, 3_600_000));
      }
      timeline.add(record("noticed", "notice_msg", "notices", i, denied ? 30_000 : 3_660_000));
      docs.finalized(new Verdict("c", Map.of("id", "c-" + i), VerdictStatus.PASSED, List.of(), List.of(), 0, 1, 0, "",
          timeline, List.of(), List.of()));
    }

    String page = docs.flow(spec);
    assertThat(page).contains("| `decided_msg` → `notice_msg` | — | 30.000 s | 30.000 s | 30.000 s | 30.000 s | 2 |")
        .contains("| `paid_msg` → `notice_msg` | — | 60.000 s | 60.000 s | 60.000 s | 60.000 s | 4 |");
  }

  /**
   * A trial's refund waits for every item's inspection: measured from the first, its hop read p50
   * 1.17 s (the other items' inspections), beside a budget of 2 s measured from the last.
   */
  @Test
  void aFanInStageIsMeasuredFromTheLastItemBeforeIt() throws Exception {
    Path flows = Files.createDirectories(dir.resolve("returns"));
    Files.writeString(flows.resolve("r.flow.yaml"), String.join("\n",
        "flow: r",
        "keys: [id]",
        "stages:",
        "  - id: inspected",
        "    events: [{id: inspection_msg, topic: inspections}]",
        "  - id: refunded",
        "    after: inspected",
        "    fanIn: true",
        "    terminal: true",
        "    events: [{id: refund_msg, topic: refunds}]",
        ""));
    FlowSpec spec = new FlowSpecLoader().load(flows).get(0);
    FlowDocs docs = new FlowDocs(List.of(spec));
    for (int i = 0; i < 3; i++) {
      List<TimelineEntry> timeline = new ArrayList<>();
      timeline.add(record("inspected", "inspection_msg", "inspections", i, 0));
      timeline.add(record("inspected", "inspection_msg", "inspections", i, 1_000));
      timeline.add(record("refunded", "refund_msg", "refunds", i, 1_040));
      docs.finalized(new Verdict("r", Map.of("id", "r-" + i), VerdictStatus.PASSED, List.of(), List.of(), 0, 1, 0, "",
          timeline, List.of(), List.of()));
    }

    assertThat(docs.flow(spec)).contains("but the last one before a `fanIn` stage")
        .contains("| **refunded** (terminal) (after every item) | `refund_msg` |")
        .contains("-->|\"after every item · p50 40.0 ms\"| e_refund_msg")
        .contains("| `inspection_msg` → `refund_msg` | — | 40.0 ms | 40.0 ms | 40.0 ms | 40.0 ms | 3 |");
  }

  /**
   * A trial's booking API published its record 3 ms before the response that ends the call, on its
   * own clock; the page left every such hop out with "their hosts' clocks differ".
   */
  @Test
  void aRecordPublishedWhileTheCallItAnswersRanIsNotBlamedOnClocks() throws Exception {
    Path flows = Files.createDirectories(dir.resolve("booking"));
    Files.writeString(flows.resolve("b.flow.yaml"), String.join("\n",
        "flow: b",
        "keys: [id]",
        "stages:",
        "  - id: requested",
        "    events:",
        "      - {id: client_response, span: {service: api, kind: SERVER}, payload: {attribute: http.response.body}}",
        "  - id: recorded",
        "    after: requested",
        "    terminal: true",
        "    events: [{id: booked_msg, topic: bookings}]",
        ""));
    FlowSpec spec = new FlowSpecLoader().load(flows).get(0);
    FlowDocs docs = new FlowDocs(List.of(spec));
    for (int i = 0; i < 3; i++) {
      TimelineEntry call = new TimelineEntry("requested", "client_response", "api", 0, "t" + i,
          new TimelineEntry.Detail("api", "SERVER", "POST /bookings", "s" + i, null, 20_000_000L, null, null, null,
              0, List.of(), null, List.of(), true, false, null, null));
      TimelineEntry booked = record("recorded", "booked_msg", "bookings", i, i == 2 ? 25 : 17);
      docs.finalized(new Verdict("b", Map.of("id", "b-" + i), VerdictStatus.PASSED, List.of(), List.of(), 0, 1, 0, "",
          List.of(call, withService(booked, "api")), List.of(), List.of()));
    }

    assertThat(docs.flow(spec)).contains("| `client_response` → `booked_msg` | — | 5.0 ms |")
        .contains("while the earlier one's span ran, both on one service's clock (a record published before the"
            + " response that ends its call): client_response → booked_msg 2 of 3.")
        .doesNotContain("clocks differ");
  }

  private static TimelineEntry withService(TimelineEntry t, String service) {
    TimelineEntry.Detail d = t.detail();
    return new TimelineEntry(t.stage(), t.event(), t.where(), t.offsetNanos(), t.traceId(),
        new TimelineEntry.Detail(service, d.spanKind(), d.spanName(), d.spanId(), d.parentSpanId(), d.durationNanos(),
            d.topic(), d.partition(), d.offset(), d.recordOffsetNanos(), d.consumers(), d.payload(), d.schemaProblems(),
            d.sampled(), d.spansLost(), d.url(), d.retried()));
  }

  /**
   * Two hosts 80 ms apart: a rejection's notice reads 50 ms before the rejection in some instances.
   * A trial's page gave the hop p50 0.0 ms, counting each of those as no time at all.
   */
  @Test
  void aHopWhoseLaterEventReadsBeforeTheEarlierIsCountedApartNotAsNoTime() throws Exception {
    FlowSpec spec = rejectionFlow();
    FlowDocs docs = new FlowDocs(List.of(spec));
    for (int i = 0; i < 4; i++) {
      List<TimelineEntry> timeline = new ArrayList<>();
      timeline.add(record("rejected", "rejected_msg", "transfers.rejected", i, 1_000));
      timeline.add(withService(record("noticed", "notice_msg", "notices", i, i < 3 ? 950 : 1_040), "notifier"));
      docs.finalized(new Verdict("t", Map.of("id", "t-" + i), VerdictStatus.PASSED, List.of(), List.of(), 0, 1, 0, "",
          timeline, List.of(), List.of()));
    }

    String page = docs.flow(spec);
    assertThat(page).contains("| `rejected_msg` → `notice_msg` | — | 40.0 ms | 40.0 ms | 40.0 ms | 40.0 ms | 1 |")
        .contains("the order is known, not the time between): rejected_msg → notice_msg 3 of 4.")
        .doesNotContain("| 0.0 ms", "p50 0.0 ms");
  }

  /**
   * The same hosts with every trace sampled out: records alone, whose producers' clocks nothing
   * relates. The engine draws a notice that reads 50 ms early at its rejection's time (the declared
   * order, within the flow's clock skew), with no note on the instance; a trial's page counted each
   * of those as 0 ms and gave the hop p50 0.0 ms.
   */
  @Test
  void aHopTheEngineMovedIntoItsDeclaredOrderIsCountedApartNotAsNoTime() throws Exception {
    FlowSpec spec = rejectionFlow("budgets:", "  - {from: rejected_msg, to: notice_msg, within: 1s}");
    FlowDocs docs = new FlowDocs(List.of(spec));
    FlowEngine engine = FlowEngine.builder(List.of(spec)).listener(new VerdictListener() {
      @Override
      public void finalized(Verdict v) {
        docs.finalized(v);
      }
    }).build();
    long t0 = 1_796_000_000_000L;
    for (int i = 0; i < 4; i++) {
      String trace = String.format("%032x", 0x7a000L + i);
      long at = t0 + i * 1_000L;
      engine.accept(Telemetry.of(notSampled("transfers.rejected", i, at, trace, "t-" + i)));
      engine.accept(Telemetry.of(notSampled("notices", i, at + (i < 3 ? -50 : 40), trace, "t-" + i)));
    }
    engine.advanceTo((t0 + 60_000L) * 1_000_000L);
    engine.finish();

    String page = docs.flow(spec);
    assertThat(page).contains("| `rejected_msg` → `notice_msg` | 1.000 s | 40.0 ms | 40.0 ms | 40.0 ms | 40.0 ms | 1 |")
        .doesNotContain("| 0.0 ms", "p50 0.0 ms");
    assertThat(page.split("the order is known, not the time between\\): rejected_msg → notice_msg 3 of 4\\.", -1))
        .as("the budget's table and the hops' each say so\n%s", page).hasSize(3);
  }

  /** A rejection, then its notice, and {@code more} lines of spec. */
  private FlowSpec rejectionFlow(String... more) throws Exception {
    List<String> lines = new ArrayList<>(List.of(
        "flow: t",
        "keys: [id]",
        "stages:",
        "  - id: rejected",
        "    events: [{id: rejected_msg, topic: transfers.rejected}]",
        "  - id: noticed",
        "    after: rejected",
        "    terminal: true",
        "    events: [{id: notice_msg, topic: notices}]"));
    lines.addAll(List.of(more));
    lines.add("");
    Files.writeString(dir.resolve("t.flow.yaml"), String.join("\n", lines));
    return new FlowSpecLoader().load(dir).get(0);
  }

  private static KafkaRecord notSampled(String topic, int offset, long ms, String trace, String id) {
    String traceparent = "00-" + trace + "-" + String.format("%016x", 0x100L + offset * 8 + topic.length()) + "-00";
    return new KafkaRecord(topic, 0, offset, ms, id, List.of(RecordHeader.ofString("traceparent", traceparent)),
        ("{\"id\":\"" + id + "\"}").getBytes(StandardCharsets.UTF_8));
  }

  /** A trial's stage table said a cancellation came from the charge written above it; it follows the last dunning retry. */
  @Test
  void theInputOfAStageWhoseProducerWasNotSeenIsWhatItFollows() throws Exception {
    Files.writeString(dir.resolve("r.flow.yaml"), String.join("\n",
        "flow: r",
        "keys: [id]",
        "stages:",
        "  - id: due",
        "    events: [{id: due_msg, topic: renewals.due}]",
        "  - id: retried",
        "    after: due",
        "    optional: true",
        "    events: [{id: retry_msg, topic: dunning.retry-due}]",
        "  - id: charged",
        "    after: due",
        "    events: [{id: charged_msg, topic: billing.charged}]",
        "  - id: cancelled",
        "    after: retried",
        "    terminal: true",
        "    events: [{id: cancelled_msg, topic: subscriptions.cancelled}]",
        ""));
    FlowSpec spec = new FlowSpecLoader().load(dir).get(0);

    String page = new FlowDocs(List.of(spec)).flow(spec);
    String row = page.lines().filter(l -> l.contains("`cancelled_msg`") && l.startsWith("| **cancelled**")).findFirst()
        .orElseThrow(() -> new AssertionError(page));
    assertThat(row).contains("| `retry_msg` |").doesNotContain("charged_msg");
  }

  private static TimelineEntry record(String stage, String event, String topic, int i, long ms) {
    return new TimelineEntry(stage, event, topic + "[0]@" + i, ms * 1_000_000L, "t" + i,
        new TimelineEntry.Detail("svc", "PRODUCER", "send " + topic, "s" + ms, null, 1_000_000L, topic, 0, (long) i,
            ms * 1_000_000L, List.of(), null, List.of(), true, false, null, null));
  }
}
