package io.flowtrace.verifier.assembly;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A declined request whose notice never came, in a recording that went on for hours: the flow's
 * deadline (long enough for the accepted path, a day) had not passed when the input ended, so it
 * was incomplete and replay exited 0, although the notice's 5 s budget had run out hours before.
 */
class OverdueBudgetTest {

  private static final String SPEC = String.join("\n",
      "flow: request",
      "keys: [requestId]",
      "deadline: 24h",
      "stages:",
      "  - id: triaged",
      "    events: [{id: triaged_msg, topic: t.triaged}]",
      "  - id: declined",
      "    after: triaged",
      "    when: triaged_msg.decision == \"declined\"",
      "    terminal: true",
      "    events: [{id: declined_msg, topic: t.declined}]",
      "  - id: accepted",
      "    after: triaged",
      "    when: triaged_msg.decision == \"accepted\"",
      "    terminal: true",
      "    events: [{id: accepted_msg, topic: t.accepted}]",
      "budgets:",
      "  - {from: triaged_msg, to: declined_msg, within: 5s}",
      "");

  @TempDir Path dir;
  private long offset;

  private Telemetry record(String topic, long ms, String id, String decision) {
    return Telemetry.of(new KafkaRecord(topic, 0, offset++, ShopFlows.T0 + ms, id, List.of(),
        ("{\"requestId\":\"" + id + "\",\"decision\":\"" + decision + "\"}").getBytes(StandardCharsets.UTF_8)));
  }

  private Verdict firstAfterInputEndingAt(long endMs) throws Exception {
    Files.writeString(dir.resolve("request.flow.yaml"), SPEC);
    Finals finals = new Finals();
    FlowEngine engine = FlowEngine.builder(new FlowSpecLoader().load(dir)).listener(finals).build();
    engine.accept(record("t.triaged", 0, "r-1", "declined"));
    engine.accept(record("t.triaged", endMs, "r-2", "accepted"));
    engine.accept(record("t.accepted", endMs + 10, "r-2", "accepted"));
    engine.advanceTo(ShopFlows.nanos(endMs + 10));
    engine.finish();
    return finals.verdicts.stream().filter(v -> "r-1".equals(v.keys().get("requestId"))).findFirst().orElseThrow();
  }

  @Test
  void aStageWhoseBudgetRanOutHoursBeforeTheInputEndedIsMissing() throws Exception {
    Verdict v = firstAfterInputEndingAt(3 * 3_600_000L);

    assertThat(v.status()).isEqualTo(VerdictStatus.FAILED);
    assertThat(v.violations()).singleElement().satisfies(x -> {
      assertThat(x.kind()).hasToString("MISSING_STAGE");
      assertThat(x.stage()).isEqualTo("declined");
      assertThat(x.message()).isEqualTo("stage declined did not happen: no declined_msg (topic t.declined) within 5 s"
          + " of triaged_msg (its latency budget; the input went on 3 h past triaged_msg)");
    });
  }

  @Test
  void aStageWhoseBudgetRanOutMomentsBeforeTheInputEndedIsNotYetMissing() throws Exception {
    Verdict v = firstAfterInputEndingAt(20_000L);

    assertThat(v.status()).isEqualTo(VerdictStatus.INCOMPLETE);
    assertThat(v.violations()).isEmpty();
  }
}
