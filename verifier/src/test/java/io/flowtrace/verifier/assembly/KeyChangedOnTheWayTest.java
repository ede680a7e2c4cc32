package io.flowtrace.verifier.assembly;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.check.Unverified;
import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.check.ViolationKind;
import io.flowtrace.verifier.report.Redaction;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictListener;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.report.Verdict.Verification;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A service that publishes its part of a flow under another key (a fresh id instead of the one it
 * was given) splits one business transaction in two: the instance it left misses a stage, and what
 * follows begins an instance of its own part-way through the flow. Both verdicts say what happened,
 * from the trace they share. Loan applications: received, scored, then decided.
 */
class KeyChangedOnTheWayTest {

  private static final String SPEC = String.join("\n",
      "flow: loans",
      "keys: [applicationId]",
      "deadline: 10s",
      "stages:",
      "  - id: received",
      "    events:",
      "      - id: received_msg",
      "        topic: loan.received",
      "  - id: scored",
      "    after: received",
      "    events:",
      "      - id: scored_msg",
      "        topic: loan.scored",
      "  - id: decided",
      "    after: scored",
      "    terminal: true",
      "    events:",
      "      - id: decided_msg",
      "        topic: loan.decided",
      "");

  private static final long T0 = 1_764_000_000_000L;

  @TempDir Path dir;
  private final Map<String, Verdict> finals = new LinkedHashMap<>();
  private long offsets;
  private FlowEngine engine;

  private void start(String spec) throws Exception {
    Files.writeString(dir.resolve("loans.flow.yaml"), spec);
    engine = FlowEngine.builder(new FlowSpecLoader().load(dir)).amendUntilEnd().listener(new VerdictListener() {
      @Override
      public void finalized(Verdict v) {
        finals.put(v.keys().get("applicationId"), v);
      }
    }).build();
  }

  @Test
  void aDecisionPublishedUnderAFreshIdIsNamedInBothInstancesItSplitInto() throws Exception {
    start(SPEC);
    record("loan.received", "a-1", "trace-a-1", 0);
    record("loan.scored", "a-1", "trace-a-1", 20);
    record("loan.decided", "a-9", "trace-a-1", 40); // underwriting minted a new applicationId
    record("loan.received", "a-2", "trace-a-2", 100);
    record("loan.scored", "a-2", "trace-a-2", 120);
    record("loan.decided", "a-2", "trace-a-2", 140);
    engine.advanceTo((T0 + 60_000) * 1_000_000L);
    engine.finish();

    Verdict left = finals.get("a-1");
    assertThat(left.status()).isEqualTo(VerdictStatus.FAILED);
    Violation missing = single(left);
    assertThat(missing.kind()).isEqualTo(ViolationKind.MISSING_STAGE);
    assertThat(missing.stage()).isEqualTo("decided");
    assertThat(missing.message()).contains("The decided_msg of this flow's trace (loan.decided[0]@2) carried "
        + "applicationId=a-9 instead of a-1 and so began an instance of its own: a key changed on the way");
    assertThat(missing.actual()).isEqualTo("decided_msg with applicationId=a-9 instead of a-1");
    assertThat(missing.evidence().offset()).isEqualTo(2L);

    // One defect, one failed flow: the stages a-9 lacks happened in a-1, which reports the changed key.
    Verdict began = finals.get("a-9");
    assertThat(began.status()).isEqualTo(VerdictStatus.PASSED);
    assertThat(began.verification()).isEqualTo(Verification.PARTIAL);
    assertThat(began.unverified()).extracting(Unverified::stage, Unverified::reason).containsExactly(
        tuple("received", "topic loan.received not observed: it happened in the instance applicationId=a-1, in whose"
            + " trace this one began: a key changed on the way"),
        tuple("scored", "topic loan.scored not observed: it happened in the instance applicationId=a-1, in whose"
            + " trace this one began: a key changed on the way"));
    assertThat(began.notes()).containsExactly("this instance began part-way through the flow, with decided_msg"
        + " (loan.decided[0]@2), in a trace of the instance applicationId=a-1: a key changed on the way,"
        + " and its events belong to that instance");
    assertThat(finals.get("a-2").status()).isEqualTo(VerdictStatus.PASSED);
    assertThat(finals.get("a-2").notes()).isEmpty();
  }

