package io.flowtrace.sidecar.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.check.ViolationKind;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The live page's memory: bounded, failures kept apart from a flood of passes, amendments replace. */
class LiveVerdictsTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  static Verdict verdict(String orderId, VerdictStatus status) {
    List<Violation> violations = status == VerdictStatus.FAILED
        ? List.of(Violation.builder(ViolationKind.MISSING_ENRICHMENT, "order-requested").field("userId")
            .message("orders.requested lacks 'userId'").build())
        : List.of();
    return new Verdict("order-creation", Map.of("orderId", orderId), status, violations,
        List.of("4bf92f3577b34da6a3ce929d0e0e4736"), 1_764_000_000_000_000_000L, 1_764_000_001_000_000_000L, 0,
        "complete", List.of());
  }

  @Test
  void failedVerdictsOutliveAFloodOfPassesAndComeFirst() {
    LiveVerdicts live = new LiveVerdicts(List.of(), 3);
    live.add(null, verdict("bad-1", VerdictStatus.FAILED));
    for (int i = 0; i < 10; i++) {
      live.add(null, verdict("ok-" + i, VerdictStatus.PASSED));
    }
    JsonNode page = JSON.readTree(live.verdictsJson(3));
    List<String> keys = new ArrayList<>();
    page.path("verdicts").forEach(v -> keys.add(v.path("keys").path("orderId").asString()));
    assertThat(keys).containsExactly("bad-1", "ok-9", "ok-8", "ok-7");
    assertThat(live.held()).isEqualTo(4);
    assertThat(page.path("summary").path("instances").asInt()).isEqualTo(11);
    assertThat(page.path("summary").path("byKind").path("MISSING_ENRICHMENT").asInt()).isEqualTo(1);
    assertThat(page.path("summary").path("byFlow").path("order-creation").path("failed").asInt()).isEqualTo(1);
    long id = page.path("verdicts").get(0).path("id").asLong();
    assertThat(JSON.readTree(live.detailJson(id)).path("violations").get(0).path("field").asString()).isEqualTo("userId");
    assertThat(live.detailJson(999)).isNull();
  }

  @Test
  void anAmendmentReplacesItsVerdictAndItsCounts() {
    LiveVerdicts live = new LiveVerdicts(List.of(), 500);
    Verdict first = verdict("ord-1", VerdictStatus.FAILED);
    live.add(null, first);
    live.add(first, verdict("ord-1", VerdictStatus.PASSED).withRevision(1));
    JsonNode page = JSON.readTree(live.verdictsJson(3));
    assertThat(page.path("verdicts")).hasSize(1);
    assertThat(page.path("verdicts").get(0).path("status").asString()).isEqualTo("PASSED");
    assertThat(page.path("verdicts").get(0).path("rev").asInt()).isEqualTo(1);
    assertThat(page.path("summary").path("failed").asInt()).isZero();
    assertThat(page.path("summary").path("passed").asInt()).isEqualTo(1);
    assertThat(page.path("summary").path("byKind").size()).isZero();
    assertThat(live.held()).isEqualTo(1);
  }
}
