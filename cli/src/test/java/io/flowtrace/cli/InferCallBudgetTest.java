package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A payment service calls its provider and publishes the capture a few milliseconds after the
 * answer. A budget from the answer times the publishing, not the provider; the call's own budget,
 * from its request to its answer, is what finds a provider that took seconds.
 */
class InferCallBudgetTest {

  @TempDir Path work;

  @Test
  void aCallTheFlowMakesGetsABudgetFromItsRequestToItsAnswer() throws Exception {
    Path clean = payments("clean", -1);
    Path slow = payments("slow", 40);
    Path drafts = work.resolve("drafts");
    Inference.builder().name("payments").build().infer(clean).write(drafts);
    String yaml = Files.readString(drafts.resolve("payments/payments.flow.yaml"));
    List<FlowSpec> flows = new FlowSpecLoader().load(drafts);

    assertThat(yaml).containsPattern("- \\{from: (\\w+)_request, to: \\1_response, within: ");
    assertThat(Replays.finals(flows, clean)).hasSize(100)
        .allSatisfy(v -> assertThat(v.status()).as(v + "\n" + yaml).isEqualTo(VerdictStatus.PASSED));
    List<Verdict> failed = Replays.finals(flows, slow).stream().filter(v -> v.status() != VerdictStatus.PASSED).toList();
    assertThat(failed).as(yaml).singleElement().satisfies(v -> {
      assertThat(v.keys()).containsValue("ord-40");
      assertThat(v.violations()).anySatisfy(x -> assertThat(x.kind().name()).isEqualTo("LATENCY_BUDGET_EXCEEDED"));
    });
  }

  /** 100 orders; the provider answers in 100-300 ms, {@code slowOne}'s in 6 s. */
  private Path payments(String name, int slowOne) throws Exception {
    Path recording = Files.createDirectories(work.resolve(name));
    try (RecordingWriter writer = RecordingWriter.open(recording)) {
      TracedTraffic out = new TracedTraffic(writer);
      long offset = 0;
      for (int i = 0; i < 100; i++) {
        String trace = String.format("%032x", 0xF000L + i);
        String order = "ord-" + i;
        long t = 1_798_000_000_000L + i * 10_000L;
        out.record(true, trace, "a" + i, "", "orders", "orders.created", offset++, t,
            "{\"orderId\":\"" + order + "\",\"total\":" + (20 + i) + "}");
        out.span(true, trace, "b" + i, "a" + i, "orders.created process", SpanKind.CONSUMER, "payments", t + 20,
            t + 20 + 400 + (i == slowOne ? 6_000 : 0), TracedTraffic.consumed("orders.created"));
        long answer = t + 30 + 100 + i % 5 * 50 + (i == slowOne ? 6_000 : 0);
        out.span(true, trace, "c" + i, "b" + i, "POST", SpanKind.CLIENT, "payments", t + 30, answer,
            Map.of("http.request.method", "POST", "url.full", "https://psp.example/v1/charges",
                "http.request.body", "{\"orderId\":\"" + order + "\",\"amount\":" + (20 + i) + "}",
                "http.response.body", "{\"chargeId\":\"ch-" + i + "\",\"status\":\"captured\"}"));
        out.record(true, trace, "d" + i, "b" + i, "payments", "payments.captured", offset++, answer + 5,
            "{\"orderId\":\"" + order + "\",\"chargeId\":\"ch-" + i + "\"}");
      }
    }
    return recording;
  }
}
