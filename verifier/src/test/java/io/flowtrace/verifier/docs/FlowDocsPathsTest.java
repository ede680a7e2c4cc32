package io.flowtrace.verifier.docs;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.verifier.report.TimelineEntry;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The paths a flow's page lists count, for each conditional stage, the instances that reached the
 * stage before it and then took it: an upsell reached by 3 of 10 bookings was said to lead to a
 * confirmation "taken by 8 of the 3" — the confirmations of every booking.
 */
class FlowDocsPathsTest {

  @TempDir Path dir;

  @Test
  void aConditionalStageIsCountedOverTheInstancesThatReachedEachStageBeforeIt() throws Exception {
    Files.writeString(dir.resolve("b.flow.yaml"), String.join("\n",
        "flow: b",
        "keys: [id]",
        "stages:",
        "  - id: held",
        "    events: [{id: held_msg, topic: t.held}]",
        "  - id: upsold",
        "    after: held",
        "    when: held_msg.tier == \"gold\"",
        "    events: [{id: upsold_msg, topic: t.upsold}]",
        "  - id: confirmed",
        "    after: [held, upsold]",
        "    when: held_msg.ok == true",
        "    terminal: true",
        "    events: [{id: confirmed_msg, topic: t.confirmed}]",
        ""));
    FlowSpec spec = new FlowSpecLoader().load(dir).get(0);
    FlowDocs docs = new FlowDocs(List.of(spec));
    for (int i = 0; i < 10; i++) {
      List<TimelineEntry> timeline = new ArrayList<>();
      timeline.add(new TimelineEntry("held", "held_msg", "t.held[0]@" + i, 0, null));
      if (i < 3) {
        timeline.add(new TimelineEntry("upsold", "upsold_msg", "t.upsold[0]@" + i, 1_000_000, null));
      }
      if (i < 8) {
        timeline.add(new TimelineEntry("confirmed", "confirmed_msg", "t.confirmed[0]@" + i, 2_000_000, null));
      }
      docs.finalized(new Verdict("b", Map.of("id", "b-" + i), VerdictStatus.PASSED, List.of(), List.of(), 0, 1, 0,
          "", timeline, List.of(), List.of()));
    }

    assertThat(docs.flow(spec))
        .contains("- **confirmed** when `held_msg.ok == true` — taken by 8 of the 10 observed instances that reached held")
        .contains("- **confirmed** when `held_msg.ok == true` — taken by 3 of the 3 observed instances that reached upsold");
  }

  /** An optional stage is not one the data decides: a car rental's review was headed "the data decides whether". */
  @Test
  void anOptionalStageIsHeadedAsOneThatMayFollowAndADataDecidedOneBesideItAsDecided() throws Exception {
    Files.writeString(dir.resolve("r.flow.yaml"), String.join("\n",
        "flow: r",
        "keys: [id]",
        "stages:",
        "  - id: booked",
        "    events: [{id: booked_msg, topic: t.booked}]",
        "  - id: reviewed",
        "    after: booked",
        "    optional: true",
        "    events: [{id: reviewed_msg, topic: t.reviewed}]",
        "  - id: returned",
        "    after: [booked, reviewed]",
        "    terminal: true",
        "    events: [{id: returned_msg, topic: t.returned}]",
        "  - id: damaged",
        "    after: returned",
        "    optional: true",
        "    events: [{id: damaged_msg, topic: t.damaged}]",
        "  - id: charged",
        "    after: returned",
        "    when: returned_msg.late == true",
        "    events: [{id: charged_msg, topic: t.charged}]",
        "  - id: closed",
        "    after: [charged, damaged]",
        "    terminal: true",
        "    events: [{id: closed_msg, topic: t.closed}]",
        ""));
    FlowSpec spec = new FlowSpecLoader().load(dir).stream().filter(f -> f.name().equals("r")).findFirst().orElseThrow();

    assertThat(new FlowDocs(List.of(spec)).flow(spec))
        .contains("After **booked** this may follow, or not:\n\n- **reviewed** (optional: nothing in the data decides it)")
        .contains("After **returned** these follow where the data's condition holds, and the optional ones may:")
        .doesNotContain("the data decides whether this follows");
  }

