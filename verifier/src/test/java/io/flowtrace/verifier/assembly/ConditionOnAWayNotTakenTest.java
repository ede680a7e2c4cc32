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
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A condition that also reads an event of a way the data did not take: funds are reserved for a
 * transfer that passed screening, or passed a manual review. A trial's blocked transfer had its
 * funds reserved (and paid out); the condition is false without the review's record, yet only the
 * rejection's MISSING_STAGE was reported, not the reservation made against it.
 */
class ConditionOnAWayNotTakenTest {

  private static final String SPEC = String.join("\n",
      "flow: transfers",
      "keys: [transferId]",
      "deadline: 1h",
      "stages:",
      "  - id: screened",
      "    events: [{id: transfers_screened, topic: transfers.screened}]",
      "  - id: review-queued",
      "    after: screened",
      "    when: transfers_screened.decision == \"REVIEW\"",
      "    events: [{id: reviews_queued, topic: reviews.queued}]",
      "  - id: reviewed",
      "    after: review-queued",
      "    events: [{id: transfers_reviewed, topic: transfers.reviewed}]",
      "  - id: funds-reserved",
      "    after: [screened, reviewed]",
      "    when: 'transfers_screened.decision == \"PASS\" || (transfers_screened.decision == \"REVIEW\""
          + " && transfers_reviewed.outcome == \"APPROVED\")'",
      "    terminal: true",
      "    events: [{id: funds_reserved, topic: funds.reserved}]",
      "  - id: rejected",
      "    after: [screened, reviewed]",
      "    when: 'transfers_screened.decision == \"BLOCK\" || (transfers_screened.decision == \"REVIEW\""
          + " && transfers_reviewed.outcome == \"REJECTED\")'",
      "    terminal: true",
      "    events: [{id: transfers_rejected, topic: transfers.rejected}]",
      "");
  private static final long T0 = 1_796_000_000_000L;

  @TempDir Path dir;
  private int offset;

  @Test
  void aStageTakenAgainstAConditionDecidedWithoutTheOtherWaysEventIsABadTransformation() throws Exception {
    Files.writeString(dir.resolve("transfers.flow.yaml"), SPEC);
    List<Telemetry> all = new ArrayList<>();
    all.add(record("transfers.screened", "{\"transferId\":\"T-1\",\"decision\":\"BLOCK\"}", 0));
    all.add(record("funds.reserved", "{\"transferId\":\"T-1\"}", 500));
    all.add(record("transfers.screened", "{\"transferId\":\"T-2\",\"decision\":\"PASS\"}", 1_000));
    all.add(record("funds.reserved", "{\"transferId\":\"T-2\"}", 1_500));

    List<Verdict> verdicts = EngineRun.finals(dir, all, T0 + 7_200_000L);

    Verdict blocked = verdicts.stream().filter(v -> v.keys().get("transferId").equals("T-1")).findFirst().orElseThrow();
    assertThat(blocked.status()).isEqualTo(VerdictStatus.FAILED);
    assertThat(blocked.violations()).as(blocked.toString()).anySatisfy(v -> {
      assertThat(v.kind()).isEqualTo(ViolationKind.BAD_TRANSFORMATION);
      assertThat(v.stage()).isEqualTo("funds-reserved");
      assertThat(v.message()).contains("is false (saw transfers_screened.decision = \"BLOCK\"");
    });
    assertThat(verdicts.stream().filter(v -> v.keys().get("transferId").equals("T-2")).findFirst().orElseThrow()
        .status()).isEqualTo(VerdictStatus.PASSED);
  }

  private Telemetry record(String topic, String json, long ms) {
    return Telemetry.of(new KafkaRecord(topic, 0, offset++, T0 + ms, null, List.of(),
        json.getBytes(StandardCharsets.UTF_8)));
  }
}
