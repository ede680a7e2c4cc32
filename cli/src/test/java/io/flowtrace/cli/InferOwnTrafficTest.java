package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import tools.jackson.databind.json.JsonMapper;
import io.flowtrace.verifier.assembly.FlowEngine;
import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.replay.Replay;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictListener;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.io.BufferedWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A draft must not flag the traffic it was drafted from. Claims of another domain than the
 * reference flow, as Kafka records: submitted, scored, settled; an optional free-text note copied
 * through when there is one, a model version that is the same in every record, a status.
 */
class InferOwnTrafficTest {

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String[] NOTES = {
      "Water came through the ceiling", "Rear bumper dented in a car park", "Window broken <b>overnight</b>",
      "Bike stolen from the shed"};

  @TempDir static Path work;
  static Path recording;
  static Path drafts;
  static String spec;

  @BeforeAll
  static void draftFromClaims() throws Exception {
    recording = write(Files.createDirectories(work.resolve("claims")), -1);
    drafts = work.resolve("drafts");
    Inference.Result result = Inference.builder().name("claims").build().infer(recording);
    result.write(drafts);
    spec = Files.readString(drafts.resolve("claims/claims.flow.yaml"));
  }

  /** 400 claims; the one numbered {@code stray} (if any) scored with a risk seen nowhere else, and rejected. */
  private static Path write(Path recording, int stray) throws Exception {
    Random random = new Random(7);
    long t = 1_796_000_000_000L;
    Map<String, Integer> offsets = new java.util.HashMap<>();
    try (BufferedWriter out = Files.newBufferedWriter(recording.resolve("messages.kcat.jsonl"))) {
      for (int i = 0; i < 400; i++) {
        String id = "CLM-" + (10_000 + i);
        Map<String, Object> submitted = new LinkedHashMap<>();
        submitted.put("claimId", id);
        submitted.put("amount", 100 + random.nextInt(5_000));
        if (random.nextInt(10) < 4) {
          submitted.put("notes", NOTES[random.nextInt(NOTES.length)]);
        }
        Map<String, Object> scored = new LinkedHashMap<>(submitted);
        scored.put("score", random.nextInt(1000));
        scored.put("modelVersion", "2026.11");
        boolean high = i % 3 == 0 || i == stray;
        scored.put("risk", i == stray ? "EXTREME" : high ? "HIGH" : i % 3 == 1 ? "LOW" : "MEDIUM");
        Map<String, Map<String, Object>> steps = new LinkedHashMap<>();
        steps.put("claims.submitted", submitted);
        steps.put("claims.scored", scored);
        if (high) {
          steps.put("claims.rejected", Map.of("claimId", id, "reason", "RISK"));
        } else {
          Map<String, Object> settled = new LinkedHashMap<>();
          settled.put("claimId", id);
          settled.put("status", "SETTLED");
          settled.put("payout", submitted.get("amount"));
          steps.put("claims.settled", settled);
          steps.put("payouts.sent", Map.of("claimId", id, "amount", submitted.get("amount"), "iban", "NL00BANK0"
              + (1_000_000 + i)));
        }
        int s = 0;
        for (Map.Entry<String, Map<String, Object>> step : steps.entrySet()) {
          Map<String, Object> line = new LinkedHashMap<>();
          line.put("topic", step.getKey());
          line.put("partition", 0);
          line.put("offset", offsets.merge(step.getKey(), 1, Integer::sum) - 1);
          line.put("tstype", "create");
          line.put("ts", t + i * 200L + s++ * 30L);
          line.put("headers", List.of());
          line.put("key", id);
          line.put("payload", JSON.writeValueAsString(step.getValue()));
          out.write(JSON.writeValueAsString(line));
          out.newLine();
        }
      }
    }
    return recording;
  }

  @Test
  void aValueSeenOnceDoesNotCostABranchItsCondition() throws Exception {
    Path dirty = write(Files.createDirectories(work.resolve("dirty")), 7);
    Path out = work.resolve("dirty-drafts");
    Inference.builder().name("claims").build().infer(dirty).write(out);
    var flow = new FlowSpecLoader().load(out).get(0);

    assertThat(flow.stage("claims-rejected")).as(Files.readString(out.resolve("claims/claims.flow.yaml"))).isNotNull();
    assertThat(flow.stage("claims-rejected").when().source()).isEqualTo("claims_scored.risk == \"HIGH\"");
    assertThat(Files.readString(out.resolve("claims/claims.flow.yaml")))
        .contains("# decided 399/400 instances; 1 went against it");
  }

  @Test
  void theDraftPassesEveryInstanceItWasDraftedFrom() throws Exception {
    List<Verdict> verdicts = new ArrayList<>();
    FlowEngine engine = FlowEngine.builder(new FlowSpecLoader().load(drafts)).amendUntilEnd()
        .listener(new VerdictListener() {
          @Override
          public void finalized(Verdict v) {
            verdicts.add(v);
          }
        }).build();
    Replay.builder(engine).build().run(recording);

    assertThat(verdicts).hasSize(400);
    assertThat(verdicts).allSatisfy(v -> assertThat(v.violations()).as(spec).isEmpty());
  }

  @Test
  void aStepOfABranchFollowsTheBranchWithoutAConditionOfItsOwn() throws Exception {
    var flow = new FlowSpecLoader().load(drafts).get(0);

    assertThat(flow.stage("claims-settled").when().source()).isEqualTo("claims_scored.risk in [\"LOW\", \"MEDIUM\"]");
    assertThat(flow.stage("claims-rejected").when().source()).isEqualTo("claims_scored.risk == \"HIGH\"");
    assertThat(flow.stage("payouts-sent").after()).containsExactly("claims-settled");
    assertThat(flow.stage("payouts-sent").when()).isNull();
    assertThat(flow.terminalStages()).extracting(st -> st.id()).containsExactlyInAnyOrder("claims-rejected", "payouts-sent");
    assertThat(spec).contains("    to: payouts_sent\n    carry: [amount, claimId]");
  }

  @Test
  void anOptionalFieldCopiedThroughIsComparedOnlyWhereItIsThere() {
    assertThat(spec).contains("expr: 'has(claims_scored.notes) == has(claims_submitted.notes)"
        + " && (!has(claims_scored.notes) || claims_scored.notes == claims_submitted.notes)'");
    assertThat(spec).containsPattern("absent from both in [0-9]+");
  }

  @Test
  void freeTextAndAConstantVersionAreNotEnumsButAStatusWordIs() throws Exception {
    String scored = Files.readString(drafts.resolve("claims/schemas/claims_scored.schema.json"));
    String settled = Files.readString(drafts.resolve("claims/schemas/claims_settled.schema.json"));

    assertThat(JSON.readTree(scored).at("/properties/notes").has("enum")).as(scored).isFalse();
    assertThat(JSON.readTree(scored).at("/properties/modelVersion").has("enum")).as(scored).isFalse();
    assertThat(JSON.readTree(settled).at("/properties/status/enum").toString()).isEqualTo("[\"SETTLED\"]");
  }
}
