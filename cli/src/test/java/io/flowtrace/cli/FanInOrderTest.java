package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A trial's refund aggregates one inspection per item of a return. A refund issued before the last
 * inspection completed passed: the order check compared the refund with the first completion only.
 * {@code fanIn: true} on the refund's stage makes it follow every completion.
 */
class FanInOrderTest {

  private static final long T0 = 1_796_400_000_000L;

  @TempDir Path work;

  @Test
  void aFanInStageMustFollowEveryItemButARepeatedItemIsNotAnother() throws Exception {
    Path recording = Files.createDirectories(work.resolve("recording"));
    try (RecordingWriter file = RecordingWriter.open(recording)) {
      TracedTraffic out = new TracedTraffic(file);
      long[] offsets = new long[4];
      // RET-1 clean; RET-2 refunded before its third inspection; RET-3 clean, one inspection made again after the refund
      for (int r = 1; r <= 3; r++) {
        String trace = String.format("%032x", 0xf10000L + r);
        String ret = "RET-" + r;
        long t = T0 + r * 10_000;
        out.record(true, trace, ret + "-req", "", "returns-api", "returns.requested", offsets[0]++, t,
            "{\"returnId\":\"" + ret + "\"}");
        out.span(true, trace, ret + "-split", ret + "-req", "process returns.requested", SpanKind.CONSUMER,
            "inspection-service", t + 5, t + 15, TracedTraffic.consumed("returns.requested"));
        String[] items = {"a", "b", "c"};
        for (int i = 0; i < items.length; i++) {
          out.record(true, trace, ret + "-ask-" + items[i], ret + "-split", "inspection-service", "inspection.requested",
              offsets[1]++, t + 10 + i, item(ret, items[i]));
        }
        long refundAt = t + 1_000;
        for (int i = 0; i < items.length; i++) {
          long at = r == 2 && i == 2 ? refundAt + 600 : t + 100 + 100 * i;
          out.span(true, trace, ret + "-work-" + items[i], ret + "-ask-" + items[i], "process inspection.requested",
              SpanKind.CONSUMER, "warehouse", at - 10, at + 5, TracedTraffic.consumed("inspection.requested"));
          out.record(true, trace, ret + "-done-" + items[i], ret + "-work-" + items[i], "warehouse",
              "inspection.completed", offsets[2]++, at, item(ret, items[i]));
        }
        out.span(true, trace, ret + "-sum", ret + "-done-b", "process inspection.completed", SpanKind.CONSUMER,
            "refunds", refundAt - 20, refundAt + 5, TracedTraffic.consumed("inspection.completed"));
        out.record(true, trace, ret + "-refund", ret + "-sum", "refunds", "refund.issued", offsets[3]++, refundAt,
            "{\"returnId\":\"" + ret + "\"}");
        if (r == 3) {
          out.span(true, trace, ret + "-work-again", ret + "-ask-c", "process inspection.requested", SpanKind.CONSUMER,
              "warehouse", refundAt + 590, refundAt + 605, TracedTraffic.consumed("inspection.requested"));
          out.record(true, trace, ret + "-done-again", ret + "-work-again", "warehouse", "inspection.completed",
              offsets[2]++, refundAt + 600, item(ret, "c"));
        }
      }
    }

    Map<String, List<String>> fanIn = verdicts(spec(true), recording);
    Map<String, List<String>> first = verdicts(spec(false), recording);

    assertThat(fanIn.get("RET-1")).isEmpty();
    assertThat(fanIn.get("RET-3")).as("the third item inspected again is not a fourth item").isEmpty();
    assertThat(fanIn.get("RET-2")).singleElement().asString().startsWith("ORDER_VIOLATION at refunded: stage refunded"
        + " began (refund_issued, ").contains("before inspection_completed (", "of stage inspected, occurrence 3 of 3,"
        + " which it must follow (fanIn: every one)");
    assertThat(first).as("without fanIn, the first inspection is what the refund must follow")
        .containsOnly(Map.entry("RET-1", List.of()), Map.entry("RET-2", List.of()), Map.entry("RET-3", List.of()));
  }

