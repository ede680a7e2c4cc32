import static io.flowtrace.junit.FlowTraceAssertions.assertThatFlow;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.junit.FlowAssert;
import io.flowtrace.junit.FlowTraceExtension;
import io.flowtrace.junit.SharedKafka;
import io.flowtrace.verifier.check.ViolationKind;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The README's set-up, with the system's spans exported by the SDK's default BatchSpanProcessor
 * (every 5 s, as the SDK and the Java agent do): each verdict, repeated, must come out right.
 */
class OrderFlowVerdictsTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  @RegisterExtension
  static SharedKafka kafka = SharedKafka.create()
      .withTopic("orders.requested", 1).withTopic("orders.confirmed", 1);

  @RegisterExtension
  static FlowTraceExtension flows = FlowTraceExtension.builder()
      .kafka(kafka::bootstrapServers)
      .build();

  static OrderSystem system;

  @BeforeAll
  static void start() throws Exception {
    java.util.Properties clients = new java.util.Properties();
    try (java.io.InputStream in = org.apache.kafka.clients.producer.KafkaProducer.class
        .getResourceAsStream("/kafka/kafka-version.properties")) {
      clients.load(in);
    }
    assertThat(clients.getProperty("version")).as("kafka-clients on the class path")
        .isEqualTo(System.getProperty("expected.kafka-clients"));
    assertThat(org.junit.jupiter.api.Test.class.getPackage().getImplementationVersion()).as("JUnit Jupiter")
        .isEqualTo(System.getProperty("expected.junit"));
    system = OrderSystem.start(kafka.bootstrapServers(), flows.spanExporter());
  }

  @AfterAll
  static void stop() throws Exception {
    system.close();
  }

  @BeforeEach
  void noDefects() {
    system.wrongTotal = false;
    system.billingLosesContext = false;
  }

  @RepeatedTest(3)
  void aCleanOrderPasses() throws Exception {
    String id = system.placeOrder("19.99");

    assertThatFlow("order-creation").withKey("requestId", id).completesWithin(WAIT)
        .hasNoViolations()
        .isFullyVerified();
  }

  @RepeatedTest(3)
  void billingThatLosesTheTraceContextIsBrokenPropagation() throws Exception {
    system.billingLosesContext = true;
    String id = system.placeOrder("19.99");

    FlowAssert flow = assertThatFlow("order-creation").withKey("requestId", id).completesWithin(WAIT);
    flow.hasViolation(ViolationKind.BROKEN_PROPAGATION).atStage("order-confirmed").onEvent("orders_confirmed");
    assertThat(flow.outcome().violations()).extracting(v -> v.kind())
        .as("the stage happened: only the trace was lost").containsOnly(ViolationKind.BROKEN_PROPAGATION);
  }

  @RepeatedTest(3)
  void aWrongTotalInThePayloadIsFound() throws Exception {
    system.wrongTotal = true;
    String id = system.placeOrder("19.99");

    assertThatFlow("order-creation").withKey("requestId", id).completesWithin(WAIT)
        .hasViolation(ViolationKind.BAD_TRANSFORMATION).atStage("order-confirmed").onField("total");
  }
}
