package io.flowtrace.verifier.assembly;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.check.ViolationKind;
import io.flowtrace.verifier.report.Verdict;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A step retried until it worked: a courier search that found no courier ({@code NO_COURIER},
 * {@code courier: null}) and then one that did. A rule comparing the pickup with the assignment, and a
 * condition on the pickup, read the assignment the pickup followed, not the first search (trial O:
 * every retried order failed, "could not be evaluated" or "happened although its condition is false").
 */
class RetriedStepTest {

  private static final String SPEC = String.join("\n",
      "flow: delivery",
      "keys: [orderId]",
      "deadline: 120s",
      "stages:",
      "  - id: placed",
      "    events:",
      "      - {id: placed, topic: orders.placed}",
      "  - id: courier-assigned",
      "    after: placed",
      "    events:",
      "      - {id: assigned, topic: couriers.assigned}",
      "  - id: picked-up",
      "    after: courier-assigned",
      "    terminal: true",
      "    events:",
      "      - {id: picked_up, topic: deliveries.picked-up}",
      "rules:",
      "  - name: the picked-up courier is the assigned one",
      "    stage: picked-up",
      "    field: courierId",
      "    expr: picked_up.courierId == assigned.courier.courierId",
      "");

  private static final String CONDITIONAL = SPEC.replace("    after: courier-assigned\n",
      "    after: courier-assigned\n    when: assigned.status == \"ASSIGNED\"\n");

  private static final String BUDGETED = SPEC.replace("rules:\n", String.join("\n",
      "budgets:",
      "  - {from: assigned, to: picked_up, within: 15s}",
      "rules:",
      "  - name: an assigned courier is one of ours",
      "    stage: courier-assigned",
      "    field: courier",
      "    expr: assigned.status != 'ASSIGNED' || assigned.courier.courierId.startsWith('c-')",
      ""));

  @TempDir Path dir;
  private final List<Telemetry> telemetry = new ArrayList<>();
  private final Map<String, Long> offsets = new HashMap<>();

  @Test
  void aPickupIsComparedWithTheSearchThatFoundTheCourierNotTheOneThatFoundNone() throws Exception {
    placedThenNoCourier();
    assigned(30_000, "c-7");
    pickedUp(40_000, "c-7");

    Verdict v = replay();

    assertThat(v.violations()).isEmpty();
    assertThat(v.unverified()).isEmpty();
  }

  @Test
  void aPickupByAnotherCourierThanTheOneFinallyAssignedFails() throws Exception {
    placedThenNoCourier();
    assigned(30_000, "c-7");
    pickedUp(40_000, "c-9");

    Verdict v = replay();

    assertThat(v.violations()).singleElement().satisfies(x -> {
      assertThat(x.kind()).isEqualTo(ViolationKind.BAD_TRANSFORMATION);
      assertThat(x.field()).isEqualTo("courierId");
      assertThat(x.message()).contains("is false").contains("assigned.courier.courierId = \"c-7\"")
          .contains("picked_up.courierId = \"c-9\"");
    });
  }

  @Test
  void anAssignmentAfterThePickupIsNotTheOneItFollowed() throws Exception {
    record("orders.placed", 0, "{\"orderId\":\"O-1\"}");
    assigned(1_000, "c-7");
    pickedUp(40_000, "c-7");
    assigned(50_000, "c-8"); // reassigned after the pickup: another delivery's concern

    Verdict v = replay();

    assertThat(v.violations()).noneSatisfy(x -> assertThat(x.kind()).isEqualTo(ViolationKind.BAD_TRANSFORMATION));
  }

  @Test
  void aPickupAfterARetriedSearchIsOwedByTheSearchThatFoundACourier() throws Exception {
    placedThenNoCourier();
    assigned(30_000, "c-7");
    pickedUp(40_000, "c-7");

    Verdict v = replay(CONDITIONAL);

    assertThat(v.violations()).isEmpty();
    assertThat(v.status()).isEqualTo(io.flowtrace.verifier.report.VerdictStatus.PASSED);
  }

