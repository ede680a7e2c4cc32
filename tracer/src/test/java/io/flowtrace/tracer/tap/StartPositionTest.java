package io.flowtrace.tracer.tap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class StartPositionTest {

  @Test
  void parsesLatestEarliestAndInstantsWithAnOffset() {
    assertThat(StartPosition.parse("latest")).isSameAs(StartPosition.LATEST);
    assertThat(StartPosition.parse(" EARLIEST ")).isSameAs(StartPosition.EARLIEST);
    assertThat(StartPosition.parse("2026-11-25T14:00:00Z"))
        .isEqualTo(StartPosition.at(Instant.parse("2026-11-25T14:00:00Z")));
    assertThat(StartPosition.parse("2026-11-25T15:00:00.250+01:00"))
        .isEqualTo(StartPosition.at(Instant.parse("2026-11-25T14:00:00.250Z")))
        .hasToString("TIMESTAMP(2026-11-25T14:00:00.250Z)");
  }

  @Test
  void anythingElseIsRejectedSayingWhatIsAccepted() {
    assertThatThrownBy(() -> StartPosition.parse("2026-11-25 14:00"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("'2026-11-25 14:00' is not latest, earliest or an ISO-8601 instant such as 2026-11-25T14:00:00Z");
  }
}
