package io.flowtrace.junit;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.opentelemetry.sdk.trace.samplers.SamplingResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Spans that reach the extension later than the completion grace after their records — exporters
 * that batch for 10 s — in a test whose flow is the first: no span of the test has arrived when its
 * records are complete. That is "not yet", not "none": judged on its records alone at the grace, a
 * client project's clean flow failed {@code MISSING_STAGE} and read {@code PASSED} seconds later.
 */
class LateSpansTest {

  @RegisterExtension
  static SharedKafka kafka = PaymentSystem.kafka();

  @RegisterExtension
  static FlowTraceExtension flows = FlowTraceExtension.builder()
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

  @AfterEach
  void closeProviders() {
    providers.forEach(SdkTracerProvider::close);
    system.reset();
  }

  @Test
  void aCleanFlowWhoseSpansComeLaterThanTheGracePasses() throws Exception {
    for (String service : List.of("pay-service", "ledger")) {
      SdkTracerProvider batched = PaymentSystem.provider(service, Sampler.parentBased(Sampler.alwaysOn()),
          BatchSpanProcessor.builder(flows.spanExporter()).setScheduleDelay(Duration.ofSeconds(10)).build());
      providers.add(batched);
      system.traceWith(service, batched);
    }
    String id = system.pay("6.10");

    FlowOutcome outcome = flows.assertThatFlow("payment").withKey("paymentId", id).completesWithin(Duration.ofSeconds(25))
        .hasNoViolations().outcome();

    assertThat(outcome.occurrences("pay_request")).as(outcome.report()).isOne();
  }

  /**
   * A request sent again to a service that is not idempotent, the first's trace not sampled and the
   * second's sampled: the first is decided on its records at once, and the second's records, whose
   * spans are a batch behind, are waited on before they are judged. The assertion waits with them
   * (it read {@code PASSED} there, the duplicate found seconds later).
   */
  @Test
  void aVerdictIsNotTakenWhileARedeliverysRecordsAreWaitedOn() throws Exception {
    java.util.concurrent.atomic.AtomicInteger requests = new java.util.concurrent.atomic.AtomicInteger();
    Sampler secondOnly = new Sampler() {
      @Override
      public SamplingResult shouldSample(io.opentelemetry.context.Context parent, String traceId, String name,
          io.opentelemetry.api.trace.SpanKind kind, Attributes attributes, List<io.opentelemetry.sdk.trace.data.LinkData> links) {
        return requests.incrementAndGet() == 2 ? SamplingResult.recordAndSample() : SamplingResult.drop();
      }

      @Override
      public String getDescription() {
        return "the second request only";
      }
    };
    for (String service : List.of("pay-service", "ledger")) {
      SdkTracerProvider batched = PaymentSystem.provider(service, Sampler.parentBased(secondOnly),
          BatchSpanProcessor.builder(flows.spanExporter()).build()); // every 5 s
      providers.add(batched);
      system.traceWith(service, batched);
    }
    system.payIdempotent = false;
    system.ledgerIdempotent = false;
    String id = system.payTwice("7.20", Duration.ofSeconds(1));

    FlowOutcome outcome = flows.assertThatFlow("payment").withKey("paymentId", id).completesWithin(Duration.ofSeconds(25))
        .outcome();

    assertThat(outcome.violations()).as(outcome.report()).extracting(v -> v.kind())
        .contains(io.flowtrace.verifier.check.ViolationKind.NON_IDEMPOTENT);
    assertThat(outcome.occurrences("ledger_entry")).as(outcome.report()).isEqualTo(2);
  }
}
