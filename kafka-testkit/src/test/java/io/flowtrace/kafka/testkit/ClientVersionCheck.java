package io.flowtrace.kafka.testkit;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The main class {@link KafkaBrokerClientVersionsIT} runs in a JVM whose class path holds the
 * testkit, one kafka-clients version and SLF4J: starts a broker, creates a topic, produces and
 * consumes one record with that client, prints what it saw and exits 0; a broker that does not
 * start exits 3 (printing why), anything else 1.
 */
public final class ClientVersionCheck {

  private ClientVersionCheck() {}

  public static void main(String[] args) throws Exception {
    String version = clientVersion();
    String topic = "client-" + UUID.randomUUID();
    byte[] value = ("hello from kafka-clients " + version).getBytes(StandardCharsets.UTF_8);
    KafkaBroker started;
    try {
      started = KafkaBroker.start();
    } catch (IllegalStateException e) {
      System.out.println("start failed: " + e.getMessage());
      System.exit(3);
      return;
    }
    try (KafkaBroker broker = started) {
      broker.createTopic(topic, 1);
      RecordMetadata sent;
      try (KafkaProducer<byte[], byte[]> producer = broker.newProducer(Map.of())) {
        sent = broker.sendAll(producer, List.of(new ProducerRecord<>(topic, 0, null, value))).get(0);
      }
      List<ConsumerRecord<byte[], byte[]>> seen = new ArrayList<>();
      try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
          ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
          ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
          ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class))) {
        TopicPartition tp = new TopicPartition(topic, 0);
        consumer.assign(List.of(tp));
        consumer.seekToBeginning(List.of(tp));
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (seen.isEmpty() && System.nanoTime() < deadline) {
          consumer.poll(Duration.ofMillis(200)).forEach(seen::add);
        }
      }
      if (seen.size() != 1 || seen.get(0).offset() != sent.offset()
          || !new String(seen.get(0).value(), StandardCharsets.UTF_8).equals(new String(value, StandardCharsets.UTF_8))) {
        System.out.println("kafka-clients " + version + ": sent offset " + sent.offset() + ", consumed " + seen);
        System.exit(1);
      }
      System.out.println("kafka-clients " + version + ": produced and consumed '"
          + new String(seen.get(0).value(), StandardCharsets.UTF_8) + "' at offset " + sent.offset());
    }
    System.exit(0);
  }

  /** The version kafka-clients says it is, from the properties file every kafka-clients jar holds. */
  static String clientVersion() throws Exception {
    try (InputStream in = KafkaProducer.class.getResourceAsStream("/kafka/kafka-version.properties")) {
      Properties p = new Properties();
      if (in != null) {
        p.load(in);
      }
      return p.getProperty("version", "unknown");
    }
  }
}
