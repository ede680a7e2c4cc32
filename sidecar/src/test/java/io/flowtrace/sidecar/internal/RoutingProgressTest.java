package io.flowtrace.sidecar.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class RoutingProgressTest {

  private static final TopicPartition A0 = new TopicPartition("orders.created", 0);
  private static final TopicPartition A1 = new TopicPartition("orders.created", 1);
  private static final TopicPartition B0 = new TopicPartition("otlp_spans", 0);

  private static final long SETTLE = RoutingProgress.SETTLE_MILLIS;

  private final RoutingProgress progress = new RoutingProgress();

  @Test
  void untilRoutersHaveBeenHeardForASecondNothingIsJudged() {
    assertThat(progress.routedUpToNanos(0)).as("no router heard yet").isEqualTo(Long.MIN_VALUE);
    progress.report(500, List.of(A0), 100);
    assertThat(progress.routedUpToNanos(100 + SETTLE - 1)).as("other routers may not have marked yet").isEqualTo(Long.MIN_VALUE);

    assertThat(progress.routedUpToNanos(100 + SETTLE)).isEqualTo(500);
  }

  @Test
  void markedRoutersOwningNothingHoldNothingBack() {
    progress.report(500, List.of(), 0);

    assertThat(progress.routedUpToNanos(SETTLE)).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void theLeastPartitionRoutedHoldsEveryEngine() {
    progress.report(500, List.of(A0, A1), 0);
    progress.report(300, List.of(B0), 0);

    assertThat(progress.routedUpToNanos(SETTLE)).isEqualTo(300);
  }

  @Test
  void aDeadRoutersPartitionsHoldUntilTheirNewOwnerReportsThem() {
    progress.report(300, List.of(A0), 0); // the router that dies
    progress.report(900, List.of(A1, B0), 0);
    progress.report(1_000, List.of(A1, B0), 2_000);
    assertThat(progress.routedUpToNanos(2_000)).as("the dead router's last word").isEqualTo(300);

    progress.report(1_100, List.of(A0, A1, B0), 8_000);
    assertThat(progress.routedUpToNanos(8_000)).isEqualTo(1_100);
  }

  @Test
  void aPartitionNoRouterReportsAnyMoreIsForgottenAfterAWhile() {
    progress.report(300, List.of(A0), 0);
    progress.report(900, List.of(A1), RoutingProgress.FORGET_MILLIS);

    assertThat(progress.routedUpToNanos(RoutingProgress.FORGET_MILLIS + 1)).isEqualTo(900);
  }

  @Test
  void aMarkRoundTripsAndGarbageIsNoMark() {
    assertThat(progress.apply("r1", RoutingProgress.encode(42, List.of(A0, new TopicPartition("a.b-c_d", 11)), Map.of(3, 17L)),
        0)).isTrue();
    assertThat(progress.routedUpToNanos(SETTLE, (partition, offset) -> partition == 3 && offset == 17)).isEqualTo(42);

    assertThat(progress.apply("r1", "forty-two orders.created/0".getBytes(StandardCharsets.UTF_8), 0)).isFalse();
    assertThat(progress.apply("r1", "7 orders.created".getBytes(StandardCharsets.UTF_8), 0)).isFalse();
    assertThat(progress.apply("r1", "7 orders.created/0 3=x".getBytes(StandardCharsets.UTF_8), 0)).isFalse();
    assertThat(progress.apply("r1", null, 0)).isFalse();
    assertThat(progress.routedUpToNanos(SETTLE)).isEqualTo(42);
  }

  @Test
  void aMarkCountsOnlyOnceTheEngineHasReadWhatItsRouterWroteToTheRepartitionTopic() {
    Map<Integer, Long> processed = new HashMap<>(Map.of(0, 10L, 1, 5L));
    RoutingProgress.Processed upTo = (partition, offset) -> processed.getOrDefault(partition, 0L) >= offset;
    progress.apply("r1", RoutingProgress.encode(300, List.of(A0), Map.of(0, 10L)), 0);
    progress.apply("r1", RoutingProgress.encode(700, List.of(A0), Map.of(0, 12L, 1, 5L)), 0);
    progress.apply("r2", RoutingProgress.encode(900, List.of(B0), Map.of(1, 8L)), 0);

    assertThat(progress.routedUpToNanos(SETTLE, upTo)).as("what r2 routed of B0 is not read yet").isEqualTo(Long.MIN_VALUE);

    processed.put(1, 8L);
    assertThat(progress.routedUpToNanos(SETTLE, upTo)).as("r1's later mark waits for offset 12 of partition 0")
        .isEqualTo(300);

    processed.put(0, 12L);
    assertThat(progress.routedUpToNanos(SETTLE, upTo)).isEqualTo(700);
  }

  @Test
  void aPartitionWhoseOnlyMarkIsNotReadUpToYetHoldsEverything() {
    progress.apply("r1", RoutingProgress.encode(300, List.of(A0), Map.of(0, 10L)), 0);

    assertThat(progress.routedUpToNanos(SETTLE, (partition, offset) -> false)).isEqualTo(Long.MIN_VALUE);
    assertThat(progress.routedUpToNanos(SETTLE, (partition, offset) -> true)).isEqualTo(300);
  }

  @Test
  void whatHoldsTheEnginesIsSaidForTheLog() {
    assertThat(progress.holding(0, 2_000)).contains("marks_heard=0");

    progress.report(1_000_000L, List.of(A0), 0); // routed up to 1 ms after the epoch
    assertThat(progress.holding(10_000, 2_000)).contains("partition=orders.created-0", "routed_up_to_ms_ago=9999");
    progress.report(9_000_000_000L, List.of(A0), 9_000);
    assertThat(progress.holding(10_000, 2_000)).as("1 s behind: nothing to say").isNull();
  }
}
