package io.flowtrace.example.order;

import static io.flowtrace.junit.FlowTraceAssertions.assertThatAllFlows;
import static io.flowtrace.junit.FlowTraceAssertions.assertThatFlow;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.flowtrace.junit.FlowAssert;
import io.flowtrace.junit.FlowTraceExtension;
import io.flowtrace.junit.Redelivery;
import io.flowtrace.kafka.testkit.KafkaBroker;
import io.flowtrace.verifier.check.ViolationKind;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Collectors;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The reference order system verified by flowtrace's JUnit 5 extension, as a team would: the
 * services run as forked JVMs under the OpenTelemetry Java agent exporting to {@link
 * FlowTraceExtension#otlpEndpoint()}, the extension taps the real broker, and each test drives orders
 * through the gateway and asserts on the whole flow. One test per defect switch asserts the failure
 * message a developer would read. The payment provider delivers each webhook once here, so a
 * duplicate only comes from the redelivery probe. The system starts once, with every defect switch
 * scoped to a product of its own ({@link DefectSwitches}): a test plants its defect by ordering that
 * product, and every other order stays clean. The tests are ordered only so that the clean ones run
 * before any defect's late traffic.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OrderFlowJUnitIT {

  private static final Duration COMPLETES = Duration.ofSeconds(20);
  private static final String ALICE = "token-alice";
  private static final String BOB = "token-bob";
  /** 2 × P-100 (19.99) + 1 × P-200 (5.50) = 45.48, authorized. */
  private static final String AUTHORIZED = "{\"items\":[{\"productId\":\"P-100\",\"quantity\":2},"
      + "{\"productId\":\"P-200\",\"quantity\":1}],\"shipping\":{\"address\":\"1 Main St\",\"city\":\"Springfield\","
      + "\"zipCode\":\"12345\"}}";
  /** 1 × P-300 = 7.13: the provider declines amounts ending in .13. */
  private static final String DECLINED = "{\"items\":[{\"productId\":\"P-300\",\"quantity\":1}],"
      + "\"shipping\":{\"address\":\"2 Side St\",\"city\":\"Shelbyville\",\"zipCode\":\"54321\"}}";

  private static KafkaBroker broker;
  private static OrderServices services;

  /** All of flows/, including a flow (shipment tracking) whose topics this system never creates. */
  @RegisterExtension
  static FlowTraceExtension flows = FlowTraceExtension.builder()
      .flows(Path.of(System.getProperty("flowtrace.flows", "../../flows")))
      .kafka(() -> broker == null ? null : broker.bootstrapServers())
      .build();

  @BeforeAll
  static void startSystem() throws Exception {
    assertThat(OrderServices.AGENT).as("the OpenTelemetry Java agent").exists();
    broker = KafkaBroker.start();
    Topics.ALL.forEach(t -> broker.createTopic(t, 1));
    services = new OrderServices("junit", broker.bootstrapServers(), flows.otlpEndpoint(),
        Map.of("WEBHOOK_DELIVERIES", "1"));
  }

  @AfterAll
  static void stopSystem() {
    if (services != null) {
      services.close();
    }
    if (broker != null) {
      broker.close();
    }
  }

  // ---- the clean system ----

  @Test
  @Order(1)
  void anAuthorizedOrderGoesThroughEveryStage() throws Exception {
    system();
    String id = services.placeOrder(ALICE, AUTHORIZED);

    FlowAssert flow = assertThatFlow("order-creation").withKey("requestId", id)
        .completesWithin(COMPLETES)
        .hasNoViolations()
        .hasStagesInOrder("order-requested", "inventory-reserved", "order-created", "payment-authorized",
            "payment-captured", "notification-sent");
    flow.payloadOf("orders_created").hasFieldEqualTo("total", 45.48).hasFieldEqualTo("userEmail", "alice@example.com");
    flow.payloadOf("email").hasFieldEqualTo("template", "order_confirmation").hasFieldEqualTo("data.total", 45.48);
  }

  @Test
  @Order(2)
  void aDeclinedOrderIsCancelledAndTheCustomerToldSo() throws Exception {
    system();
    String id = services.placeOrder(BOB, DECLINED);

    assertThatFlow("order-creation").withKey("requestId", id)
        .completesWithin(COMPLETES)
        .hasNoViolations()
        .hasStagesInOrder("order-requested", "order-created", "payment-authorized", "order-cancelled",
            "notification-sent")
        .payloadOf("email").hasFieldEqualTo("template", "order_cancelled");
  }

  @Test
  @Order(3)
  void everyFlowOfTheTestPasses() throws Exception {
    system();
    services.placeOrder(ALICE, AUTHORIZED);
    services.placeOrder(BOB, DECLINED);

    assertThatAllFlows().within(COMPLETES).hasSize(2).haveNoViolations();
  }

  @Test
  @Order(4)
  void aRedeliveredWebhookChangesNothingOnTheCleanSystem() throws Exception {
    system();
    String id = services.placeOrder(ALICE, AUTHORIZED);

    FlowAssert probed = assertThatFlow("order-creation").withKey("requestId", id)
        .completesWithin(COMPLETES)
        .whenRedelivered("webhook");

    probed.hasNoViolations();
    Redelivery r = probed.outcome().redelivery();
    assertThat(r.sent()).matches("re-sent POST http://127\\.0\\.0\\.1:\\d+/webhooks/payment \\(\\d+ bytes\\) -> 200");
    assertThat(r.observed()).isTrue();
    assertThat(probed.outcome().occurrences("webhook")).isEqualTo(2);
    assertThat(r.effectsAfter()).isEqualTo(Map.of("orders_confirmed", 1, "orders_cancelled", 0, "email", 1));
  }

  // ---- one test per defect switch: the message a developer reads ----

  @Test
  @Order(10)
  void dropEnrichment() throws Exception {
    String id = orderWith(Defect.DROP_ENRICHMENT);

    String message = failure(() -> assertThatFlow("order-creation").withKey("requestId", id)
        .completesWithin(COMPLETES).hasNoViolations());

    assertThat(message)
        .startsWith("Expected flow order-creation [requestId=" + id + " orderId=ord-")
        .contains("] to have no violations, but it has 1 violation:\nFAILED  order-creation  requestId=" + id + " orderId=ord-")
        .contains("\n  ✗ MISSING_ENRICHMENT at order-requested, field userId\n")
        .contains("\n  timeline:\n")
        .containsPattern("\n +\\+[0-9.]+ ms  order-requested +client_request +gateway SERVER 'POST /api/orders'\n")
        .containsPattern("notification-sent +email +notifications\\.email\\[0]@");
  }

  @Test
  @Order(11)
  void wrongTotal() throws Exception {
    assertThat(failureOfAnOrderWith(Defect.WRONG_TOTAL))
        .contains("\n  ✗ BAD_TRANSFORMATION at order-created, field total\n"
            + "      rule 'total is the sum of the items' is false: money_eq(orders_created.total, ")
        .contains("      actual:   orders_created.total = 47.48");
  }

  @Test
  @Order(12)
  void paymentAmountMismatch() throws Exception {
    assertThat(failureOfAnOrderWith(Defect.PAYMENT_AMOUNT_MISMATCH))
        .contains("\n  ✗ BAD_TRANSFORMATION at payment-authorized, field amount\n"
            + "      rule 'payment amount equals the order total' is false: "
            + "money_eq(payment_request.amount, orders_created.total)")
        .contains("      actual:   payment_request.amount = 46.98, orders_created.total = 46.48");
  }

  @Test
  @Order(13)
  void nonIdempotentWebhookIsCaughtByRedeliveringIt() throws Exception {
    String id = orderWith(Defect.NON_IDEMPOTENT_WEBHOOK);
    FlowAssert flow = assertThatFlow("order-creation").withKey("requestId", id).completesWithin(COMPLETES);
    flow.hasNoViolations(); // delivered once, the defect does not show

    String message = failure(() -> flow.whenRedelivered("webhook").hasNoViolations());

    assertThat(message)
        .startsWith("Expected flow order-creation [requestId=" + id + " orderId=ord-")
        .contains("] to have no violations after webhook was redelivered (re-sent POST http://127.0.0.1:")
        .contains("/webhooks/payment (")
        .contains("\n  side effects that happened again: orders_confirmed 1 -> 2, email 1 -> 2\n")
        .contains("\n  ✗ NON_IDEMPOTENT at payment-captured, field eventId\n"
            + "      webhook was delivered 2 times with 1 distinct eventId");
  }

  @Test
  @Order(14)
  void loseTraceparent() throws Exception {
    assertThat(failureOfAnOrderWith(Defect.LOSE_TRACEPARENT)).containsPattern("\n  ✗ BROKEN_PROPAGATION at notification-sent\n"
        + "      notifications\\.email\\[0\\]@\\d+ is in trace \\w+, which neither continues nor links to the flow's trace");
  }

  @Test
  @Order(15)
  void slowNotification() throws Exception {
    assertThat(failureOfAnOrderWith(Defect.SLOW_NOTIFICATION)).containsPattern("\n  ✗ LATENCY_BUDGET_EXCEEDED at notification-sent\n"
        + "      email \\(notifications\\.email\\[0\\]@\\d+\\) came 7\\.\\d+ s after orders_confirmed "
        + "\\(orders\\.confirmed\\[0\\]@\\d+\\); budget 5 s\n"
        + "      expected: ≤ 5 s\n");
  }

  @Test
  @Order(16)
  void noNotification() throws Exception {
    String id = orderWith(Defect.NO_NOTIFICATION);

    String message = failure(() -> assertThatFlow("order-creation").withKey("requestId", id)
        .completesWithin(Duration.ofSeconds(8)).hasNoViolations());

    assertThat(message)
        .startsWith("Expected flow order-creation [requestId=" + id + " orderId=ord-")
        .contains("] to complete within 8 s, but it had not reached its terminal stage by then; judged as of then,"
            + " as if its deadline had passed:\nFAILED  order-creation  requestId=" + id)
        .contains("\n  ✗ MISSING_STAGE at notification-sent\n"
            + "      stage notification-sent did not happen: no email (topic notifications.email) within ");
    assertThatFlow("order-creation").withKey("requestId", id).within(Duration.ofMillis(100))
        .hasViolation(ViolationKind.MISSING_STAGE).atStage("notification-sent");
  }

  @Test
  @Order(17)
  void brokenEmailSchema() throws Exception {
    assertThat(failureOfAnOrderWith(Defect.BROKEN_EMAIL_SCHEMA)).contains("\n  ✗ SCHEMA_VIOLATION at notification-sent");
  }

  /**
   * Places an authorized order with this defect's product and returns the message of
   * {@code assertThatFlow(...).completesWithin(...).hasNoViolations()} on it (failing if it passes).
   */
  private static String failureOfAnOrderWith(Defect defect) throws Exception {
    String id = orderWith(defect);
    return failure(() -> assertThatFlow("order-creation").withKey("requestId", id)
        .completesWithin(COMPLETES).hasNoViolations());
  }

  /** Places an authorized order with one more item, the product this defect is scoped to; returns its requestId. */
  private static String orderWith(Defect defect) throws Exception {
    system();
    return services.placeOrder(ALICE, AUTHORIZED.replace("],", ",{\"productId\":\"" + productOf(defect)
        + "\",\"quantity\":1}],"));
  }

  /** The system, started once with every defect switch scoped to {@link #productOf its product}. */
  private static void system() throws IOException {
    services.run(Arrays.stream(Defect.values()).map(d -> d.name() + "@" + productOf(d)).collect(Collectors.joining(",")));
  }

  /** The product whose orders carry this defect; not in the catalog, so it costs 1.00. */
  private static String productOf(Defect defect) {
    return "P-" + (901 + defect.ordinal());
  }

  /** The message of the AssertionError the assertion throws (and fails if it throws none). */
  private static String failure(ThrowingCallable assertion) {
    AssertionError e = catchThrowableOfType(AssertionError.class, assertion);
    assertThat(e).as("the flow assertion fails").isNotNull();
    return e.getMessage();
  }
}
