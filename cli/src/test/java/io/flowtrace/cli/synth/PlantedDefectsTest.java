package io.flowtrace.cli.synth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Each planted defect changes exactly what it says. The sample is compared with its twin: the same
 * seed with no defect and no declined payments, whose flows share ids, customers, items and
 * timings with the planted ones, so any payload difference beyond the defect's shows up.
 */
class PlantedDefectsTest {

  private static final long MS = 1_000_000L;

  @TempDir
  static Path plantedDir;

  @TempDir
  static Path twinDir;

  static Manifest planted;
  static Manifest twin;
  static LoadedRecording plantedRecording;
  static LoadedRecording twinRecording;

  @BeforeAll
  static void generateTheSampleAndItsCorrectTwin() throws IOException {
    SyntheticOrderFlows sample = SyntheticOrderFlows.sample();
    planted = sample.write(plantedDir);
    twin = sample.toBuilder().correct().declineRate(0).build().write(twinDir);
    plantedRecording = LoadedRecording.read(plantedDir);
    twinRecording = LoadedRecording.read(twinDir);
  }

  @Test
  void theTwinSharesTheKeysOfEveryFlow() {
    assertThat(twin.flows()).extracting(Manifest.Flow::requestId)
        .containsExactlyElementsOf(planted.flows().stream().map(Manifest.Flow::requestId).toList());
    assertThat(twin.flows()).extracting(Manifest.Flow::orderId)
        .containsExactlyElementsOf(planted.flows().stream().map(Manifest.Flow::orderId).toList());
    assertThat(twin.flows()).allSatisfy(flow -> assertThat(flow.status()).isEqualTo(Manifest.Status.PASSED));
  }

  @ParameterizedTest
  @EnumSource(Defect.class)
  void changesOnlyThePayloadsTheDefectNames(Defect defect) throws IOException {
    Manifest.Flow flow = planted.flowsWith(defect).get(0);
    Manifest.Flow correct = twin.flows().get(flow.index());
    List<String> differences = new ArrayList<>();
    diff("", facts(twinRecording, correct), facts(plantedRecording, flow), differences);
    assertThat(differences).as("payload differences of %s from its correct twin", defect)
        .containsExactlyInAnyOrderElementsOf(expectedDifferences(defect));
  }

  @ParameterizedTest
  @EnumSource(Defect.class)
  void keepsTheSpansOfTheTwinExceptWhereTheDefectAddsOrRemovesSome(Defect defect) {
    Manifest.Flow flow = planted.flowsWith(defect).get(0);
    Manifest.Flow correct = twin.flows().get(flow.index());
    List<String> shape = shape(plantedRecording.spans(flow));
    List<String> twinShape = shape(twinRecording.spans(correct));
    List<String> added = minus(shape, twinShape);
    List<String> removed = minus(twinShape, shape);
    switch (defect) {
      case DUPLICATE_WEBHOOK_NON_IDEMPOTENT -> {
        assertThat(added).containsExactlyInAnyOrder(
            "order-service SERVER POST /webhooks/payment",
            "order-service PRODUCER send orders.confirmed",
            "notification-service CONSUMER orders.confirmed process",
            "notification-service PRODUCER notifications.email publish");
        assertThat(removed).isEmpty();
      }
      case DUPLICATE_WEBHOOK_IDEMPOTENT -> {
        assertThat(added).containsExactly("order-service SERVER POST /webhooks/payment");
        assertThat(removed).isEmpty();
      }
      case NO_NOTIFICATION -> {
        assertThat(added).isEmpty();
        assertThat(removed).containsExactly("notification-service PRODUCER notifications.email publish");
      }
      case TRUNCATED -> {
        assertThat(added).isEmpty();
        assertThat(removed).containsExactlyInAnyOrder(
            "order-service SERVER POST /webhooks/payment",
            "order-service PRODUCER send orders.confirmed",
            "notification-service CONSUMER orders.confirmed process",
            "notification-service PRODUCER notifications.email publish");
      }
      default -> {
        assertThat(added).isEmpty();
        assertThat(removed).isEmpty();
      }
    }
  }

  @Test
  void dropEnrichmentLeavesOnlyUserIdOutOfOrdersRequested() {
    Manifest.Flow flow = flow(Defect.DROP_ENRICHMENT);
    JsonNode requested = LoadedRecording.payload(plantedRecording.records(flow, "orders.requested").get(0));
    assertThat(requested.has("userId")).isFalse();
    assertThat(requested.propertyNames()).containsExactly("items", "shipping", "timestamp", "requestId");
    JsonNode created = LoadedRecording.payload(plantedRecording.records(flow, "orders.created").get(0));
    assertThat(created.get("userId").asString()).startsWith("user-");
  }

