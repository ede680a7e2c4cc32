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
 * A trial's returns fan out one inspection request per item, all in the return's trace, and each
 * inspection's completion carries its item. Each completion was compared with the last request in
 * the trace, so every return of more than one item failed.
 */
class FanOutEnrichmentTest {

  private static final long T0 = 1_796_300_000_000L;

  @TempDir Path work;

  @Test
  void eachItemOfAFanOutIsComparedWithTheRequestItCameFrom() throws Exception {
    Path flows = Files.createDirectories(work.resolve("flows"));
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
        "    terminal: true",
        "    events: [{id: inspection_completed, topic: inspection.completed}]",
        "enrichment:",
        "  - {from: inspection_requested, to: inspection_completed, carry: [itemId]}",
        ""));
    Path recording = Files.createDirectories(work.resolve("recording"));
    try (RecordingWriter file = RecordingWriter.open(recording)) {
      TracedTraffic out = new TracedTraffic(file);
      long[] offsets = new long[3];
      // RET-1 clean; RET-2 names another of its items on one completion; RET-3 lost one consumer span
      for (int r = 1; r <= 3; r++) {
        String trace = String.format("%032x", 0xe70000L + r);
        String ret = "RET-" + r;
        long t = T0 + r * 1_000;
        out.record(true, trace, ret + "-req", "", "returns-api", "returns.requested", offsets[0]++, t,
            "{\"returnId\":\"" + ret + "\"}");
        out.span(true, trace, ret + "-split", ret + "-req", "process returns.requested", SpanKind.CONSUMER,
            "inspection-service", t + 5, t + 15, TracedTraffic.consumed("returns.requested"));
        String[] items = {"a", "b", "c"};
        for (int i = 0; i < items.length; i++) {
          out.record(true, trace, ret + "-ask-" + items[i], ret + "-split", "inspection-service", "inspection.requested",
              offsets[1]++, t + 10 + i, item(ret, ret + "-I" + items[i]));
        }
        for (int k = 0; k < items.length; k++) {
          String i = items[(k + 2) % items.length]; // the last item asked for is inspected first
          boolean lost = r == 3 && i.equals("b");
          out.span(!lost, trace, ret + "-work-" + i, ret + "-ask-" + i, "process inspection.requested",
              SpanKind.CONSUMER, "warehouse", t + 20 + k, t + 40 + k, TracedTraffic.consumed("inspection.requested"));
          String named = r == 2 && i.equals("b") ? ret + "-Ia" : ret + "-I" + i;
          out.record(true, trace, ret + "-done-" + i, ret + "-work-" + i, "warehouse", "inspection.completed",
              offsets[2]++, t + 30 + k, item(ret, named));
        }
      }
    }

    List<Verdict> verdicts = Replays.finals(new FlowSpecLoader().load(flows), recording);

    Map<String, String> found = verdicts.stream().collect(Collectors.toMap(v -> v.keys().get("returnId"),
        v -> v.status() + " " + v.violations().stream().map(x -> x.kind() + " at " + x.stage()).toList()));
    assertThat(found).containsOnly(Map.entry("RET-1", "PASSED []"),
        Map.entry("RET-2", "FAILED [BAD_TRANSFORMATION at inspected]"), Map.entry("RET-3", "PASSED []"));
    Verdict wrong = verdicts.stream().filter(v -> v.keys().get("returnId").equals("RET-2")).findFirst().orElseThrow();
    assertThat(wrong.violations()).extracting(Violation::message).singleElement().asString()
        .contains("\"RET-2-Ib\"", "\"RET-2-Ia\"");
  }

  /** The same trial's {@code add: ["items[].price"]} failed every return, each of whose items had a price. */
  @Test
  void aFieldAddedToEachItemIsLookedForInEveryItem() throws Exception {
    Path flows = Files.createDirectories(work.resolve("priced"));
    Files.writeString(flows.resolve("returns.flow.yaml"), String.join("\n",
        "flow: returns",
        "keys: [returnId]",
        "stages:",
        "  - id: requested",
        "    events: [{id: return_requested, topic: returns.requested}]",
        "  - id: priced",
        "    after: requested",
        "    terminal: true",
        "    events: [{id: return_priced, topic: returns.priced}]",
        "enrichment:",
        "  - {from: return_requested, to: return_priced, carry: [\"items[].itemId\"], add: [\"items[].price\"]}",
        ""));
    Path recording = Files.createDirectories(work.resolve("priced-recording"));
    try (RecordingWriter file = RecordingWriter.open(recording)) {
      TracedTraffic out = new TracedTraffic(file);
      for (int r = 1; r <= 3; r++) {
        String trace = String.format("%032x", 0xe80000L + r);
        String ret = "RET-" + r;
        out.record(true, trace, ret + "-req", "", "returns-api", "returns.requested", r, T0 + r * 1_000,
            "{\"returnId\":\"" + ret + "\",\"items\":[{\"itemId\":\"a\"},{\"itemId\":\"b\"}]}");
        String second = r == 2 ? "{\"itemId\":\"b\"}" : "{\"itemId\":\"b\",\"price\":5}";
        String items = r == 3 ? "[]" : "[{\"itemId\":\"a\",\"price\":12.5}," + second + "]";
        out.record(true, trace, ret + "-priced", ret + "-req", "pricing", "returns.priced", r, T0 + r * 1_000 + 50,
            "{\"returnId\":\"" + ret + "\",\"items\":" + items + "}");
      }
    }

    List<Verdict> verdicts = Replays.finals(new FlowSpecLoader().load(flows), recording);

    Map<String, List<String>> found = verdicts.stream().collect(Collectors.toMap(v -> v.keys().get("returnId"),
        v -> v.violations().stream().map(x -> x.kind() + ": " + x.message()).toList()));
    assertThat(found.get("RET-1")).isEmpty();
    assertThat(found.get("RET-2")).singleElement().asString()
        .startsWith("MISSING_ENRICHMENT: returns.priced[0]@2 lacks 'items[].price' (at items[1].price)");
    assertThat(found.get("RET-3")).as("the items dropped are what carry finds; an empty list has nothing to add to")
        .isNotEmpty().noneMatch(m -> m.contains("items[].price"));
  }

  private static String item(String ret, String itemId) {
    return "{\"returnId\":\"" + ret + "\",\"itemId\":\"" + itemId + "\"}";
  }
}
