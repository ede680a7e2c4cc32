package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.verifier.check.ViolationKind;
import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One topic carries every step of an order (an event-sourced aggregate's topic): the draft declares
 * one event per kind of record, selected by the field or header that names it, so that a step that
 * did not happen is missing rather than stood in for by another kind's record. A topic whose kinds
 * are outcomes (one per order: approved or declined) stays one event, its kinds read by conditions.
 */
class InferEventKindsTest {

  private static final long T0 = 1_796_893_200_000L;

  @TempDir Path work;

  @Test
  void aTopicThatCarriesEveryStepOfAnOrderIsOneEventPerKind() throws Exception {
    Path recording = orders(new KcatLines(new Random(3)), false, -1).write(work.resolve("rec"));
    Path drafts = work.resolve("drafts");

    Inference.builder().build().infer(recording).write(drafts);
    String yaml = draft(drafts);
    List<FlowSpec> flows = new FlowSpecLoader().load(drafts);

    assertThat(yaml).contains("where: {'type': 'OrderCreated'}", "where: {'type': 'OrderPaid'}",
        "where: {'type': 'OrderShipped'}", "where: {'type': 'OrderCancelled'}", "choice: order-created-outcome");
    assertThat(yaml).contains("- id: order_paid", "after: order-created");
    assertThat(Replays.run(flows, recording).finals()).as(yaml).hasSize(120)
        .allSatisfy(v -> assertThat(v.violations()).as(yaml + v).isEmpty());

    Path unpaid = orders(new KcatLines(new Random(4)), false, 7).write(work.resolve("unpaid"));
    List<Verdict> verdicts = Replays.run(flows, unpaid).finals();
    assertThat(verdicts).filteredOn(v -> !v.violations().isEmpty()).singleElement()
        .satisfies(v -> assertThat(v.violations()).anySatisfy(x -> {
          assertThat(x.kind()).isEqualTo(ViolationKind.MISSING_STAGE);
          assertThat(x.stage()).isEqualTo("order-paid");
        }));
  }

  @Test
  void kindsNamedByAHeaderAreSelectedByIt() throws Exception {
    Path recording = orders(new KcatLines(new Random(5)), true, -1).write(work.resolve("rec"));
    Path drafts = work.resolve("drafts");

    Inference.builder().build().infer(recording).write(drafts);
    String yaml = draft(drafts);

    assertThat(yaml).contains("headers: {'__TypeId__': 'com.shop.events.OrderPaid'}", "- id: order_paid");
    assertThat(Replays.run(new FlowSpecLoader().load(drafts), recording).finals()).as(yaml).hasSize(120)
        .allSatisfy(v -> assertThat(v.violations()).as(yaml + v).isEmpty());
  }

  @Test
  void aTopicWhoseKindsAreOutcomesStaysOneEvent() throws Exception {
    KcatLines kcat = new KcatLines(new Random(6));
    for (int i = 0; i < 120; i++) {
      String id = String.format(Locale.ROOT, "L-%05d", i);
      String trace = kcat.trace();
      long start = T0 + i * 900L;
      kcat.record("loans.applied", start, trace, id, Map.of("loanId", id, "amount", 1000 + i));
      kcat.record("loans.decided", start + 40, trace, id, Map.of("loanId", id, "type", i % 3 == 0 ? "DECLINED" : "APPROVED"));
    }
    Path drafts = work.resolve("drafts");

    Inference.builder().build().infer(kcat.write(work.resolve("rec"))).write(drafts);
    String yaml = draft(drafts);

    assertThat(yaml).contains("topic: loans.decided").doesNotContain("where:");
  }

  private static String draft(Path drafts) throws java.io.IOException {
    try (var files = Files.walk(drafts)) {
      return Files.readString(files.filter(f -> f.toString().endsWith(".flow.yaml")).findFirst().orElseThrow());
    }
  }

  /** 120 orders: created, paid (but the {@code unpaid}-th), shipped; every fifth cancelled after it was created. */
  private static KcatLines orders(KcatLines kcat, boolean typeInHeader, int unpaid) {
    for (int i = 0; i < 120; i++) {
      String id = String.format(Locale.ROOT, "O-%05d", i);
      String trace = kcat.trace();
      long start = T0 + i * 900L;
      event(kcat, typeInHeader, start, trace, id, "OrderCreated", Map.of("items", 1 + i % 4));
      if (i % 5 == 4) {
        event(kcat, typeInHeader, start + 120, trace, id, "OrderCancelled", Map.of("reason", "customer"));
        continue;
      }
      if (i != unpaid) {
        event(kcat, typeInHeader, start + 60, trace, id, "OrderPaid", Map.of("amount", 10 + i % 7));
      }
      event(kcat, typeInHeader, start + 400, trace, id, "OrderShipped", Map.of("carrier", "C-" + i % 3));
    }
    return kcat;
  }

  private static void event(KcatLines kcat, boolean typeInHeader, long ts, String trace, String id, String type,
      Map<String, Object> fields) {
    Map<String, Object> payload = new java.util.LinkedHashMap<>(fields);
    payload.put("orderId", id);
    if (typeInHeader) {
      kcat.record("orders", ts, trace, id, "__TypeId__", "com.shop.events." + type, payload);
    } else {
      payload.put("type", type);
      kcat.record("orders", ts, trace, id, payload);
    }
  }
}