  @Test
  void aPickupAfterASearchThatFoundNoCourierStillFails() throws Exception {
    placedThenNoCourier();
    pickedUp(40_000, "c-7");

    Verdict v = replay(CONDITIONAL);

    assertThat(v.violations()).anySatisfy(x -> {
      assertThat(x.kind()).isEqualTo(ViolationKind.BAD_TRANSFORMATION);
      assertThat(x.message()).contains("assigned.status == \"ASSIGNED\"").contains("is false");
    });
  }

  @Test
  void whileThereIsNoPickupTheLastSearchDecidesWhetherOneIsOwed() throws Exception {
    record("orders.placed", 0, "{\"orderId\":\"O-1\"}");
    assigned(1_000, "c-7");
    record("couriers.assigned", 5_000, "{\"orderId\":\"O-1\",\"status\":\"NO_COURIER\",\"courier\":null}");

    Verdict v = replay(CONDITIONAL);

    // the courier found first dropped out: no pickup is owed, and the flow stopped short of its end
    assertThat(v.violations()).singleElement().satisfies(x -> assertThat(x.message())
        .contains("where the data calls for no further stage").contains("saw assigned.status = \"NO_COURIER\""));
  }

  @Test
  void aRuleOnTheRetriedStepHoldsForEachAttemptNotOnlyTheFirst() throws Exception {
    placedThenNoCourier();
    assigned(30_000, "x-7"); // the search that found a courier names one of another fleet
    pickedUp(40_000, "x-7");

    Verdict v = replay(BUDGETED);

    assertThat(v.violations()).singleElement().satisfies(x -> {
      assertThat(x.kind()).isEqualTo(ViolationKind.BAD_TRANSFORMATION);
      assertThat(x.message()).contains("an assigned courier is one of ours").contains("\"x-7\"");
    });
  }

  @Test
  void anAttemptStampedJustAfterWhatItCausedIsNotReadAsLaterWhereTheClocksCannotTell() throws Exception {
    // records only: the courier service's clock runs 30 ms ahead of the delivery service's
    placedThenNoCourier();
    pickedUp(40_000, "c-7");
    assigned(40_030, "c-7");

    Verdict rule = replay(SPEC);
    Verdict budget = replay(BUDGETED);
    Verdict condition = replay(CONDITIONAL);

    assertThat(rule.violations()).isEmpty();
    assertThat(rule.unverified()).anySatisfy(u -> {
      assertThat(u.check()).isEqualTo("rule");
      assertThat(u.reason()).contains("true for couriers.assigned[0]@1").contains("clocks cannot tell");
    });
    assertThat(budget.violations()).isEmpty();
    assertThat(condition.violations()).isEmpty();
    assertThat(condition.unverified()).anySatisfy(u -> assertThat(u.reason()).contains("which of them the stage followed"));
  }

  private void placedThenNoCourier() {
    record("orders.placed", 0, "{\"orderId\":\"O-1\"}");
    record("couriers.assigned", 1_000, "{\"orderId\":\"O-1\",\"status\":\"NO_COURIER\",\"courier\":null}");
  }

  private void assigned(long ms, String courier) {
    record("couriers.assigned", ms,
        "{\"orderId\":\"O-1\",\"status\":\"ASSIGNED\",\"courier\":{\"courierId\":\"" + courier + "\"}}");
  }

  private void pickedUp(long ms, String courier) {
    record("deliveries.picked-up", ms, "{\"orderId\":\"O-1\",\"courierId\":\"" + courier + "\"}");
  }

  private void record(String topic, long ms, String json) {
    long offset = offsets.merge(topic, 1L, Long::sum) - 1;
    telemetry.add(Telemetry.of(new KafkaRecord(topic, 0, offset, ShopFlows.T0 + ms, "O-1", List.of(),
        json.getBytes(StandardCharsets.UTF_8))));
  }

  private Verdict replay() throws Exception {
    return replay(SPEC);
  }

  private Verdict replay(String spec) throws Exception {
    Path flows = java.nio.file.Files.createTempDirectory(dir, "flows");
    List<Verdict> finals = ShopFlows.finals(flows, spec, telemetry, 200_000);
    assertThat(finals).hasSize(1);
    return finals.get(0);
  }
}
