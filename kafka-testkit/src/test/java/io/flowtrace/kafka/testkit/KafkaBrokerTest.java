package io.flowtrace.kafka.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.junit.jupiter.api.Test;

/** What {@link KafkaBroker#createTopic} says about a topic that is not ready. */
class KafkaBrokerTest {

  private static final Node BROKER = new Node(KafkaBroker.NODE_ID, KafkaBroker.HOST, 9092);

  @Test
  void aTopicWhosePartitionsAllHaveALeaderIsReady() {
    assertThat(KafkaBroker.leaderProblem(2, List.of(partition(0, BROKER), partition(1, BROKER)))).isNull();
  }

  @Test
  void namesEveryPartitionWithoutALeader() {
    assertThat(KafkaBroker.leaderProblem(3,
        List.of(partition(0, BROKER), partition(2, Node.noNode()), partition(1, null))))
        .isEqualTo("partitions [1, 2] of 3 have no leader");
  }

  @Test
  void aPartitionNotListedYetHasNoLeader() {
    assertThat(KafkaBroker.leaderProblem(2, List.of(partition(0, BROKER))))
        .isEqualTo("partition [1] of 2 has no leader");
    assertThat(KafkaBroker.leaderProblem(1, List.of())).isEqualTo("partition [0] of 1 has no leader");
  }

  private static TopicPartitionInfo partition(int partition, Node leader) {
    return new TopicPartitionInfo(partition, leader, List.of(BROKER), List.of(BROKER));
  }
}
