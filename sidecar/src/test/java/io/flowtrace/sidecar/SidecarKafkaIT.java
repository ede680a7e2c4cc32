package io.flowtrace.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.kafka.testkit.Await;
import io.flowtrace.kafka.testkit.KafkaBroker;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sidecar in-process on a real broker: what a graceful stop keeps and commits. */
class SidecarKafkaIT {

  private static final List<String> FLOW_TOPICS = List.of("orders.requested", "inventory.requests",
      "inventory.replies", "orders.created", "orders.confirmed", "orders.cancelled", "notifications.email");

  private static KafkaBroker broker;

  @TempDir Path dir;

  @BeforeAll
  static void startBroker() {
    broker = KafkaBroker.start();
    FLOW_TOPICS.forEach(t -> broker.createTopic(t, 1));
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) broker.close();
  }

  @Test
  void aGracefulStopProcessesEveryAcknowledgedSpanAndCommitsEveryRecordItVerified() throws Exception {
    String group = "flowtrace-sidecar-it-" + UUID.randomUUID();
    SidecarConfig config = SidecarConfig.from(null, Map.of(), Map.of(
        "flows", "../flows", "bootstrap-servers", broker.bootstrapServers(), "group-id", group,
        "start-from", "earliest", "otlp-http-port", "0", "otlp-grpc-port", "-1", "http-port", "-1",
        "console", "false", "verdicts-dir", dir.resolve("verdicts").toString(), "verdicts-topic", ""));
    int records = 5;
    AtomicInteger acknowledged = new AtomicInteger();
    Sidecar sidecar = Sidecar.start(config);
    Thread exporter;
    try (KafkaProducer<byte[], byte[]> producer = broker.newProducer(Map.of())) {
      for (int i = 0; i < records; i++) {
        producer.send(new ProducerRecord<>("orders.created", ("{\"orderId\":\"O-" + i + "\"}")
            .getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);
      }
      Await.until(() -> sidecar.engineStats().records() == records, () -> "records " + sidecar.engineStats().records());
      // An exporter that keeps sending while the sidecar stops: every span it was answered 200 for
      // must reach the engine.
      HttpClient http = HttpClient.newHttpClient();
      exporter = new Thread(() -> {
        while (true) {
          try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(sidecar.otlpHttpEndpoint())
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(gatewaySpan())).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200) {
              acknowledged.incrementAndGet();
            }
          } catch (Exception e) {
            return; // the receiver is closed
          }
        }
      });
      exporter.start();
      Await.until(() -> acknowledged.get() >= 20, () -> acknowledged.get() + " spans acknowledged");
    } finally {
      sidecar.close();
    }
    exporter.join(10_000);

    // Every span answered 200 was processed; one more may have been taken while its answer was cut off.
    assertThat(sidecar.engineStats().spans()).as("spans the engine processed")
        .isBetween((long) acknowledged.get(), acknowledged.get() + 1L);
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
      Map<TopicPartition, OffsetAndMetadata> committed =
          admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
      assertThat(committed.get(new TopicPartition("orders.created", 0)))
          .as("committed for orders.created: all %s records are decided", records)
          .isNotNull()
          .extracting(OffsetAndMetadata::offset).isEqualTo((long) records);
    }
  }

  /** A gateway SERVER span of an order request in a trace of its own, as OTLP/JSON. */
  private static String gatewaySpan() {
    HexFormat hex = HexFormat.of();
    byte[] traceId = new byte[16];
    byte[] spanId = new byte[8];
    ThreadLocalRandom.current().nextBytes(traceId);
    ThreadLocalRandom.current().nextBytes(spanId);
    long start = Instant.now().toEpochMilli() * 1_000_000L;
    return "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"gateway\"}}]},"
        + "\"scopeSpans\":[{\"spans\":[{\"traceId\":\"" + hex.formatHex(traceId) + "\",\"spanId\":\""
        + hex.formatHex(spanId) + "\",\"name\":\"POST /api/orders\",\"kind\":2,\"startTimeUnixNano\":\"" + start
        + "\",\"endTimeUnixNano\":\"" + (start + 5_000_000) + "\",\"attributes\":[{\"key\":\"http.request.body\","
        + "\"value\":{\"stringValue\":\"{\\\"items\\\":[{\\\"productId\\\":\\\"P-100\\\",\\\"quantity\\\":1}]}\"}}]}]}]}]}";
  }
}