  @Test
  void whatGoesWrongAfterAKeyChangedIsStillReportedOnTheInstanceItBegan() throws Exception {
    start(SPEC);
    record("loan.received", "c-1", "trace-c-1", 0);
    record("loan.scored", "c-7", "trace-c-1", 20); // scoring minted a new id, and the decision never came
    engine.advanceTo((T0 + 60_000) * 1_000_000L);
    engine.finish();

    Violation left = single(finals.get("c-1"));
    assertThat(left.stage()).isEqualTo("scored");
    assertThat(left.message()).contains("a key changed on the way");
    Verdict began = finals.get("c-7");
    assertThat(began.status()).isEqualTo(VerdictStatus.FAILED);
    Violation missing = single(began);
    assertThat(missing.kind()).isEqualTo(ViolationKind.MISSING_STAGE);
    assertThat(missing.stage()).isEqualTo("decided");
    assertThat(began.unverified()).extracting(Unverified::stage).containsExactly("received");
  }

  @Test
  void applicationsReceivedTogetherInOneTraceAreInstancesOfTheirOwnNotKeysChanged() throws Exception {
    start(SPEC);
    // a batch import: one trace receives and scores two applications; one of them is never decided
    record("loan.received", "b-1", "trace-batch", 0);
    record("loan.received", "b-2", "trace-batch", 5);
    record("loan.scored", "b-1", "trace-batch", 20);
    record("loan.scored", "b-2", "trace-batch", 25);
    record("loan.decided", "b-2", "trace-batch", 40);
    engine.advanceTo((T0 + 60_000) * 1_000_000L);
    engine.finish();

    assertThat(finals.get("b-2").status()).isEqualTo(VerdictStatus.PASSED);
    assertThat(finals.get("b-2").notes()).isEmpty();
    Violation missing = single(finals.get("b-1"));
    assertThat(missing.kind()).isEqualTo(ViolationKind.MISSING_STAGE);
    assertThat(missing.message()).doesNotContain("key changed");
    assertThat(missing.actual()).isEqualTo("nothing observed");
    assertThat(finals.get("b-1").notes()).isEmpty();
  }

  @Test
  void aRedactedKeyIsMaskedInTheNoteOfTheInstanceABranchBegan() throws Exception {
    start(SPEC.replace("keys: [applicationId]", "keys: [applicationId]\nredact: [applicationId]"));
    record("loan.received", "a-1", "trace-a-1", 0);
    record("loan.scored", "a-1", "trace-a-1", 20);
    record("loan.decided", "a-9", "trace-a-1", 40);
    engine.advanceTo((T0 + 60_000) * 1_000_000L);
    engine.finish();

    assertThat(finals).hasSize(2);
    String all = finals.values().toString();
    assertThat(all).doesNotContain("a-1").doesNotContain("a-9")
        .contains(Redaction.marker("a-1")).contains(Redaction.marker("a-9"));
    assertThat(finals.get(Redaction.marker("a-1")).violations().get(0).actual())
        .isEqualTo("decided_msg with applicationId=" + Redaction.marker("a-9") + " instead of " + Redaction.marker("a-1"));
  }

