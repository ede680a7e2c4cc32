package io.flowtrace.junit;

import static io.flowtrace.junit.FlowTraceAssertions.assertThatFlow;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.testkit.engine.EventConditions.event;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.EventConditions.test;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.instanceOf;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

import io.flowtrace.verifier.check.ViolationKind;
import io.flowtrace.verifier.report.VerdictStatus;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import java.time.Duration;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;

/**
 * What the extension owns for its users: an {@link OpenTelemetry} per service (optionally the
 * global one), the view of what it received, and failing a test for a flow nobody asserted on.
 */
class OwnedTelemetryTest {

  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String BOOTSTRAP = "flowtrace.junit.owned.bootstrap";

  @RegisterExtension
  static SharedKafka kafka = PaymentSystem.kafka();

  @RegisterExtension
  static FlowTraceExtension flows = FlowTraceExtension.builder()
      .kafka(kafka::bootstrapServers)
      .settle(Duration.ofMillis(300))
      .build();

  static PaymentSystem system;

  @BeforeAll
  static void start() throws Exception {
    system = PaymentSystem.start(kafka.bootstrapServers(), flows.spanExporter());
    System.setProperty(BOOTSTRAP, kafka.bootstrapServers());
  }

  @AfterAll
  static void stop() throws Exception {
    system.close();
  }

  @BeforeEach
  void cleanSystem() {
    system.reset();
    system.exportTo(flows.spanExporter());
  }

  @Test
  void eachServiceTracesWithTheExtensionsOpenTelemetryAndNoSdkCode() throws Exception {
    OpenTelemetry pay = flows.openTelemetry("pay-service");
    system.traceWith("pay-service", pay.getTracerProvider());
    system.traceWith("ledger", flows.openTelemetry("ledger").getTracerProvider());
    String id = system.pay("2.40");

    flows.assertThatFlow("payment").withKey("paymentId", id).completesWithin(WAIT).hasNoViolations();
    assertThat(flows.openTelemetry("pay-service")).isSameAs(pay);
    assertThat(pay.getTracerProvider()).as("users cannot shut it down").isNotInstanceOf(SdkTracerProvider.class);
    assertThat(pay.getPropagators().getTextMapPropagator().fields()).contains("traceparent", "baggage");
  }

  @Test
  void receivedShowsWhatArrivedAndTheFlowsWithTheirVerdicts() throws Exception {
    String id = system.pay("1.10");
    flows.assertThatFlow("payment").withKey("paymentId", id).completesWithin(WAIT);

    Received received = flows.received();
    assertThat(received.test().spansByService()).containsEntry("pay-service", 1L); // and the ledger's, once it ends
    assertThat(received.test().recordsByTopic())
        .containsExactly(Map.entry("ledger.entries", 1L), Map.entry("payments.requested", 1L));
    assertThat(received.testClass().spans()).isGreaterThanOrEqualTo(received.test().spans());
    assertThat(received.flows()).singleElement().satisfies(f -> {
      assertThat(f.keys()).containsEntry("paymentId", id);
      assertThat(f.verdict().status()).isEqualTo(VerdictStatus.PASSED);
    });
    assertThat(received.topics()).containsExactly("payments.requested", "ledger.entries");
    assertThat(received.bootstrapServers()).isEqualTo(kafka.bootstrapServers());
    assertThat(received.toString()).startsWith("flowtrace received in this test: ")
        .contains("pay-service 1", "2 records (ledger.entries 1, payments.requested 1); in this class: ")
        .endsWith("\nflows that started during this test:\n  - flow payment [paymentId=" + id + "] (PASSED)");
  }

  @Test
  void registerGlobalMakesTheDefaultServiceGlobalForTheClassOnly() {
    EngineExecutionResults results = EngineTestKit.engine("junit-jupiter")
        .selectors(selectClass(GlobalSample.class)).execute();

    results.testEvents().assertStatistics(stats -> stats.started(1).succeeded(1));
    assertThat(GlobalOpenTelemetry.get().getTracerProvider().get("t").spanBuilder("x").startSpan()
        .getSpanContext().isValid()).as("after the class the global is no SDK of the extension's").isFalse();
  }

  @Test
  void failOnAnyFailedFlowFailsATestThatLeftAFailedFlowUnasserted() {
    EngineExecutionResults results = EngineTestKit.engine("junit-jupiter")
        .selectors(selectClass(FailOnAnySample.class)).execute();

    results.testEvents().assertStatistics(stats -> stats.started(4).succeeded(3).failed(1));
    results.testEvents().assertThatEvents()
        .haveExactly(1, event(test("b_leavesAFailedFlowUnasserted"), finishedWithFailure(instanceOf(AssertionError.class),
            message(m -> m.startsWith("Expected the flow of this test to have no violations (failOnAnyFailedFlow),"
                + " but it has not:\nFAILED  payment  paymentId=" + FailOnAnySample.failedId)
                && m.contains("✗ BAD_TRANSFORMATION at payment-booked, field amount")
                && m.contains("\n      at ") && m.contains("\n  flow diagram: file:")))));
  }

  /** Run by {@link #registerGlobalMakesTheDefaultServiceGlobalForTheClassOnly}. */
  static class GlobalSample {
    @RegisterExtension
    static FlowTraceExtension flows = FlowTraceExtension.builder()
        .serviceName("pay-service")
        .registerGlobal(true)
        .build();

    @Test
    void codeThatUsesTheGlobalIsTraced() {
      GlobalOpenTelemetry.getTracer("payments").spanBuilder("POST /pay").startSpan().end();

      await(() -> flows.received().test().spansByService().equals(Map.of("pay-service", 1L)));
      assertThat(flows.openTelemetry().getTracerProvider().get("t").spanBuilder("y").startSpan()
          .getSpanContext().isValid()).isTrue();
    }
  }

  /** Run by {@link #failOnAnyFailedFlowFailsATestThatLeftAFailedFlowUnasserted}. */
  @FlowTraceTest(bootstrapServers = "${" + BOOTSTRAP + "}", timeout = "10s", failOnAnyFailedFlow = true)
  @TestMethodOrder(MethodOrderer.MethodName.class)
  static class FailOnAnySample {
    static volatile String failedId;

    @BeforeEach
    void wire(FlowTraceExtension flows) {
      system.reset();
      system.exportTo(flows.spanExporter());
    }

    @Test
    void a_leavesAPassingFlowUnasserted() throws Exception {
      system.pay("1.00");
    }

    @Test
    void b_leavesAFailedFlowUnasserted() throws Exception {
      system.wrongAmount = true;
      failedId = system.pay("1.00");
    }

    @Test
    void c_assertsTheViolationItExpects() throws Exception {
      system.wrongAmount = true;
      String id = system.pay("1.00");
      assertThatFlow("payment").withKey("paymentId", id).within(WAIT)
          .hasViolation(ViolationKind.BAD_TRANSFORMATION);
    }

    @Test
    void d_startsNoFlow() {
    }
  }

  static void await(BooleanSupplier condition) {
    io.flowtrace.kafka.testkit.Await.until(WAIT, condition, () -> "the condition still false");
  }
}
