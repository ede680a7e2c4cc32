package io.flowtrace.faults;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.kafka.testkit.KafkaBroker;
import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.recording.RecordingReader;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.exporter.internal.otlp.traces.TraceRequestMarshaler;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code java -jar flowtrace.jar record} as a separate process, stopped with SIGTERM right after the
 * last spans were acknowledged: every span it acknowledged (HTTP 200), every span it read from the
 * spans topic and every record its tap took is in the recording files. It starts {@code --from} an
 * instant, so records older than that are not recorded and records produced before it started are.
 * And through a broker killed and kept down past its session timeout, it records every record once.
 */
class RecordSigtermIT {

  private static final Path JAR = Path.of(System.getProperty("flowtrace.jar", "../cli/target/flowtrace.jar"));
  private static final Path FLOWS = Path.of("../flows");
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final String ORDERS = "orders.requested";
  private static final String SPANS_TOPIC = "otlp_spans";
  private static final Pattern SUMMARY = Pattern.compile(
      "flowtrace: recorded (\\d+) spans and (\\d+) Kafka records; tapped (\\d+) Kafka records; read (\\d+) spans from "
          + SPANS_TOPIC + "; skipped 1 undecodable message of " + SPANS_TOPIC);

  private static KafkaBroker broker;
  private static KafkaProducer<byte[], byte[]> producer;

  @TempDir Path dir;

  @BeforeAll
  static void startBroker() {
    // A killed broker comes back once its controller forgets the old session: 3 s here, not 9.
    broker = KafkaBroker.builder().serverProperty("broker.session.timeout.ms", "3000")
        .serverProperty("broker.heartbeat.interval.ms", "500").start();
    producer = broker.newProducer(Map.of());
  }

  @AfterAll
  static void stopBroker() {
    if (producer != null) producer.close(Duration.ofSeconds(5));
    if (broker != null) broker.close();
  }

  @Test
  void sigtermWritesEverySpanItAcknowledgedAndEveryRecordItTapped() throws Exception {
    assertThat(JAR).as("the flowtrace jar (package cli first)").exists();
    broker.createTopic(ORDERS, 1);
    broker.createTopic(SPANS_TOPIC, 2);
    long now = System.currentTimeMillis();
    Instant from = Instant.ofEpochMilli(now - 30_000);
    // Older than --from: not recorded. Newer, but produced before record starts: recorded.
    send(ORDERS, now - 60_000, "too-old");
    Set<String> produced = new HashSet<>();
    for (int i = 0; i < 5; i++) {
      produced.add(send(ORDERS, now, "before-" + i));
    }
    List<SpanData> topicSpans = sdkSpans("from-collector", 4);
    broker.sendAll(producer, List.of(new ProducerRecord<>(SPANS_TOPIC, 0, now, null, protobuf(topicSpans)),
        new ProducerRecord<>(SPANS_TOPIC, 0, now, null, "not protobuf".getBytes(StandardCharsets.UTF_8))));

    int port = freePort();
    Path recording = dir.resolve("recording");
    Path log = dir.resolve("record.log");
    Process record = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-jar", JAR.toString(), "record", "--out", recording.toString(), "--flows", FLOWS.toString(),
        "--bootstrap-servers", broker.bootstrapServers(), "--from", from.toString(),
        "--spans-topic", SPANS_TOPIC, "--spans-encoding", "otlp_proto",
        "--otlp-http-port", Integer.toString(port), "--otlp-grpc-port", "0")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      await(() -> read(log).contains("flowtrace: spans from Kafka"), () -> read(log)); // the last start-up line
      assertThat(read(log)).contains("flowtrace: spans from Kafka " + broker.bootstrapServers() + " topic "
          + SPANS_TOPIC + " (otlp_proto) from TIMESTAMP(" + from + ")");
      // The tap is positioned once a record produced before the start is in the files.
      await(() -> recordedKeys(recording).containsAll(produced), () -> recordedKeys(recording).toString());

      for (int i = 0; i < 20; i++) {
        produced.add(send(ORDERS, System.currentTimeMillis(), "during-" + i));
      }
      HttpClient http = HttpClient.newHttpClient();
      Set<String> acknowledged = new HashSet<>();
      for (int i = 0; i < 10; i++) {
        List<SpanData> spans = sdkSpans("gateway", 5);
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/traces"))
            .header("Content-Type", "application/x-protobuf")
            .POST(HttpRequest.BodyPublishers.ofByteArray(protobuf(spans))).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        spans.forEach(s -> acknowledged.add(s.getSpanId()));
      }
      record.destroy(); // SIGTERM, right after the last acknowledgement
      assertThat(record.waitFor(30, TimeUnit.SECONDS)).as("record exits on SIGTERM; log:\n%s", read(log)).isTrue();