  /**
   * A bank calls back twice, each call in a trace of its own and followed by a posting: the hop to
   * the posting was measured from the first call, minutes before (a trial read p50 93.7 s for a
   * 50 ms hop).
   */
  @Test
  void aHopAfterARepeatedCallbackIsMeasuredFromTheOccurrenceInItsOwnTrace() throws Exception {
    Files.writeString(dir.resolve("w.flow.yaml"), String.join("\n",
        "flow: w",
        "keys: [id]",
        "stages:",
        "  - id: status",
        "    events: [{id: status_msg, topic: t.status}]",
        "  - id: settled",
        "    after: status",
        "    terminal: true",
        "    events: [{id: settled_msg, topic: t.settled}]",
        ""));
    FlowSpec spec = new FlowSpecLoader().load(dir).stream().filter(f -> f.name().equals("w")).findFirst().orElseThrow();
    FlowDocs docs = new FlowDocs(List.of(spec));
    for (int i = 0; i < 4; i++) {
      docs.finalized(new Verdict("w", Map.of("id", "w-" + i), VerdictStatus.PASSED, List.of(), List.of(), 0, 1, 0, "",
          List.of(new TimelineEntry("status", "status_msg", "t.status[0]@" + 2 * i, 0, "a1"),
              new TimelineEntry("status", "status_msg", "t.status[0]@" + (2 * i + 1), 90_000_000_000L, "a2"),
              new TimelineEntry("settled", "settled_msg", "t.settled[0]@" + i, 90_050_000_000L, "a2")),
          List.of(), List.of()));
    }

    assertThat(docs.flow(spec)).contains("| `status_msg` → `settled_msg` | — | 50.0 ms | 50.0 ms | 50.0 ms | 50.0 ms | 4 |");
  }

  /**
   * An upload repeated in traces of its own whose first trace was not sampled: its first observed
   * span is the second upload, and its first record the first upload's. The hop was measured
   * between those two, read before, and blamed on clocks (a loan trial: 23 of 61 left out).
   */
  @Test
  void aHopFromALaterOccurrenceFirstObservedIsMeasuredToTheOccurrenceInItsTrace() throws Exception {
    Files.writeString(dir.resolve("u.flow.yaml"), String.join("\n",
        "flow: u",
        "keys: [id]",
        "stages:",
        "  - id: uploaded",
        "    terminal: true",
        "    events: [{id: upload, topic: t.upload}, {id: uploaded_msg, topic: t.uploaded}]",
        ""));
    FlowSpec spec = new FlowSpecLoader().load(dir).stream().filter(f -> f.name().equals("u")).findFirst().orElseThrow();
    FlowDocs docs = new FlowDocs(List.of(spec));
    for (int i = 0; i < 4; i++) {
      docs.finalized(new Verdict("u", Map.of("id", "u-" + i), VerdictStatus.PASSED, List.of(), List.of(), 0, 1, 0, "",
          List.of(new TimelineEntry("uploaded", "uploaded_msg", "t.uploaded[0]@" + 2 * i, 1_020_000_000L, "a1"),
              new TimelineEntry("uploaded", "upload", "t.upload[0]@" + i, 10_000_000_000L, "a2"),
              new TimelineEntry("uploaded", "uploaded_msg", "t.uploaded[0]@" + (2 * i + 1), 10_030_000_000L, "a2")),
          List.of(), List.of()));
    }

    assertThat(docs.flow(spec)).contains("| `upload` → `uploaded_msg` | — | 30.0 ms | 30.0 ms | 30.0 ms | 30.0 ms | 4 |")
        .doesNotContain("clocks differ");
  }

