package io.flowtrace.tracer.tap;

import io.flowtrace.tracer.testing.Await;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.kafka.testkit.KafkaBroker;
import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Telemetry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListGroupsOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The tap against a real broker: what it sees from each start position, and what it leaves alone. */
class KafkaTapIT {

  private static final String TRACEPARENT = "00-5b8efff798038103d269b633813fc60c-a1b2c3d4e5f60718-01";
  private static final Duration ASSIGNMENT_TIMEOUT = Duration.ofSeconds(30);

  private static KafkaBroker broker;
  private static KafkaProducer<byte[], byte[]> producer;
  private static Admin admin;

  private final List<KafkaRecord> seen = new CopyOnWriteArrayList<>();

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

  @Test
  void fromEarliestSeesEveryRecordWithExactCoordinatesKeysHeadersAndValues() throws Exception {
    String orders = topic("orders.created");
    String emails = topic("emails.requested");
    broker.createTopic(orders, 2);
    broker.createTopic(emails, 1);
    long ts = Instant.parse("2026-11-25T12:00:00Z").toEpochMilli();
    byte[] json = "{\"orderId\":\"o-1\",\"total\":42.5}".getBytes(StandardCharsets.UTF_8);
    byte[] avro = {0x00, 0x00, 0x00, 0x00, 0x01, 0x06, 'a', '@', 'b', (byte) 0xff};
    byte[] globalId = ByteBuffer.allocate(8).putLong(1L).array();

    List<KafkaRecord> expected = new ArrayList<>();
    expected.add(send(orders, 0, ts, "o-1", json, traceparent(), new RecordHeader("tenant", null)));
    expected.add(send(orders, 1, ts + 1, "o-2", json, traceparent()));
    expected.add(send(emails, 0, ts + 2, null, avro, traceparent(),
        new RecordHeader("apicurio.value.globalId", globalId)));
    expected.add(send(emails, 0, ts + 3, "o-3", avro));

    try (KafkaTap tap = tap(List.of(orders, emails), StartPosition.EARLIEST)) {
      Await.until(() -> seen.size() >= expected.size(), () -> seen.toString());
      assertThat(seen).containsExactlyInAnyOrderElementsOf(expected);
      KafkaRecord first = seen.stream().filter(r -> "o-1".equals(r.key())).findFirst().orElseThrow();
      assertThat(first.headers()).containsExactly(
          RecordHeader.ofString("traceparent", TRACEPARENT), new RecordHeader("tenant", null));
      assertThat(first.traceContext()).get().extracting(c -> c.spanId()).isEqualTo("a1b2c3d4e5f60718");
      KafkaRecord framed = seen.stream().filter(r -> r.key() == null).findFirst().orElseThrow();
      assertThat(framed.value()).containsExactly(avro);
      assertThat(framed.lastHeader("apicurio.value.globalId")).get()
          .extracting(RecordHeader::value).isEqualTo(globalId);
      assertThat(tap.records()).isEqualTo(4);
      assertThat(tap.skipped()).isZero();
    }
  }

  @Test
  void fromLatestSeesOnlyRecordsProducedAfterItWasAssigned() throws Exception {
    String orders = topic("orders.created");
    broker.createTopic(orders, 1);
    send(orders, 0, System.currentTimeMillis(), "before", bytes("old"));

    try (KafkaTap tap = tap(List.of(orders), StartPosition.LATEST)) {
      assertThat(tap.awaitAssignment(ASSIGNMENT_TIMEOUT)).isTrue();
      assertThat(tap.assignment()).containsExactly(new TopicPartition(orders, 0));
      KafkaRecord after = send(orders, 0, System.currentTimeMillis(), "after", bytes("new"));
      Await.until(() -> !seen.isEmpty(), () -> seen.toString());
      // One partition: had the older record been read, it would have come first.
      assertThat(seen).containsExactly(after);
      assertThat(after.offset()).isEqualTo(1);
    }
  }

