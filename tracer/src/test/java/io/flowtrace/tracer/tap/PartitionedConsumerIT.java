package io.flowtrace.tracer.tap;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.kafka.testkit.KafkaBroker;
import io.flowtrace.tracer.testing.Await;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The one poll loop against a real broker: what it hands over, what it skips, what it commits, how
 * it holds back for a handler without room, and what it does with work of a partition taken away.
 */
class PartitionedConsumerIT {

  private static final Duration ASSIGNMENT_TIMEOUT = Duration.ofSeconds(30);

  private static KafkaBroker broker;
  private static KafkaProducer<byte[], byte[]> producer;
  private static Admin admin;

  private final List<PartitionedConsumer> loops = new ArrayList<>();

  @BeforeAll
  static void startBroker() {
    broker = KafkaBroker.start();
    producer = broker.newProducer(Map.of());
    admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
  }

  @AfterAll
  static void stopBroker() {
    if (producer != null) producer.close(Duration.ofSeconds(5));
    if (admin != null) admin.close(Duration.ofSeconds(5));
    if (broker != null) broker.close();
  }

  @AfterEach
  void closeLoops() {
    loops.forEach(PartitionedConsumer::close);
  }

  @Test
  void anUnreadableRecordIsSkippedNamingWhereItIsAndTheStreamGoesOn() throws Exception {
    String topic = topic();
    broker.createTopic(topic, 1);
    send(topic, 0, 3, i -> i == 1 ? "POISON-PILL" : "ok-" + i);
    broker.corruptStoredBytes(topic, 0, bytes("POISON-PILL"));
    Recorder handler = new Recorder();

    PartitionedConsumer loop = start(topic, "skip-" + UUID.randomUUID(), handler, b -> b.startPosition(StartPosition.EARLIEST));

    Await.until(() -> handler.taken.size() >= 2, () -> handler.toString());
    assertThat(handler.offsets(new TopicPartition(topic, 0))).containsExactly(0L, 2L);
    assertThat(handler.skipped).singleElement()
        .satisfies(skip -> assertThat(skip.coordinates()).isEqualTo(topic + "[0]@1"))
        .satisfies(skip -> assertThat(skip.reason()).isNotBlank());
    assertThat(loop.skipped()).isEqualTo(1);
    assertThat(loop.isRunning()).isTrue();
  }

  @Test
  void aRebalanceThatFailsInsideKafkaClientsIsJoinedAgainAndTheStreamGoesOn() throws Exception {
    String topic = topic();
    broker.createTopic(topic, 2);
    send(topic, 0, 2, i -> "p0-" + i);
    send(topic, 1, 2, i -> "p1-" + i);
    Recorder handler = new Recorder();
    FailingAssignor.failuresLeft.set(3);

    PartitionedConsumer loop = start(topic, "assignor-" + UUID.randomUUID(), handler,
        b -> b.startPosition(StartPosition.EARLIEST),
        ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, FailingAssignor.class.getName());

    Await.until(() -> handler.taken.size() >= 4, () -> handler + ", assignments left to fail "
        + FailingAssignor.failuresLeft.get() + ", failure " + loop.failure());
    assertThat(FailingAssignor.failuresLeft.get()).as("every planned failure happened").isNotPositive();
    assertThat(loop.errors()).isGreaterThanOrEqualTo(3);
    assertThat(loop.isRunning()).isTrue();
    assertThat(loop.failure()).isNull();
  }

  @Test
  void aKafkaClientsErrorThatPersistsStopsTheLoopAndSaysWhat() throws Exception {
    String topic = topic();
    broker.createTopic(topic, 1);
    FailingAssignor.failuresLeft.set(Integer.MAX_VALUE);

    PartitionedConsumer loop = start(topic, "assignor-" + UUID.randomUUID(), new Recorder(), b -> b,
        ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, FailingAssignor.class.getName());

    Await.until(Duration.ofSeconds(120), loop::stopped, () -> "errors " + loop.errors());
    assertThat(loop.failure()).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("No more unfilled consumers");
    assertThat(loop.errors()).isEqualTo(PartitionedConsumer.CLIENT_FAILURES_BEFORE_STOPPING);
  }

