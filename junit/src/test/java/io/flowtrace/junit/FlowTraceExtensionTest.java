package io.flowtrace.junit;

import static io.flowtrace.junit.FlowTraceAssertions.assertThatAllFlows;
import static io.flowtrace.junit.FlowTraceAssertions.assertThatFlow;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.testkit.engine.EventConditions.event;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.EventConditions.test;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.instanceOf;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

import io.flowtrace.kafka.testkit.KafkaBroker;
import io.flowtrace.verifier.check.ViolationKind;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.net.ConnectException;
import java.net.Socket;
import java.time.Duration;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;

/**
 * The extension and its assertions against a real broker and the OpenTelemetry SDK: {@link
 * PaymentSystem} runs in this JVM, its spans go through {@link FlowTraceExtension#spanExporter()}.
 */
class FlowTraceExtensionTest {

  private static final Duration WAIT = Duration.ofSeconds(10);

  @RegisterExtension
  static SharedKafka kafka = PaymentSystem.kafka();
  static KafkaBroker broker;
  static PaymentSystem system;

  @RegisterExtension
  static FlowTraceExtension flows = FlowTraceExtension.builder()
      .flowsOnClasspath("flows")
      .kafka(kafka::bootstrapServers)
      .settle(Duration.ofMillis(300))
      .build();

  @BeforeAll
  static void start() throws Exception {
    broker = kafka.broker();
    system = PaymentSystem.start(broker.bootstrapServers(), flows.spanExporter());
  }

  @AfterAll
  static void stop() throws Exception {
    if (system != null) {
      system.close();
    }
  }

  @BeforeEach
  void cleanSystem() {
    system.reset();
    system.exportTo(flows.spanExporter());
  }

  @AfterEach
  void nothingLost() {
    system.assertNothingLost();
  }

  @Test
  void aCorrectFlowHasNoViolations() throws Exception {
    String id = system.pay("12.50");

    flows.assertThatFlow("payment").withKey("paymentId", id)
        .completesWithin(WAIT)
        .hasNoViolations()
        .hasStagesInOrder("payment-requested", "payment-booked");
  }