      String output = read(log);
      Matcher summary = SUMMARY.matcher(output);
      assertThat(summary.find()).as("summary line in:\n%s", output).isTrue();
      List<Span> spans = new ArrayList<>();
      List<KafkaRecord> records = new ArrayList<>();
      RecordingReader.defaults().read(recording, t -> {
        if (t instanceof Telemetry.SpanEvent s) {
          spans.add(s.span());
        } else {
          records.add(((Telemetry.RecordEvent) t).record());
        }
      }, p -> {
        throw new AssertionError("the recording has a bad line: " + p);
      });
      Set<String> spanIds = new HashSet<>();
      spans.forEach(s -> spanIds.add(s.spanId()));
      assertThat(spanIds).as("every acknowledged span").containsAll(acknowledged);
      assertThat(spanIds).as("every span of the spans topic").containsAll(topicSpans.stream().map(SpanData::getSpanId).toList());
      assertThat(spans).hasSize(acknowledged.size() + topicSpans.size());
      assertThat(Long.parseLong(summary.group(1))).isEqualTo(spans.size());
      assertThat(Long.parseLong(summary.group(4))).isEqualTo(topicSpans.size());
      long tapped = Long.parseLong(summary.group(3));
      assertThat(records).as("every tapped record").hasSize((int) tapped);
      assertThat(Long.parseLong(summary.group(2))).isEqualTo(tapped);
      List<String> keys = records.stream().map(KafkaRecord::key).toList();
      assertThat(keys).doesNotContain("too-old").doesNotHaveDuplicates();
      assertThat(produced).containsAll(keys);
      assertThat(keys).containsAll(produced.stream().filter(k -> k.startsWith("before-")).toList());
    } finally {
      record.destroyForcibly();
    }
  }

  @Test
  void aBrokerKilledAndDownPastTheSessionTimeoutLosesNoRecord() throws Exception {
    String topic = "inventory.requests";
    broker.createTopic(topic, 2);
    Path recording = dir.resolve("recording");
    Path log = dir.resolve("record-outage.log");
    Process record = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-jar", JAR.toString(), "record", "--out", recording.toString(), "--flows", FLOWS.toString(),
        "--bootstrap-servers", broker.bootstrapServers(), "--from", Instant.now().minusSeconds(1).toString(),
        "--kafka-property", "session.timeout.ms=6000", "--otlp-http-port", "0", "--otlp-grpc-port", "0")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      Set<String> produced = new HashSet<>();
      for (int i = 0; i < 10; i++) {
        produced.add(send(topic, System.currentTimeMillis(), "before-outage-" + i));
      }
      await(() -> recordedKeys(recording).containsAll(produced), () -> recordedKeys(recording).toString());

      broker.kill();
      Thread.sleep(10_000); // the outage itself: past the tap's 6 s session timeout
      broker.restart();
      for (int i = 0; i < 20; i++) {
        produced.add(send(topic, System.currentTimeMillis(), "after-outage-" + i));
      }
      await(() -> recordedKeys(recording).containsAll(produced), () -> recordedKeys(recording).toString());
      record.destroy();
      assertThat(record.waitFor(30, TimeUnit.SECONDS)).as("record exits on SIGTERM; log:\n%s", read(log)).isTrue();

      List<String> keys = new ArrayList<>();
      RecordingReader.defaults().read(recording, t -> {
        if (t instanceof Telemetry.RecordEvent r && r.record().topic().equals(topic)) {
          keys.add(r.record().key());
        }
      }, p -> {
        throw new AssertionError("the recording has a bad line: " + p);
      });
      assertThat(keys).as("every record produced, before and after the outage, once").hasSameElementsAs(produced)
          .doesNotHaveDuplicates();
      assertThat(read(log)).as("what record said while the broker was away")
          .contains("no Kafka broker connected", "Kafka reachable again");
    } finally {
      record.destroyForcibly();
    }
  }

  private static String send(String topic, long timestamp, String key) throws Exception {
    broker.sendAll(producer, List.of(new ProducerRecord<>(topic, null, timestamp, key.getBytes(StandardCharsets.UTF_8),
        ("{\"requestId\":\"" + UUID.randomUUID() + "\"}").getBytes(StandardCharsets.UTF_8))));
    return key;
  }

  private static Set<String> recordedKeys(Path recording) {
    Set<String> keys = new HashSet<>();
    if (!Files.isDirectory(recording)) {
      return keys;
    }
    try (var files = Files.list(recording)) {
      for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".kcat.jsonl")).toList()) {
        for (String line : Files.readAllLines(f)) {
          Matcher m = Pattern.compile("\"key\":\"([^\"]+)\"").matcher(line);
          if (m.find()) {
            keys.add(m.group(1));
          }
        }
      }
    } catch (IOException e) {
      return keys;
    }
    return keys;
  }

  /** Finished spans of one trace made by the real SDK. */
  private static List<SpanData> sdkSpans(String service, int count) {
    List<SpanData> finished = new ArrayList<>();
    SpanExporter collect = new SpanExporter() {
      @Override
      public synchronized CompletableResultCode export(Collection<SpanData> spans) {
        finished.addAll(spans);
        return CompletableResultCode.ofSuccess();
      }

      @Override
      public CompletableResultCode flush() {
        return CompletableResultCode.ofSuccess();
      }

      @Override
      public CompletableResultCode shutdown() {
        return CompletableResultCode.ofSuccess();
      }
    };
    try (SdkTracerProvider provider = SdkTracerProvider.builder()
        .setResource(Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), service)))
        .addSpanProcessor(SimpleSpanProcessor.create(collect)).build()) {
      var tracer = provider.get("flowtrace-test");
      var root = tracer.spanBuilder("POST /api/orders").setSpanKind(SpanKind.SERVER).startSpan();
      try (var ignored = root.makeCurrent()) {
        for (int i = 1; i < count; i++) {
          tracer.spanBuilder("send orders.requested").setSpanKind(SpanKind.PRODUCER).startSpan().end();
        }
      }
      root.end();
    }
    return finished;
  }

  private static byte[] protobuf(List<SpanData> spans) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    TraceRequestMarshaler.create(spans).writeBinaryTo(out);
    return out.toByteArray();
  }

  private static String read(Path log) {
    try {
      return Files.exists(log) ? Files.readString(log) : "";
    } catch (IOException e) {
      return e.toString();
    }
  }

  private static void await(BooleanSupplier condition, Supplier<String> seen) {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not reached within " + TIMEOUT + "; saw " + seen.get());
      }
      LockSupport.parkNanos(Duration.ofMillis(50).toNanos()); // poll interval, not a wait for an outcome
    }
  }

  private static int freePort() {
    return io.flowtrace.kafka.testkit.Ports.free();
  }
}