  @Test
  void wrongTotalIsTenMoreThanTheItemsAndIsWhatThePaymentCharges() {
    Manifest.Flow flow = flow(Defect.WRONG_TOTAL);
    JsonNode created = LoadedRecording.payload(plantedRecording.records(flow, "orders.created").get(0));
    double sum = 0;
    for (JsonNode item : created.get("items")) {
      sum += item.get("unitPrice").asDouble() * item.get("quantity").asInt();
    }
    assertThat(created.get("total").asDouble() - sum).isCloseTo(10.00, org.assertj.core.data.Offset.offset(0.001));
    JsonNode request = LoadedRecording.json(plantedRecording.payment(flow).attribute("http.request.body"));
    assertThat(request.get("amount").decimalValue()).isEqualByComparingTo(created.get("total").decimalValue());
  }

  @Test
  void declinedButConfirmedGoesOnToConfirmAndSendTheConfirmationEmail() throws IOException {
    Manifest.Flow flow = flow(Defect.DECLINED_BUT_CONFIRMED);
    assertThat(flow.payment()).isEqualTo(Manifest.Payment.DECLINED);
    JsonNode response = LoadedRecording.json(plantedRecording.payment(flow).attribute("http.response.body"));
    assertThat(response.get("status").asString()).isEqualTo("declined");
    JsonNode confirmed = LoadedRecording.payload(plantedRecording.records(flow, "orders.confirmed").get(0));
    assertThat(confirmed.get("transactionId")).isEqualTo(response.get("transactionId"));
    assertThat(plantedRecording.records(flow, "orders.cancelled")).isEmpty();
    GenericRecord email = LoadedRecording.email(plantedRecording.records(flow, "notifications.email").get(0));
    assertThat(email.get("template").toString()).isEqualTo("order_confirmation");
  }

  @Test
  void nonIdempotentDuplicateWebhookConfirmsAndEmailsTwice() {
    Manifest.Flow flow = flow(Defect.DUPLICATE_WEBHOOK_NON_IDEMPOTENT);
    List<Span> webhooks = plantedRecording.spans(flow, SpanKind.SERVER, "POST /webhooks/payment");
    assertThat(webhooks).hasSize(2);
    assertThat(webhooks.get(0).attribute("http.request.body")).isEqualTo(webhooks.get(1).attribute("http.request.body"));
    assertThat(webhooks.get(0).traceId()).isNotEqualTo(webhooks.get(1).traceId());
    assertThat(webhooks.get(1).startEpochNanos() - webhooks.get(0).startEpochNanos()).isBetween(900 * MS, 1100 * MS);
    List<KafkaRecord> confirmations = plantedRecording.records(flow, "orders.confirmed");
    assertThat(confirmations).hasSize(2);
    assertThat(confirmations).extracting(r -> plantedRecording.producerOf(r).traceId())
        .containsExactly(webhooks.get(0).traceId(), webhooks.get(1).traceId());
    assertThat(plantedRecording.records(flow, "notifications.email")).hasSize(2);
  }

  @Test
  void idempotentDuplicateWebhookIsAcknowledgedWithoutPublishing() {
    for (Manifest.Flow flow : planted.flowsWith(Defect.DUPLICATE_WEBHOOK_IDEMPOTENT)) {
      List<Span> webhooks = plantedRecording.spans(flow, SpanKind.SERVER, "POST /webhooks/payment");
      assertThat(webhooks).hasSize(2);
      assertThat(webhooks.get(0).attribute("http.request.body")).isEqualTo(webhooks.get(1).attribute("http.request.body"));
      assertThat(plantedRecording.spansByTrace.get(webhooks.get(1).traceId())).hasSize(1);
      assertThat(plantedRecording.records(flow, "orders.confirmed")).hasSize(1);
      assertThat(plantedRecording.records(flow, "notifications.email")).hasSize(1);
    }
  }

  @Test
  void lostTraceparentStartsAnUnlinkedTraceForTheEmail() {
    Manifest.Flow flow = flow(Defect.LOST_TRACEPARENT);
    KafkaRecord confirmed = plantedRecording.records(flow, "orders.confirmed").get(0);
    KafkaRecord email = plantedRecording.records(flow, "notifications.email").get(0);
    Span send = plantedRecording.producerOf(email);
    Span process = plantedRecording.spanById.get(send.parentSpanId());
    assertThat(process.kind()).isEqualTo(SpanKind.CONSUMER);
    assertThat(plantedRecording.consumedBy(process)).contains(confirmed);
    assertThat(process.isRoot()).isTrue();
    assertThat(process.links()).isEmpty();
    assertThat(send.traceId()).isEqualTo(process.traceId())
        .isNotEqualTo(plantedRecording.producerOf(confirmed).traceId());
  }

