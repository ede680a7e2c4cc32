package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A trial's deliveries: the first courier assigned declines and another is assigned; the pickup
 * names the second. The pickup's courier was compared with the first assignment's, and 191 clean
 * orders of 2,000 failed {@code BAD_TRANSFORMATION}.
 */
class EnrichmentFromARepeatedSourceTest {

  @TempDir Path work;

  @Test
  void aFieldCarriedFromAStepTakenAgainIsComparedWithTheLastTimeBeforeIt() throws Exception {
    Path flows = Files.createDirectories(work.resolve("flows"));
    Files.writeString(flows.resolve("delivery.flow.yaml"), String.join("\n",
        "flow: delivery",
        "keys: [orderId]",
        "spans: may-be-missing",
        "stages:",
        "  - id: placed",
        "    events: [{id: placed, topic: orders.placed}]",
        "  - id: assigned",
        "    after: placed",
        "    events: [{id: assigned, topic: courier.assigned}]",
        "  - id: picked",
        "    after: assigned",
        "    terminal: true",
        "    events: [{id: picked, topic: delivery.picked_up, trace: new}]",
        "enrichment:",
        "  - {from: assigned, to: picked, carry: [courierId]}",
        ""));
    Path recording = Files.createDirectories(work.resolve("recording"));
    long t0 = 1_796_200_000_000L;
    try (RecordingWriter out = RecordingWriter.open(recording)) {
      for (int i = 0; i < 4; i++) {
        String id = "ORD-" + i;
        String trace = String.format("%032x", 0xc0ffee00L + i);
        // the courier app's pickup continues the order's trace, or starts one of its own
        String pickupTrace = i % 2 == 0 ? trace : String.format("%032x", 0xbeef00L + i);
        long t = t0 + i * 60_000L;
        out.accept(record("orders.placed", i, t, id, trace, "{\"orderId\":\"" + id + "\"}"));
        out.accept(record("courier.assigned", 2 * i, t + 1_000, id, trace,
            "{\"orderId\":\"" + id + "\",\"courierId\":\"C-1\"}"));
        out.accept(record("courier.assigned", 2 * i + 1, t + 9_000, id, trace,
            "{\"orderId\":\"" + id + "\",\"courierId\":\"C-2\"}"));
        out.accept(record("delivery.picked_up", i, t + 20_000, id, pickupTrace,
            "{\"orderId\":\"" + id + "\",\"courierId\":\"C-2\"}"));
      }
    }
    FlowSpec flow = new FlowSpecLoader().load(flows).get(0);

    List<Verdict> verdicts = Replays.finals(List.of(flow), recording);

    assertThat(verdicts).hasSize(4).allSatisfy(v -> assertThat(v.status()).as("%s", v).isEqualTo(VerdictStatus.PASSED));
  }

  private static Telemetry record(String topic, long offset, long ms, String id, String trace, String json) {
    return TracedTraffic.published(topic, offset, ms, id, trace,
        String.format("%016x", 0x3000L + offset * 16 + topic.length()), false, json);
  }
}