  /**
   * The same trial's double refund read "inspection_completed was delivered 5 times" for five items'
   * completions; the one record consumed twice, which caused the second refund, went unnamed.
   */
  @Test
  void aDoubleEffectOfAFanInNamesTheRecordConsumedTwiceNotTheItems() throws Exception {
    Path recording = Files.createDirectories(work.resolve("double"));
    String trace = String.format("%032x", 0xf20001L);
    long t = T0;
    try (RecordingWriter file = RecordingWriter.open(recording)) {
      TracedTraffic out = new TracedTraffic(file);
      out.record(true, trace, "req", "", "returns-api", "returns.requested", 0, t, "{\"returnId\":\"RET-9\"}");
      out.span(true, trace, "split", "req", "process returns.requested", SpanKind.CONSUMER, "inspection-service",
          t + 5, t + 15, TracedTraffic.consumed("returns.requested"));
      String[] items = {"a", "b", "c"};
      for (int i = 0; i < items.length; i++) {
        out.record(true, trace, "ask-" + items[i], "split", "inspection-service", "inspection.requested", i,
            t + 10 + i, item("RET-9", items[i]));
        out.span(true, trace, "work-" + items[i], "ask-" + items[i], "process inspection.requested",
            SpanKind.CONSUMER, "warehouse", t + 90 + 100 * i, t + 105 + 100 * i,
            TracedTraffic.consumed("inspection.requested"));
        out.record(true, trace, "done-" + items[i], "work-" + items[i], "warehouse", "inspection.completed", i,
            t + 100 + 100 * i, item("RET-9", items[i]));
      }
      for (int k = 0; k < 2; k++) { // the last completion consumed twice: a rebalance redelivered it
        long at = t + 1_000 + 2_000 * k;
        out.span(true, trace, "sum-" + k, "done-c", "process inspection.completed", SpanKind.CONSUMER, "refunds",
            at - 20, at + 5, TracedTraffic.consumed("inspection.completed"));
        out.record(true, trace, "refund-" + k, "sum-" + k, "refunds", "refund.issued", k, at,
            "{\"returnId\":\"RET-9\"}");
      }
    }
    Path flows = spec(true);
    Files.writeString(flows.resolve("returns.flow.yaml"), Files.readString(flows.resolve("returns.flow.yaml"))
        + "idempotency:\n  - {trigger: inspection_completed, effects: [refund_issued]}\n");

    List<Violation> violations = Replays.finals(new FlowSpecLoader().load(flows), recording).get(0).violations();

    assertThat(violations).singleElement().satisfies(v -> {
      assertThat(v.message()).startsWith("inspection_completed happened 3 times, each saying something else;"
          + " inspection.completed[0]@2 was consumed 2 times by refunds; refund_issued happened 2 times");
      assertThat(v.stage()).as("a redelivery: the trigger's stage").isEqualTo("inspected");
    });
  }

  @Test
  void aFanInStageNeedsAStageToFollow() {
    assertThat(lintErrors("""
        flow: returns
        keys: [returnId]
        stages:
          - id: requested
            fanIn: true
            terminal: true
            events: [{id: return_requested, topic: returns.requested}]
        """)).singleElement().asString().contains("returns.flow.yaml:5:12: stage 'requested' is an entry stage (no 'after')"
        + " and 'fanIn'");
  }

  private List<String> lintErrors(String yaml) {
    try {
      Path flows = Files.createDirectories(work.resolve("lint"));
      Files.writeString(flows.resolve("returns.flow.yaml"), yaml);
      new FlowSpecLoader().load(flows);
      return List.of();
    } catch (io.flowtrace.verifier.spec.FlowSpecException e) {
      return List.of(e.getMessage());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private Path spec(boolean fanIn) throws Exception {
    Path flows = Files.createDirectories(work.resolve(fanIn ? "fan-in" : "first"));
    Files.writeString(flows.resolve("returns.flow.yaml"), String.join("\n",
        "flow: returns",
        "keys: [returnId]",
        "stages:",
        "  - id: requested",
        "    events: [{id: return_requested, topic: returns.requested}]",
        "  - id: inspecting",
        "    after: requested",
        "    events: [{id: inspection_requested, topic: inspection.requested}]",
        "  - id: inspected",
        "    after: inspecting",
        "    events: [{id: inspection_completed, topic: inspection.completed}]",
        "  - id: refunded",
        "    after: inspected",
        "    fanIn: " + fanIn,
        "    terminal: true",
        "    events: [{id: refund_issued, topic: refund.issued}]",
        ""));
    return flows;
  }

  private static Map<String, List<String>> verdicts(Path flows, Path recording) throws Exception {
    List<Verdict> verdicts = Replays.finals(new FlowSpecLoader().load(flows), recording);
    return verdicts.stream().collect(Collectors.toMap(v -> v.keys().get("returnId"),
        v -> v.violations().stream().map(x -> x.kind() + " at " + x.stage() + ": " + x.message()).toList()));
  }

  private static String item(String ret, String itemId) {
    return "{\"returnId\":\"" + ret + "\",\"itemId\":\"" + ret + "-I" + itemId + "\"}";
  }
}
