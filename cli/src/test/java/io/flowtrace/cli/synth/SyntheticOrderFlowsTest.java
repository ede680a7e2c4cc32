package io.flowtrace.cli.synth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.flowtrace.tracer.correlation.MessagingAttributes;
import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** The sample recording read back: files, shapes, correlations and the contract on correct flows. */
class SyntheticOrderFlowsTest {

  private static final long MS = 1_000_000L;

  @TempDir
  static Path dir;

  static Manifest manifest;
  static LoadedRecording recording;

  @BeforeAll
  static void generateTheSample() throws IOException {
    manifest = SyntheticOrderFlows.sample().write(dir);
    recording = LoadedRecording.read(dir);
  }

  @Test
  void writesOneSpanFilePerServiceAMessagesDumpAndTheManifest() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(f -> f.getFileName().toString()))
          .containsExactlyInAnyOrder(
              "gateway.otlp.jsonl",
              "order-service.otlp.jsonl",
              "inventory-service.otlp.jsonl",
              "notification-service.otlp.jsonl",
              "messages.kcat.jsonl",
              "expected.json");
    }
  }

  @Test
  void readsBackWithTheTracersReadersWithoutProblems() {
    assertThat(recording.problems).isEmpty();
    assertThat(recording.spans).hasSize((int) manifest.spans());
    assertThat(recording.records).hasSize((int) manifest.records());
  }

  @Test
  void manifestRoundTripsThroughExpectedJson() throws IOException {
    assertThat(Manifest.read(dir)).isEqualTo(manifest);
    assertThat(Manifest.read(dir.resolve(Manifest.FILE_NAME)).summary())
        .isEqualTo(new Manifest.Summary(40, 28, 11, 1));
  }

  @Test
  void manifestListsEveryFlowWithItsPlantedDefectAndVerdict() {
    assertThat(manifest.flows()).hasSize(40);
    assertThat(manifest.flows()).extracting(Manifest.Flow::index)
        .containsExactlyElementsOf(java.util.stream.IntStream.range(0, 40).boxed().toList());
    assertThat(manifest.flowsWith(Defect.WRONG_TOTAL)).singleElement().satisfies(flow -> {
      assertThat(flow.index()).isEqualTo(5);
      assertThat(flow.status()).isEqualTo(Manifest.Status.FAILED);
      assertThat(flow.violations()).containsExactly(
          new Manifest.ExpectedViolation("BAD_TRANSFORMATION", "order-created", "total"));
    });
    assertThat(manifest.flowsWith(Defect.DUPLICATE_WEBHOOK_IDEMPOTENT)).hasSize(2)
        .allSatisfy(flow -> {
          assertThat(flow.status()).isEqualTo(Manifest.Status.PASSED);
          assertThat(flow.violations()).isEmpty();
        });
    assertThat(manifest.flows().get(39).defect()).isEqualTo(Defect.TRUNCATED);
    assertThat(manifest.flows().get(39).status()).isEqualTo(Manifest.Status.INCOMPLETE);
    assertThat(manifest.flows()).filteredOn(f -> f.defect() == null)
        .extracting(Manifest.Flow::payment)
        .contains(Manifest.Payment.AUTHORIZED, Manifest.Payment.DECLINED);
    assertThat(manifest.flows()).extracting(Manifest.Flow::requestId).doesNotHaveDuplicates();
    assertThat(manifest.flows()).extracting(Manifest.Flow::orderId).doesNotHaveDuplicates();
  }

  @Test
  void everyFlowHasTheSpansAndRecordsItsPathProduces() {
    for (Manifest.Flow flow : manifest.flows()) {
      int[] expected = expectedCounts(flow);
      assertThat(flow.spans()).as("spans of flow %d (%s)", flow.index(), flow.defect()).isEqualTo(expected[0]);
      assertThat(flow.records()).as("records of flow %d (%s)", flow.index(), flow.defect()).isEqualTo(expected[1]);
      assertThat(recording.spans(flow)).as("spans found for flow %d", flow.index()).hasSize(expected[0]);
      assertThat(recording.records(flow)).as("records found for flow %d", flow.index()).hasSize(expected[1]);
    }
  }

  @Test
  void everyRecordCarriesTheTraceparentOfItsProducerSpanAndItsCoordinates() {
    int olderThanSpan = 0;
    for (KafkaRecord record : recording.records) {
      Span producer = recording.producerOf(record);
      assertThat(producer.kind()).isEqualTo(SpanKind.PRODUCER);
      assertThat(MessagingAttributes.topic(producer)).isEqualTo(record.topic());
      assertThat(MessagingAttributes.partition(producer)).isEqualTo(record.partition());
      assertThat(MessagingAttributes.offset(producer)).isEqualTo(record.offset());
      assertThat(producer.attribute("messaging.kafka.message.key")).isEqualTo(record.key());
      long ts = record.timestampNanos();
      assertThat(ts).as("record time of %s", record.coordinates())
          .isGreaterThan(producer.startEpochNanos() - MS)
          .isLessThanOrEqualTo(producer.endEpochNanos());
      if (ts < producer.startEpochNanos()) {
        olderThanSpan++;
      }
    }
    assertThat(olderThanSpan).as("records that look older than their span (ms truncation)").isPositive();
  }

  @Test
  void traceparentFlagsAreMostly01AndSometimes03() {
    Map<Integer, Integer> flags = new HashMap<>();
    for (KafkaRecord record : recording.records) {
      assertThat(record.lastHeader("traceparent").orElseThrow().valueAsString())
          .matches("00-[0-9a-f]{32}-[0-9a-f]{16}-0[13]");
      flags.merge(record.traceContext().orElseThrow().flags(), 1, Integer::sum);
    }
    assertThat(flags).containsOnlyKeys(1, 3);
    assertThat(flags.get(1)).isGreaterThan(flags.get(3));
  }

  @Test
  void recordKeysAreTheRequestIdOnOrdersRequestedAndTheOrderIdElsewhere() {
    for (Manifest.Flow flow : manifest.flows()) {
      for (KafkaRecord record : recording.records(flow)) {
        String expectedKey = record.topic().equals("orders.requested") ? flow.requestId() : flow.orderId();
        assertThat(record.key()).as(record.coordinates()).isEqualTo(expectedKey);
        assertThat(record.partition()).isEqualTo(KafkaPartitioner.partition(expectedKey, 3));
      }
    }
  }

  @Test
  void consumerSpansAreChildrenOfTheProducerSpanOrLinkToIt() {
    int linked = 0;
    int children = 0;
    Manifest.Flow lost = manifest.flowsWith(Defect.LOST_TRACEPARENT).get(0);
    for (Span consumer : recording.spans) {
      if (consumer.kind() != SpanKind.CONSUMER) {
        continue;
      }
      KafkaRecord record = recording.consumedBy(consumer).orElseThrow(
          () -> new AssertionError("no record for " + consumer.describe()));
      Span producer = recording.producerOf(record);
      assertThat(consumer.startEpochNanos()).isGreaterThan(record.timestampNanos());
      if (!consumer.isRoot()) {
        assertThat(consumer.traceId()).isEqualTo(producer.traceId());
        assertThat(consumer.parentSpanId()).isEqualTo(producer.spanId());
        children++;
      } else if (!consumer.links().isEmpty()) {
        assertThat(consumer.links()).singleElement().satisfies(link -> {
          assertThat(link.traceId()).isEqualTo(producer.traceId());
          assertThat(link.spanId()).isEqualTo(producer.spanId());
        });
        assertThat(consumer.traceId()).isNotEqualTo(producer.traceId());
        linked++;
      } else {
        assertThat(record.key()).as("only the LOST_TRACEPARENT flow loses the context").isEqualTo(lost.orderId());
      }
    }
    assertThat(children).isGreaterThan(linked);
    assertThat(linked).isPositive();
  }

  @Test
  void notificationServiceEmitsTheAgentsOlderConventions() {
    List<Span> notification = recording.spans.stream().filter(s -> s.service().equals("notification-service")).toList();
    assertThat(notification).isNotEmpty().allSatisfy(span -> {
      assertThat(span.name()).matches("(orders\\.confirmed|orders\\.cancelled) process|notifications\\.email publish");
      assertThat(span.attribute("messaging.system")).isEqualTo("kafka");
      assertThat(span.attribute("messaging.operation")).isIn("publish", "process");
      assertThat(span.attributes()).containsKeys("messaging.kafka.message.offset", "messaging.client_id",
          "messaging.kafka.destination.partition", "messaging.destination.name", "messaging.kafka.message.key");
      assertThat(span.attributes()).doesNotContainKeys("messaging.operation.type", "messaging.kafka.offset",
          "messaging.client.id");
    });
  }

  @Test
  void otherServicesEmitTheStableMessagingConventions() {
    List<Span> kafka = recording.spans.stream()
        .filter(s -> !s.service().equals("notification-service"))
        .filter(s -> s.kind() == SpanKind.PRODUCER || s.kind() == SpanKind.CONSUMER)
        .toList();
    assertThat(kafka).isNotEmpty().allSatisfy(span -> {
      assertThat(span.name()).matches("(send|process) [a-z.]+");
      assertThat(span.attribute("messaging.operation.type")).isEqualTo(span.kind() == SpanKind.PRODUCER ? "send" : "process");
      assertThat(span.attribute("messaging.operation.name")).isEqualTo(span.kind() == SpanKind.PRODUCER ? "send" : "process");
      assertThat(span.attributes().get("messaging.destination.partition.id")).isInstanceOf(String.class);
      assertThat(span.attributes().get("messaging.kafka.offset")).isInstanceOf(Long.class);
      assertThat(span.attributes()).containsKeys("messaging.client.id", "messaging.kafka.message.key");
      if (span.kind() == SpanKind.CONSUMER) {
        assertThat(span.attribute("messaging.consumer.group.name")).isEqualTo(span.service());
      }
    });
  }

  @Test
  void httpSpansLookLikeTheAgentsServerAndClientSpans() {
    for (Manifest.Flow flow : manifest.flows()) {
      Span request = recording.spans(flow, SpanKind.SERVER, "POST /api/orders").get(0);
      assertThat(request.service()).isEqualTo("gateway");
      assertThat(request.isRoot()).isTrue();
      assertThat(request.traceId()).isEqualTo(flow.traceId());
      assertThat(request.attributes()).containsEntry("http.request.method", "POST")
          .containsEntry("http.route", "/api/orders")
          .containsEntry("url.path", "/api/orders")
          .containsEntry("url.scheme", "http")
          .containsEntry("http.response.status_code", 202L)
          .containsKeys("server.address", "http.request.body");
      Span payment = recording.payment(flow);
      assertThat(payment.service()).isEqualTo("order-service");
      assertThat(payment.traceId()).isEqualTo(flow.traceId());
      assertThat(payment.attributes()).containsEntry("url.full", "http://payment-provider:8080/payments")
          .containsEntry("http.request.method", "POST")
          .containsEntry("http.response.status_code", 200L)
          .containsKeys("http.request.body", "http.response.body");
      for (Span webhook : recording.spans(flow, SpanKind.SERVER, "POST /webhooks/payment")) {
        assertThat(webhook.service()).isEqualTo("order-service");
        assertThat(webhook.isRoot()).as("the provider's callback starts a new trace").isTrue();
        assertThat(webhook.traceId()).isNotEqualTo(flow.traceId());
        assertThat(webhook.attributes()).containsEntry("http.route", "/webhooks/payment")
            .containsEntry("http.response.status_code", 200L);
      }
    }
  }

  @Test
  void spanLinesAreExportBatchesOfOneServiceWithChildrenBeforeParents() throws IOException {
    boolean someFileOutOfTimeOrder = false;
    for (String service : List.of("gateway", "order-service", "inventory-service", "notification-service")) {
      List<String> lines = Files.readAllLines(dir.resolve(service + ".otlp.jsonl"));
      assertThat(lines).hasSizeGreaterThan(1);
      long previousStart = Long.MIN_VALUE;
      for (String line : lines) {
        JsonNode request = LoadedRecording.json(line);
        List<JsonNode> spans = new ArrayList<>();
        for (JsonNode resourceSpans : request.get("resourceSpans")) {
          assertThat(serviceName(resourceSpans)).isEqualTo(service);
          for (JsonNode scopeSpans : resourceSpans.get("scopeSpans")) {
            List<JsonNode> scope = new ArrayList<>();
            scopeSpans.get("spans").forEach(scope::add);
            // spans are exported as they end: within a scope, children come before parents
            List<String> ids = scope.stream().map(s -> s.get("spanId").asString()).toList();
            for (int i = 0; i < scope.size(); i++) {
              JsonNode parent = scope.get(i).get("parentSpanId");
              if (parent != null && ids.contains(parent.asString())) {
                assertThat(ids.indexOf(parent.asString())).as("parent after child in a batch").isGreaterThan(i);
              }
            }
            spans.addAll(scope);
          }
        }
        assertThat(spans).hasSizeBetween(1, SyntheticOrderFlows.DEFAULT_MAX_SPANS_PER_LINE);
        for (JsonNode span : spans) {
          long start = Long.parseLong(span.get("startTimeUnixNano").asString());
          if (start < previousStart) {
            someFileOutOfTimeOrder = true;
          }
          previousStart = start;
        }
      }
    }
    assertThat(someFileOutOfTimeOrder).as("span lines are not in time order").isTrue();
  }

  @Test
  void resourcesAndScopesAreTheJavaAgents() throws IOException {
    Set<String> scopes = new HashSet<>();
    Set<String> instances = new HashSet<>();
    for (String service : List.of("gateway", "order-service", "inventory-service", "notification-service")) {
      for (String line : Files.readAllLines(dir.resolve(service + ".otlp.jsonl"))) {
        for (JsonNode resourceSpans : LoadedRecording.json(line).get("resourceSpans")) {
          Map<String, String> attributes = new HashMap<>();
          for (JsonNode kv : resourceSpans.get("resource").get("attributes")) {
            JsonNode value = kv.get("value");
            attributes.put(kv.get("key").asString(),
                value.has("stringValue") ? value.get("stringValue").asString() : value.toString());
          }
          assertThat(attributes).containsEntry("service.name", service)
              .containsEntry("telemetry.sdk.name", "opentelemetry")
              .containsEntry("telemetry.sdk.language", "java")
              .containsEntry("telemetry.distro.name", "opentelemetry-java-instrumentation")
              .containsKeys("service.version", "service.instance.id", "host.name", "process.pid",
                  "process.runtime.name", "telemetry.sdk.version");
          instances.add(attributes.get("service.instance.id"));
          for (JsonNode scopeSpans : resourceSpans.get("scopeSpans")) {
            scopes.add(scopeSpans.get("scope").get("name").asString());
          }
        }
      }
    }
    assertThat(scopes).containsExactlyInAnyOrder("io.opentelemetry.kafka-clients-2.6",
        "io.opentelemetry.java-http-server", "io.opentelemetry.java-http-client");
    assertThat(instances).hasSize(7);
  }

  @Test
  void messagesAreDumpedTopicByTopicWithConsecutiveOffsetsInTimeOrder() throws IOException {
    List<String> lines = Files.readAllLines(dir.resolve("messages.kcat.jsonl"));
    assertThat(lines).hasSize((int) manifest.records());
    List<String> topicBlocks = new ArrayList<>();
    Map<String, long[]> last = new HashMap<>(); // topic-partition -> {offset, ts}
    for (String line : lines) {
      JsonNode record = LoadedRecording.json(line);
      String topic = record.get("topic").asString();
      if (topicBlocks.isEmpty() || !topicBlocks.get(topicBlocks.size() - 1).equals(topic)) {
        topicBlocks.add(topic);
      }
      String tp = topic + "-" + record.get("partition").asInt();
      long offset = record.get("offset").asLong();
      long ts = record.get("ts").asLong();
      long[] previous = last.put(tp, new long[] {offset, ts});
      if (previous != null) {
        assertThat(offset).as("offsets of %s", tp).isEqualTo(previous[0] + 1);
        assertThat(ts).as("timestamps of %s follow offsets", tp).isGreaterThanOrEqualTo(previous[1]);
      }
      assertThat(record.has("payload") ^ record.has("payload_base64")).isTrue();
      assertThat(record.has("payload_base64")).isEqualTo(topic.equals("notifications.email"));
    }
    assertThat(topicBlocks).doesNotHaveDuplicates().hasSize(7);
    assertThat(last).hasSize(21);
  }

  @Test
  void correctFlowsObeyEveryRuleOfTheContract() throws IOException {
    for (Manifest.Flow flow : manifest.flows()) {
      if (flow.defect() != null && flow.defect() != Defect.DUPLICATE_WEBHOOK_IDEMPOTENT) {
        continue;
      }
      assertCorrect(flow);
    }
  }

  @Test
  void correctFlowsKeepToTheStageOrderAndTheBudgets() {
    for (Manifest.Flow flow : manifest.flows()) {
      if (flow.defect() != null && flow.defect() != Defect.DUPLICATE_WEBHOOK_IDEMPOTENT) {
        continue;
      }
      long start = recording.spans(flow, SpanKind.SERVER, "POST /api/orders").get(0).startEpochNanos();
      long requested = sendStart(flow, "orders.requested");
      long inventoryRequest = sendStart(flow, "inventory.requests");
      long inventoryReply = sendStart(flow, "inventory.replies");
      long created = sendStart(flow, "orders.created");
      Span payment = recording.payment(flow);
      assertThat(List.of(start, requested, inventoryRequest, inventoryReply, created, payment.startEpochNanos()))
          .as("stage order of flow %d", flow.index()).isSorted();
      long outcome;
      if (flow.payment() == Manifest.Payment.AUTHORIZED) {
        Span webhook = recording.spans(flow, SpanKind.SERVER, "POST /webhooks/payment").get(0);
        outcome = sendStart(flow, "orders.confirmed");
        assertThat(webhook.startEpochNanos()).isGreaterThan(payment.endEpochNanos());
        assertThat(outcome - webhook.startEpochNanos()).isBetween(0L, 2_000 * MS);
      } else {
        outcome = sendStart(flow, "orders.cancelled");
        assertThat(outcome - payment.endEpochNanos()).isBetween(0L, 2_000 * MS);
      }
      long email = sendStart(flow, "notifications.email");
      assertThat(email - outcome).isBetween(0L, 1_000 * MS);
      assertThat(email - start).isLessThan(30_000 * MS);
    }
  }

  private void assertCorrect(Manifest.Flow flow) throws IOException {
    Span request = recording.spans(flow, SpanKind.SERVER, "POST /api/orders").get(0);
    JsonNode clientBody = LoadedRecording.json(request.attribute("http.request.body"));
    JsonNode requested = LoadedRecording.payload(only(flow, "orders.requested"));
    ObjectNode stripped = (ObjectNode) requested.deepCopy();
    assertThat(stripped.remove("userId")).isNotNull();
    assertThat(stripped.remove("timestamp").asString()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
    assertThat(stripped.remove("requestId").asString()).isEqualTo(flow.requestId());
    assertThat(stripped).as("orders.requested = client body + userId, timestamp, requestId").isEqualTo(clientBody);

    JsonNode inventoryRequest = LoadedRecording.payload(only(flow, "inventory.requests"));
    assertThat(inventoryRequest.get("orderId").asString()).isEqualTo(flow.orderId());
    assertThat(inventoryRequest.get("requestId").asString()).isEqualTo(flow.requestId());
    assertThat(inventoryRequest.get("items")).isEqualTo(clientBody.get("items"));
    JsonNode reply = LoadedRecording.payload(only(flow, "inventory.replies"));
    assertThat(reply.get("available").asBoolean()).isTrue();

    JsonNode created = LoadedRecording.payload(only(flow, "orders.created"));
    assertThat(created.get("requestId").asString()).isEqualTo(flow.requestId());
    assertThat(created.get("userId")).isEqualTo(requested.get("userId"));
    assertThat(created.get("status").asString()).isEqualTo("pending");
    assertThat(created.get("currency").asString()).isIn("USD", "EUR");
    BigDecimal sum = BigDecimal.ZERO;
    for (int i = 0; i < created.get("items").size(); i++) {
      JsonNode item = created.get("items").get(i);
      JsonNode clientItem = clientBody.get("items").get(i);
      assertThat(item.get("productId")).isEqualTo(clientItem.get("productId"));
      assertThat(item.get("quantity")).isEqualTo(clientItem.get("quantity"));
      sum = sum.add(item.get("unitPrice").decimalValue().multiply(BigDecimal.valueOf(item.get("quantity").asInt())));
    }
    BigDecimal total = created.get("total").decimalValue();
    assertThat(total).isEqualByComparingTo(sum);

    Span payment = recording.payment(flow);
    JsonNode paymentRequest = LoadedRecording.json(payment.attribute("http.request.body"));
    JsonNode paymentResponse = LoadedRecording.json(payment.attribute("http.response.body"));
    assertThat(paymentRequest.get("amount").decimalValue()).isEqualByComparingTo(total);
    assertThat(paymentRequest.get("currency")).isEqualTo(created.get("currency"));
    assertThat(paymentRequest.get("orderId").asString()).isEqualTo(flow.orderId());
    assertThat(paymentResponse.get("status").asString()).isEqualTo(flow.payment().wireValue());

    String template;
    if (flow.payment() == Manifest.Payment.AUTHORIZED) {
      assertThat(paymentResponse.has("authCode")).isTrue();
      List<Span> webhooks = recording.spans(flow, SpanKind.SERVER, "POST /webhooks/payment");
      assertThat(webhooks).hasSize(flow.defect() == Defect.DUPLICATE_WEBHOOK_IDEMPOTENT ? 2 : 1);
      for (Span webhook : webhooks) {
        JsonNode body = LoadedRecording.json(webhook.attribute("http.request.body"));
        assertThat(body.get("transactionId")).isEqualTo(paymentResponse.get("transactionId"));
        assertThat(body.get("orderId").asString()).isEqualTo(flow.orderId());
        assertThat(body.get("status").asString()).isEqualTo("captured");
        assertThat(body.get("eventId").asString()).startsWith("evt_");
      }
      JsonNode confirmed = LoadedRecording.payload(only(flow, "orders.confirmed"));
      assertThat(confirmed.get("transactionId")).isEqualTo(paymentResponse.get("transactionId"));
      assertThat(confirmed.get("status").asString()).isEqualTo("confirmed");
      assertThat(recording.records(flow, "orders.cancelled")).isEmpty();
      template = "order_confirmation";
    } else {
      assertThat(recording.spans(flow, SpanKind.SERVER, "POST /webhooks/payment")).isEmpty();
      JsonNode cancelled = LoadedRecording.payload(only(flow, "orders.cancelled"));
      assertThat(cancelled.get("reason").asString()).isEqualTo("payment_declined");
      assertThat(cancelled.get("orderId").asString()).isEqualTo(flow.orderId());
      assertThat(recording.records(flow, "orders.confirmed")).isEmpty();
      template = "order_cancelled";
    }

    GenericRecord email = LoadedRecording.email(only(flow, "notifications.email"));
    GenericRecord data = (GenericRecord) email.get("data");
    assertThat(email.get("to").toString()).isEqualTo(created.get("userEmail").asString());
    assertThat(email.get("template").toString()).isEqualTo(template);
    assertThat(data.get("orderId").toString()).isEqualTo(flow.orderId());
    assertThat(data.get("customerName").toString()).isEqualTo(created.get("userName").asString());
    assertThat((Double) data.get("total")).isCloseTo(total.doubleValue(), within(0.005));
  }

  private static KafkaRecord only(Manifest.Flow flow, String topic) {
    List<KafkaRecord> records = recording.records(flow, topic);
    assertThat(records).as("%s of flow %d", topic, flow.index()).hasSize(1);
    return records.get(0);
  }

  private static long sendStart(Manifest.Flow flow, String topic) {
    return recording.producerOf(only(flow, topic)).startEpochNanos();
  }

  private static String serviceName(JsonNode resourceSpans) {
    for (JsonNode kv : resourceSpans.get("resource").get("attributes")) {
      if (kv.get("key").asString().equals("service.name")) {
        return kv.get("value").get("stringValue").asString();
      }
    }
    return null;
  }

  /** {spans, records} a flow's path produces. */
  static int[] expectedCounts(Manifest.Flow flow) {
    if (flow.defect() == null) {
      return flow.payment() == Manifest.Payment.AUTHORIZED ? new int[] {13, 6} : new int[] {12, 6};
    }
    return switch (flow.defect()) {
      case DUPLICATE_WEBHOOK_NON_IDEMPOTENT -> new int[] {17, 8};
      case DUPLICATE_WEBHOOK_IDEMPOTENT -> new int[] {14, 6};
      case NO_NOTIFICATION -> new int[] {12, 5};
      case TRUNCATED -> new int[] {9, 4};
      default -> new int[] {13, 6};
    };
  }
}
