package io.flowtrace.verifier.assembly;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.check.ViolationKind;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictListener;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where a flow's path ends: a terminal stage made of spans alone in a trace that is not sampled, a
 * stage after a branch the data did not take, and data for which the spec has no branch at all.
 * A claim is scored; a low risk is settled and then paid (a bank call, spans only); a high risk is
 * rejected.
 */
class PathEndsTest {

  private static final String SPEC = String.join("\n",
      "flow: claims",
      "keys: [claimId]",
      "deadline: 10s",
      "stages:",
      "  - id: scored",
      "    events:",
      "      - id: scored_msg",
      "        topic: c.scored",
      "  - id: settled",
      "    after: scored",
      "    when: scored_msg.risk == \"LOW\"",
      "    events:",
      "      - id: settled_msg",
      "        topic: c.settled",
      "  - id: paid",
      "    after: settled",
      "    terminal: true",
      "    events:",
      "      - id: transfer",
      "        span: {service: payout, kind: CLIENT, name: POST /transfers}",
      "  - id: rejected",
      "    after: scored",
      "    when: scored_msg.risk == \"HIGH\"",
      "    terminal: true",
      "    events:",
      "      - id: rejected_msg",
      "        topic: c.rejected",
      "");

  private static final long T0 = 1_764_000_000_000L;

  @TempDir Path dir;
  private final Map<String, Verdict> finals = new HashMap<>();
  private long offsets;
  private FlowEngine engine;

  private void start(String spec) throws Exception {
    Files.writeString(dir.resolve("claims.flow.yaml"), spec);
    engine = FlowEngine.builder(new FlowSpecLoader().load(dir)).amendUntilEnd().listener(new VerdictListener() {
      @Override
      public void finalized(Verdict v) {
        finals.put(v.keys().get("claimId"), v);
      }
    }).build();
  }

  @Test
  void aTerminalStageOfSpansAloneInAnUnsampledTraceIsReachedUnseen() throws Exception {
    start(SPEC);
    claim("c-1", "LOW", 0, false);
    record("c.settled", "c-1", 20, false);
    claim("c-2", "LOW", 100, true);
    record("c.settled", "c-2", 120, true);
    transfer("c-2", 130);
    engine.finish();

    assertThat(finals.get("c-1").status()).as(finals.get("c-1").toString()).isEqualTo(VerdictStatus.PASSED);
    assertThat(finals.get("c-1").reason()).isEqualTo("complete");
    assertThat(finals.get("c-1").unverified()).extracting(u -> u.subject()).contains("transfer");
    assertThat(finals.get("c-2").status()).isEqualTo(VerdictStatus.PASSED);
  }

  @Test
  void anUnsampledClaimWhoseRecordsCameAfterTheDeadlineReachedItsUnseenEndLate() throws Exception {
    start(SPEC);
    claim("c-1", "LOW", 0, false);
    record("c.settled", "c-1", 12_500, false);
    engine.finish();

    Verdict v = finals.get("c-1");
    assertThat(v.status()).isEqualTo(VerdictStatus.FAILED);
    Violation only = single(v);
    assertThat(only.kind()).isEqualTo(ViolationKind.LATENCY_BUDGET_EXCEEDED);
    assertThat(only.stage()).isEqualTo("paid");
    assertThat(only.message()).startsWith("the flow had not reached paid when settled_msg (c.settled[0]@1) came"
        + " 12.5 s after its start; its deadline is 10 s (paid itself is not observed: unsampled trace ");
  }

  @Test
  void anUnsampledClaimDeliveredAgainAnHourLaterDidNotEndLate() throws Exception {
    start(SPEC);
    claim("c-1", "LOW", 0, false);
    record("c.settled", "c-1", 20, false);
    record("c.settled", "c-1", 3_600_000, false);
    engine.finish();

    assertThat(finals.get("c-1").violations()).isEmpty();
    assertThat(finals.get("c-1").status()).isEqualTo(VerdictStatus.PASSED);
  }