  /**
   * Where the key changes at the decision, in a trace that is not sampled, after a path the data
   * chose: what the instance it began lacks — the intake request (a span nobody exported), the
   * score that chose the path, the approval — all happened in the instance it left. It passes.
   */
  @Test
  void anInstanceThatBeganAfterAPathWasChosenInAnUnsampledTracePassesPartlyVerified() throws Exception {
    start(String.join("\n",
        "flow: loans",
        "keys: [applicationId]",
        "deadline: 10s",
        "stages:",
        "  - id: received",
        "    events:",
        "      - id: intake",
        "        span: {service: portal, kind: SERVER, name: POST /loans}",
        "        payload: {attribute: http.request.body}",
        "      - {id: received_msg, topic: loan.received}",
        "  - id: scored",
        "    after: received",
        "    events: [{id: scored_msg, topic: loan.scored}]",
        "  - id: approved",
        "    after: scored",
        "    when: scored_msg.score >= 600",
        "    events: [{id: approved_msg, topic: loan.approved}]",
        "  - id: rejected",
        "    after: scored",
        "    when: scored_msg.score < 600",
        "    events: [{id: rejected_msg, topic: loan.rejected}]",
        "  - id: decided",
        "    after: [approved, rejected]",
        "    terminal: true",
        "    events: [{id: decided_msg, topic: loan.decided}]",
        ""));
    record("loan.received", "a-1", "trace-a-1", 0, false, "");
    record("loan.scored", "a-1", "trace-a-1", 20, false, ",\"score\":710");
    record("loan.approved", "a-1", "trace-a-1", 30, false, "");
    record("loan.decided", "a-9", "trace-a-1", 40, false, "");
    engine.advanceTo((T0 + 60_000) * 1_000_000L);
    engine.finish();

    assertThat(single(finals.get("a-1")).message()).contains("a key changed on the way");
    Verdict began = finals.get("a-9");
    assertThat(began.status()).as(began.toString()).isEqualTo(VerdictStatus.PASSED);
    assertThat(began.verification()).isEqualTo(Verification.PARTIAL);
    assertThat(began.unverified()).extracting(Unverified::subject).contains("intake", "scored_msg", "approved_msg");
  }

  /**
   * A trial's claims: a side step the score decides (a fraud referral, then its review) lies beside
   * the path on which the key changed. Whether it was due was decided in the instance the new one
   * began in; the new one neither waits for it nor fails without it (it had failed with no violation
   * at all, its deadline passed waiting for the referral).
   */
  @Test
  void aSideStepDecidedBeforeTheKeyChangedIsNotOwedByTheInstanceItBegan() throws Exception {
    start(String.join("\n",
        "flow: loans",
        "keys: [applicationId]",
        "deadline: 10s",
        "stages:",
        "  - id: received",
        "    events: [{id: received_msg, topic: loan.received}]",
        "  - id: scored",
        "    after: received",
        "    events: [{id: scored_msg, topic: loan.scored}]",
        "  - id: referred",
        "    after: scored",
        "    when: scored_msg.score < 300",
        "    events: [{id: referred_msg, topic: loan.referred}]",
        "  - id: reviewed",
        "    after: referred",
        "    terminal: true",
        "    events: [{id: reviewed_msg, topic: loan.reviewed}]",
        "  - id: assessed",
        "    after: scored",
        "    events: [{id: assessed_msg, topic: loan.assessed}]",
        "  - id: decided",
        "    after: assessed",
        "    terminal: true",
        "    events: [{id: decided_msg, topic: loan.decided}]",
        ""));
    record("loan.received", "a-1", "trace-a-1", 0, true, "");
    record("loan.scored", "a-1", "trace-a-1", 20, true, ",\"score\":710");
    record("loan.assessed", "a-9", "trace-a-1", 30, true, "");
    record("loan.decided", "a-9", "trace-a-1", 40, true, "");
    engine.advanceTo((T0 + 60_000) * 1_000_000L);
    engine.finish();

    assertThat(single(finals.get("a-1")).message()).contains("a key changed on the way");
    Verdict began = finals.get("a-9");
    assertThat(began.status()).as(began.toString()).isEqualTo(VerdictStatus.PASSED);
    assertThat(began.verification()).isEqualTo(Verification.PARTIAL);
    assertThat(began.violations()).isEmpty();
  }

  private void record(String topic, String id, String trace, long ms) {
    record(topic, id, trace, ms, true, "");
  }

  private void record(String topic, String id, String trace, long ms, boolean sampled, String fields) {
    String traceparent = "00-" + ShopFlows.trace(trace, "main") + "-" + ShopFlows.span(trace, topic) + (sampled ? "-01" : "-00");
    engine.accept(Telemetry.of(new KafkaRecord(topic, 0, offsets++, T0 + ms, id,
        List.of(RecordHeader.ofString("traceparent", traceparent)),
        ("{\"applicationId\":\"" + id + "\"" + fields + "}").getBytes(StandardCharsets.UTF_8))));
  }

  private static Violation single(Verdict v) {
    assertThat(v.violations()).as(v.toString()).hasSize(1);
    return v.violations().get(0);
  }
}
