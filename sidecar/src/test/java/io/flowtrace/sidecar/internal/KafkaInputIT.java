package io.flowtrace.sidecar.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.kafka.testkit.Await;
import io.flowtrace.kafka.testkit.KafkaBroker;
import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Telemetry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The sidecar's Kafka input against a real broker: back-pressure and unreadable records. */
class KafkaInputIT {

  private static KafkaBroker broker;
  private static KafkaProducer<byte[], byte[]> producer;

  private final Map<String, AtomicLong> dropped = new ConcurrentHashMap<>();

  @BeforeAll
  static void startBroker() {
    broker = KafkaBroker.start();
    producer = broker.newProducer(Map.of(
        ProducerConfig.LINGER_MS_CONFIG, 5));
  }

  @AfterAll
  static void stopBroker() {
    if (producer != null) producer.close(Duration.ofSeconds(5));
    if (broker != null) broker.close();
  }

  @Test
  void aFullInboxHoldsTheInputBackWithoutLosingOrRepeatingARecord() throws Exception {
    String topic = "orders.created-" + UUID.randomUUID();
    broker.createTopic(topic, 2);
    int count = 1_000;
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      records.add(new ProducerRecord<>(topic, i % 2, null, bytes("{\"n\":" + i + "}")));
    }
    broker.sendAll(producer, records);
    BlockingQueue<Batch> inbox = new ArrayBlockingQueue<>(1);
    List<KafkaRecord> seen = new ArrayList<>();