  @Test
  void slowNotificationSendsTheEmailAboutSevenSecondsAfterTheConfirmation() {
    Manifest.Flow flow = flow(Defect.SLOW_NOTIFICATION);
    Span confirmed = plantedRecording.producerOf(plantedRecording.records(flow, "orders.confirmed").get(0));
    Span email = plantedRecording.producerOf(plantedRecording.records(flow, "notifications.email").get(0));
    assertThat(email.startEpochNanos() - confirmed.startEpochNanos()).isBetween(6_900 * MS, 7_100 * MS);
    assertThat(email.endEpochNanos() - nanos(flow.start())).isLessThan(15_000 * MS);
  }

  @Test
  void noNotificationFailsInTheConsumerAndTheRecordingOutlastsTheDeadline() {
    Manifest.Flow flow = flow(Defect.NO_NOTIFICATION);
    assertThat(plantedRecording.records(flow, "notifications.email")).isEmpty();
    List<Span> consumers = plantedRecording.spans(flow).stream()
        .filter(s -> s.service().equals("notification-service")).toList();
    assertThat(consumers).singleElement().satisfies(span -> {
      assertThat(span.kind()).isEqualTo(SpanKind.CONSUMER);
      assertThat(span.error()).isTrue();
    });
    assertThat(nanos(planted.recordingEnd()) - nanos(flow.start())).isGreaterThan(31_000 * MS);
  }

  @Test
  void badAvroEmailIsFramedWithIdOneButWrittenWithAnotherSchema() throws IOException {
    Manifest.Flow flow = flow(Defect.BAD_AVRO_EMAIL);
    KafkaRecord email = plantedRecording.records(flow, "notifications.email").get(0);
    ByteBuffer frame = ByteBuffer.wrap(email.value());
    assertThat(frame.get()).isZero();
    assertThat(frame.getInt()).isEqualTo(1);
    assertThatThrownBy(() -> LoadedRecording.email(email)).isInstanceOf(IOException.class);
    byte[] body = Arrays.copyOfRange(email.value(), 5, email.value().length);
    GenericRecord drifted = new GenericDatumReader<GenericRecord>(EmailAvro.DRIFTED_SCHEMA)
        .read(null, DecoderFactory.get().binaryDecoder(body, null));
    assertThat(drifted.get("template").toString()).isEqualTo("order_confirmation");
    assertThat(((GenericRecord) drifted.get("data")).get("orderId").toString()).isEqualTo(flow.orderId());
    assertThat(email.key()).isEqualTo(flow.orderId());
  }

  @Test
  void badJsonSchemaUsesGbpInTheOrderAndThePayment() {
    Manifest.Flow flow = flow(Defect.BAD_JSON_SCHEMA);
    JsonNode created = LoadedRecording.payload(plantedRecording.records(flow, "orders.created").get(0));
    JsonNode request = LoadedRecording.json(plantedRecording.payment(flow).attribute("http.request.body"));
    assertThat(created.get("currency").asString()).isEqualTo("GBP");
    assertThat(request.get("currency").asString()).isEqualTo("GBP");
  }

  @Test
  void earlyOrderCreatedIsPublishedFiftyMillisecondsBeforeTheInventoryReply() {
    Manifest.Flow flow = flow(Defect.EARLY_ORDER_CREATED);
    Span created = plantedRecording.producerOf(plantedRecording.records(flow, "orders.created").get(0));
    Span reply = plantedRecording.producerOf(plantedRecording.records(flow, "inventory.replies").get(0));
    Span request = plantedRecording.producerOf(plantedRecording.records(flow, "inventory.requests").get(0));
    assertThat(created.startEpochNanos()).isGreaterThan(request.startEpochNanos());
    assertThat(reply.startEpochNanos() - created.startEpochNanos()).isBetween(49 * MS, 51 * MS);
    assertThat(plantedRecording.payment(flow).startEpochNanos()).isGreaterThan(reply.startEpochNanos());
  }

