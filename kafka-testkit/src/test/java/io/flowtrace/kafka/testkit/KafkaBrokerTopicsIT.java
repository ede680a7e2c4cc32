package io.flowtrace.kafka.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Topics that are ready when {@link KafkaBroker#createTopic} returns, and sends that are checked. */
class KafkaBrokerTopicsIT {

  private static KafkaBroker broker;

  @BeforeAll
  static void startBroker() {
    broker = KafkaBroker.start();
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) broker.close();
  }

  @Test
  void aCreatedTopicHasALeaderForEveryPartitionAndTakesRecordsWithoutARetry() throws Exception {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
      for (int round = 0; round < 3; round++) {
        String topic = "ready-" + UUID.randomUUID();
        broker.createTopic(topic, 6);

        TopicDescription described = admin.describeTopics(List.of(topic)).allTopicNames()
            .get(10, TimeUnit.SECONDS).get(topic);
        assertThat(described.partitions()).hasSize(6)
            .allSatisfy(p -> assertThat(p.leader()).as("leader of partition %s", p.partition()).isNotNull());
        // No retries and no idempotence: a partition that is not ready fails its send.
        try (KafkaProducer<byte[], byte[]> strict = broker.newProducer(Map.of(
            ProducerConfig.RETRIES_CONFIG, 0,
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false,
            ProducerConfig.ACKS_CONFIG, "1"))) {
          List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
          for (int p = 0; p < 6; p++) {
            records.add(new ProducerRecord<>(topic, p, null, ("r" + p).getBytes(StandardCharsets.UTF_8)));
          }
          assertThat(broker.sendAll(strict, records)).extracting(RecordMetadata::partition)
              .containsExactly(0, 1, 2, 3, 4, 5);
        }
      }
      assertThatThrownBy(() -> broker.createTopic("bad", 0))
          .isInstanceOf(IllegalArgumentException.class).hasMessage("partitions must be >= 1, was 0");
    }
  }

  @Test
  void sendAllNamesTheFirstRecordThatWasNotAcknowledgedAndHowManyWereNot() {
    String topic = "send-" + UUID.randomUUID();
    try (KafkaProducer<byte[], byte[]> producer = broker.newProducer(Map.of(
            ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 1_024))) {
      broker.createTopic(topic, 1);
      byte[] small = "ok".getBytes(StandardCharsets.UTF_8);
      byte[] large = new byte[2_048];
      List<ProducerRecord<byte[], byte[]>> records = List.of(new ProducerRecord<>(topic, 0, null, small),
          new ProducerRecord<>(topic, 0, null, large), new ProducerRecord<>(topic, small),
          new ProducerRecord<>(topic, 0, null, large));

      assertThatThrownBy(() -> broker.sendAll(producer, records))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageStartingWith("2 of 4 records sent to " + broker.bootstrapServers()
              + " were not acknowledged; the first, record 1 to " + topic + " partition 0: "
              + "org.apache.kafka.common.errors.RecordTooLargeException: ")
          .hasCauseInstanceOf(RecordTooLargeException.class);
    }
  }
}