  /**
   * Documents asked for and uploaded again, up to three times: the data-flow diagram drew the loop
   * as a straight chain (a loan trial). A back edge spans the stages that repeat together; a lone
   * repeated event is said in words.
   */
  @Test
  void stepsRepeatedWithinAnInstanceAreDrawnAsALoopBackToWhereTheyBegin() throws Exception {
    Files.writeString(dir.resolve("l.flow.yaml"), String.join("\n",
        "flow: l",
        "keys: [id]",
        "stages:",
        "  - id: asked",
        "    events: [{id: asked_msg, topic: t.asked}]",
        "  - id: uploaded",
        "    after: asked",
        "    events: [{id: upload, topic: t.upload}, {id: uploaded_msg, topic: t.uploaded}]",
        "  - id: decided",
        "    after: uploaded",
        "    terminal: true",
        "    events: [{id: decided_msg, topic: t.decided}]",
        ""));
    FlowSpec spec = new FlowSpecLoader().load(dir).stream().filter(f -> f.name().equals("l")).findFirst().orElseThrow();
    FlowDocs docs = new FlowDocs(List.of(spec));
    for (int i = 0; i < 3; i++) {
      List<TimelineEntry> timeline = new java.util.ArrayList<>();
      int rounds = i == 0 ? 1 : i + 1;
      for (int r = 0; r < rounds; r++) {
        timeline.add(new TimelineEntry("asked", "asked_msg", "t.asked[0]@" + (10 * i + r), r * 1_000_000_000L, "a"));
        timeline.add(new TimelineEntry("uploaded", "upload", "t.upload[0]@" + (10 * i + r), r * 1_000_000_000L + 1, "a"));
        timeline.add(new TimelineEntry("uploaded", "uploaded_msg", "t.uploaded[0]@" + (10 * i + r),
            r * 1_000_000_000L + 2, "a"));
      }
      timeline.add(new TimelineEntry("decided", "decided_msg", "t.decided[0]@" + i, 9_000_000_000L, "a"));
      timeline.add(new TimelineEntry("decided", "decided_msg", "t.decided[0]@" + (i + 100), 9_500_000_000L, "a"));
      docs.finalized(new Verdict("l", Map.of("id", "l-" + i), VerdictStatus.PASSED, List.of(), List.of(), 0, 1, 0, "",
          timeline, List.of(), List.of()));
    }

    assertThat(docs.flow(spec))
        .contains("  e_uploaded_msg -->|\"again: up to 3× · in 2 of 3\"| e_asked_msg\n")
        .doesNotContain("e_uploaded_msg -->|\"again: up to 3× · in 2 of 3\"| e_upload\n")
        .contains("**decided** (`decided_msg`): again: up to 2× · in 3 of the 3 instances that reached it.");
  }

  /** A topic no recorded service produced or consumed floated, joined to nothing, at the top of the dependency map. */
  @Test
  void aTopicTheRecordingShowsNoOneProducingOrConsumingIsNamedBelowTheMapNotDrawnAlone() throws Exception {
    Files.writeString(dir.resolve("c.flow.yaml"), String.join("\n",
        "flow: c",
        "keys: [id]",
        "stages:",
        "  - id: paid",
        "    terminal: true",
        "    events: [{id: paid_msg, topic: t.paid}]",
        "  - id: corrected",
        "    after: paid",
        "    optional: true",
        "    events: [{id: corrected_msg, topic: t.corrected}]",
        ""));
    FlowSpec spec = new FlowSpecLoader().load(dir).stream().filter(f -> f.name().equals("c")).findFirst().orElseThrow();
    FlowDocs docs = new FlowDocs(List.of(spec));
    String before = docs.flow(spec);
    TimelineEntry.Detail paid = new TimelineEntry.Detail("pay-service", "PRODUCER", "send t.paid", "s1", null, 1_000_000L,
        "t.paid", 0, 1L, 0, List.of(), null, List.of(), true, false, null, null);
    docs.finalized(new Verdict("c", Map.of("id", "c-1"), VerdictStatus.PASSED, List.of(), List.of(), 0, 1, 0, "",
        List.of(new TimelineEntry("paid", "paid_msg", "t.paid[0]@1", 0, "a", paid)), List.of(), List.of()));

    assertThat(before).as("without a recording the spec's topics are drawn").contains("t_t_corrected[(\"t.corrected\")]");
    assertThat(docs.flow(spec)).contains("s_pay_service -->|produces| t_t_paid")
        .doesNotContain("t_t_corrected[(")
        .contains("Not drawn, as the recording shows no service producing or consuming them: `t.corrected` (corrected_msg).");
  }

