package io.flowtrace.cli.synth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticBurstsTest {

  private static final Instant START = Instant.parse("2026-12-03T00:00:00Z");

  @Test
  void theLastSecondsOfEachPeriodStartFlowsFactorTimesAsOften(@TempDir Path dir) throws IOException {
    Manifest m = SyntheticOrderFlows.correct(200).start(START).interArrival(Duration.ofMillis(100))
        .bursts(Duration.ofSeconds(10), Duration.ofSeconds(2), 3).build().write(dir);

    List<Long> offsets = m.flows().stream().map(f -> Duration.between(START, f.start()).toMillis()).toList();
    assertThat(offsets).isSorted();
    long calmInFirstPeriod = offsets.stream().filter(ms -> ms < 8_000).count();
    long burstInFirstPeriod = offsets.stream().filter(ms -> ms >= 8_000 && ms < 10_000).count();
    assertThat(calmInFirstPeriod).isEqualTo(80);
    assertThat(burstInFirstPeriod).isEqualTo(60);
    assertThat(offsets.get(140)).as("the second period's first flow").isBetween(10_000L, 10_025L);
  }

  @Test
  void withoutBurstsFlowsStartOneInterArrivalApart(@TempDir Path dir) throws IOException {
    Manifest m = SyntheticOrderFlows.correct(50).start(START).interArrival(Duration.ofMillis(100)).build().write(dir);

    assertThat(Duration.between(START, m.flows().get(49).start()).toMillis()).isBetween(4_900L, 4_925L);
  }

  @Test
  void aBurstAsLongAsItsPeriodIsRefused() {
    assertThatThrownBy(() -> SyntheticOrderFlows.builder().bursts(Duration.ofSeconds(5), Duration.ofSeconds(5), 2))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("every PT5S, length PT5S, factor 2");
  }
}
