package io.flowtrace.junit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowtrace.verifier.model.FlowInstance;
import io.flowtrace.verifier.check.ViolationKind;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.common.Clock;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The extension under the conditions of the field, with the spans of the ledger's consumer in the
 * flow ({@code flows-field}): a service head-sampled out, a service whose clock is behind, spans
 * exported by the SDK's default {@link BatchSpanProcessor} (every 5 s).
 */
class FieldConditionsTest {

  private static final Duration WAIT = Duration.ofSeconds(20);

  @RegisterExtension
  static SharedKafka kafka = PaymentSystem.kafka();

  @RegisterExtension
  static FlowTraceExtension flows = FlowTraceExtension.builder()
      .flowsOnClasspath("flows-field")
      .kafka(kafka::bootstrapServers)
      .settle(Duration.ofMillis(300))
      .build();

  static PaymentSystem system;
  private final List<SdkTracerProvider> providers = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    system = PaymentSystem.start(kafka.bootstrapServers(), flows.spanExporter());
  }

  @AfterAll
  static void stop() throws Exception {
    system.close();
  }

  @BeforeEach
  void cleanSystem() {
    system.reset();
  }

  @AfterEach
  void closeProviders() {
    providers.forEach(SdkTracerProvider::close); // the extension's exporter outlives them
    system.assertNothingLost();
  }

  @Test
  void aFlowWhoseEntryServiceIsHeadSampledOutPassesPartlyVerified() throws Exception {
    system.traceWith("pay-service", provider("pay-service", unsampled(), SimpleSpanProcessor.create(flows.spanExporter())));
    String id = system.pay("4.20");

    FlowAssert flow = flows.assertThatFlow("payment").withKey("paymentId", id).completesWithin(WAIT)
        .hasNoViolations()
        .isPartlyVerified();
    assertThat(flow.outcome().unverified()).isNotEmpty()
        .allSatisfy(u -> assertThat(u.reason()).contains("unsampled trace"));
    assertThat(flows.received().test().spans()).as("no span of an unsampled trace is exported").isZero();
    assertThatThrownBy(flow::isFullyVerified).hasMessageStartingWith("Expected flow payment [paymentId=" + id
        + "] to be fully verified, but it is partly verified; not verified:\n  - ");
  }

  @Test
  void aRecordVisibleDefectIsFoundWhenTheSpansAreSampledOut() throws Exception {
    system.traceWith("pay-service", provider("pay-service", unsampled(), SimpleSpanProcessor.create(flows.spanExporter())));
    system.wrongAmount = true;
    String id = system.pay("4.20");

    flows.assertThatFlow("payment").withKey("paymentId", id).completesWithin(WAIT)
        .isPartlyVerified()
        .hasViolation(ViolationKind.BAD_TRANSFORMATION).atStage("payment-booked").onField("amount");
  }

  @Test
  void aServiceWhoseClockIs40msBehindRaisesNoOrderViolation() throws Exception {
    system.traceWith("ledger", SdkTracerProvider.builder()
        .setResource(service("ledger"))
        .setClock(behind(Duration.ofMillis(40)))
        .addSpanProcessor(SimpleSpanProcessor.create(flows.spanExporter()))
        .build());
    system.ledgerClockBehind = Duration.ofMillis(40);
    String id = system.pay("8.80");

    FlowAssert flow = flows.assertThatFlow("payment").withKey("paymentId", id).completesWithin(WAIT)
        .hasNoViolations()
        .isFullyVerified();
    assertThatThrownBy(flow::isPartlyVerified).hasMessageStartingWith("Expected flow payment [paymentId=" + id
        + "] to be partly verified (something unobserved by design, such as the spans of an unsampled trace),"
        + " but it is fully verified:\nPASSED  payment  paymentId=" + id);
    FlowInstance instance = flow.outcome().instance();
    assertThat(instance.first("ledger_process").timeEpochNanos())
        .as("the ledger's clock puts its consumer span before the record it consumes")
        .isLessThan(instance.first("payment_requested").timeEpochNanos());
  }

  /**
   * A later stage's host far enough behind stamps its span before the test began, though the test
   * started the flow itself: the flow belongs to the test by its entry event, not by the earliest
   * time on any clock ("no flow started during this test", before).
   */
  @Test
  void aFlowWhoseLaterHostIsBehindTheTestsStartIsStillTheTests() throws Exception {
    Duration behind = Duration.ofMillis(400);
    system.traceWith("ledger", SdkTracerProvider.builder()
        .setResource(service("ledger"))
        .setClock(behind(behind))
        .addSpanProcessor(SimpleSpanProcessor.create(flows.spanExporter()))
        .build());
    system.ledgerClockBehind = behind;
    String id = system.pay("2.40");

    FlowAssert flow = flows.assertThatFlow("payment").withKey("paymentId", id).completesWithin(WAIT)
        .hasNoViolations();
    FlowInstance instance = flow.outcome().instance();
    assertThat(instance.startEpochNanos()).as("its earliest time is the ledger's")
        .isLessThan(instance.first("payment_requested").timeEpochNanos() - Duration.ofMillis(300).toNanos());
    assertThat(flows.received().flows()).as("received").isNotEmpty();
  }

  @Test
  void withTheSdksDefaultBatchSpanProcessorAContextLostOnTheWayIsBrokenPropagation() throws Exception {
    for (String service : List.of("pay-service", "ledger")) {
      system.traceWith(service, provider(service, Sampler.parentBased(Sampler.alwaysOn()),
          BatchSpanProcessor.builder(flows.spanExporter()).build()));
    }
    system.ledgerDropsContext = true;
    String id = system.pay("3.30");

    FlowAssert flow = flows.assertThatFlow("payment").withKey("paymentId", id).completesWithin(WAIT);
    flow.hasViolation(ViolationKind.BROKEN_PROPAGATION).atStage("payment-booked").onEvent("ledger_entry");
    assertThat(flow.outcome().violations()).extracting(v -> v.kind()).containsOnly(ViolationKind.BROKEN_PROPAGATION);
    assertThat(flow.outcome().occurrences("pay_request")).as("the batched spans were waited for").isOne();
  }

  /**
   * A test that stops waiting before the exporters' next batch: the stage whose record came but
   * whose span is still batched happened, and is not blamed; the stage nothing of which came is.
   */
  @Test
  void whenTheWaitEndsBeforeTheNextBatchOnlyTheStageThatDidNotHappenIsMissing() throws Exception {
    for (String service : List.of("pay-service", "ledger")) {
      system.traceWith(service, provider(service, Sampler.parentBased(Sampler.alwaysOn()),
          BatchSpanProcessor.builder(flows.spanExporter()).setScheduleDelay(Duration.ofMinutes(1)).build()));
    }
    system.ledgerDown = true; // consumes (its span batched) but never books
    String id = system.pay("4.40");

    FlowOutcome outcome = flows.assertThatFlow("payment").withKey("paymentId", id).within(Duration.ofSeconds(2))
        .hasViolation(ViolationKind.MISSING_STAGE).atStage("payment-booked").outcome();

    assertThat(outcome.violations()).as(outcome.report()).extracting(v -> v.kind() + "@" + v.stage())
        .containsExactly("MISSING_STAGE@payment-booked");
    assertThat(outcome.unverified()).as(outcome.report()).filteredOn(u -> u.subject().equals("pay_request"))
        .singleElement().satisfies(u -> assertThat(u.reason()).contains("may still be in an exporter's batch"));
    assertThat(outcome.report()).doesNotContain("MISSING_STAGE at payment-requested");
  }

  private SdkTracerProvider provider(String service, Sampler sampler, SpanProcessor processor) {
    SdkTracerProvider p = PaymentSystem.provider(service, sampler, processor);
    providers.add(p);
    return p;
  }

  /** Head sampling that keeps nothing: records carry {@code traceparent} with flags {@code 00}. */
  private static Sampler unsampled() {
    return Sampler.parentBased(Sampler.traceIdRatioBased(0));
  }

  private static Resource service(String name) {
    return Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), name));
  }

  private static Clock behind(Duration offset) {
    Clock real = Clock.getDefault();
    return new Clock() {
      @Override
      public long now() {
        return real.now() - offset.toNanos();
      }

      @Override
      public long nanoTime() {
        return real.nanoTime();
      }
    };
  }
}