  /**
   * A hotel trial's lineage said a dead-lettered booking's {@code reason} was carried to the
   * payment's decline: the two are never in one booking.
   */
  @Test
  void aFieldOfTheSameNameOnAPathApartIsNotCarriedToIt() throws Exception {
    Files.writeString(dir.resolve("b.flow.yaml"), String.join("\n",
        "flow: b",
        "keys: [id]",
        "stages:",
        "  - id: requested",
        "    events: [{id: requested_msg, topic: t.requested}]",
        "  - id: dead",
        "    after: requested",
        "    when: requested_msg.kind == 'odd'",
        "    terminal: true",
        "    events: [{id: dlq_msg, topic: t.dlq}]",
        "  - id: declined",
        "    after: requested",
        "    when: requested_msg.kind == 'even'",
        "    events: [{id: declined_msg, topic: t.declined}]",
        "  - id: failed",
        "    after: declined",
        "    terminal: true",
        "    events: [{id: failed_msg, topic: t.failed}]",
        ""));
    FlowSpec spec = new FlowSpecLoader().load(dir).stream().filter(f -> f.name().equals("b")).findFirst().orElseThrow();
    FlowDocs docs = new FlowDocs(List.of(spec));
    tools.jackson.databind.ObjectMapper json = tools.jackson.databind.json.JsonMapper.shared();
    for (int i = 0; i < 4; i++) {
      boolean odd = i % 2 == 1;
      List<TimelineEntry> timeline = new java.util.ArrayList<>();
      timeline.add(entry(json, "requested", "requested_msg", "t.requested", i, 0, "{\"kind\":\"" + (odd ? "odd" : "even") + "\"}"));
      if (odd) {
        timeline.add(entry(json, "dead", "dlq_msg", "t.dlq", i, 10, "{\"reason\":\"unknown kind\"}"));
      } else {
        timeline.add(entry(json, "declined", "declined_msg", "t.declined", i, 10, "{\"reason\":\"card declined\"}"));
        timeline.add(entry(json, "failed", "failed_msg", "t.failed", i, 20, "{\"reason\":\"card declined\"}"));
      }
      docs.finalized(new Verdict("b", Map.of("id", "b-" + i), VerdictStatus.PASSED, List.of(), List.of(), 0, 1, 0, "",
          timeline, List.of(), List.of()));
    }

    assertThat(docs.flow(spec)).contains("| `reason` | `dlq_msg`, and on another path `declined_msg` | `failed_msg` |");
  }

  private static TimelineEntry entry(tools.jackson.databind.ObjectMapper json, String stage, String event, String topic,
      int offset, long ms, String payload) {
    return new TimelineEntry(stage, event, topic + "[0]@" + offset, ms * 1_000_000L, "t" + offset,
        new TimelineEntry.Detail("svc", "PRODUCER", "send " + topic, "s" + offset, null, 1_000_000L, topic, 0,
            (long) offset, ms * 1_000_000L, List.of(), json.readTree(payload), List.of(), true, false, null, null));
  }

  /** A stage after two that are both due (a join) needs both inputs: the stage table said "or". */
  @Test
  void aJoinsInputsAreAllNeededAndAlternativesAreEither() throws Exception {
    Files.writeString(dir.resolve("j.flow.yaml"), String.join("\n",
        "flow: j",
        "keys: [id]",
        "stages:",
        "  - id: filed",
        "    events: [{id: filed_msg, topic: t.filed}]",
        "  - id: zoned",
        "    after: filed",
        "    events: [{id: zoned_msg, topic: t.zoned}]",
        "  - id: reviewed",
        "    after: filed",
        "    events: [{id: reviewed_msg, topic: t.reviewed}]",
        "  - id: decided",
        "    after: [zoned, reviewed]",
        "    terminal: true",
        "    events: [{id: decided_msg, topic: t.decided}]",
        ""));
    FlowSpec spec = new FlowSpecLoader().load(dir).stream().filter(f -> f.name().equals("j")).findFirst().orElseThrow();
    FlowDocs docs = new FlowDocs(List.of(spec));
    docs.finalized(new Verdict("j", Map.of("id", "j-1"), VerdictStatus.PASSED, List.of(), List.of(), 0, 1, 0, "",
        List.of(record("filed", "filed_msg", "t.filed", "intake", 0, "zoning", "review"),
            record("zoned", "zoned_msg", "t.zoned", "zoning", 1, "board"),
            record("reviewed", "reviewed_msg", "t.reviewed", "review", 2, "board"),
            record("decided", "decided_msg", "t.decided", "board", 3)), List.of(), List.of()));

    assertThat(docs.flow(spec)).contains("topic t.zoned and topic t.reviewed").doesNotContain("t.zoned or");
  }

  private static TimelineEntry record(String stage, String event, String topic, String producer, int ms,
      String... consumers) {
    List<TimelineEntry.Consumer> took = new ArrayList<>();
    for (String c : consumers) {
      took.add(new TimelineEntry.Consumer(c, "t", c + "-span", (ms + 1) * 1_000_000L));
    }
    return new TimelineEntry(stage, event, topic + "[0]@" + ms, ms * 1_000_000L, "t",
        new TimelineEntry.Detail(producer, "PRODUCER", "send " + topic, producer + "-span", null, 1_000_000L, topic, 0,
            (long) ms, ms * 1_000_000L, took, null, List.of(), true, false, null, null));
  }
}