    try (KafkaInput input = input(topic, inbox, 100)) {
      input.start();
      while (seen.size() < count) {
        long waitsBefore = input.waitsForRoom();
        // Let the input sit behind the full inbox for a few rounds, polling to stay in the group.
        Await.until(() -> input.waitsForRoom() >= waitsBefore + 2 || seen.size() + inboxSize(inbox) >= count,
            () -> seen.size() + " of " + count + " read, waits " + input.waitsForRoom());
        Batch batch = inbox.poll(10, TimeUnit.SECONDS);
        assertThat(batch).as("a batch after %s of %s records", seen.size(), count).isNotNull();
        for (Telemetry t : batch.items()) {
          seen.add(((Telemetry.RecordEvent) t).record());
        }
      }
      assertThat(input.waitsForRoom()).isPositive();
    }
    for (int partition = 0; partition < 2; partition++) {
      int p = partition;
      assertThat(seen.stream().filter(r -> r.partition() == p).map(KafkaRecord::offset).toList())
          .as("offsets of partition %s, each once and in order", p)
          .isEqualTo(java.util.stream.LongStream.range(0, count / 2).boxed().toList());
    }
    assertThat(dropped).isEmpty();
  }

  @Test
  void aBacklogIsReadInEventTimeOrderAcrossTopicsNotTopicByTopic() throws Exception {
    // An hour-old backlog of 200 s: a dense topic (10 records a second) and a sparse one (1 a
    // second). Read as the consumer fetches it, one topic is done before the other has begun.
    String dense = "inventory.requests-" + UUID.randomUUID();
    String sparse = "orders.created-" + UUID.randomUUID();
    broker.createTopic(dense, 1);
    broker.createTopic(sparse, 1);
    long start = System.currentTimeMillis() - TimeUnit.HOURS.toMillis(1);
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (int i = 0; i < 2_000; i++) {
      records.add(new ProducerRecord<>(dense, 0, start + i * 100L, null, bytes("{\"n\":" + i + "}")));
    }
    for (int i = 0; i < 200; i++) {
      records.add(new ProducerRecord<>(sparse, 0, start + i * 1_000L, null, bytes("{\"n\":" + i + "}")));
    }
    broker.sendAll(producer, records);
    BlockingQueue<Batch> inbox = new ArrayBlockingQueue<>(1);
    Map<String, List<Long>> times = new ConcurrentHashMap<>();
    long mostAhead = Long.MIN_VALUE;

    try (KafkaInput input = new KafkaInput(
        // Small fetches: each brings both topics, as fetches from many brokers do (one broker sends no
        // more of any partition while a fetch of one is still being handed over).
        Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(), ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 50,
            ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 4096),
        "flowtrace-input-it-" + UUID.randomUUID(), "earliest", List.of(dense, sparse), null, "otlp_proto", null, inbox,
        new KafkaInput.Listener() {})) {
      input.maxHold(Duration.ofMinutes(1)); // what is measured is the alignment, not how a busy machine times it out
      input.start();
      while (times.getOrDefault(dense, List.of()).size() < 2_000 || times.getOrDefault(sparse, List.of()).size() < 200) {
        Batch batch = inbox.poll(30, TimeUnit.SECONDS);
        assertThat(batch).as("a batch; read so far %s", times.keySet()).isNotNull();
        KafkaRecord first = ((Telemetry.RecordEvent) batch.items().get(0)).record();
        String other = first.topic().equals(dense) ? sparse : dense;
        List<Long> otherTimes = times.getOrDefault(other, List.of());
        if (!otherTimes.isEmpty() && otherTimes.size() < (other.equals(dense) ? 2_000 : 200)) {
          mostAhead = Math.max(mostAhead, first.timestampMillis() - otherTimes.get(otherTimes.size() - 1));
        }
        for (Telemetry t : batch.items()) {
          KafkaRecord r = ((Telemetry.RecordEvent) t).record();
          times.computeIfAbsent(r.topic(), k -> new ArrayList<>()).add(r.timestampMillis());
        }
      }
    }
    assertThat(times.get(dense)).hasSize(2_000).isSorted();
    assertThat(times.get(sparse)).hasSize(200).isSorted();
    // Read as fetched, one topic runs 180 s ahead. Aligned, it stays within ALIGNMENT_NANOS (5 s) plus a
    // sparse record's gap. (Before a partition's records polled but not yet offered counted as behind,
    // 8-9 s were seen: the sparse topic's last records came in the same poll as a dense batch.)
    assertThat(mostAhead).as("how far (ms, event time) a topic was taken ahead of the other, once both were read")
        .isLessThanOrEqualTo(TimeUnit.NANOSECONDS.toMillis(KafkaInput.ALIGNMENT_NANOS) + 1_000);
  }

  @Test
  void aRecordThatFailsItsChecksumIsCountedAndSkipped() throws Exception {
    String topic = "orders.created-" + UUID.randomUUID();
    broker.createTopic(topic, 1);
    for (String value : List.of("{\"n\":0}", "{\"n\":\"POISON-PILL\"}", "{\"n\":2}")) {
      producer.send(new ProducerRecord<>(topic, 0, null, bytes(value))).get(30, TimeUnit.SECONDS);
    }
    broker.corruptStoredBytes(topic, 0, bytes("POISON-PILL"));
    BlockingQueue<Batch> inbox = new ArrayBlockingQueue<>(100);
    List<Long> offsets = new ArrayList<>();

    try (KafkaInput input = input(topic, inbox, 500)) {
      input.start();
      Await.until(() -> {
        inbox.forEach(b -> b.items().forEach(t -> offsets.add(((Telemetry.RecordEvent) t).record().offset())));
        inbox.clear();
        return offsets.size() >= 2;
      }, () -> "offsets " + offsets + ", dropped " + dropped);
    }
    assertThat(offsets).containsExactly(0L, 2L);
    assertThat(dropped).containsOnlyKeys("unreadable_record");
    assertThat(dropped.get("unreadable_record")).hasValue(1);
  }

  private KafkaInput input(String topic, BlockingQueue<Batch> inbox, int maxPollRecords) {
    return new KafkaInput(
        Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
            ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPollRecords),
        "flowtrace-input-it-" + UUID.randomUUID(), "earliest", List.of(topic), null, "otlp_proto", null, inbox,
        new KafkaInput.Listener() {
          @Override
          public void dropped(String reason, long count) {
            dropped.computeIfAbsent(reason, r -> new AtomicLong()).addAndGet(count);
          }
        });
  }

  private static int inboxSize(BlockingQueue<Batch> inbox) {
    return inbox.stream().mapToInt(b -> b.items().size()).sum();
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
