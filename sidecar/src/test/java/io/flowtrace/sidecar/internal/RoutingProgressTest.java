package io.flowtrace.sidecar.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class RoutingProgressTest {

  private static final TopicPartition A0 = new TopicPartition("orders.created", 0);
  private static final TopicPartition A1 = new TopicPartition("orders.created", 1);
  private static final TopicPartition B0 = new TopicPartition("otlp_spans", 0);

  private final RoutingProgress progress = new RoutingProgress();

  @Test
  void withoutMarksNothingIsHeldBack() {
    assertThat(progress.routedUpToNanos(0)).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void theLeastPartitionRoutedHoldsEveryEngine() {
    progress.report(500, List.of(A0, A1), 0);
    progress.report(300, List.of(B0), 0);

    assertThat(progress.routedUpToNanos(10)).isEqualTo(300);
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
    assertThat(progress.apply(RoutingProgress.encode(42, List.of(A0, new TopicPartition("a.b-c_d", 11))), 0)).isTrue();
    assertThat(progress.routedUpToNanos(0)).isEqualTo(42);

    assertThat(progress.apply("forty-two orders.created/0".getBytes(StandardCharsets.UTF_8), 0)).isFalse();
    assertThat(progress.apply("7 orders.created".getBytes(StandardCharsets.UTF_8), 0)).isFalse();
    assertThat(progress.apply(null, 0)).isFalse();
    assertThat(progress.routedUpToNanos(0)).isEqualTo(42);
  }
}
