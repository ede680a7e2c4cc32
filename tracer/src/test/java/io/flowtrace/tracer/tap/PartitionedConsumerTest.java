package io.flowtrace.tracer.tap;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The loop's bookkeeping, driven round by round on the test thread over Kafka's own {@link
 * MockConsumer}: pausing a partition whose records were refused, which offsets it commits, and what
 * a revocation drops. (The same against a real broker: {@link PartitionedConsumerIT}.)
 */
class PartitionedConsumerTest {

  private static final String TOPIC = "orders.created";
  private static final TopicPartition P0 = new TopicPartition(TOPIC, 0);
  private static final TopicPartition P1 = new TopicPartition(TOPIC, 1);
  private static final Node LEADER = new Node(1, "127.0.0.1", 9092);
  private static final Duration ROUND = Duration.ofMillis(1);

  /** Every commit made, in order (MockConsumer's own view hides offsets of partitions not assigned). */
  private final List<Map<TopicPartition, OffsetAndMetadata>> commits = new ArrayList<>();
  private final MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest") {
    @Override
    public synchronized void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets) {
      commits.add(Map.copyOf(offsets));
      super.commitSync(offsets);
    }
  };
  private final Handler handler = new Handler();
  private PartitionedConsumer loop;

  @BeforeEach
  void assignBothPartitions() {
    consumer.updatePartitions(TOPIC, List.of(
        new PartitionInfo(TOPIC, 0, LEADER, new Node[] {LEADER}, new Node[] {LEADER}),
        new PartitionInfo(TOPIC, 1, LEADER, new Node[] {LEADER}, new Node[] {LEADER})));
    consumer.updateBeginningOffsets(Map.of(P0, 0L, P1, 0L));
    loop = PartitionedConsumer.builder(consumer, List.of(TOPIC), handler)
        .name("test loop")
        .startPosition(StartPosition.EARLIEST)
        .build();
    rebalanceTo(P0, P1);
  }

  @Test
  void aRefusedPartitionIsPausedOfferedTheSameRecordsAgainAndResumedOnceTheyAreTaken() {
    handler.room = false;
    add(P0, 0, 1);
    add(P1, 0);
    loop.pollOnce(ROUND);
    assertThat(consumer.paused()).containsExactlyInAnyOrder(P0, P1);
    assertThat(loop.refusals()).isEqualTo(2);

    add(P0, 2);
    loop.pollOnce(ROUND);
    assertThat(handler.offered).as("the same records each time, nothing newer meanwhile")
        .containsExactlyInAnyOrder("orders.created[0]@0,1", "orders.created[1]@0", "orders.created[0]@0,1",
            "orders.created[1]@0");

    handler.room = true;
    loop.pollOnce(ROUND);
    assertThat(consumer.paused()).isEmpty();
    loop.pollOnce(ROUND);
    assertThat(handler.taken).containsExactlyInAnyOrder("orders.created[0]@0,1", "orders.created[1]@0",
        "orders.created[0]@2");
    assertThat(handler.taken).endsWith("orders.created[0]@2");
  }

  @Test
  void commitsTheHighestOffsetAskedForOfPartitionsItOwnsOnly() {
    TopicPartition notOurs = new TopicPartition("emails.requested", 0);
    loop.commit(Map.of(P0, new OffsetAndMetadata(5), notOurs, new OffsetAndMetadata(9)));
    loop.commit(Map.of(P0, new OffsetAndMetadata(3)));
    loop.pollOnce(ROUND);

    assertThat(commits).containsExactly(Map.of(P0, new OffsetAndMetadata(5)));
    assertThat(loop.commits()).isEqualTo(1);
  }

  @Test
  void beforeAPartitionIsRevokedWhatWasAskedIsCommittedAndAfterwardsNothingMore() {
    consumer.schedulePollTask(() -> {
      loop.commit(Map.of(P1, new OffsetAndMetadata(4))); // asked for while the poll runs ...
      consumer.rebalance(List.of(P0)); // ... and committed before P1 goes
    });
    loop.pollOnce(ROUND);
    assertThat(commits).containsExactly(Map.of(P1, new OffsetAndMetadata(4)));
    assertThat(handler.revoked).containsExactly(P1);

    loop.commit(Map.of(P0, new OffsetAndMetadata(3), P1, new OffsetAndMetadata(7)));
    loop.pollOnce(ROUND);
    assertThat(commits).as("P1 no longer ours").endsWith(Map.of(P0, new OffsetAndMetadata(3)));
  }

  @Test
  void recordsWaitingForARevokedPartitionAreDroppedNotHandedOver() {
    handler.room = false;
    add(P0, 0);
    add(P1, 0);
    loop.pollOnce(ROUND);
    rebalanceTo(P0);
    handler.room = true;
    loop.pollOnce(ROUND);

    assertThat(handler.taken).containsExactly("orders.created[0]@0");
    assertThat(loop.assignment()).containsExactly(P0);
  }

  @Test
  void aHandlerThatThrowsSkipsThoseRecordsAndTheLoopGoesOn() {
    handler.failOn = P0;
    add(P0, 0, 1);
    add(P1, 0);
    loop.pollOnce(ROUND);
    handler.failOn = null;
    add(P0, 2);
    loop.pollOnce(ROUND);

    assertThat(loop.skipped()).isEqualTo(2);
    assertThat(handler.taken).containsExactly("orders.created[1]@0", "orders.created[0]@2");
  }

  @Test
  void aPositionPastTheEndOfTheLogRestartsThePartitionAtItsBeginningAndSaysSo() {
    consumer.updateEndOffsets(Map.of(P0, 2L, P1, 0L));
    consumer.seek(P0, 4362);
    consumer.setPollException(new OffsetOutOfRangeException("re-created", Map.of(P0, 4362L)));
    loop.pollOnce(ROUND);
    assertThat(handler.restarted).containsExactly("orders.created[0] at 4362, log 0..2");
    assertThat(consumer.position(P0)).isZero();

    add(P0, 0, 1);
    loop.pollOnce(ROUND);
    assertThat(handler.taken).containsExactly("orders.created[0]@0,1");
  }

  @Test
  void aPartitionOwnedBeforeWhoseCommittedOffsetIsGoneStartsAtItsBeginningNotItsEnd() {
    MockConsumer<byte[], byte[]> group = new MockConsumer<>("none");
    group.updatePartitions(TOPIC, consumer.partitionsFor(TOPIC));
    group.updateBeginningOffsets(Map.of(P0, 0L, P1, 0L));
    group.updateEndOffsets(Map.of(P0, 5L, P1, 5L));
    loop = PartitionedConsumer.builder(group, List.of(TOPIC), handler).startPosition(StartPosition.LATEST)
        .resumeFromCommitted(true).rememberPositions(false).build();
    group.schedulePollTask(() -> group.rebalance(List.of(P0, P1)));
    loop.pollOnce(ROUND);
    assertThat(group.position(P1)).as("fresh: latest").isEqualTo(5);
    group.schedulePollTask(() -> group.rebalance(List.of(P0)));
    loop.pollOnce(ROUND);
    group.updateEndOffsets(Map.of(P0, 5L, P1, 7L));

    group.schedulePollTask(() -> group.rebalance(List.of(P0, P1)));
    loop.pollOnce(ROUND);

    assertThat(loop.assignment()).containsExactlyInAnyOrder(P0, P1);
    assertThat(group.position(P1)).as("ours before, no committed offset now: its topic was re-created").isZero();
  }

  // ---------------------------------------------------------------------------------------------

  /** Makes {@code partitions} the assignment, in a poll, as the group coordinator would. */
  private void rebalanceTo(TopicPartition... partitions) {
    consumer.schedulePollTask(() -> consumer.rebalance(List.of(partitions)));
    loop.pollOnce(ROUND);
    assertThat(loop.assignment()).containsExactlyInAnyOrder(partitions);
  }

  private void add(TopicPartition tp, long... offsets) {
    for (long offset : offsets) {
      consumer.addRecord(new ConsumerRecord<>(tp.topic(), tp.partition(), offset, null,
          ("v" + offset).getBytes(StandardCharsets.UTF_8)));
    }
  }

  /** Records what it was offered and took, as {@code topic[partition]@offsets}. */
  private static final class Handler implements PartitionedConsumer.Handler {
    boolean room = true;
    TopicPartition failOn;
    final List<String> offered = new ArrayList<>();
    final List<String> taken = new ArrayList<>();
    final List<TopicPartition> revoked = new ArrayList<>();
    final List<String> restarted = new ArrayList<>();

    @Override
    public void restarted(TopicPartition partition, long position, long logStart, long logEnd) {
      restarted.add(partition.topic() + "[" + partition.partition() + "] at " + position + ", log " + logStart + ".."
          + logEnd);
    }

    @Override
    public boolean offer(TopicPartition partition, List<ConsumerRecord<byte[], byte[]>> records) {
      if (partition.equals(failOn)) {
        throw new IllegalStateException("no such order");
      }
      String where = partition.topic() + "[" + partition.partition() + "]@"
          + String.join(",", records.stream().map(r -> Long.toString(r.offset())).toList());
      if (!room) {
        offered.add(where);
        return false;
      }
      taken.add(where);
      return true;
    }

    @Override
    public void revoked(Collection<TopicPartition> partitions) {
      revoked.addAll(partitions);
    }
  }
}
