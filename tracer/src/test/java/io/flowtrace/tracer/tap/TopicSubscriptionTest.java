package io.flowtrace.tracer.tap;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;

/** Which topics are subscribed, and what the listener hears, as topics exist, appear or cannot be listed. */
class TopicSubscriptionTest {

  private static final Node LEADER = new Node(1, "127.0.0.1", 9092);

  private final List<String> heard = new ArrayList<>();
  private final AtomicReference<RuntimeException> listFailure = new AtomicReference<>();
  private final MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest") {
    @Override
    public synchronized Map<String, List<PartitionInfo>> listTopics(Duration timeout) {
      if (listFailure.get() != null) {
        throw listFailure.get();
      }
      return super.listTopics(timeout);
    }
  };

  @Test
  void subscribesToTheTopicsThatExistAndToAMissingOneOnceItAppears() {
    consumer.updatePartitions("orders.requested", List.of(partition("orders.requested", LEADER)));
    TopicSubscription subscription = subscription(List.of("orders.requested", "orders.created"), Duration.ZERO);

    subscription.poll(consumer, Duration.ZERO);
    assertThat(consumer.subscription()).containsExactly("orders.requested");
    assertThat(subscription.missing()).containsExactly("orders.created");
    subscription.poll(consumer, Duration.ZERO);
    assertThat(heard).as("said once").containsExactly("missing orders.created");

    consumer.updatePartitions("orders.created", List.of(partition("orders.created", LEADER)));
    subscription.poll(consumer, Duration.ZERO);
    assertThat(consumer.subscription()).containsExactlyInAnyOrder("orders.requested", "orders.created");
    assertThat(subscription.missing()).isEmpty();
    assertThat(subscription.appearedAfterStart("orders.created")).isTrue();
    assertThat(subscription.appearedAfterStart("orders.requested")).isFalse();
    assertThat(heard).containsExactly("missing orders.created", "appeared orders.created");
  }

  @Test
  void aTopicThatAppearedStartsAtItsBeginningWhereTheOthersStartAtTheirEnd() {
    consumer.updatePartitions("a", List.of(partition("a", LEADER)));
    TopicSubscription subscription = subscription(List.of("a", "b"), Duration.ZERO);
    subscription.poll(consumer, Duration.ZERO);
    consumer.updatePartitions("b", List.of(partition("b", LEADER)));
    subscription.poll(consumer, Duration.ZERO);
    TopicPartition a = new TopicPartition("a", 0);
    TopicPartition b = new TopicPartition("b", 0);
    consumer.rebalance(List.of(a, b));
    consumer.updateBeginningOffsets(Map.of(a, 0L, b, 0L));
    consumer.updateEndOffsets(Map.of(a, 5L, b, 3L));

    ConsumerSupport.position(consumer, List.of(a, b), StartPosition.LATEST, false, subscription::createdAfterStart);

    assertThat(consumer.position(a)).as("a, there from the start: latest").isEqualTo(5);
    assertThat(consumer.position(b)).as("b, appeared later: all of it is new").isZero();
  }

  @Test
  void aPartitionAddedToASubscribedTopicStartsAtItsBeginningWhereTheFirstOnesStartAtTheirEnd() {
    consumer.updatePartitions("a", List.of(partition("a", LEADER)));
    TopicSubscription subscription = subscription(List.of("a"), Duration.ZERO);
    subscription.poll(consumer, Duration.ZERO);
    consumer.updatePartitions("a", List.of(partition("a", LEADER), new PartitionInfo("a", 1, LEADER, null, null)));
    TopicPartition first = new TopicPartition("a", 0);
    TopicPartition added = new TopicPartition("a", 1);
    consumer.rebalance(List.of(first, added));
    consumer.updateBeginningOffsets(Map.of(first, 0L, added, 0L));
    consumer.updateEndOffsets(Map.of(first, 5L, added, 3L));

    ConsumerSupport.position(consumer, List.of(first, added), StartPosition.LATEST, false,
        subscription::createdAfterStart);

    assertThat(subscription.createdAfterStart(added)).isTrue();
    assertThat(subscription.createdAfterStart(first)).isFalse();
    assertThat(consumer.position(first)).as("there when the topic was subscribed: latest").isEqualTo(5);
    assertThat(consumer.position(added)).as("added since: all of it is new").isZero();
  }

  @Test
  void aMissingTopicBeingCreatedIsStillMissingUntilItsPartitionsHaveALeader() {
    TopicSubscription subscription = subscription(List.of("orders.created"), Duration.ZERO);
    subscription.poll(consumer, Duration.ZERO);
    consumer.updatePartitions("orders.created", List.of(partition("orders.created", null)));

    assertThat(subscription.poll(consumer, Duration.ZERO).isEmpty()).isTrue();
    assertThat(subscription.listed()).isTrue();
    assertThat(subscription.subscribed()).isEmpty();
    assertThat(consumer.subscription()).as("nothing subscribed, nothing polled").isEmpty();
    assertThat(heard).containsExactly("missing orders.created");
  }

  @Test
  void aTopicListedWithoutALeaderAtFirstIsNotMissingAndIsSubscribedOnceElectedStartingWhereTheOthersDo() {
    consumer.updatePartitions("a", List.of(partition("a", LEADER)));
    consumer.updatePartitions("b", List.of(partition("b", null)));
    TopicSubscription subscription = subscription(List.of("a", "b"), Duration.ofHours(1));

    subscription.poll(consumer, Duration.ZERO);
    assertThat(consumer.subscription()).containsExactly("a");
    assertThat(subscription.missing()).as("b exists: its leader is being elected").isEmpty();

    consumer.updatePartitions("b", List.of(partition("b", LEADER)));
    subscription.poll(consumer, Duration.ZERO);
    assertThat(consumer.subscription()).as("listed again a second later, not at the hourly check").containsExactly("a");
    java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(1_100).toNanos());
    subscription.poll(consumer, Duration.ZERO);

    assertThat(consumer.subscription()).containsExactlyInAnyOrder("a", "b");
    assertThat(subscription.appearedAfterStart("b")).as("there from the start: latest, as for a").isFalse();
    assertThat(heard).isEmpty();
  }

  @Test
  void listsAgainOnlyAfterTheIntervalAndNotAtAllOnceEveryTopicExists() {
    consumer.updatePartitions("a", List.of(partition("a", LEADER)));
    TopicSubscription waiting = subscription(List.of("a", "b"), Duration.ofHours(1));
    waiting.poll(consumer, Duration.ZERO);
    consumer.updatePartitions("b", List.of(partition("b", LEADER)));
    waiting.poll(consumer, Duration.ZERO);
    assertThat(consumer.subscription()).as("b is seen at the next check, an hour later").containsExactly("a");

    TopicSubscription complete = subscription(List.of("a"), Duration.ZERO);
    complete.poll(consumer, Duration.ZERO);
    listFailure.set(new IllegalStateException("listed again"));
    complete.poll(consumer, Duration.ZERO); // would throw if it listed
    assertThat(complete.missing()).isEmpty();
  }

  @Test
  void aFailedListingIsSaidAndNothingIsSubscribedUntilAListingWorks() {
    listFailure.set(new TimeoutException("Timeout expired while fetching topic metadata"));
    TopicSubscription subscription = subscription(List.of("a"), Duration.ZERO);
    subscription.poll(consumer, Duration.ZERO);
    assertThat(subscription.listed()).isFalse();
    assertThat(heard).containsExactly(
        "failed org.apache.kafka.common.errors.TimeoutException: Timeout expired while fetching topic metadata");
    assertThat(consumer.subscription()).isEmpty();
  }

  private TopicSubscription subscription(List<String> topics, Duration interval) {
    return new TopicSubscription(topics, new ConsumerRebalanceListener() {
      @Override
      public void onPartitionsRevoked(Collection<TopicPartition> partitions) {}

      @Override
      public void onPartitionsAssigned(Collection<TopicPartition> partitions) {}
    }, new TopicSubscription.Listener() {
      @Override
      public void missing(String topic) {
        heard.add("missing " + topic);
      }

      @Override
      public void appeared(String topic) {
        heard.add("appeared " + topic);
      }

      @Override
      public void listFailed(String error) {
        heard.add("failed " + error);
      }
    }, interval);
  }

  private static PartitionInfo partition(String topic, Node leader) {
    return new PartitionInfo(topic, 0, leader, new Node[0], new Node[0]);
  }
}