  @Test
  void aSampledClaimWhoseTerminalSpanNeverCameStillMissesIt() throws Exception {
    start(SPEC);
    claim("c-1", "LOW", 0, true);
    record("c.settled", "c-1", 20, true);
    transfer("c-0", 30); // some span arrived: the input carries spans
    engine.advanceTo((T0 + 60_000) * 1_000_000L);
    engine.finish();

    Verdict v = finals.get("c-1");
    assertThat(v.status()).isEqualTo(VerdictStatus.FAILED);
    assertThat(v.violations()).extracting(Violation::kind, Violation::stage)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(ViolationKind.MISSING_STAGE, "paid"));
  }

  /**
   * A condition that names a field its event does not have (a typo lint cannot see: the event has
   * no schema) can never be evaluated, whatever comes later. The claim is judged by the stages it
   * took, the condition named as not checked and why; it used to stay incomplete for ever.
   */
  @Test
  void aConditionThatCannotBeEvaluatedIsDecidedByWhatWasObservedAndSaysWhy() throws Exception {
    start(SPEC.replace("when: scored_msg.risk == \"LOW\"", "when: scored_msg.riks == \"LOW\""));
    claim("c-1", "LOW", 0, true);
    record("c.settled", "c-1", 20, true);
    transfer("c-1", 40);
    engine.finish();

    Verdict v = finals.get("c-1");
    assertThat(v.status()).as(v.toString()).isEqualTo(VerdictStatus.PASSED);
    assertThat(v.reason()).as("decided complete, not for want of a decision").isEqualTo("complete");
    assertThat(v.unverified()).extracting(u -> u.reason()).containsExactly("taken as observed; its condition"
        + " scored_msg.riks == \"LOW\" was not checked: it could not be evaluated: no such field 'riks' in scored_msg");
  }

  @Test
  void aStageAfterABranchTheDataDidNotTakeMustNotHappen() throws Exception {
    start(SPEC);
    claim("c-1", "HIGH", 0, true);
    record("c.rejected", "c-1", 20, true);
    transfer("c-1", 40);
    engine.finish();

    Verdict v = finals.get("c-1");
    assertThat(v.status()).isEqualTo(VerdictStatus.FAILED);
    Violation only = single(v);
    assertThat(only.kind()).isEqualTo(ViolationKind.BAD_TRANSFORMATION);
    assertThat(only.stage()).isEqualTo("paid");
    assertThat(only.message()).contains("stage paid happened", "the stage it follows, settled (its condition "
        + "scored_msg.risk == \"LOW\" is false: saw scored_msg.risk = \"HIGH\"), did not and should not have");
  }

  @Test
  void theSpansOfABranchTheDataDidNotTakeAreNotListedAsUnverifiedInAnUnsampledTrace() throws Exception {
    // a low risk is paid out straight away by a bank call (spans alone), a high one rejected
    start(String.join("\n",
        "flow: claims",
        "keys: [claimId]",
        "deadline: 10s",
        "stages:",
        "  - id: scored",
        "    events:",
        "      - id: scored_msg",
        "        topic: c.scored",
        "  - id: paid",
        "    after: scored",
        "    when: scored_msg.risk == \"LOW\"",
        "    terminal: true",
        "    events:",
        "      - id: transfer",
        "        span: {service: payout, kind: CLIENT, name: POST /transfers}",
        "  - id: rejected",
        "    after: scored",
        "    when: scored_msg.risk == \"HIGH\"",
        "    terminal: true",
        "    events:",
        "      - id: rejected_msg",
        "        topic: c.rejected",
        ""));
    claim("c-1", "HIGH", 0, false);
    record("c.rejected", "c-1", 20, false);
    claim("c-2", "LOW", 100, false);
    engine.finish();

    Verdict rejected = finals.get("c-1");
    assertThat(rejected.status()).isEqualTo(VerdictStatus.PASSED);
    assertThat(rejected.unverified()).as("the transfer was not to happen: nothing of it is left unverified").isEmpty();
    assertThat(finals.get("c-2").unverified()).extracting(u -> u.subject()).contains("transfer");
  }

  @Test
  void aStageAfterABranchTakenAgainstItsConditionIsNotBlamedTwice() throws Exception {
    start(SPEC);
    claim("c-1", "HIGH", 0, true);
    record("c.settled", "c-1", 20, true);
    transfer("c-1", 40);
    engine.finish();

    assertThat(finals.get("c-1").violations()).extracting(Violation::stage).containsExactly("settled");
  }

  @Test
  void aStageAfterABranchWhoseConditionCouldNotBeReadIsNotBlamed() throws Exception {
    start(SPEC.replace("scored_msg.risk == \"LOW\"", "transfer_quote.risk == \"LOW\"")
        .replace("  - id: settled\n", String.join("\n",
            "  - id: quoted",
            "    after: scored",
            "    events:",
            "      - id: transfer_quote",
            "        span: {service: payout, kind: CLIENT, name: POST /quotes}",
            "        payload: {attribute: http.response.body}",
            "  - id: settled",
            "")).replace("    after: scored\n    when: transfer_quote", "    after: quoted\n    when: transfer_quote"));
    claim("c-1", "LOW", 0, false); // the quote's span is in an unsampled trace: its risk is unknown
    record("c.settled", "c-1", 20, false);
    engine.finish();

    assertThat(finals.get("c-1").violations()).isEmpty();
  }

  @Test
  void dataForWhichTheSpecHasNoBranchFailsNamingWhereThePathStopped() throws Exception {
    start(SPEC.replace("scored_msg.risk == \"HIGH\"", "scored_msg.risk == \"VERY_HIGH\""));
    claim("c-1", "HIGH", 0, true);
    engine.advanceTo((T0 + 60_000) * 1_000_000L);
    engine.finish();

    Verdict v = finals.get("c-1");
    assertThat(v.status()).isEqualTo(VerdictStatus.FAILED);
    Violation only = single(v);
    assertThat(only.kind()).isEqualTo(ViolationKind.MISSING_STAGE);
    assertThat(only.message()).isEqualTo("the flow reached no terminal stage (paid or rejected) within 10 s of the"
        + " flow's start; it stopped after scored, where the data calls for no further stage: settled (its condition"
        + " scored_msg.risk == \"LOW\" is false: saw scored_msg.risk = \"HIGH\"), rejected (its condition"
        + " scored_msg.risk == \"VERY_HIGH\" is false: saw scored_msg.risk = \"HIGH\")");
  }

  private void claim(String id, String risk, long ms, boolean sampled) {
    record("c.scored", id, ms, sampled, "{\"claimId\":\"" + id + "\",\"risk\":\"" + risk + "\"}");
  }

  private void record(String topic, String id, long ms, boolean sampled) {
    record(topic, id, ms, sampled, "{\"claimId\":\"" + id + "\"}");
  }

  private void record(String topic, String id, long ms, boolean sampled, String json) {
    String traceparent = "00-" + ShopFlows.trace(id, "main") + "-" + ShopFlows.span(id, topic) + (sampled ? "-01" : "-00");
    engine.accept(Telemetry.of(new KafkaRecord(topic, 0, offsets++, T0 + ms, id,
        List.of(RecordHeader.ofString("traceparent", traceparent)), json.getBytes(StandardCharsets.UTF_8))));
  }

  private void transfer(String id, long ms) {
    long nanos = (T0 + ms) * 1_000_000L;
    engine.accept(Telemetry.of(new Span(ShopFlows.trace(id, "main"), ShopFlows.span(id, "transfer"),
        ShopFlows.span(id, "c.settled"), "POST /transfers",
        SpanKind.CLIENT, "payout", nanos, nanos + 5_000_000L, Map.of(), List.of(), false)));
  }

  private static Violation single(Verdict v) {
    assertThat(v.violations()).as(v.toString()).hasSize(1);
    return v.violations().get(0);
  }
}
