package io.flowtrace.verifier.report;

import static org.assertj.core.api.Assertions.assertThat;

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
}