  @Test
  void fromATimestampSkipsOlderRecords() throws Exception {
    String orders = topic("orders.created");
    broker.createTopic(orders, 1);
    long t0 = System.currentTimeMillis() - 60_000;
    send(orders, 0, t0, "a", bytes("1"));
    KafkaRecord b = send(orders, 0, t0 + 1_000, "b", bytes("2"));
    KafkaRecord c = send(orders, 0, t0 + 2_000, "c", bytes("3"));

    try (KafkaTap tap = tap(List.of(orders), StartPosition.at(Instant.ofEpochMilli(t0 + 500)))) {
      Await.until(() -> seen.size() >= 2, () -> seen.toString());
      assertThat(seen).containsExactly(b, c);
      assertThat(tap.startPosition()).hasToString("TIMESTAMP(" + Instant.ofEpochMilli(t0 + 500) + ")");
    }
  }

  @Test
  void readsInItsOwnGroupAndNeverCommitsOrTouchesTheApplicationsOffsets() throws Exception {
    String orders = topic("orders.created");
    broker.createTopic(orders, 1);
    for (int i = 0; i < 3; i++) {
      send(orders, 0, System.currentTimeMillis(), "k" + i, bytes("v" + i));
    }
    // The application consumes two records in its own group and commits.
    String appGroup = "order-service-" + UUID.randomUUID();
    TopicPartition tp = new TopicPartition(orders, 0);
    try (KafkaConsumer<byte[], byte[]> app = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
        ConsumerConfig.GROUP_ID_CONFIG, appGroup,
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class))) {
      app.assign(List.of(tp));
      app.seekToBeginning(List.of(tp));
      app.commitSync(Map.of(tp, new OffsetAndMetadata(2)));
    }

    try (KafkaTap tap = tap(List.of(orders), StartPosition.EARLIEST)) {
      assertThat(tap.groupId()).startsWith(KafkaTap.DEFAULT_GROUP_ID_PREFIX).isNotEqualTo(appGroup);
      Await.until(() -> seen.size() >= 3, () -> seen.toString());

      List<String> groups = admin.listGroups(ListGroupsOptions.forConsumerGroups()).all()
          .get(10, TimeUnit.SECONDS).stream()
          .map(GroupListing::groupId).collect(Collectors.toList());
      assertThat(groups).contains(tap.groupId(), appGroup);
      assertThat(committed(tap.groupId())).as("offsets committed by the tap's group").isEmpty();
      assertThat(committed(appGroup)).as("the application's offsets")
          .isEqualTo(Map.of(tp, new OffsetAndMetadata(2)));
      assertThat(admin.describeConsumerGroups(List.of(appGroup)).all().get(10, TimeUnit.SECONDS)
          .get(appGroup).members()).as("members of the application's group").isEmpty();
    }
    assertThat(committed(appGroup)).isEqualTo(Map.of(tp, new OffsetAndMetadata(2)));
  }

  @Test
  void commitsOnlyTheOffsetsItsCallerHandsItAndANamedGroupResumesThere() throws Exception {
    String orders = topic("orders.created");
    broker.createTopic(orders, 2);
    for (int i = 0; i < 4; i++) {
      send(orders, i % 2, System.currentTimeMillis(), "k" + i, bytes("v" + i));
    }
    String group = "flowtrace-sidecar-" + UUID.randomUUID();
    KafkaTap.Builder builder = KafkaTap.builder()
        .bootstrapServers(broker.bootstrapServers())
        .topics(List.of(orders))
        .groupId(group)
        .startPosition(StartPosition.EARLIEST)
        .resumeFromCommitted(true)
        .pollTimeout(Duration.ofMillis(100))
        .sink(t -> seen.add(((Telemetry.RecordEvent) t).record()));
    try (KafkaTap tap = builder.start()) {
      Await.until(() -> seen.size() >= 4, () -> seen.toString());
      assertThat(committed(group)).as("nothing committed before the caller commits").isEmpty();
      // The caller has processed the first record of each partition.
      List<KafkaRecord> processed = seen.stream().filter(r -> r.key().equals("k0") || r.key().equals("k1")).toList();
      tap.commit(KafkaTap.nextOffsets(processed));
      Await.until(() -> tap.commits() >= 1, () -> "commits=" + tap.commits());
      assertThat(tap.commitFailures()).isZero();
      assertThat(committed(group)).isEqualTo(Map.of(
          new TopicPartition(orders, 0), new OffsetAndMetadata(1),
          new TopicPartition(orders, 1), new OffsetAndMetadata(1)));
      // What is still pending when the tap closes is committed on close.
      tap.commit(Map.of(new TopicPartition(orders, 0), new OffsetAndMetadata(2)));
    }
    assertThat(committed(group)).containsEntry(new TopicPartition(orders, 0), new OffsetAndMetadata(2));

    seen.clear();
    try (KafkaTap again = builder.start()) {
      assertThat(again.awaitAssignment(ASSIGNMENT_TIMEOUT)).isTrue();
      // Markers after the restart: a partition positioned before its committed offset would show
      // its older records before its marker.
      send(orders, 0, System.currentTimeMillis(), "m0", bytes("marker"));
      send(orders, 1, System.currentTimeMillis(), "m1", bytes("marker"));
      Await.until(() -> seen.size() >= 3, () -> seen.toString());
      assertThat(seen).extracting(KafkaRecord::key).containsExactlyInAnyOrder("k3", "m0", "m1");
    }
  }

  @Test
  void countsAndSkipsOversizedRecordsAndSinkFailuresAndGoesOn() throws Exception {
    String orders = topic("orders.created");
    broker.createTopic(orders, 1);
    KafkaRecord small = send(orders, 0, System.currentTimeMillis(), "small", bytes("ok"));
    send(orders, 0, System.currentTimeMillis(), "big", new byte[4_096]);
    send(orders, 0, System.currentTimeMillis(), "boom", bytes("sink throws"));
    KafkaRecord last = send(orders, 0, System.currentTimeMillis(), "last", bytes("ok"));

    try (KafkaTap tap = KafkaTap.builder()
        .bootstrapServers(broker.bootstrapServers())
        .topics(List.of(orders))
        .startPosition(StartPosition.EARLIEST)
        .maxRecordBytes(1_024)
        .sink(t -> {
          KafkaRecord r = ((Telemetry.RecordEvent) t).record();
          if ("boom".equals(r.key())) {
            throw new IllegalStateException("sink failed on purpose");
          }
          seen.add(r);
        })
        .start()) {
      Await.until(() -> tap.records() + tap.skipped() >= 4, () -> seen + " skipped=" + tap.skipped());
      assertThat(seen).containsExactly(small, last);
      assertThat(tap.records()).isEqualTo(2);
      assertThat(tap.skipped()).isEqualTo(2);
      assertThat(tap.isRunning()).isTrue();
    }
  }

  @Test
  void skipsARecordThatFailsItsChecksumOnTheBrokersDiskAndReadsOn() throws Exception {
    String orders = topic("orders.created");
    broker.createTopic(orders, 1);
    KafkaRecord before = send(orders, 0, System.currentTimeMillis(), "before", bytes("ok"));
    send(orders, 0, System.currentTimeMillis(), "poison", bytes("POISON-PILL"));
    KafkaRecord after = send(orders, 0, System.currentTimeMillis(), "after", bytes("ok"));
    broker.corruptStoredBytes(orders, 0, bytes("POISON-PILL"));

    try (KafkaTap tap = tap(List.of(orders), StartPosition.EARLIEST)) {
      Await.until(() -> seen.size() >= 2, () -> seen + " skipped=" + tap.skipped());
      assertThat(seen).containsExactly(before, after);
      assertThat(tap.skipped()).isEqualTo(1);
      assertThat(tap.isRunning()).isTrue();
    }
  }

  @Test
  void skipsEveryRecordOfACorruptBatchOneByOneAndReadsOn() throws Exception {
    String orders = topic("orders.created");
    broker.createTopic(orders, 1);
    try (KafkaProducer<byte[], byte[]> batching = broker.newProducer(Map.of(
        ProducerConfig.LINGER_MS_CONFIG, 60_000))) {
      List<ProducerRecord<byte[], byte[]>> batch = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        batch.add(new ProducerRecord<>(orders, 0, bytes("b" + i), bytes(i == 1 ? "CORRUPT-BATCH" : "in batch")));
      }
      broker.sendAll(batching, batch); // flushes: the linger never runs out
    }
    KafkaRecord after = send(orders, 0, System.currentTimeMillis(), "after", bytes("ok"));
    assertThat(after.offset()).as("the three records went as one batch").isEqualTo(3);
    broker.corruptStoredBytes(orders, 0, bytes("CORRUPT-BATCH"));

    try (KafkaTap tap = tap(List.of(orders), StartPosition.EARLIEST)) {
      Await.until(() -> !seen.isEmpty(), () -> "skipped=" + tap.skipped());
      assertThat(seen).containsExactly(after);
      assertThat(tap.skipped()).isEqualTo(3);
    }
  }

  @Test
  void closeStopsThePollThreadAndIsIdempotent() throws Exception {
    String orders = topic("orders.created");
    broker.createTopic(orders, 1);
    KafkaTap tap = tap(List.of(orders), StartPosition.LATEST);
    assertThat(tap.awaitAssignment(ASSIGNMENT_TIMEOUT)).isTrue();
    long t0 = System.nanoTime();
    tap.close();
    tap.close();
    assertThat(tap.isRunning()).isFalse();
    assertThat(tap.assignment()).isEmpty();
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
  }

  // ---------------------------------------------------------------------------------------------

  @Test
  void aTopicThatDoesNotExistIsReadOnceItAppearsWhileTheOthersAreReadMeanwhile() throws Exception {
    String orders = topic("orders.created");
    String emails = topic("emails.requested");
    broker.createTopic(orders, 1);

    try (KafkaTap tap = KafkaTap.builder().bootstrapServers(broker.bootstrapServers()).topics(List.of(orders, emails))
        .startPosition(StartPosition.LATEST).pollTimeout(Duration.ofMillis(100))
        .topicCheckInterval(Duration.ofMillis(200)).sink(t -> seen.add(((Telemetry.RecordEvent) t).record()))
        .start()) {
      Await.until(() -> tap.assignment().contains(new TopicPartition(orders, 0)), () -> "assignment " + tap.assignment());
      assertThat(tap.missingTopics()).containsExactly(emails);
      assertThat(tap.awaitAssignment(Duration.ofMillis(1))).as("not every topic is assigned").isFalse();
      KafkaRecord order = send(orders, 0, System.currentTimeMillis(), "o-1", bytes("order"));
      Await.until(() -> seen.contains(order), () -> seen.toString());

      // Nobody read it, so nobody created it (the broker would on a metadata request for it).
      assertThat(admin.listTopics().names().get(10, TimeUnit.SECONDS)).doesNotContain(emails);
      broker.createTopic(emails, 1); // returns once its partition has a leader
      // Produced as soon as the topic exists, perhaps before the tap saw it: read all the same.
      KafkaRecord email = send(emails, 0, System.currentTimeMillis(), "o-1", bytes("email"));
      Await.until(() -> seen.contains(email), () -> seen + ", missing " + tap.missingTopics());
      assertThat(tap.missingTopics()).isEmpty();
      assertThat(tap.awaitAssignment(ASSIGNMENT_TIMEOUT)).isTrue();
      assertThat(seen).containsExactly(order, email);
    }
  }

  private KafkaTap tap(List<String> topics, StartPosition start) {
    return KafkaTap.builder()
        .bootstrapServers(broker.bootstrapServers())
        .topics(topics)
        .startPosition(start)
        .pollTimeout(Duration.ofMillis(100))
        .sink(t -> seen.add(((Telemetry.RecordEvent) t).record()))
        .start();
  }

  /** Produces one record and returns the {@link KafkaRecord} the tap must report for it. */
  private static KafkaRecord send(String topic, int partition, long timestamp, String key,
      byte[] value, RecordHeader... headers) throws Exception {
    RecordHeaders kafkaHeaders = new RecordHeaders();
    for (RecordHeader h : headers) {
      kafkaHeaders.add(h.name(), h.value());
    }
    byte[] keyBytes = key == null ? null : key.getBytes(StandardCharsets.UTF_8);
    RecordMetadata md = producer.send(new ProducerRecord<>(topic, partition, timestamp, keyBytes,
        value, kafkaHeaders)).get(30, TimeUnit.SECONDS);
    assertThat(md.timestamp()).isEqualTo(timestamp);
    return new KafkaRecord(topic, md.partition(), md.offset(), timestamp, key, List.of(headers), value);
  }

  private static Map<TopicPartition, OffsetAndMetadata> committed(String group) throws Exception {
    return admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()
        .get(10, TimeUnit.SECONDS);
  }

  private static RecordHeader traceparent() {
    return RecordHeader.ofString("traceparent", TRACEPARENT);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String topic(String base) {
    return base + "-" + UUID.randomUUID().toString().substring(0, 8);
  }
}
