package io.flowtrace.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.kafka.testkit.Await;
import io.flowtrace.kafka.testkit.KafkaBroker;
import io.flowtrace.sidecar.internal.RoutingProgress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
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
    // As production clusters are set up: a topic exists only when created (here, a consumer asking
    // for a missing topic's metadata would create it).
    broker = KafkaBroker.builder().serverProperty("auto.create.topics.enable", "false").start();
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

  @Test
  void withAnOtlpReceiverFlowsInFlightAtAStopAreReadAgainByTheNextRunWhichAmendsTheirVerdicts() throws Exception {
    String suffix = "-" + UUID.randomUUID();
    String booked = "parcels.booked" + suffix;
    String delivered = "parcels.delivered" + suffix;
    broker.createTopic(booked, 1);
    broker.createTopic(delivered, 1);
    Path flows = parcelFlow(booked, delivered, "60s",
        "rules:",
        "  - name: delivered at the price booked",
        "    expr: delivered_msg.price == booked_msg.price");
    String group = "flowtrace-sidecar-it-" + UUID.randomUUID();
    Instant testStart = Instant.now().minusSeconds(60);
    Path verdicts = dir.resolve("verdicts");
    SidecarConfig config = SidecarConfig.from(null, Map.of(), Map.of(
        "flows", flows.toString(), "bootstrap-servers", broker.bootstrapServers(), "group-id", group,
        "start-from", "earliest", "otlp-http-port", "0", "otlp-grpc-port", "-1", "http-port", "-1",
        "console", "false", "verdicts-dir", verdicts.toString(), "verdicts-topic", ""));
    try (KafkaProducer<byte[], byte[]> producer = broker.newProducer(Map.of())) {
      try (Sidecar first = Sidecar.start(config)) {
        sendUnsampled(producer, booked, "P-1", "{\"parcelId\":\"P-1\",\"price\":10}");
        sendUnsampled(producer, booked, "P-2", "{\"parcelId\":\"P-2\",\"price\":10}");
        Await.until(() -> first.engineStats().records() == 2, () -> "records " + first.engineStats().records());
      } // stopped with both parcels in flight: decided INCOMPLETE, their records left to the next run
      assertThat(verdictLines(verdicts)).extracting(v -> v.path("instanceKey").asString() + " " + v.path("verdict").path("status").asString()
          + " r" + v.path("revision").asInt()).containsExactlyInAnyOrder("parcel|parcelId=P-1 INCOMPLETE r0",
          "parcel|parcelId=P-2 INCOMPLETE r0");
      assertThat(verdictLines(verdicts)).as("decided when their last event came, though the watermark may not have moved")
          .allSatisfy(v -> assertThat(Instant.parse(v.path("decided").asString())).isAfter(testStart));

      try (Sidecar second = Sidecar.start(config)) {
        sendUnsampled(producer, delivered, "P-1", "{\"parcelId\":\"P-1\",\"price\":10}");
        sendUnsampled(producer, delivered, "P-2", "{\"parcelId\":\"P-2\",\"price\":12}");
        Await.until(() -> verdictLines(verdicts).size() == 4, () -> "verdicts " + verdictLines(verdicts));
        assertThat(second.engineStats().lateDropped()).as("events dropped as decided before this run").isZero();
      }
    }
    assertThat(verdictLines(verdicts)).filteredOn(v -> v.path("revision").asInt() == 1)
        .extracting(v -> v.path("instanceKey").asString() + " " + v.path("verdict").path("status").asString())
        .containsExactlyInAnyOrder("parcel|parcelId=P-1 PASSED", "parcel|parcelId=P-2 FAILED");
  }

  @Test
  void aSidecarStartedOnTrafficInFlightDoesNotFailTheFlowsItJoinedMidway() throws Exception {
    String suffix = "-" + UUID.randomUUID();
    String booked = "parcels.booked" + suffix;
    String delivered = "parcels.delivered" + suffix;
    broker.createTopic(booked, 1);
    broker.createTopic(delivered, 1);
    Path flows = parcelFlow(booked, delivered, "3s");
    Path verdicts = dir.resolve("verdicts");
    SidecarConfig config = SidecarConfig.from(null, Map.of(), Map.of(
        "flows", flows.toString(), "bootstrap-servers", broker.bootstrapServers(),
        "group-id", "flowtrace-sidecar-it-" + UUID.randomUUID(), "start-from", "latest",
        "otlp-http-port", "0", "otlp-grpc-port", "-1", "http-port", "-1", "console", "false",
        "verdicts-dir", verdicts.toString(), "verdicts-topic", ""));
    try (KafkaProducer<byte[], byte[]> producer = broker.newProducer(Map.of())) {
      sendUnsampled(producer, booked, "P-1", "{\"parcelId\":\"P-1\"}"); // before the sidecar: not read
      long joined;
      try (Sidecar sidecar = Sidecar.start(config)) {
        Await.until(() -> sidecar.readiness().ok(), () -> sidecar.readiness().detail());
        joined = System.currentTimeMillis();
        sendUnsampled(producer, delivered, "P-1", "{\"parcelId\":\"P-1\"}");
        sendUnsampled(producer, booked, "P-2", "{\"parcelId\":\"P-2\"}");
        sendUnsampled(producer, delivered, "P-2", "{\"parcelId\":\"P-2\"}");
        Await.until(() -> verdictLines(verdicts).size() == 2, () -> "verdicts " + verdictLines(verdicts));
        // a deadline after the sidecar's first record, a flow missing its first stage is a defect again
        Await.until(() -> System.currentTimeMillis() > joined + 4_000, () -> "the clock");
        sendUnsampled(producer, delivered, "P-3", "{\"parcelId\":\"P-3\"}");
        Await.until(() -> verdictLines(verdicts).size() == 3, () -> "verdicts " + verdictLines(verdicts));
      }
    }
    assertThat(verdictLines(verdicts)).extracting(v -> v.path("instanceKey").asString() + " "
        + v.path("verdict").path("status").asString() + " (" + v.path("verdict").path("reason").asString() + ")")
        .containsExactlyInAnyOrder(
            "parcel|parcelId=P-1 INCOMPLETE (may have begun before the input did: its entry was not seen)",
            "parcel|parcelId=P-2 PASSED (complete)",
            "parcel|parcelId=P-3 FAILED (deadline passed)");
  }

  @Test
  void aVerdictOneOutputHoldsAndTheOtherLacksIsCopiedToItAtStart() throws Exception {
    // the last run was killed after its verdicts topic had O-9's verdict and before its file had it;
    // O-8's reached the file only
    String topic = "verdicts-" + UUID.randomUUID();
    broker.createTopic(topic, 1);
    Path verdicts = Files.createDirectories(dir.resolve("verdicts"));
    String o8 = verdictJson("O-8");
    String o9 = verdictJson("O-9");
    Files.writeString(verdicts.resolve("verdicts-0001.jsonl"), o8 + "\n");
    try (KafkaProducer<byte[], byte[]> producer = broker.newProducer(Map.of())) {
      producer.send(new ProducerRecord<>(topic, "order-creation|orderId=O-9".getBytes(StandardCharsets.UTF_8),
          o9.getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);
    }
    SidecarConfig config = SidecarConfig.from(null, Map.of(), Map.of(
        "flows", "../flows", "bootstrap-servers", broker.bootstrapServers(),
        "group-id", "flowtrace-sidecar-it-" + UUID.randomUUID(), "start-from", "latest",
        "otlp-http-port", "-1", "otlp-grpc-port", "-1", "http-port", "-1", "console", "false",
        "verdicts-dir", verdicts.toString(), "verdicts-topic", topic));
    try (Sidecar sidecar = Sidecar.start(config)) {
      assertThat(verdictLines(verdicts)).extracting(v -> v.path("instanceKey").asString())
          .containsExactlyInAnyOrder("order-creation|orderId=O-8", "order-creation|orderId=O-9");
      assertThat(repartitionKeys(topic)).containsExactlyInAnyOrder("order-creation|orderId=O-9",
          "order-creation|orderId=O-8");
    }
  }

  /** A parcel booked, then delivered, on the two topics, with {@code more} lines of spec after its stages. */
  private Path parcelFlow(String booked, String delivered, String deadline, String... more) throws java.io.IOException {
    Path flows = Files.createDirectories(dir.resolve("parcel-flows"));
    List<String> lines = new java.util.ArrayList<>(List.of(
        "flow: parcel",
        "keys: [parcelId]",
        "deadline: " + deadline,
        "stages:",
        "  - id: booked",
        "    events:",
        "      - {id: booked_msg, topic: " + booked + "}",
        "  - id: delivered",
        "    after: booked",
        "    terminal: true",
        "    events:",
        "      - {id: delivered_msg, topic: " + delivered + "}"));
    lines.addAll(List.of(more));
    Files.writeString(flows.resolve("parcel.flow.yaml"), String.join("\n", lines) + "\n");
    return flows;
  }

  private static String verdictJson(String orderId) {
    return "{\"instanceKey\":\"order-creation|orderId=" + orderId + "\",\"revision\":0,\"decided\":\""
        + Instant.now() + "\",\"verdict\":{\"flow\":\"order-creation\",\"keys\":{\"orderId\":\"" + orderId
        + "\"},\"status\":\"PASSED\",\"violations\":[],\"traceIds\":[\"" + hex(16) + "\"],\"reason\":\"complete\"}}";
  }

  /** A record of an unsampled trace: its spans are not expected. */
  private static void sendUnsampled(KafkaProducer<byte[], byte[]> producer, String topic, String key, String value)
      throws Exception {
    ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8),
        value.getBytes(StandardCharsets.UTF_8));
    r.headers().add("traceparent", ("00-" + hex(16) + "-" + hex(8) + "-00").getBytes(StandardCharsets.UTF_8));
    producer.send(r).get(30, TimeUnit.SECONDS);
  }

  /** Every verdict line the sidecar wrote to {@code dir}. */
  private static List<tools.jackson.databind.JsonNode> verdictLines(Path dir) {
    List<tools.jackson.databind.JsonNode> lines = new java.util.ArrayList<>();
    tools.jackson.databind.json.JsonMapper json = tools.jackson.databind.json.JsonMapper.builder().build();
    try (java.util.stream.Stream<Path> files = Files.exists(dir) ? Files.list(dir) : java.util.stream.Stream.empty()) {
      for (Path f : files.sorted().toList()) {
        for (String line : Files.readAllLines(f)) {
          tools.jackson.databind.JsonNode v = line.isBlank() ? null : json.readTree(line);
          if (v != null && v.has("verdict")) { // late-event notes aside
            lines.add(v);
          }
        }
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return lines;
  }

  @Test
  void refusedOtlpRequestsAreCountedByReasonInTheMetrics() throws Exception {
    SidecarConfig config = SidecarConfig.from(null, Map.of(), Map.of(
        "flows", "../flows", "bootstrap-servers", broker.bootstrapServers(),
        "group-id", "flowtrace-sidecar-it-" + UUID.randomUUID(), "start-from", "latest",
        "otlp-http-port", "0", "otlp-grpc-port", "-1", "http-port", "0", "console", "false", "verdicts-topic", ""));
    HttpClient http = HttpClient.newHttpClient();
    try (Sidecar sidecar = Sidecar.start(config)) {
      String base = "http://127.0.0.1:" + sidecar.opsPort();
      for (String body : List.of("{\"resourceSpans\": [", "not json at all")) {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(sidecar.otlpHttpEndpoint())
            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
      }
      Await.until(() -> get(http, base + "/metrics").body().contains("flowtrace_otlp_requests_refused_total{reason=\"undecodable\"} 2.0"),
          () -> get(http, base + "/metrics").body().lines().filter(l -> l.contains("refused")).toList().toString());
    }
  }

  @Test
  void aMissingTopicIsSaidOnceKeepsTheSidecarReadyButDegradedAndIsReadWhenItAppears() throws Exception {
    // The flows on topics of this test's own; all but orders.created are created.
    String suffix = "-" + UUID.randomUUID();
    String missing = "orders.created" + suffix;
    String requested = "orders.requested" + suffix;
    Path flows = suffixedOrderFlow(suffix, "orders.created");
    SidecarConfig config = SidecarConfig.from(null, Map.of(), Map.of(
        "flows", flows.toString(), "bootstrap-servers", broker.bootstrapServers(),
        "group-id", "flowtrace-sidecar-it-" + UUID.randomUUID(), "start-from", "latest",
        "otlp-http-port", "-1", "otlp-grpc-port", "-1", "http-port", "0", "console", "false", "verdicts-topic", ""));
    HttpClient http = HttpClient.newHttpClient();
    PrintStream stderr = System.err;
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    System.setErr(new PrintStream(new TeeOutputStream(stderr, log), true, StandardCharsets.UTF_8));
    System.setProperty(io.flowtrace.sidecar.internal.KafkaInput.TOPIC_CHECK_PROPERTY, "200");
    try (Sidecar sidecar = Sidecar.start(config);
        KafkaProducer<byte[], byte[]> producer = broker.newProducer(Map.of())) {
      String base = "http://127.0.0.1:" + sidecar.opsPort();
      Await.until(() -> get(http, base + "/readyz").statusCode() == 200, () -> "readyz " + get(http, base + "/readyz").body());
      assertThat(get(http, base + "/readyz").body()).isEqualTo("ok: verifying 6 partitions; degraded: topic " + missing
          + " (order-creation/order-created(orders_created)) does not exist; verifying the rest, it is picked up when it"
          + " appears\n");
      assertThat(get(http, base + "/metrics").body())
          .contains("flowtrace_topic_missing{topic=\"" + missing + "\"} 1.0")
          .contains("flowtrace_topic_missing{topic=\"" + requested + "\"} 0.0");

      // The other topics are verified meanwhile. Reading one of their records also lets the consumer
      // fetch metadata for a while, which is when kafka-clients would complain about the missing topic.
      producer.send(new ProducerRecord<>(requested, "{\"requestId\":\"R-1\"}".getBytes(StandardCharsets.UTF_8)))
          .get(30, TimeUnit.SECONDS);
      Await.until(() -> sidecar.engineStats().records() == 1, () -> "records " + sidecar.engineStats().records());

      broker.createTopic(missing, 1); // returns once its partition has a leader
      producer.send(new ProducerRecord<>(missing, "{\"orderId\":\"O-1\"}".getBytes(StandardCharsets.UTF_8)))
          .get(30, TimeUnit.SECONDS);
      Await.until(() -> sidecar.engineStats().records() >= 2, () -> "records " + sidecar.engineStats().records()
          + ", missing " + sidecar.missingTopics());
      assertThat(sidecar.engineStats().records()).as("records read; none twice when the topic joined").isEqualTo(2);
      assertThat(sidecar.missingTopics()).isEmpty();
      assertThat(get(http, base + "/metrics").body()).contains("flowtrace_topic_missing{topic=\"" + missing + "\"} 0.0");
      assertThat(get(http, base + "/readyz").body()).isEqualTo("ok: verifying 7 partitions\n");
      assertThat(sidecar.ownedPartitions()).contains(new TopicPartition(missing, 0));
    } finally {
      System.clearProperty(io.flowtrace.sidecar.internal.KafkaInput.TOPIC_CHECK_PROPERTY);
      System.setErr(stderr);
    }
    List<String> lines = log.toString(StandardCharsets.UTF_8).lines().toList();
    assertThat(lines.stream().filter(l -> l.contains("event=topic_missing")))
        .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
        .endsWith("event=topic_missing topic=" + missing + " flows=order-creation/order-created(orders_created)"
            + " detail=\"the topic does not exist; verifying the rest; it is picked up when it appears\"");
    assertThat(lines.stream().filter(l -> l.contains("event=topic_appeared")))
        .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
        .endsWith("event=topic_appeared topic=" + missing + " flows=order-creation/order-created(orders_created)"
            + " detail=\"reading it from its earliest offset\"");
    assertThat(lines).as("kafka-clients' complaints about the missing topic")
        .noneMatch(l -> l.contains("UNKNOWN_TOPIC_OR_PARTITION"));
  }

  @Test
  void inAClusterAnEventReadBeforeTheOneThatOpensItsInstanceIsRoutedWithItsInstance() throws Exception {
    // A confirmation in the payment webhook's trace, read before its order (as in a backlog after a
    // handover): it must not start an instance of its own on another sidecar.
    String suffix = "-" + UUID.randomUUID();
    Path flows = suffixedOrderFlow(suffix);
    String group = "flowtrace-cluster-it-" + UUID.randomUUID();
    SidecarConfig config = clusterConfig(flows, group, 6, -1);
    String orderTrace = hex(16);
    String webhookTrace = hex(16);
    System.setProperty(io.flowtrace.sidecar.internal.Router.PARK_PROPERTY, "60000");
    try (Sidecar sidecar = Sidecar.start(config); KafkaProducer<byte[], byte[]> producer = broker.newProducer(Map.of())) {
      Await.until(() -> sidecar.readiness().ok(), () -> sidecar.readiness().detail());
      send(producer, "orders.confirmed" + suffix, "O-1", "{\"orderId\":\"O-1\"}", webhookTrace);
      Await.until(() -> sidecar.metrics().recordsRead() >= 1, () -> "records read " + sidecar.metrics().recordsRead());
      send(producer, "orders.requested" + suffix, "R-1", "{\"requestId\":\"R-1\"}", orderTrace);
      send(producer, "orders.created" + suffix, "O-1", "{\"orderId\":\"O-1\",\"requestId\":\"R-1\"}", orderTrace);
      Await.until(() -> sidecar.engineStats().records() == 3, () -> "records assembled " + sidecar.engineStats().records());

      assertThat(sidecar.engineStats().openInstances()).as("instances the three records opened").isEqualTo(1);
      assertThat(repartitionKeys(group + ".repartition")).as("roots the router gave the three records")
          .hasSize(3).containsOnly(orderTrace);
    } finally {
      System.clearProperty(io.flowtrace.sidecar.internal.Router.PARK_PROPERTY);
    }
  }

  @Test
  void inAClusterACorrelationSpanGoesToItsInstancesOwnerOnceItsTraceIsRoutedAndToEverySidecarBefore() throws Exception {
    String suffix = "-" + UUID.randomUUID();
    Path flows = suffixedOrderFlow(suffix);
    String group = "flowtrace-cluster-it-" + UUID.randomUUID();
    SidecarConfig config = clusterConfig(flows, group, 6, 0);
    String routed = hex(16);
    String unknown = hex(16);
    try (Sidecar sidecar = Sidecar.start(config); KafkaProducer<byte[], byte[]> producer = broker.newProducer(Map.of())) {
      Await.until(() -> sidecar.readiness().ok(), () -> sidecar.readiness().detail());
      send(producer, "orders.requested" + suffix, "R-1", "{\"requestId\":\"R-1\"}", routed);
      Await.until(() -> sidecar.engineStats().records() == 1, () -> "records assembled " + sidecar.engineStats().records());
      HttpClient http = HttpClient.newHttpClient();
      for (String trace : List.of(routed, unknown)) {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(sidecar.otlpHttpEndpoint())
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(consumerSpan(trace, "orders.requested" + suffix))).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      }
      Await.until(() -> sidecar.engineStats().spans() == 2, () -> "spans assembled " + sidecar.engineStats().spans());
    }
    assertThat(repartitionKeys(group + ".repartition")).as("roots on the repartition topic: the record and the span"
        + " of its trace").containsExactly(routed, routed);
    assertThat(repartitionKeys(group + ".spans")).as("spans broadcast: the one whose trace no router knows")
        .containsExactly(unknown);
  }

  @Test
  void inAClusterNoInstanceIsDecidedPastWhatEveryRouterHasRouted() throws Exception {
    String suffix = "-" + UUID.randomUUID();
    Path flows = suffixedOrderFlow(suffix);
    Path spec = flows.resolve("order-creation/order-creation.flow.yaml");
    Files.writeString(spec, Files.readString(spec).replace("deadline: 30s", "deadline: 2s"));
    String group = "flowtrace-cluster-it-" + UUID.randomUUID();
    String broadcast = group + ".spans";
    try (Sidecar sidecar = Sidecar.start(clusterConfig(flows, group, 2, -1));
        KafkaProducer<byte[], byte[]> producer = broker.newProducer(Map.of())) {
      Await.until(() -> sidecar.readiness().ok(), () -> sidecar.readiness().detail());
      // Another sidecar's router owns a partition it has routed only up to an hour ago: it died
      // there, and its group has not handed the partition on yet.
      TopicPartition stalled = new TopicPartition("orders.created" + suffix, 7);
      long anHourAgo = (System.currentTimeMillis() - 3_600_000L) * 1_000_000L;
      mark(producer, broadcast, RoutingProgress.encode(anHourAgo, List.of(stalled), Map.of()));
      send(producer, "orders.requested" + suffix, "R-1", "{\"requestId\":\"R-1\"}", hex(16));
      Await.until(() -> sidecar.engineStats().records() == 1, () -> "records assembled " + sidecar.engineStats().records());
      // the instance's 2 s deadline and the grace, four times over
      Await.during(java.time.Duration.ofSeconds(8), () -> sidecar.engineStats().verdictsDecided() == 0,
          () -> "decided while a router is an hour behind: " + sidecar.engineStats().verdictsDecided());
      assertThat(sidecar.engineStats().openInstances()).isEqualTo(1);

      // The partition's next owner has routed it up to now.
      mark(producer, broadcast, RoutingProgress.encode(System.currentTimeMillis() * 1_000_000L, List.of(stalled), Map.of()));
      Await.until(() -> sidecar.engineStats().verdictsDecided() == 1,
          () -> "decided " + sidecar.engineStats().verdictsDecided());
    }
  }

  @Test
  void inAClusterARecordTooLargeToRouteIsSkippedWithItsCoordinatesAndTheRestGoesOn() throws Exception {
    String suffix = "-" + UUID.randomUUID();
    Path flows = suffixedOrderFlow(suffix);
    String big = "orders.created-big" + suffix;
    broker.createTopic(big, 1);
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
      admin.incrementalAlterConfigs(Map.of(new org.apache.kafka.common.config.ConfigResource(
          org.apache.kafka.common.config.ConfigResource.Type.TOPIC, big), List.of(new org.apache.kafka.clients.admin.AlterConfigOp(
              new org.apache.kafka.clients.admin.ConfigEntry("max.message.bytes", Integer.toString(12 << 20)),
              org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
    }
    Path spec = flows.resolve("order-creation/order-creation.flow.yaml");
    Files.writeString(spec, Files.readString(spec).replace("topic: orders.created" + suffix + "\n", "topic: " + big + "\n"));
    String group = "flowtrace-cluster-it-" + UUID.randomUUID();
    SidecarConfig config = clusterConfig(flows, group, 2, -1);
    PrintStream stderr = System.err;
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    System.setErr(new PrintStream(new TeeOutputStream(stderr, log), true, StandardCharsets.UTF_8));
    try (Sidecar sidecar = Sidecar.start(config);
        KafkaProducer<byte[], byte[]> producer = broker.newProducer(Map.of("max.request.size", 12 << 20))) {
      Await.until(() -> sidecar.readiness().ok(), () -> sidecar.readiness().detail());
      String order = "{\"orderId\":\"O-9\",\"note\":\"" + "x".repeat(9 << 20) + "\"}";
      send(producer, big, "O-9", order, hex(16));
      send(producer, "orders.requested" + suffix, "R-2", "{\"requestId\":\"R-2\"}", hex(16));
      Await.until(() -> sidecar.engineStats().records() == 1, () -> "records assembled " + sidecar.engineStats().records());
      Await.until(() -> log.toString(StandardCharsets.UTF_8).contains("too large to route"), () -> "no log line");
      assertThat(sidecar.health().ok()).as("health: " + sidecar.health().detail()).isTrue();
    } finally {
      System.setErr(stderr);
    }
    assertThat(log.toString(StandardCharsets.UTF_8).lines().filter(l -> l.contains("too large to route")))
        .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
        .contains("event=skip item=\"" + big + "[0]@0\"", "limit=" + io.flowtrace.sidecar.internal.Router.MAX_ROUTED_BYTES);
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
      var type = org.apache.kafka.common.config.ConfigResource.Type.TOPIC;
      var configs = admin.describeConfigs(List.of(
          new org.apache.kafka.common.config.ConfigResource(type, group + ".routes"),
          new org.apache.kafka.common.config.ConfigResource(type, group + ".repartition"),
          new org.apache.kafka.common.config.ConfigResource(type, group + ".spans"))).all().get(30, TimeUnit.SECONDS);
      Map<String, org.apache.kafka.clients.admin.Config> byTopic = new java.util.HashMap<>();
      configs.forEach((r, c) -> byTopic.put(r.name(), c));
      assertThat(byTopic.get(group + ".routes").get("cleanup.policy").value()).as("routes: compacted, and old aliases deleted")
          .isEqualTo("compact,delete");
      assertThat(byTopic.get(group + ".routes").get("retention.ms").value()).isEqualTo("3600000");
      assertThat(byTopic.get(group + ".spans").get("retention.ms").value()).isEqualTo("3600000");
      assertThat(byTopic.get(group + ".repartition").get("retention.ms").value()).isEqualTo("86400000");
      assertThat(byTopic.get(group + ".repartition").get("max.message.bytes").value())
          .isEqualTo(Integer.toString(io.flowtrace.sidecar.internal.Router.MAX_ROUTED_BYTES + 64 * 1024));
    }
  }

  @Test
  void verdictsForATopicThatIsGoneWaitAndAreWrittenOnceWhenItIsBack() throws Exception {
    String suffix = "-" + UUID.randomUUID();
    Path flows = suffixedOrderFlow(suffix);
    Path spec = flows.resolve("order-creation/order-creation.flow.yaml");
    Files.writeString(spec, Files.readString(spec).replace("deadline: 30s", "deadline: 1s"));
    String verdicts = "verdicts" + suffix;
    broker.createTopic(verdicts, 1);
    SidecarConfig config = SidecarConfig.from(null, Map.of(), Map.of(
        "flows", flows.toString(), "bootstrap-servers", broker.bootstrapServers(),
        "group-id", "flowtrace-sidecar-it-" + UUID.randomUUID(), "verdicts-topic", verdicts,
        "otlp-http-port", "-1", "otlp-grpc-port", "-1", "http-port", "-1", "console", "false"));
    try (Sidecar sidecar = Sidecar.start(config); KafkaProducer<byte[], byte[]> producer = broker.newProducer(Map.of());
        Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
      Await.until(() -> sidecar.readiness().ok(), () -> sidecar.readiness().detail());
      send(producer, "orders.created" + suffix, "O-1", "{\"orderId\":\"O-1\"}", hex(16));
      Await.until(() -> orderIdsOn(verdicts).contains("O-1"), () -> "verdicts " + orderIdsOn(verdicts));

      admin.deleteTopics(List.of(verdicts)).all().get(30, TimeUnit.SECONDS);
      Await.until(() -> !topics(admin).contains(verdicts), () -> "still listed");
      send(producer, "orders.created" + suffix, "O-2", "{\"orderId\":\"O-2\"}", hex(16));
      Await.until(() -> sidecar.readiness().detail().contains("verdict output failing"), () -> sidecar.readiness().detail());
      assertThat(sidecar.readiness().detail()).contains("KafkaVerdictSink", "(1 waiting)");
      assertThat(sidecar.health().ok()).as(sidecar.health().detail()).isTrue();

      long back = System.nanoTime();
      broker.createTopic(verdicts, 1);
      Await.until(() -> orderIdsOn(verdicts).contains("O-2"), () -> sidecar.readiness().detail());
      System.out.printf("verdicts topic back: the waiting verdict written %d ms after%n",
          (System.nanoTime() - back) / 1_000_000);
      Await.until(() -> !sidecar.readiness().detail().contains("degraded"), () -> sidecar.readiness().detail());
      assertThat(orderIdsOn(verdicts)).as("on the topic created again").containsExactly("O-2");
    }
  }

  private static java.util.Set<String> topics(Admin admin) {
    try {
      return admin.listTopics().names().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static List<String> orderIdsOn(String topic) {
    try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<String, String>(
        Map.of("bootstrap.servers", broker.bootstrapServers()), new org.apache.kafka.common.serialization.StringDeserializer(),
        new org.apache.kafka.common.serialization.StringDeserializer())) {
      List<org.apache.kafka.common.PartitionInfo> infos = consumer.partitionsFor(topic, java.time.Duration.ofSeconds(5));
      if (infos == null || infos.isEmpty()) {
        return List.of();
      }
      List<TopicPartition> tps = infos.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      Map<TopicPartition, Long> ends = consumer.endOffsets(tps);
      List<String> ids = new java.util.ArrayList<>();
      while (tps.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
        consumer.poll(java.time.Duration.ofMillis(200)).forEach(r -> ids.add(
            r.key().replaceFirst(".*orderId=", "").replaceFirst("\\|.*", "")));
      }
      return ids;
    } catch (org.apache.kafka.common.KafkaException e) {
      return List.of();
    }
  }

  /**
   * The order flow alone (the other example flows' topics do not exist here and would be named too),
   * on topics of this test's own ({@code suffix}ed), created but for {@code notCreated}.
   */
  private Path suffixedOrderFlow(String suffix, String... notCreated) throws java.io.IOException {
    Path flows = dir.resolve("flows");
    copyTree(Path.of("../flows/order-creation"), flows.resolve("order-creation"));
    Path spec = flows.resolve("order-creation/order-creation.flow.yaml");
    String text = Files.readString(spec);
    for (String t : FLOW_TOPICS) {
      text = text.replace("topic: " + t + "\n", "topic: " + t + suffix + "\n");
      if (!List.of(notCreated).contains(t)) {
        broker.createTopic(t + suffix, 1);
      }
    }
    Files.writeString(spec, text);
    return flows;
  }

  /** A router's progress mark, on the cluster's broadcast topic. */
  private static void mark(KafkaProducer<byte[], byte[]> producer, String broadcast, byte[] mark) throws Exception {
    ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(broadcast, null, mark);
    r.headers().add(RoutingProgress.HEADER, "another-router".getBytes(StandardCharsets.UTF_8));
    producer.send(r).get(30, TimeUnit.SECONDS);
  }

  private static void send(KafkaProducer<byte[], byte[]> producer, String topic, String key, String value, String trace)
      throws Exception {
    ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8),
        value.getBytes(StandardCharsets.UTF_8));
    r.headers().add("traceparent", ("00-" + trace + "-" + hex(8) + "-01").getBytes(StandardCharsets.UTF_8));
    producer.send(r).get(30, TimeUnit.SECONDS);
  }

  /** The keys of a cluster topic's items, in order. */
  private static List<String> repartitionKeys(String topic) {
    try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<String, byte[]>(
        Map.of("bootstrap.servers", broker.bootstrapServers()), new org.apache.kafka.common.serialization.StringDeserializer(),
        new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
      List<TopicPartition> tps = consumer.partitionsFor(topic).stream()
          .map(p -> new TopicPartition(topic, p.partition())).toList();
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      Map<TopicPartition, Long> ends = consumer.endOffsets(tps);
      List<String> keys = new java.util.ArrayList<>();
      while (tps.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
        consumer.poll(java.time.Duration.ofMillis(200)).forEach(r -> {
          if (r.headers().lastHeader(RoutingProgress.HEADER) == null) { // routers' progress marks aside
            keys.add(r.key());
          }
        });
      }
      return keys;
    }
  }

  private static String hex(int bytes) {
    byte[] b = new byte[bytes];
    ThreadLocalRandom.current().nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  private static HttpResponse<String> get(HttpClient http, String url) {
    try {
      return http.send(HttpRequest.newBuilder(java.net.URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static void copyTree(Path from, Path to) throws java.io.IOException {
    try (java.util.stream.Stream<Path> paths = Files.walk(from)) {
      for (Path p : paths.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }

  /** Writes to two streams: the log still shows in the test output while the test reads it. */
  private static final class TeeOutputStream extends java.io.OutputStream {
    private final java.io.OutputStream a;
    private final java.io.OutputStream b;

    TeeOutputStream(java.io.OutputStream a, java.io.OutputStream b) {
      this.a = a;
      this.b = b;
    }

    @Override
    public synchronized void write(int c) throws java.io.IOException {
      a.write(c);
      b.write(c);
    }

    @Override
    public synchronized void write(byte[] bytes, int off, int len) throws java.io.IOException {
      a.write(bytes, off, len);
      b.write(bytes, off, len);
    }

    @Override
    public synchronized void flush() throws java.io.IOException {
      a.flush();
      b.flush();
    }
  }

  /** A gateway SERVER span of an order request in a trace of its own, as OTLP/JSON. */
  /** One sidecar of a cluster without outputs; {@code otlpHttpPort} -1: no receiver. */
  private static SidecarConfig clusterConfig(Path flows, String group, int partitions, int otlpHttpPort)
      throws java.io.IOException {
    return SidecarConfig.from(null, Map.of(), Map.of(
        "flows", flows.toString(), "bootstrap-servers", broker.bootstrapServers(), "group-id", group,
        "cluster", "true", "repartition-partitions", Integer.toString(partitions),
        "otlp-http-port", Integer.toString(otlpHttpPort), "otlp-grpc-port", "-1", "http-port", "-1", "console", "false",
        "verdicts-topic", ""));
  }

  private static String consumerSpan(String trace, String topic) {
    long start = Instant.now().toEpochMilli() * 1_000_000L;
    return "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"order-service\"}}]},"
        + "\"scopeSpans\":[{\"spans\":[{\"traceId\":\"" + trace + "\",\"spanId\":\"" + hex(8) + "\",\"parentSpanId\":\""
        + hex(8) + "\",\"name\":\"process " + topic + "\",\"kind\":5,\"startTimeUnixNano\":\"" + start
        + "\",\"endTimeUnixNano\":\"" + (start + 2_000_000) + "\",\"attributes\":[{\"key\":\"messaging.system\","
        + "\"value\":{\"stringValue\":\"kafka\"}},{\"key\":\"messaging.destination.name\",\"value\":{\"stringValue\":\""
        + topic + "\"}},{\"key\":\"messaging.operation.type\",\"value\":{\"stringValue\":\"process\"}}]}]}]}]}";
  }

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
