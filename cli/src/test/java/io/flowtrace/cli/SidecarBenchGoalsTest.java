package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SidecarBenchGoalsTest {

  @Test
  void aDrainSaysWhetherItsWarmRateAndItsHeapMeetTheGoals() {
    assertThat(SidecarBenchCommand.drainGoals(2_517.4, 1_005L << 20)).isEqualTo(
        "goals: 2,517 flows/s sustained once warm, no load generator beside (≥ 2,000: met), peak heap used 1,005 MiB"
            + " (≤ 1,024 MiB: met)");
    assertThat(SidecarBenchCommand.drainGoals(1_999, (1L << 30) + (1 << 20))).contains("(≥ 2,000: not met)")
        .endsWith("1,025 MiB (≤ 1,024 MiB: not met)");
  }

  @Test
  void aLiveRunMeetsTheRateGoalOnlyAtTwoThousandFlowsASecondKeptUpWith() {
    assertThat(SidecarBenchCommand.liveGoals(700, true, 86.94, 913L << 20)).isEqualTo(
        "goals: 700 flows/s kept up with, the load generator beside (≥ 2,000: not met), verdict p99 after the warm-up"
            + " 86.9 ms (≤ 50 ms: not met), peak heap used with the load generator 913 MiB (≤ 1,024 MiB: met)");
    assertThat(SidecarBenchCommand.liveGoals(2_000, true, 50.0, 900L << 20))
        .contains("2,000 flows/s kept up with, the load generator beside (≥ 2,000: met)")
        .contains("50.0 ms (≤ 50 ms: met)");
    assertThat(SidecarBenchCommand.liveGoals(2_500, false, 20, 900L << 20))
        .contains("2,500 flows/s not kept up with, the load generator beside (≥ 2,000: not met)");
  }
}
