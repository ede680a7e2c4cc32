package io.flowtrace.example.order;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Kafka clients as the services use them: string keys, byte values, sends that wait for the ack. */
final class Kafka implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Kafka.class);
  private static final Duration POLL = Duration.ofMillis(100);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

  private final String bootstrapServers;
  private final KafkaProducer<String, byte[]> producer;
  private final List<Thread> consumers = new CopyOnWriteArrayList<>();
  private volatile boolean running = true;

  Kafka(String bootstrapServers, String clientId) {
    this.bootstrapServers = bootstrapServers;
    this.producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ProducerConfig.CLIENT_ID_CONFIG, clientId,
        ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.LINGER_MS_CONFIG, 0,
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class));
  }

  /** Sends and waits for the broker's acknowledgement, in the caller's (trace) context. */
  void send(String topic, String key, byte[] value) {
    try {
      producer.send(new ProducerRecord<>(topic, key, value)).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted sending to " + topic, e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("sending to " + topic + " failed: " + e.getCause(), e.getCause());
    }
  }

  /**
   * Consumes the topics in group {@code groupId} on a new thread, handing each record to {@code
   * handler} inside the loop over the polled records (where the agent's {@code process} span is
   * current). A handler failure is logged with the record's coordinates and the loop goes on.
   */
  Thread consume(String groupId, Collection<String> topics, Consumer<ConsumerRecord<String, byte[]>> handler) {
    Thread t = new Thread(() -> {
      try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
          ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
          ConsumerConfig.GROUP_ID_CONFIG, groupId,
          ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
          ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
          ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class))) {
        consumer.subscribe(topics);
        while (running) {
          for (ConsumerRecord<String, byte[]> r : consumer.poll(POLL)) {
            try {
              handler.accept(r);
            } catch (RuntimeException e) {
              LOG.warn("{}: dropped {}-{}@{}: {}", groupId, r.topic(), r.partition(), r.offset(), e.toString(), e);
            }
          }
        }
      } catch (WakeupException | org.apache.kafka.common.errors.InterruptException e) {
        // shutting down
      }
    }, groupId + "-consumer");
    consumers.add(t);
    t.start();
    return t;
  }

  @Override
  public void close() {
    running = false;
    for (Thread t : consumers) {
      try {
        t.join(CLOSE_TIMEOUT.toMillis()); // the consumer commits its offsets and leaves its group
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    producer.close(CLOSE_TIMEOUT);
  }
}