  @Test
  void aStageTheFlowDoesNotHaveIsRejectedNotReportedAsNotHappened() throws Exception {
    String id = system.pay("3.50");
    FlowAssert flow = flows.assertThatFlow("payment").withKey("paymentId", id).completesWithin(WAIT);

    assertThatThrownBy(() -> flow.hasStagesInOrder("payment-requested", "payment-booking"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("flowtrace: flow payment has no stage 'payment-booking' (did you mean 'payment-booked'?); its"
            + " stages are [payment-requested, payment-booked]");
  }

  @Test
  void aWrongValueFailsNamingStageFieldExpectedActualAndTheTimeline() throws Exception {
    system.wrongAmount = true;
    String id = system.pay("12.50");

    assertThatThrownBy(() -> flows.assertThatFlow("payment").withKey("paymentId", id)
        .completesWithin(WAIT).hasNoViolations())
        .isInstanceOf(AssertionError.class)
        .hasMessageStartingWith("Expected flow payment [paymentId=" + id + "] to have no violations, but it has 1 violation:\n"
            + "FAILED  payment  paymentId=" + id)
        .hasMessageContaining("\n  ✗ BAD_TRANSFORMATION at payment-booked, field amount\n")
        .hasMessageContaining("\n  timeline:\n")
        .hasMessageContaining("payment-requested  pay_request        pay-service SERVER 'POST /pay'")
        .hasMessageContaining("payment-booked     ledger_entry       ledger.entries[0]@")
        .hasMessageContaining("\n  flow diagram: file:");
    // the failure left the instance's page (its sequence diagram) beside the test reports
    java.nio.file.Path page = java.nio.file.Path.of("target/flowtrace/FlowTraceExtensionTest",
        "aWrongValueFailsNamingStageFieldExpectedActualAndTheTimeline-payment-" + id + ".html");
    org.assertj.core.api.Assertions.assertThat(page).isRegularFile()
        .content().contains("data-mode=\"single\"", "\"flow\":\"payment\"");
  }

  @Test
  void hasViolationNarrowsToStageAndFieldAndSaysWhereItReallyIs() throws Exception {
    system.wrongAmount = true;
    String id = system.pay("3.10");
    FlowAssert flow = flows.assertThatFlow("payment").withKey("paymentId", id).within(WAIT);

    flow.hasViolation(ViolationKind.BAD_TRANSFORMATION).atStage("payment-booked").onField("amount");
    assertThatThrownBy(() -> flow.hasViolation(ViolationKind.BAD_TRANSFORMATION).atStage("payment-requested"))
        .hasMessageStartingWith("Expected the BAD_TRANSFORMATION violation of flow payment [paymentId=" + id
            + "] to be at stage payment-requested, but it is at payment-booked:\n")
        .hasMessageContaining("\n  flow diagram: file:");
    assertThatThrownBy(() -> flow.hasViolation(ViolationKind.NON_IDEMPOTENT))
        .hasMessageStartingWith("Expected flow payment [paymentId=" + id + "] to have a NON_IDEMPOTENT violation, "
            + "but it has only:\n  - BAD_TRANSFORMATION at payment-booked field amount: ");
  }

  @Test
  void payloadsAreThereForCustomAssertions() throws Exception {
    String id = system.pay("7.25");

    FlowAssert flow = flows.assertThatFlow("payment").withKey("paymentId", id).within(WAIT);
    flow.payloadOf("ledger_entry").hasFieldEqualTo("amount", 7.25).hasField("eventId")
        .field("paymentId").isEqualTo(id);
    assertThat(flow.outcome().payload("payment_requested")).hasValueSatisfying(p ->
        assertThat(p.path("amount").decimalValue()).isEqualByComparingTo("7.25"));
    assertThatThrownBy(() -> flow.payloadOf("ledger_entry").hasFieldEqualTo("amount", 8))
        .hasMessage("Expected ledger_entry of flow payment [paymentId=" + id + "] to have amount = 8, but it is 7.25 in "
            + flow.outcome().payload("ledger_entry").orElseThrow());
  }

  @Test
  void aFlowThatStopsNamesTheMissingStage() throws Exception {
    system.ledgerDown = true;
    String id = system.pay("1.00");

    assertThatThrownBy(() -> flows.assertThatFlow("payment").withKey("paymentId", id)
        .completesWithin(Duration.ofSeconds(2)))
        .hasMessageStartingWith("Expected flow payment [paymentId=" + id + "] to complete within 2 s, but it had not"
            + " reached its terminal stage by then; judged as of then, as if its deadline had passed:\n"
            + "FAILED  payment  paymentId=" + id)
        .hasMessageContaining("\n  ✗ MISSING_STAGE at payment-booked\n"
            + "      stage payment-booked did not happen: no ledger_entry (topic ledger.entries) within ");
    flows.assertThatFlow("payment").withKey("paymentId", id).within(Duration.ofMillis(200))
        .hasViolation(ViolationKind.MISSING_STAGE).atStage("payment-booked");
  }

  @Test
  void aFlowThatNeverStartedIsReportedWithWhatWasSeen() throws Exception {
    String id = system.pay("2.00");

    assertThatThrownBy(() -> flows.assertThatFlow("payment").withKey("paymentId", "pay-unknown")
        .within(Duration.ofSeconds(2)).hasNoViolations())
        .hasMessage("Expected a flow payment [paymentId=pay-unknown] within 2 s, but none was seen; flows that started"
            + " during this test:\n  - flow payment [paymentId=" + id + "] (PASSED)");
  }

  @Test
  void aFlowStillInFlightIsListedAsNotDecidedNotAsFailed() throws Exception {
    system.ledgerDown = true; // the payment waits for its ledger entry, within its 20 s deadline
    String id = system.pay("2.50");

    assertThatThrownBy(() -> flows.assertThatFlow("payment").withKey("paymentId", "pay-unknown")
        .within(Duration.ofSeconds(2)).hasNoViolations())
        .hasMessage("Expected a flow payment [paymentId=pay-unknown] within 2 s, but none was seen; flows that started"
            + " during this test:\n  - flow payment [paymentId=" + id + "] (not decided yet)");
    assertThat(flows.received().flows()).as("what received() lists agrees")
        .singleElement().satisfies(f -> {
          assertThat(f.keys()).containsEntry("paymentId", id);
          assertThat(f.decided()).isFalse();
        });
  }

  @Test
  void anUnknownFlowIsRejectedAtOnce() {
    assertThatThrownBy(() -> flows.assertThatFlow("refund"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("flowtrace: no flow named 'refund'; the loaded flows are [payment]");
  }

  @Test
  void aKeyTheFlowDoesNotHaveIsRejectedAtOnceNamingTheNearestOne() {
    long start = System.nanoTime();
    assertThatThrownBy(() -> flows.assertThatFlow("payment").withKey("paymentID", "pay-1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("flowtrace: flow payment has no key 'paymentID' (did you mean 'paymentId'?); its keys are"
            + " [paymentId]");
    assertThatThrownBy(() -> flows.assertThatFlow("payment").withKey("orderId", "o-1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("flowtrace: flow payment has no key 'orderId'; its keys are [paymentId]");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
  }

  @Test
  void closingAProviderBuiltOnTheExportersLeavesTheNextTestsVerified() {
    System.setProperty(AnnotatedSample.BOOTSTRAP, broker.bootstrapServers());
    EngineExecutionResults results = EngineTestKit.engine("junit-jupiter")
        .selectors(selectClass(ClosesItsOwnProviderSample.class)).execute();

    results.testEvents().assertStatistics(stats -> stats.started(3).succeeded(2).failed(1));
    String port = ClosesItsOwnProviderSample.endpoint.substring(ClosesItsOwnProviderSample.endpoint.lastIndexOf(':') + 1);
    results.testEvents().assertThatEvents()
        .haveExactly(1, event(test("c_seesNothing"), finishedWithFailure(instanceOf(AssertionError.class),
            // The class's tap starts at its start less the allowed lateness, so it may also count
            // records of the test that ran just before on the shared broker.
            message(m -> m.matches(Pattern.quote("Expected a flow payment [paymentId=pay-none] within 1 s, but none was"
                + " seen; no flow started during this test.\n"
                + "flowtrace received in this test: nothing; in this class: 3 spans (ledger 1, pay-service 1,"
                + " setup-service 1), ") + "\\d+ records \\(ledger\\.entries \\d+, payments\\.requested \\d+\\)\n"
                + Pattern.quote("  spans from: spanExporter() (shut down 1 time by a caller, an SdkTracerProvider"
                + " closing, say; flowtrace still takes spans from it), the OTLP/HTTP receiver at http://127.0.0.1:"
                + port + "/v1/traces\n"
                + "  records from: a tap of payments.requested, ledger.entries on " + broker.bootstrapServers()))))));
  }

  /**
   * Run by {@link #closingAProviderBuiltOnTheExportersLeavesTheNextTestsVerified}: the first test
   * builds a tracer provider on the extension's exporter and closes it, as a test that sets up its
   * own SDK does.
   */
  @FlowTraceTest(bootstrapServers = "${" + AnnotatedSample.BOOTSTRAP + "}", timeout = "10s")
  @TestMethodOrder(MethodOrderer.MethodName.class)
  static class ClosesItsOwnProviderSample {
    static String endpoint;

    @BeforeEach
    void wire(FlowTraceExtension flows) {
      system.reset();
      system.exportTo(flows.spanExporter());
      endpoint = flows.otlpEndpoint();
    }

    @Test
    void a_closesAProviderOnTheExtensionsExporter(FlowTraceExtension flows) {
      SdkTracerProvider provider = SdkTracerProvider.builder()
          .setResource(Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), "setup-service")))
          .addSpanProcessor(SimpleSpanProcessor.create(flows.spanExporter()))
          .build();
      provider.get("setup").spanBuilder("warm up").startSpan().end();
      provider.close();
    }

    @Test
    void b_paysAndIsVerified() throws Exception {
      String id = system.pay("6.00");
      assertThatFlow("payment").withKey("paymentId", id).completesWithin(WAIT).hasNoViolations();
    }

    @Test
    void c_seesNothing() {
      assertThatFlow("payment").withKey("paymentId", "pay-none").within(Duration.ofSeconds(1)).hasNoViolations();
    }
  }

  @Test
  void redeliveringTheRequestToAnIdempotentServiceChangesNothing() throws Exception {
    String id = system.pay("5.00");

    FlowAssert probed = flows.assertThatFlow("payment").withKey("paymentId", id).completesWithin(WAIT)
        .whenRedelivered("pay_request");

    probed.hasNoViolations();
    Redelivery r = probed.outcome().redelivery();
    assertThat(r.observed()).isTrue();
    assertThat(r.sent()).matches("re-sent POST http://127\\.0\\.0\\.1:\\d+/pay \\(\\d+ bytes\\) -> 202");
    assertThat(r.effectsAfter()).containsExactly(java.util.Map.entry("ledger_entry", 1));
    assertThat(probed.outcome().occurrences("pay_request")).isEqualTo(2);
  }

  @Test
  void redeliveringTheRequestToANonIdempotentServiceShowsTheSecondSideEffect() throws Exception {
    system.payIdempotent = false;
    system.ledgerIdempotent = false;
    String id = system.pay("5.00");

    FlowAssert probed = flows.assertThatFlow("payment").withKey("paymentId", id).completesWithin(WAIT)
        .hasNoViolations()
        .whenRedelivered("payment-requested");

    assertThatThrownBy(probed::hasNoViolations)
        .hasMessageMatching("(?s)Expected flow payment \\[paymentId=" + id + "\\] to have no violations after"
            + " pay_request was redelivered \\(re-sent POST http://127\\.0\\.0\\.1:\\d+/pay \\(\\d+ bytes\\) -> 202\\),"
            + " but it has 2 violations:\n"
            + "  side effects that happened again: ledger_entry 1 -> 2\n"
            + "FAILED  payment  paymentId=" + id + ".*")
        .hasMessageContaining("\n  ✗ NON_IDEMPOTENT at payment-requested, field eventId\n"
            + "      pay_request was delivered 2 times with 1 distinct eventId");
  }

  @Test
  void redeliveringARecordRepublishesItWithItsKeyValueAndHeaders() throws Exception {
    String id = system.pay("9.99");
    flows.assertThatFlow("payment").withKey("paymentId", id).completesWithin(WAIT)
        .whenRedelivered("payment_requested")
        .hasNoViolations();

    system.ledgerIdempotent = false;
    String other = system.pay("9.99");
    FlowAssert probed = flows.assertThatFlow("payment").withKey("paymentId", other).completesWithin(WAIT)
        .whenRedelivered("payment_requested");
    assertThat(probed.outcome().redelivery().sent())
        .matches("re-published payments\\.requested\\[0\\]@\\d+ as payments\\.requested\\[0\\]@\\d+ \\(key "
            + other + ", same value and headers\\)");
    assertThatThrownBy(probed::hasNoViolations)
        .hasMessageContaining("side effects that happened again: ledger_entry 1 -> 2")
        .hasMessageContaining("✗ NON_IDEMPOTENT at payment-booked");
  }

  @Test
  void allFlowsOfTheTestAreAssertedTogether() throws Exception {
    system.pay("1.50");
    system.pay("2.50");

    flows.assertThatAllFlows().within(WAIT).hasSize(2).haveNoViolations();
  }

  @Test
  void hasSizeWaitsForAFlowThatStartsAfterTheOthersSettled() throws Exception {
    system.pay("1.50");
    java.util.concurrent.CompletableFuture<String> late = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        return system.pay("2.50");
      } catch (Exception e) {
        throw new java.util.concurrent.CompletionException(e);
      }
    }, java.util.concurrent.CompletableFuture.delayedExecutor(3, java.util.concurrent.TimeUnit.SECONDS));

    flows.assertThatAllFlows().within(WAIT).hasSize(2).haveNoViolations();
    assertThat(late.join()).isNotBlank();
  }

  @Test
  void allFlowsNamesTheOnesThatFailed() throws Exception {
    String good = system.pay("1.50");
    flows.assertThatFlow("payment").withKey("paymentId", good).completesWithin(WAIT);
    system.wrongAmount = true;
    String bad = system.pay("2.50");

    assertThatThrownBy(() -> flows.assertThatAllFlows().within(WAIT).haveNoViolations())
        .hasMessageStartingWith("Expected the 2 flows of this test to have no violations, but 1 has not:\n"
            + "FAILED  payment  paymentId=" + bad)
        .hasMessageContaining("✗ BAD_TRANSFORMATION at payment-booked, field amount");
  }

  @Test
  void expectingAFlowWhereNoneStartedSaysWhatArrived() {
    assertThatThrownBy(() -> flows.assertThatAllFlows().within(Duration.ofSeconds(1)).hasSize(1))
        .hasMessageStartingWith("Expected 1 flow to start during this test, but 0 did.\nflowtrace received in this"
            + " test: nothing");
  }

  @Test
  void spansPostedToTheOtlpEndpointAreVerifiedToo() throws Exception {
    assertThat(flows.otlpEndpoint()).matches("http://127\\.0\\.0\\.1:\\d+");
    system.exportTo(new OtlpHttpPoster(flows.otlpEndpoint()));
    String id = system.pay("4.00");

    flows.assertThatFlow("payment").withKey("paymentId", id).completesWithin(WAIT).hasNoViolations();
  }

  @Test
  void theAnnotationFormGivesEachTestItsOwnFlowsAndClosesAfterTheClass() {
    System.setProperty(AnnotatedSample.BOOTSTRAP, broker.bootstrapServers());
    EngineExecutionResults results = EngineTestKit.engine("junit-jupiter")
        .selectors(selectClass(AnnotatedSample.class)).execute();

    results.testEvents().assertStatistics(stats -> stats.started(3).succeeded(1).failed(2));
    results.testEvents().assertThatEvents()
        .haveExactly(1, event(test("b_seesNoFlowOfTheTestBefore"), finishedWithFailure(instanceOf(AssertionError.class),
            message("Expected the flows of this test to have no violations, but no flow started within 1 s"))))
        .haveExactly(1, event(test("c_failsWithTheVerdict"), finishedWithFailure(instanceOf(AssertionError.class),
            message(m -> m.contains("to have no violations, but it has 1 violation:")
                && m.contains("✗ BAD_TRANSFORMATION at payment-booked, field amount")))));
    int port = Integer.parseInt(AnnotatedSample.endpoint.substring(AnnotatedSample.endpoint.lastIndexOf(':') + 1));
    assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).as("the receiver is closed after the class")
        .isInstanceOf(ConnectException.class);
  }

