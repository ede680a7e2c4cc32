package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A trial cut one line of its record dump: the booking whose payment it held failed with
 * violations that did not say their cause might be that line. The run's summary warned only that
 * some failure might be.
 */
class UnreadableInputTest {

  private static final long T0 = 1_796_300_000_000L;

  @TempDir Path work;

  @Test
  void aVerdictThatDidNotPassSaysWhichUnreadableLineNamesIt() throws Exception {
    Path flows = Files.createDirectories(work.resolve("flows"));
    Files.writeString(flows.resolve("order.flow.yaml"), String.join("\n",
        "flow: order",
        "keys: [orderId]",
        "stages:",
        "  - id: placed",
        "    events: [{id: placed, topic: orders.placed}]",
        "  - id: paid",
        "    after: placed",
        "    terminal: true",
        "    events: [{id: paid, topic: orders.paid}]",
        "budgets:",
        "  - {from: placed, to: paid, within: 5s}",
        ""));
    KcatLines kcat = new KcatLines(new Random(7));
    for (int i = 1; i <= 3; i++) {
      String trace = kcat.trace();
      String order = "ORD-000" + i;
      kcat.record("orders.placed", T0 + i * 1_000, trace, order, Map.of("orderId", order));
      // the third order is paid too late: its failure is its own
      kcat.record("orders.paid", T0 + i * 1_000 + (i == 3 ? 9_000 : 200), trace, order, Map.of("orderId", order));
    }
    Path recording = kcat.write(work.resolve("recording"));
    Path file = recording.resolve("messages.kcat.jsonl");
    List<String> lines = new ArrayList<>(Files.readAllLines(file));
    String paid = lines.stream().filter(l -> l.contains("orders.paid") && l.contains("ORD-0002")).findFirst()
        .orElseThrow();
    int cut = lines.indexOf(paid);
    lines.set(cut, paid.substring(0, paid.indexOf("ORD-0002\\\"") + 12));
    Files.write(file, lines);

    List<Verdict> verdicts = Replays.finals(new FlowSpecLoader().load(flows), recording);

    Map<String, List<String>> notes = verdicts.stream().collect(Collectors.toMap(v -> v.keys().get("orderId"),
        v -> v.notes().stream().filter(n -> n.startsWith("input that could not be read")).toList()));
    assertThat(notes.get("ORD-0001")).isEmpty();
    assertThat(notes.get("ORD-0003")).isEmpty();
    assertThat(notes.get("ORD-0002")).singleElement().asString()
        .contains("(orderId ORD-0002)", file + ":" + (cut + 1) + ": ", "may be wrong for that alone");
    assertThat(verdicts.stream().collect(Collectors.toMap(v -> v.keys().get("orderId"), v -> v.status().name())))
        .containsOnly(Map.entry("ORD-0001", "PASSED"), Map.entry("ORD-0002", "INCOMPLETE"),
            Map.entry("ORD-0003", "FAILED"));
  }
}
