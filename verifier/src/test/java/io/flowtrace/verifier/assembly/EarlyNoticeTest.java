package io.flowtrace.verifier.assembly;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.check.ViolationKind;
import io.flowtrace.verifier.report.Verdict;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A customer told their claim was paid four minutes before the payout settled, ten hours into the
 * claim, in traffic of records alone. A trial's violation advised raising clockSkew (no clock is
 * four minutes off) and read "+10.1 h" for both the expected and the actual time.
 */
class EarlyNoticeTest {

  @TempDir Path dir;

  @Test
  void aNoticeMinutesEarlyIsNoMatterOfSkewAndItsTimesTellApart() throws Exception {
    Files.writeString(dir.resolve("claims.flow.yaml"), String.join("\n",
        "flow: claims",
        "keys: [claimId]",
        "deadline: 24h",
        "stages:",
        "  - id: filed",
        "    events: [{id: filed_msg, topic: claims.filed}]",
        "  - id: settled",
        "    after: filed",
        "    events: [{id: settled_msg, topic: payouts.settled}]",
        "  - id: noticed",
        "    after: settled",
        "    terminal: true",
        "    events: [{id: notice_msg, topic: notices}]",
        ""));
    long t0 = 1_795_161_600_000L;
    List<Telemetry> all = List.of(
        record("claims.filed", t0),
        record("notices", t0 + 36_187_427L),
        record("payouts.settled", t0 + 36_437_951L));
    List<Verdict> finals = EngineRun.finals(dir, all, t0 + 2 * 86_400_000L);

    assertThat(finals).hasSize(1);
    assertThat(finals.get(0).violations()).extracting(Violation::kind).containsExactly(ViolationKind.ORDER_VIOLATION);
    Violation early = finals.get(0).violations().get(0);
    assertThat(early.message()).contains("250.524 s apart as read").doesNotContain("raise the flow's clockSkew");
    assertThat(early.expected()).contains("+10:07:17.951");
    assertThat(early.actual()).isEqualTo("notice_msg at +10:03:07.427");
  }

  private static Telemetry record(String topic, long ms) {
    return Telemetry.of(new KafkaRecord(topic, 0, 0, ms, "CLM-1", List.of(),
        "{\"claimId\":\"CLM-1\"}".getBytes(StandardCharsets.UTF_8)));
  }
}
