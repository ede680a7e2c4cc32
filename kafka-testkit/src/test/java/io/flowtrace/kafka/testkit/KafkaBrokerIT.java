package io.flowtrace.kafka.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** Starts a real broker, round-trips one record through it with kafka-clients, and stops it. */
class KafkaBrokerIT {

  @Test
  void startsProducesConsumesAndStops() throws Exception {
    String topic = "it-" + UUID.randomUUID();
    KafkaBroker broker = KafkaBroker.start();
    Path dir = broker.workDir();
    try (broker) {
      assertThat(broker.isRunning()).isTrue();
      assertThat(broker.bootstrapServers()).isEqualTo("127.0.0.1:" + broker.port());
      broker.createTopic(topic, 2);

      RecordMetadata sent;
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
          ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
          ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
          ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class))) {
        sent = producer.send(new ProducerRecord<>(topic, "order-1", "{\"total\":42}")).get();
      }

      List<ConsumerRecord<String, String>> seen = readAll(broker, topic, 1);
      assertThat(seen).singleElement().satisfies(r -> {
        assertThat(r.key()).isEqualTo("order-1");
        assertThat(r.value()).isEqualTo("{\"total\":42}");
        assertThat(r.partition()).isEqualTo(sent.partition());
        assertThat(r.offset()).isEqualTo(sent.offset());
      });
    }
    assertThat(broker.isRunning()).isFalse();
    assertThat(Files.exists(dir)).as("temp dir deleted").isFalse();
    broker.close(); // idempotent
    assertThatThrownBy(() -> broker.createTopic("late", 1))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("Broker " + broker.bootstrapServers() + " is closed");
  }

  @Test
  void aStoppedOrKilledBrokerRestartsWithItsTopicsAndRecords() throws Exception {
    String topic = "restart-" + UUID.randomUUID();
    try (KafkaBroker broker = KafkaBroker.start()) {
      int port = broker.port();
      broker.createTopic(topic, 1);
      send(broker, topic, "before-stop");

      broker.stop();
      assertThat(broker.isRunning()).isFalse();
      broker.restart();
      send(broker, topic, "after-stop");

      broker.kill();
      assertThat(broker.isRunning()).isFalse();
      broker.restart();
      send(broker, topic, "after-kill");

      assertThat(broker.port()).isEqualTo(port);
      assertThat(readAll(broker, topic, 3)).extracting(ConsumerRecord::value)
          .containsExactly("before-stop", "after-stop", "after-kill");
    }
  }

  private static void send(KafkaBroker broker, String topic, String value) {
    try (KafkaProducer<byte[], byte[]> producer = broker.newProducer(Map.of())) {
      broker.sendAll(producer, List.of(new ProducerRecord<>(topic, value.getBytes(java.nio.charset.StandardCharsets.UTF_8))));
    }
  }

  private static List<ConsumerRecord<String, String>> readAll(KafkaBroker broker, String topic, int expected) {
    List<ConsumerRecord<String, String>> seen = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
        ConsumerConfig.GROUP_ID_CONFIG, "it-" + UUID.randomUUID(),
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class))) {
      consumer.subscribe(List.of(topic));
      Await.until(Duration.ofSeconds(60), () -> {
        consumer.poll(Duration.ofMillis(200)).forEach(seen::add);
        return seen.size() >= expected;
      }, () -> "records read: " + seen);
    }
    return seen;
  }
}
