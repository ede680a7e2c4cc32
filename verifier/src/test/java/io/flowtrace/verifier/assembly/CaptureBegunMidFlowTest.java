package io.flowtrace.verifier.assembly;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.check.ViolationKind;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A capture started while renewals were running: o-0 was due and charged before it began, so only
 * its shipment is in it. A trial's 33 such renewals failed MISSING_STAGE at their entry (and a few
 * got a wrong BAD_TRANSFORMATION from the part of their dunning they showed). A renewal whose entry
 * is missing long after the capture began is still a missing stage.
 */
class CaptureBegunMidFlowTest {

  private static final String SPEC = String.join("\n",
      "flow: renewals",
      "keys: [subscriptionId]",
      "deadline: 1h",
      "stages:",
      "  - id: due",
      "    events: [{id: due_msg, topic: renewals.due}]",
      "  - id: charged",
      "    after: due",
      "    events: [{id: charged_msg, topic: billing.charged}]",
      "  - id: shipped",
      "    after: charged",
      "    terminal: true",
      "    events: [{id: shipped_msg, topic: warehouse.shipped}]",
      "");
  private static final long T0 = 1_796_000_000_000L;

  @TempDir Path dir;
  private int offset;

  @Test
  void anInstanceWhoseBeginningCameBeforeTheCaptureIsIncompleteNotFailed() throws Exception {
    Map<String, Verdict> v = replay(b -> b.inputMayBeginMidFlow());

    assertThat(v.get("o-0").status()).as(v.get("o-0").toString()).isEqualTo(VerdictStatus.INCOMPLETE);
    assertThat(v.get("o-0").violations()).isEmpty();
    assertThat(v.get("o-0").unverified()).anySatisfy(u -> assertThat(u.reason())
        .startsWith("MISSING_STAGE not judged: the instance may have begun before the input did"));
    assertThat(v.get("o-1").status()).isEqualTo(VerdictStatus.PASSED);
    assertThat(v.get("o-2").status()).as("its entry missing two hours into the capture").isEqualTo(VerdictStatus.FAILED);
    assertThat(v.get("o-2").violations()).extracting(x -> x.kind()).containsExactly(ViolationKind.MISSING_STAGE);
  }

  @Test
  void soWhenItsRecordsArePreparedAsReplayAndTheSidecarFeedThem() throws Exception {
    Map<String, Verdict> v = replay(b -> b.inputMayBeginMidFlow(), true);

    assertThat(v.get("o-0").status()).as(v.get("o-0").toString()).isEqualTo(VerdictStatus.INCOMPLETE);
    assertThat(v.get("o-1").status()).isEqualTo(VerdictStatus.PASSED);
    assertThat(v.get("o-2").status()).isEqualTo(VerdictStatus.FAILED);
  }

  @Test
  void anEngineFedItsOwnTrafficFromTheStartJudgesItAll() throws Exception {
    Map<String, Verdict> v = replay(b -> b);

    assertThat(v.get("o-0").status()).isEqualTo(VerdictStatus.FAILED);
  }

  private Map<String, Verdict> replay(UnaryOperator<FlowEngine.Builder> options) throws Exception {
    return replay(options, false);
  }

  private Map<String, Verdict> replay(UnaryOperator<FlowEngine.Builder> options, boolean prepared) throws Exception {
    Files.writeString(dir.resolve("renewals.flow.yaml"), SPEC);
    List<Telemetry> all = new ArrayList<>();
    all.add(record("warehouse.shipped", "o-0", 0));
    all.add(record("renewals.due", "o-1", 1_000));
    all.add(record("billing.charged", "o-1", 2_000));
    all.add(record("warehouse.shipped", "o-1", 60_000));
    all.add(record("billing.charged", "o-2", 2 * 3_600_000));
    all.add(record("warehouse.shipped", "o-2", 2 * 3_600_000 + 60_000));
    Map<String, Verdict> finals = new LinkedHashMap<>();
    long until = T0 + 6 * 3_600_000L;
    for (Verdict v : prepared ? EngineRun.preparedFinals(dir, all, until, options) : EngineRun.finals(dir, all, until, options)) {
      finals.put(v.keys().get("subscriptionId"), v);
    }
    return finals;
  }

  private Telemetry record(String topic, String id, long ms) {
    return Telemetry.of(new KafkaRecord(topic, 0, offset++, T0 + ms, id, List.of(),
        ("{\"subscriptionId\":\"" + id + "\"}").getBytes(StandardCharsets.UTF_8)));
  }
}
