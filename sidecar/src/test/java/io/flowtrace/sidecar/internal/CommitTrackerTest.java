package io.flowtrace.sidecar.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class CommitTrackerTest {

  private static final TopicPartition A = new TopicPartition("orders.created", 0);
  private static final TopicPartition B = new TopicPartition("orders.created", 1);

  @Test
  void anOffsetIsReleasedOnlyOnceItsMessagesWereHeldLongEnough() {
    CommitTracker tracker = new CommitTracker(1_000);
    tracker.consumed(Map.of(A, 10L), 100);
    tracker.consumed(Map.of(A, 20L, B, 5L), 600);

    assertThat(tracker.releasable(1_099)).isEmpty();
    assertThat(tracker.releasable(1_100)).containsExactly(Map.entry(A, 10L));
    assertThat(tracker.releasable(1_500)).isEmpty();
    assertThat(tracker.releasable(1_600)).containsOnly(Map.entry(A, 20L), Map.entry(B, 5L));
    assertThat(tracker.heldMarks()).isZero();
  }

  @Test
  void aDrainingShutdownReleasesEverythingConsumed() {
    CommitTracker tracker = new CommitTracker(60_000);
    tracker.consumed(Map.of(A, 10L), 100);
    tracker.consumed(Map.of(A, 12L, B, 3L), 200);

    assertThat(tracker.all()).containsOnly(Map.entry(A, 12L), Map.entry(B, 3L));
    assertThat(tracker.releasable(Long.MAX_VALUE)).isEmpty();
  }

  @Test
  void revokedPartitionsAreForgotten() {
    CommitTracker tracker = new CommitTracker(10);
    tracker.consumed(Map.of(A, 10L, B, 7L), 0);
    tracker.revoked(List.of(A));

    assertThat(tracker.releasable(100)).containsOnly(Map.entry(B, 7L));
  }
}
