package io.flowtrace.example.order;

import static io.flowtrace.example.order.OrderServices.AGENT;
import static io.flowtrace.example.order.OrderServices.LOGS;
import static io.flowtrace.example.order.OrderServices.agentEnv;
import static io.flowtrace.example.order.OrderServices.awaitLog;
import static io.flowtrace.example.order.OrderServices.fork;
import static io.flowtrace.example.order.OrderServices.freePort;
import static io.flowtrace.example.order.OrderServices.sampling;
import static io.flowtrace.example.order.OrderServices.service;
import static io.flowtrace.example.order.OrderServices.stop;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.kafka.testkit.KafkaBroker;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The agent's head sampling in the real system: the gateway under the real Java agent with {@code
 * OTEL_TRACES_SAMPLER=parentbased_traceidratio}, {@code OTEL_TRACES_SAMPLER_ARG=0.5}, on a real
 * broker. Every record it produces carries {@code traceparent} with its trace and span id: the
 * sampled bit ({@code 01}) set and its spans exported when the trace was sampled, the bit clear
 * and none of the trace's spans exported when it was not. This is what {@code flowtrace generate
 * --sample-ratio} reproduces.
 *
 * <p>Agent 2.33.1 (SDK 1.5x's W3C level 2 support) also sets the random-trace-id bit ({@code 02})
 * on every trace it starts, so what it writes is {@code 03} and {@code 02}, not {@code 01} and
 * {@code 00}: a verifier must read the sampled bit, not compare the byte. 30 to 50 s on 2 cores (a
 * broker and one agent JVM).
 */
class SampledOutTracingIT {

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final Pattern TRACEPARENT = Pattern.compile("00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})");
  private static final int ORDERS = 24;

  @Test
  void recordsOfUnsampledTracesCarryTraceparentWithFlags00AndTheirSpansAreNotExported() throws Exception {
    assertThat(AGENT).as("the OpenTelemetry Java agent").exists();
    Files.createDirectories(LOGS);
    try (KafkaBroker broker = KafkaBroker.start()) {
      broker.createTopic(Topics.ORDERS_REQUESTED, 1);
      int port = freePort();
      Map<String, String> env = new HashMap<>(agentEnv("gateway", "http://127.0.0.1:9"));
      // spans go to the service's stdout (its log) as OTLP/JSON lines: what was exported, nothing else
      env.put("OTEL_TRACES_EXPORTER", "experimental-otlp/stdout");
      env.putAll(sampling(0.5));
      env.putAll(Map.of("BOOTSTRAP_SERVERS", broker.bootstrapServers(), "GATEWAY_PORT", Integer.toString(port),
          "EXIT_ON_STDIN_EOF", "true"));
      String log = "sampling-gateway-" + System.nanoTime();
      Process gateway = fork(log, service("gateway", true), env);
      List<ConsumerRecord<String, byte[]>> records;
      try {
        awaitLog(log, "ready gateway");
        HttpClient http = HttpClient.newHttpClient();
        for (int i = 0; i < ORDERS; i++) {
          HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/orders"))
              .header("Authorization", "Bearer token-alice").header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString("{\"items\":[{\"productId\":\"P-100\",\"quantity\":1}],"
                  + "\"shipping\":{\"address\":\"1 Main St\",\"city\":\"Springfield\",\"zipCode\":\"12345\"}}"))
              .build(), HttpResponse.BodyHandlers.ofString());
          assertThat(r.statusCode()).as("POST /api/orders: %s", r.body()).isEqualTo(202);
        }
        records = consume(broker.bootstrapServers(), ORDERS);
      } finally {
        stop(gateway); // SIGTERM: the agent exports what it still holds
      }

      Set<String> exportedTraces = new HashSet<>();
      Set<String> exportedSpans = new HashSet<>();
      for (String line : Files.readAllLines(LOGS.resolve(log + ".log"), StandardCharsets.UTF_8)) {
        if (line.startsWith("{\"resourceSpans\"")) {
          for (JsonNode rs : JSON.readTree(line).get("resourceSpans")) {
            for (JsonNode ss : rs.get("scopeSpans")) {
              for (JsonNode span : ss.get("spans")) {
                exportedTraces.add(span.get("traceId").asString());
                exportedSpans.add(span.get("spanId").asString());
              }
            }
          }
        }
      }

      Map<String, Integer> flags = new HashMap<>();
      for (ConsumerRecord<String, byte[]> record : records) {
        Header header = record.headers().lastHeader("traceparent");
        assertThat(header).as("traceparent of offset %d", record.offset()).isNotNull();
        String traceparent = new String(header.value(), StandardCharsets.UTF_8);
        Matcher m = TRACEPARENT.matcher(traceparent);
        assertThat(m.matches()).as("traceparent %s", traceparent).isTrue();
        String traceId = m.group(1);
        String spanId = m.group(2);
        assertThat(traceId).isNotEqualTo("0".repeat(32));
        assertThat(spanId).isNotEqualTo("0".repeat(16));
        int bits = Integer.parseInt(m.group(3), 16);
        if ((bits & 0x01) != 0) {
          assertThat(exportedSpans).as("the producer span of sampled %s was exported", traceparent).contains(spanId);
        } else {
          assertThat(exportedTraces).as("no span of unsampled trace %s was exported", traceId).doesNotContain(traceId);
        }
        flags.merge(m.group(3), 1, Integer::sum);
      }
      // sampled and not, each with the random-trace-id bit the agent sets on the traces it starts
      assertThat(flags).as("traceparent flags of %d orders at ratio 0.5", ORDERS).containsOnlyKeys("02", "03");
    }
  }

  private static List<ConsumerRecord<String, byte[]>> consume(String bootstrapServers, int count) {
    List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class))) {
      TopicPartition partition = new TopicPartition(Topics.ORDERS_REQUESTED, 0);
      consumer.assign(List.of(partition));
      consumer.seekToBeginning(List.of(partition));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (records.size() < count && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      }
    }
    assertThat(records).as("records on %s", Topics.ORDERS_REQUESTED).hasSize(count);
    return records;
  }
}
