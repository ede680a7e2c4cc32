package io.flowtrace.verifier.assembly;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.check.ViolationKind;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpecException;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Subscription renewals: a scheduler that does not trace publishes the renewal; billing, which
 * does, consumes it and publishes the charge in a trace of its own. A trial's every renewal failed
 * BROKEN_PROPAGATION at the scheduler's record, and the spec had no way to say that its producer is
 * not traced.
 */
class UntracedProducerTest {

  private static final String SPEC = String.join("\n",
      "flow: renewals",
      "keys: [subscriptionId]",
      "stages:",
      "  - id: due",
      "    events:",
      "      - id: renewal_due",
      "        topic: subscriptions.renewal-due",
      "        TRACE",
      "  - id: charged",
      "    after: due",
      "    terminal: true",
      "    events: [{id: charged_msg, topic: billing.charged}]",
      "");
  private static final long T0 = 1_796_000_000_000L;
  private static final String TRACE = "5bf92f3577b34da6a3ce929d0e0e4736";

  @TempDir Path dir;

  @Test
  void aRecordOfAProducerDeclaredUntracedLostNoContext() throws Exception {
    assertThat(replay("trace: none").violations()).isEmpty();
    Verdict undeclared = replay("");
    assertThat(undeclared.status()).isEqualTo(VerdictStatus.FAILED);
    assertThat(undeclared.violations()).extracting(v -> v.kind()).containsExactly(ViolationKind.BROKEN_PROPAGATION);
  }

  @Test
  void aSpanEventCannotBeDeclaredUntraced() throws Exception {
    Files.writeString(dir.resolve("r.flow.yaml"), String.join("\n",
        "flow: r",
        "keys: [subscriptionId]",
        "stages:",
        "  - id: due",
        "    terminal: true",
        "    events:",
        "      - id: renewal_call",
        "        span: {service: scheduler, kind: SERVER, name: POST /renewals}",
        "        trace: none",
        ""));

    assertThatThrownBy(() -> new FlowSpecLoader().load(dir)).isInstanceOf(FlowSpecException.class)
        .hasMessageContaining("'trace: none' applies to topic events");
  }

  private Verdict replay(String trace) throws Exception {
    Files.writeString(dir.resolve("renewals.flow.yaml"), SPEC.replace("TRACE", trace));
    List<Telemetry> all = new ArrayList<>();
    all.add(Telemetry.of(new KafkaRecord("subscriptions.renewal-due", 0, 0, T0, "S-1", List.of(),
        "{\"subscriptionId\":\"S-1\"}".getBytes(StandardCharsets.UTF_8))));
    all.add(Telemetry.of(Span.builder().traceId(TRACE).spanId("a000000000000001").name("process subscriptions.renewal-due")
        .kind(SpanKind.CONSUMER).service("billing").startEpochNanos((T0 + 5) * 1_000_000L).endEpochNanos((T0 + 6) * 1_000_000L)
        .attributes(Map.of("messaging.system", "kafka", "messaging.destination.name", "subscriptions.renewal-due",
            "messaging.operation.type", "process", "messaging.destination.partition.id", "0", "messaging.kafka.offset", 0L))
        .build()));
    all.add(Telemetry.of(Span.builder().traceId(TRACE).spanId("a000000000000002").parentSpanId("a000000000000001")
        .name("send billing.charged").kind(SpanKind.PRODUCER).service("billing").startEpochNanos((T0 + 20) * 1_000_000L)
        .endEpochNanos((T0 + 21) * 1_000_000L).attributes(Map.of("messaging.system", "kafka",
            "messaging.destination.name", "billing.charged", "messaging.operation.type", "send",
            "messaging.destination.partition.id", "0", "messaging.kafka.offset", 0L)).build()));
    all.add(Telemetry.of(new KafkaRecord("billing.charged", 0, 0, T0 + 20, "S-1",
        List.of(RecordHeader.ofString("traceparent", "00-" + TRACE + "-a000000000000002-01")),
        "{\"subscriptionId\":\"S-1\"}".getBytes(StandardCharsets.UTF_8))));
    List<Verdict> finals = EngineRun.finals(dir, all, T0 + 600_000);
    assertThat(finals).hasSize(1);
    return finals.get(0);
  }
}
