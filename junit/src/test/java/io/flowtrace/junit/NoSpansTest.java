package io.flowtrace.junit;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Exporters that never send their batch during the test: past the deadline, the stages of spans are
 * missing. The failure says that not one span reached flowtrace in the test — more likely an exporter
 * than a defect of the services it would blame.
 */
class NoSpansTest {

  @RegisterExtension
  static SharedKafka kafka = PaymentSystem.kafka();

  @RegisterExtension
  static FlowTraceExtension flows = FlowTraceExtension.builder()
      .flowsOnClasspath("flows-short") // a 3 s deadline
      .completionGrace(Duration.ofSeconds(1))
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
    providers.forEach(SdkTracerProvider::shutdown); // dropped unsent, as a provider nobody flushes
    system.reset();
  }

  @Test
  void aMissingStageWhereNoSpanReachedTheTestSaysSo() throws Exception {
    for (String service : List.of("pay-service", "ledger")) {
      SdkTracerProvider unsent = PaymentSystem.provider(service, Sampler.parentBased(Sampler.alwaysOn()),
          BatchSpanProcessor.builder(SpanExporter.composite()).setScheduleDelay(Duration.ofMinutes(10)).build());
      providers.add(unsent);
      system.traceWith(service, unsent);
    }
    String id = system.pay("8.80");

    assertThatThrownBy(() -> flows.assertThatFlow("payment").withKey("paymentId", id)
        .completesWithin(Duration.ofSeconds(15)).hasNoViolations())
        .hasMessageContaining("✗ MISSING_STAGE at payment-requested")
        .hasMessageContaining("no span at all reached flowtrace in this test (0 spans, 2 records")
        .hasMessageContaining("forceFlush()");
  }
}
