package io.flowtrace.verifier.report;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.check.ViolationKind;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VerdictTest {

  private static Verdict verdict(Map<String, String> keys, List<String> traces, String firstAt) {
    List<TimelineEntry> timeline = firstAt == null ? List.of()
        : List.of(new TimelineEntry("delivery-requested", "requested", firstAt, 0, null, null));
    return new Verdict("delivery", keys, VerdictStatus.FAILED, List.of(), traces, 0, 0, 0, "complete", timeline);
  }

  @Test
  void anInstanceIsKnownByItsFlowAndKeys() {
    assertThat(verdict(Map.of("deliveryId", "D-1"), List.of("abc"), "t[0]@1").instanceKey())
        .isEqualTo("delivery|deliveryId=D-1");
  }

  @Test
  void withoutKeysByItsFirstTraceAndWithoutEitherByItsFirstRecordsCoordinates() {
    assertThat(verdict(Map.of(), List.of("abc"), "t[0]@1").instanceKey()).isEqualTo("delivery|trace=abc");
    assertThat(verdict(Map.of(), List.of(), "deliveries.requested[2]@41").instanceKey())
        .isEqualTo("delivery|at=deliveries.requested[2]@41")
        .isNotEqualTo(verdict(Map.of(), List.of(), "deliveries.requested[2]@42").instanceKey());
  }

  /**
   * A live trial's restarted sidecar published a trip's ORDER_VIOLATION four times: each span that
   * came refined the clocks' bound ("at least 2.245 s before", then "2.246 s") and made a revision.
   */
  @Test
  void theSameFindingsInOtherWordsAreNotANewOutcomeButTakeTheLaterWords() {
    Verdict first = failed(2, order("at least 2.245 s before"), "complete");
    Verdict refined = failed(0, order("2.371 s before pricing received"), "terminal stage seen");
    Verdict moved = failed(0, Violation.builder(ViolationKind.ORDER_VIOLATION, "notified").message("m").build(), "x");

    assertThat(refined.sameOutcome(first)).isFalse();
    assertThat(refined.sameFindings(first)).isTrue();
    assertThat(moved.sameFindings(first)).isFalse();
    Verdict kept = first.withFindingsOf(refined);
    assertThat(kept.revision()).isEqualTo(2);
    assertThat(kept.reason()).isEqualTo("complete");
    assertThat(kept.violations()).singleElement().satisfies(v -> assertThat(v.message())
        .isEqualTo("2.371 s before pricing received"));
  }

  private static Violation order(String message) {
    return Violation.builder(ViolationKind.ORDER_VIOLATION, "priced").event("trips_priced").message(message).build();
  }

  private static Verdict failed(int revision, Violation v, String reason) {
    return new Verdict("trips", Map.of("tripId", "T-1"), VerdictStatus.FAILED, List.of(v), List.of("abc"), 0, 0,
        revision, reason, List.of());
  }
}