  @Test
  void theHandlerHearsOfAnAssignmentBeforeTheLoopSaysItIsReady() throws Exception {
    String topic = topic();
    broker.createTopic(topic, 3);
    java.util.concurrent.atomic.AtomicReference<PartitionedConsumer> self = new java.util.concurrent.atomic.AtomicReference<>();
    List<String> seenWhenTold = new CopyOnWriteArrayList<>();
    Recorder handler = new Recorder() {
      @Override
      public void assigned(Collection<TopicPartition> partitions) {
        PartitionedConsumer loop = self.get();
        seenWhenTold.add("ready=" + loop.ready() + " owned=" + loop.assignment().containsAll(partitions));
      }
    };
    Map<String, Object> p = new HashMap<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
        ConsumerConfig.GROUP_ID_CONFIG, "told-first-" + UUID.randomUUID(), ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false));
    PartitionedConsumer loop = PartitionedConsumer.builder(
            new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer()), List.of(topic), handler)
        .pollTimeout(Duration.ofMillis(100)).build();
    loops.add(loop);
    self.set(loop);
    loop.start("told-first");

    assertThat(loop.awaitAssignment(owned -> owned.size() == 3, ASSIGNMENT_TIMEOUT)).isTrue();
    assertThat(seenWhenTold).as("what the handler saw of the loop when told of its partitions")
        .isNotEmpty().containsOnly("ready=false owned=false");
  }

  @Test
  void commitsOnlyTheOffsetsHandedToItAndOnlyOfPartitionsItOwns() throws Exception {
    String topic = topic();
    broker.createTopic(topic, 2);
    send(topic, 0, 2, i -> "p0-" + i);
    send(topic, 1, 2, i -> "p1-" + i);
    String group = "partitioned-it-" + UUID.randomUUID();
    Recorder handler = new Recorder();
    PartitionedConsumer loop = start(topic, group, handler, b -> b.startPosition(StartPosition.EARLIEST));
    Await.until(() -> handler.taken.size() >= 4, () -> handler.toString());
    assertThat(committed(group)).as("nothing committed before the caller commits").isEmpty();

    TopicPartition p0 = new TopicPartition(topic, 0);
    TopicPartition elsewhere = new TopicPartition(topic + "-not-ours", 0);
    loop.commit(Map.of(p0, new OffsetAndMetadata(1), elsewhere, new OffsetAndMetadata(7)));
    Await.until(() -> loop.commits() >= 1, () -> "commits " + loop.commits());

    assertThat(committed(group)).isEqualTo(Map.of(p0, new OffsetAndMetadata(1)));
    assertThat(loop.commitFailures()).isZero();
    loop.commit(Map.of(p0, new OffsetAndMetadata(2)));
    loop.commit(Map.of(p0, new OffsetAndMetadata(1)));
    loop.close();
    assertThat(committed(group)).as("the highest asked for, committed on close").isEqualTo(
        Map.of(p0, new OffsetAndMetadata(2)));
  }

  @Test
  void aHandlerWithoutRoomPausesThePartitionKeepsTheGroupAndLaterGetsEveryRecordOnceInOrder() throws Exception {
    String topic = topic();
    broker.createTopic(topic, 1);
    TopicPartition tp = new TopicPartition(topic, 0);
    send(topic, 0, 5, i -> "first-" + i);
    Recorder handler = new Recorder();
    handler.room = false;
    PartitionedConsumer loop = start(topic, "backpressure-" + UUID.randomUUID(), handler, b -> b.startPosition(StartPosition.EARLIEST),
        ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 2_000, ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2);

    Await.until(() -> loop.refusals() >= 3, () -> "refusals " + loop.refusals());
    send(topic, 0, 5, i -> "second-" + i);
    Thread.sleep(3_000); // longer than max.poll.interval.ms: a member that stopped polling would be out
    assertThat(handler.taken).as("nothing taken while there is no room").isEmpty();
    assertThat(handler.offered.stream().map(List::size).distinct()).as("the same records, offered again")
        .containsExactly(2);
    assertThat(loop.assignment()).containsExactly(tp);
    assertThat(handler.revoked).as("still in the group").isEmpty();

    handler.room = true;
    Await.until(() -> handler.taken.size() >= 10, () -> handler.toString());
    assertThat(handler.offsets(tp)).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L);
  }

  @Test
  void aPartitionRevokedWhileItsRecordsWaitIsNotCommittedPastWhatWasProcessed() throws Exception {
    String topic = topic();
    broker.createTopic(topic, 2);
    TopicPartition p0 = new TopicPartition(topic, 0);
    TopicPartition p1 = new TopicPartition(topic, 1);
    send(topic, 0, 4, i -> "a-" + i);
    send(topic, 1, 4, i -> "a-" + i);
    String group = "partitioned-it-" + UUID.randomUUID();
    Recorder first = new Recorder();
    PartitionedConsumer a = start(topic, group, first, b -> b.startPosition(StartPosition.EARLIEST)
        .resumeFromCommitted(true).rememberPositions(false));
    Await.until(() -> first.taken.size() >= 8, () -> first.toString());
    // The caller processed (and asks to commit) the first two records of each partition ...
    a.commit(Map.of(p0, new OffsetAndMetadata(2), p1, new OffsetAndMetadata(2)));
    Await.until(() -> a.commits() >= 1, () -> "commits " + a.commits());
    // ... and then has no room: the next records wait in the loop.
    first.room = false;
    send(topic, 0, 3, i -> "b-" + i);
    send(topic, 1, 3, i -> "b-" + i);
    Await.until(() -> first.offered.size() >= 2, () -> first.toString());

    Recorder second = new Recorder();
    PartitionedConsumer b = start(topic, group, second, x -> x.startPosition(StartPosition.EARLIEST)
        .resumeFromCommitted(true).rememberPositions(false));
    Await.until(ASSIGNMENT_TIMEOUT, () -> b.assignment().size() == 1 && a.assignment().size() == 1,
        () -> "a owns " + a.assignment() + ", b owns " + b.assignment());
    TopicPartition moved = b.assignment().iterator().next();
    TopicPartition kept = moved.equals(p0) ? p1 : p0;

    assertThat(first.revoked).containsExactly(moved);
    assertThat(committed(group)).as("the moved partition: committed up to what was processed, no further")
        .containsEntry(moved, new OffsetAndMetadata(2));
    Await.until(() -> second.taken.size() >= 5, () -> second.toString());
    assertThat(second.offsets(moved)).as("the new owner starts where the work was committed")
        .containsExactly(2L, 3L, 4L, 5L, 6L);

    first.room = true;
    Await.until(() -> first.taken.size() >= 8 + 3, () -> first.toString());
    assertThat(first.offsets(kept)).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L);
    assertThat(first.offsets(moved)).as("records of the moved partition waiting at the revocation were dropped")
        .containsExactly(0L, 1L, 2L, 3L);
  }

  // ---------------------------------------------------------------------------------------------

  /** A handler that records what it was offered and took; takes only while it has room. */
  private static class Recorder implements PartitionedConsumer.Handler {
    volatile boolean room = true;
    final List<ConsumerRecord<byte[], byte[]>> taken = new CopyOnWriteArrayList<>();
    final List<List<ConsumerRecord<byte[], byte[]>>> offered = new CopyOnWriteArrayList<>();
    final List<UnreadableRecords.Skip> skipped = new CopyOnWriteArrayList<>();
    final List<TopicPartition> revoked = new CopyOnWriteArrayList<>();

    @Override
    public boolean offer(TopicPartition partition, List<ConsumerRecord<byte[], byte[]>> records) {
      if (!room) {
        offered.add(records);
        return false;
      }
      taken.addAll(records);
      return true;
    }

    @Override
    public void skipped(UnreadableRecords.Skip skip) {
      skipped.add(skip);
    }

    @Override
    public void revoked(Collection<TopicPartition> partitions) {
      revoked.addAll(partitions);
    }

    List<Long> offsets(TopicPartition tp) {
      return taken.stream().filter(r -> r.topic().equals(tp.topic()) && r.partition() == tp.partition())
          .map(ConsumerRecord::offset).toList();
    }

    @Override
    public String toString() {
      return "taken " + taken.stream().map(r -> r.topic() + "[" + r.partition() + "]@" + r.offset()).toList()
          + ", offered " + offered.size() + " times, skipped " + skipped + ", revoked " + revoked;
    }
  }

  /**
   * kafka-clients' cooperative sticky assignor, failing as it does when a topic is deleted and made
   * again during a rebalance (it throws from inside {@code poll}), as many times as asked.
   */
  public static final class FailingAssignor extends CooperativeStickyAssignor {
    static final AtomicInteger failuresLeft = new AtomicInteger();

    @Override
    public GroupAssignment assign(Cluster metadata, GroupSubscription groupSubscription) {
      if (failuresLeft.getAndDecrement() > 0) {
        throw new IllegalStateException("No more unfilled consumers to be assigned.");
      }
      return super.assign(metadata, groupSubscription);
    }
  }

  private interface Settings {
    PartitionedConsumer.Builder apply(PartitionedConsumer.Builder b);
  }

  private PartitionedConsumer start(String topic, String group, Recorder handler, Settings settings,
      Object... overrides) {
    Map<String, Object> p = new HashMap<>();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    for (int i = 0; i < overrides.length; i += 2) {
      p.put((String) overrides[i], overrides[i + 1]);
    }
    PartitionedConsumer.preferCooperativeRebalancing(p);
    KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    PartitionedConsumer loop = settings.apply(PartitionedConsumer.builder(consumer, List.of(topic), handler)
            .name("test loop " + group)
            .pollTimeout(Duration.ofMillis(100)))
        .build();
    loops.add(loop);
    return loop.start("partitioned-it-" + group);
  }

  private interface Value {
    String of(int i);
  }

  private static void send(String topic, int partition, int count, Value value) throws Exception {
    for (int i = 0; i < count; i++) {
      producer.send(new ProducerRecord<>(topic, partition, null, bytes(value.of(i)))).get(30, TimeUnit.SECONDS);
    }
  }

  private static Map<TopicPartition, OffsetAndMetadata> committed(String group) throws Exception {
    return admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String topic() {
    return "partitioned-" + UUID.randomUUID().toString().substring(0, 8);
  }
}
