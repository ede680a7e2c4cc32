package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.kafka.testkit.KafkaBroker;
import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.recording.KcatJsonLinesReader;
import io.flowtrace.tracer.recording.RecordingReader;
import io.flowtrace.tracer.tap.StartPosition;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Future;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code record} on a real broker: the bundled sample's Kafka records are produced to real topics
 * and its spans posted to the OTLP/HTTP receiver; replaying what was recorded gives the same
 * verdicts as replaying the sample itself.
 *
 * <p>The sample's consumer spans name their records by topic/partition/offset (the messaging
 * conventions), and correlation uses those coordinates; so each partition is first filled up to
 * the sample's first offset, before the recorder starts from the latest offsets, and the sample's
 * records then land at their original offsets (the test checks that they do).
 */
class RecordCommandIT {

  private static final Path FLOWS = Path.of("../flows");
  private static final Path SAMPLE = Path.of("../samples/order-flow");
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private static KafkaBroker broker;

  @TempDir Path dir;

  @BeforeAll
  static void startBroker() {
    broker = KafkaBroker.start();
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  void whatRecordWritesReplaysToTheSameVerdictsAsTheSample() throws Exception {
    Set<String> topics = new TreeSet<>();
    for (FlowSpec flow : new FlowSpecLoader().load(FLOWS)) {
      topics.addAll(flow.eventsByTopic().keySet());
    }
    topics.forEach(t -> broker.createTopic(t, 3));
    RecordingReader.Summary sample = RecordingReader.defaults().read(SAMPLE, t -> { }, p -> {
      throw new AssertionError(p.toString());
    });
    List<KafkaRecord> records = new ArrayList<>();
    new KcatJsonLinesReader().read(SAMPLE.resolve("messages.kcat.jsonl"),
        t -> records.add(((Telemetry.RecordEvent) t).record()), p -> {
          throw new AssertionError(p.toString());
        });
    assertThat(records).hasSize((int) sample.records());
    assertThat(topics).containsAll(records.stream().map(KafkaRecord::topic).toList());

    records.sort(Comparator.comparing(KafkaRecord::topic).thenComparingInt(KafkaRecord::partition)
        .thenComparingLong(KafkaRecord::offset));
    Map<TopicPartition, Long> firstOffsets = new HashMap<>();
    records.forEach(r -> firstOffsets.putIfAbsent(new TopicPartition(r.topic(), r.partition()), r.offset()));

    Path recording = dir.resolve("recording");
    try (KafkaProducer<byte[], byte[]> producer = producer()) {
      fill(producer, firstOffsets);
      try (Recorder recorder = Recorder.builder(recording).httpPort(0).grpcPort(0)
          .kafka(broker.bootstrapServers(), topics, StartPosition.LATEST).start()) {
        assertThat(recorder.tap().awaitAssignment(TIMEOUT)).isTrue();
        produce(producer, records);
        postSpans(recorder);
        await(() -> recorder.writer().recordsAccepted() >= sample.records()
                && recorder.writer().spansAccepted() >= sample.spans(),
            recorder.writer()::toString);
        recorder.close();
        assertThat(recorder.writer().spansWritten()).isEqualTo(sample.spans());
        assertThat(recorder.writer().recordsWritten()).isEqualTo(sample.records());
        assertThat(recorder.writer().failed()).isZero();
      }
    }

    Replayed expected = replay(SAMPLE);
    Replayed actual = replay(recording);
    assertThat(expected.verdicts()).hasSizeGreaterThan(1);
    assertThat(actual.exit()).isEqualTo(expected.exit());
    assertThat(actual.verdicts()).isEqualTo(expected.verdicts());
  }

  private static KafkaProducer<byte[], byte[]> producer() {
    return broker.newProducer(Map.of(
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
        ProducerConfig.LINGER_MS_CONFIG, 5));
  }

  /** Fills each partition with unrelated records up to the sample's first offset there. */
  private static void fill(KafkaProducer<byte[], byte[]> producer, Map<TopicPartition, Long> firstOffsets) {
    byte[] filler = "filler".getBytes(StandardCharsets.UTF_8);
    List<ProducerRecord<byte[], byte[]>> fillers = new ArrayList<>();
    firstOffsets.forEach((tp, first) -> {
      for (long i = 0; i < first; i++) {
        fillers.add(new ProducerRecord<>(tp.topic(), tp.partition(), null, filler));
      }
    });
    broker.sendAll(producer, fillers);
  }

  /** Sends the records in offset order, keeping partition, timestamp, key, headers and value. */
  private static void produce(KafkaProducer<byte[], byte[]> producer, List<KafkaRecord> records)
      throws Exception {
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    for (KafkaRecord r : records) {
      RecordHeaders headers = new RecordHeaders();
      for (RecordHeader h : r.headers()) {
        headers.add(h.name(), h.value());
      }
      byte[] key = r.key() == null ? null : r.key().getBytes(StandardCharsets.UTF_8);
      sent.add(producer.send(new ProducerRecord<>(r.topic(), r.partition(), r.timestampMillis(), key, r.value(), headers)));
    }
    producer.flush();
    for (int i = 0; i < records.size(); i++) {
      assertThat(sent.get(i).get().offset()).as("offset of %s", records.get(i)).isEqualTo(records.get(i).offset());
    }
  }

  private static void postSpans(Recorder recorder) throws IOException, InterruptedException {
    HttpClient client = HttpClient.newHttpClient();
    List<Path> files;
    try (Stream<Path> list = Files.list(SAMPLE)) {
      files = list.filter(p -> p.getFileName().toString().endsWith(".otlp.jsonl")).sorted().toList();
    }
    assertThat(files).isNotEmpty();
    for (Path file : files) {
      for (String line : Files.readAllLines(file)) {
        if (line.isBlank()) {
          continue;
        }
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(recorder.httpEndpoint())
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(line)).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as("%s: %s", file, response.body()).isEqualTo(200);
      }
    }
  }

  /** Exit code and, per requestId, the status and the sorted violation kinds. */
  record Replayed(int exit, Map<String, String> verdicts) {}

  private Replayed replay(Path recording) throws IOException {
    Path report = Files.createTempFile(dir, "report-", ".json");
    int exit = FlowTraceCli.run("replay", "--flows", FLOWS.toString(), "--no-progress", "--format", "json",
        "--output", report.toString(), recording.toString());
    JsonNode json = JSON.readTree(Files.readString(report));
    Map<String, String> verdicts = new TreeMap<>();
    for (JsonNode flow : json.get("flows")) {
      List<String> kinds = new ArrayList<>();
      for (JsonNode v : flow.get("violations")) {
        kinds.add(v.get("kind").asString() + "@" + v.get("stage").asString());
      }
      kinds.sort(null);
      verdicts.put(flow.get("keys").get("requestId").asString(), flow.get("status").asString() + " " + kinds);
    }
    return new Replayed(exit, verdicts);
  }

  private static void await(BooleanSupplier condition, Supplier<String> seen) {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not reached within " + TIMEOUT + "; saw " + seen.get());
      }
      LockSupport.parkNanos(Duration.ofMillis(20).toNanos()); // poll interval, not a wait for an outcome
    }
  }
}