  @Test
  void truncatedFlowEndsTheRecordingAboutFiveSecondsInBeforeTheWebhook() {
    Manifest.Flow flow = flow(Defect.TRUNCATED);
    assertThat(flow.index()).isEqualTo(planted.flows().size() - 1);
    Span payment = plantedRecording.payment(flow);
    assertThat(LoadedRecording.json(payment.attribute("http.response.body")).get("status").asString())
        .isEqualTo("authorized");
    long recorded = nanos(planted.recordingEnd()) - nanos(flow.start());
    assertThat(recorded).isBetween(4_500 * MS, 6_000 * MS);
    assertThat(plantedRecording.spans(flow, SpanKind.SERVER, "POST /webhooks/payment")).isEmpty();
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private static Manifest.Flow flow(Defect defect) {
    return planted.flowsWith(defect).get(0);
  }

  private static List<String> expectedDifferences(Defect defect) {
    return switch (defect) {
      case DROP_ENRICHMENT -> List.of("/orders.requested/0/userId");
      case WRONG_TOTAL -> List.of("/orders.created/0/total", "/payment/request/amount",
          "/notifications.email/0/data/total");
      case PAYMENT_AMOUNT_MISMATCH -> List.of("/payment/request/amount");
      case DECLINED_BUT_CONFIRMED -> List.of("/payment/response/status", "/payment/response/authCode");
      case DUPLICATE_WEBHOOK_NON_IDEMPOTENT -> List.of("/webhooks/1", "/orders.confirmed/1", "/notifications.email/1");
      case DUPLICATE_WEBHOOK_IDEMPOTENT -> List.of("/webhooks/1");
      case NO_NOTIFICATION, BAD_AVRO_EMAIL -> List.of("/notifications.email/0");
      case BAD_JSON_SCHEMA -> List.of("/orders.created/0/currency", "/payment/request/currency");
      case TRUNCATED -> List.of("/webhooks/0", "/orders.confirmed/0", "/notifications.email/0");
      case LOST_TRACEPARENT, SLOW_NOTIFICATION, EARLY_ORDER_CREATED -> List.of();
    };
  }

  /** Everything a flow says, as one JSON tree, with the fields that only carry time left out. */
  private static ObjectNode facts(LoadedRecording recording, Manifest.Flow flow) {
    ObjectNode facts = LoadedRecording.JSON.createObjectNode();
    facts.set("client", LoadedRecording.json(
        recording.spans(flow, SpanKind.SERVER, "POST /api/orders").get(0).attribute("http.request.body")));
    for (String topic : FlowPlanner.TOPICS) {
      ArrayNode payloads = facts.putArray(topic);
      for (KafkaRecord record : recording.records(flow, topic)) {
        if (topic.equals("notifications.email")) {
          try {
            payloads.add(LoadedRecording.JSON.readTree(GenericDataJson.toJson(LoadedRecording.email(record))));
          } catch (IOException | RuntimeException e) {
            payloads.add("undecodable");
          }
        } else {
          ObjectNode payload = (ObjectNode) LoadedRecording.payload(record);
          payload.remove(List.of("timestamp", "confirmedAt", "cancelledAt"));
          payloads.add(payload);
        }
      }
    }
    Span payment = recording.payment(flow);
    ObjectNode paymentFacts = facts.putObject("payment");
    paymentFacts.set("request", LoadedRecording.json(payment.attribute("http.request.body")));
    paymentFacts.set("response", LoadedRecording.json(payment.attribute("http.response.body")));
    ArrayNode webhooks = facts.putArray("webhooks");
    for (Span webhook : recording.spans(flow, SpanKind.SERVER, "POST /webhooks/payment")) {
      webhooks.add(LoadedRecording.json(webhook.attribute("http.request.body")));
    }
    return facts;
  }

  /** JSON-pointer-like paths where {@code actual} differs from {@code expected}. */
  private static void diff(String path, JsonNode expected, JsonNode actual, List<String> out) {
    if (expected == null || actual == null) {
      out.add(path);
    } else if (expected.isObject() && actual.isObject()) {
      Map<String, Boolean> names = new TreeMap<>();
      expected.propertyNames().forEach(n -> names.put(n, true));
      actual.propertyNames().forEach(n -> names.put(n, true));
      for (String name : names.keySet()) {
        diff(path + "/" + name, expected.get(name), actual.get(name), out);
      }
    } else if (expected.isArray() && actual.isArray()) {
      for (int i = 0; i < Math.max(expected.size(), actual.size()); i++) {
        diff(path + "/" + i, expected.get(i), actual.get(i), out);
      }
    } else if (!expected.equals(actual)) {
      out.add(path);
    }
  }

  private static List<String> shape(List<Span> spans) {
    return spans.stream().map(s -> s.service() + " " + s.kind() + " " + s.name()).toList();
  }

  private static List<String> minus(List<String> a, List<String> b) {
    List<String> rest = new ArrayList<>(a);
    for (String item : b) {
      Iterator<String> it = rest.iterator();
      while (it.hasNext()) {
        if (it.next().equals(item)) {
          it.remove();
          break;
        }
      }
    }
    return rest;
  }

  private static long nanos(java.time.Instant instant) {
    return instant.getEpochSecond() * 1_000_000_000L + instant.getNano();
  }

  /** Avro's generic records print as JSON. */
  private static final class GenericDataJson {
    static String toJson(GenericRecord record) {
      return org.apache.avro.generic.GenericData.get().toString(record);
    }
  }
}