  @Test
  void aKeyTheNextTestUsesAgainIsANewFlowThereNotTheLastTestsOne() {
    System.setProperty(AnnotatedSample.BOOTSTRAP, broker.bootstrapServers());
    EngineExecutionResults results = EngineTestKit.engine("junit-jupiter")
        .selectors(selectClass(SameKeySample.class)).execute();

    results.testEvents().assertStatistics(stats -> stats.started(2).succeeded(2));
  }

  /** Run by {@link #aKeyTheNextTestUsesAgainIsANewFlowThereNotTheLastTestsOne}: a fixed id, as after a database reset. */
  @FlowTraceTest(bootstrapServers = "${" + AnnotatedSample.BOOTSTRAP + "}", timeout = "10s")
  @TestMethodOrder(MethodOrderer.MethodName.class)
  static class SameKeySample {
    @BeforeEach
    void wire(FlowTraceExtension flows) {
      system.reset();
      system.exportTo(flows.spanExporter());
    }

    @Test
    void a_paysWithAFixedId() throws Exception {
      system.pay("5.25", "pay-fixed");
      assertThatFlow("payment").withKey("paymentId", "pay-fixed").completesWithin(WAIT).hasNoViolations();
    }

    @Test
    void b_paysWithTheSameIdAgain() throws Exception {
      system.pay("7.25", "pay-fixed");
      assertThatFlow("payment").withKey("paymentId", "pay-fixed").completesWithin(WAIT).hasNoViolations()
          .payloadOf("ledger_entry").hasFieldEqualTo("amount", 7.25);
    }
  }

  /** Run by {@link #theAnnotationFormGivesEachTestItsOwnFlowsAndClosesAfterTheClass} through the engine test kit. */
  @FlowTraceTest(bootstrapServers = "${" + AnnotatedSample.BOOTSTRAP + "}", timeout = "10s")
  @TestMethodOrder(MethodOrderer.MethodName.class)
  static class AnnotatedSample {
    static final String BOOTSTRAP = "flowtrace.junit.test.bootstrap";
    static String endpoint;

    @BeforeEach
    void wire(FlowTraceExtension flows) {
      system.reset();
      system.exportTo(flows.spanExporter());
      endpoint = flows.otlpEndpoint();
    }

    @Test
    void a_passes() throws Exception {
      String id = system.pay("3.00");
      assertThatFlow("payment").withKey("paymentId", id).completesWithin(WAIT).hasNoViolations();
    }

    @Test
    void b_seesNoFlowOfTheTestBefore() {
      assertThatAllFlows().within(Duration.ofSeconds(1)).haveNoViolations();
    }

    @Test
    void c_failsWithTheVerdict() throws Exception {
      system.wrongAmount = true;
      String id = system.pay("3.00");
      assertThatFlow("payment").withKey("paymentId", id).hasNoViolations();
    }
  }
}
