package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stage whose condition reads only its own event (trial O's first spec: a kitchen's rejection,
 * {@code when: orders_rejected.status == "REJECTED"}) cannot be told needed or not where the event
 * never comes: lint warns that it is waited for until the deadline. Every order was decided
 * INCOMPLETE two seconds after its terminal stage and stayed so, long past its deadline, and the
 * run exited 0 with nothing passed.
 */
class UndecidedConditionTest {

  private static final long T0 = 1_797_200_000_000L;
  private static final String FLOW = """
      flow: kitchen
      keys: [orderId]
      deadline: 20s
      stages:
        - id: placed
          events: [{id: orders_placed, topic: orders.placed}]
        - id: rejected
          after: placed
          terminal: true
          when: 'orders_rejected.status == "REJECTED"'
          events: [{id: orders_rejected, topic: orders.rejected}]
        - id: accepted
          after: placed
          terminal: true
          when: 'orders_accepted.status == "ACCEPTED"'
          events: [{id: orders_accepted, topic: orders.accepted}]
      """;

  @TempDir Path work;

  @Test
  void pastItsDeadlineAnInstanceStillWaitingForAConditionFailsAndSaysWhichOne() throws Exception {
    assertJudgedAtTheDeadline(null);
  }

  @Test
  void anAmendmentWindowShorterThanTheDeadlineWaitsForIt() throws Exception {
    assertJudgedAtTheDeadline(Duration.ofSeconds(5));
  }

  private void assertJudgedAtTheDeadline(Duration amendWindow) throws Exception {
    Path flows = Files.createDirectories(work.resolve("flows"));
    Files.writeString(flows.resolve("kitchen.flow.yaml"), FLOW);
    Path recording = Files.createDirectories(work.resolve("recording"));
    try (RecordingWriter out = RecordingWriter.open(recording)) {
      for (int i = 0; i < 10; i++) {
        String order = "K-" + i;
        long t = T0 + i * 5_000L; // 45 s of orders: the last ones' deadlines are after the input's end
        out.accept(TracedTraffic.untraced("orders.placed", i, t, order, "{\"orderId\":\"" + order + "\"}"));
        out.accept(TracedTraffic.untraced("orders.accepted", i, t + 700, order,
            "{\"orderId\":\"" + order + "\",\"status\":\"ACCEPTED\"}"));
      }
    }

    Map<String, Verdict> verdicts = Replays.run(new FlowSpecLoader().load(flows), recording, amendWindow).finals()
        .stream().collect(Collectors.toMap(v -> v.keys().get("orderId"), Function.identity()));

    assertThat(verdicts).hasSize(10);
    List<Verdict> past = List.of(verdicts.get("K-0"), verdicts.get("K-4"));
    assertThat(past).allSatisfy(v -> {
      assertThat(v.status()).isEqualTo(VerdictStatus.FAILED);
      assertThat(v.reason()).startsWith("deadline passed, still waiting for the condition of stage 'rejected'"
          + " (it reads orders_rejected, not seen); first decided: terminal stage seen; waited");
      assertThat(v.violations()).as("a failed verdict names what failed").singleElement()
          .satisfies(x -> assertThat(x.message()).isEqualTo("whether stage rejected was owed could not be told within"
              + " 20 s of the flow's start: its condition orders_rejected.status == \"REJECTED\" reads orders_rejected,"
              + " which did not come"));
    });
    assertThat(verdicts.get("K-6").status()).as("its deadline is after the input's end").isEqualTo(VerdictStatus.INCOMPLETE);
    assertThat(verdicts.get("K-6").reason()).isEqualTo("terminal stage seen; waited 2000 ms for the rest: the condition"
        + " of stage 'rejected' (it reads orders_rejected, not seen)");
  }
}
