package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.Telemetry;
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
 * Insurance claims traced over HTTP alone, no Kafka: a claim is filed; an hour later, in a trace of
 * its own, the adjuster decides it through a call whose URL names the claim
 * ({@code /claims/CLM-400003/decision}); the bank calls back about the payout in a third trace,
 * naming only the payout. A trial's draft of such traffic keyed its instances by trace (so the
 * decision and the callback were instances of their own), failed its own lint, and listed every
 * claim's decision URL as a kind of call of its own.
 */
class InferSpansOnlyTest {

  @TempDir Path work;

  @Test
  void aKeyCarriedByTheSpansPayloadsJoinsTheTracesOfAnInstance() throws Exception {
    Path recording = Files.createDirectories(work.resolve("claims"));
    long t0 = 1_796_000_000_000L;
    try (RecordingWriter out = RecordingWriter.open(recording)) {
      for (int i = 0; i < 120; i++) {
        String claim = "CLM-" + (400_000 + i);
        String payout = "PO-" + Integer.toHexString(0xa0000 + i * 37);
        long t = t0 + i * 60_000L;
        out.accept(span("a", i, 1, "", "claims-gateway", SpanKind.SERVER, "POST /api/claims", t, 20, Map.of(
            "http.request.body", "{\"policyNo\":\"P-" + (i % 7) + "\",\"amount\":" + (100 + i) + "}",
            "http.response.body", "{\"claimId\":\"" + claim + "\",\"status\":\"OPEN\"}")));
        // the gateway screens the claim with the fraud service; the claim goes on from the gateway's call
        String screening = "{\"claimId\":\"" + claim + "\",\"amount\":" + (100 + i) + "}";
        out.accept(span("a", i, 2, span("a", i, 1), "claims-gateway", SpanKind.CLIENT, "POST", t + 2, 15, Map.of(
            "url.full", "http://fraud-service:8080/screenings", "http.request.body", screening,
            "http.response.body", "{\"claimId\":\"" + claim + "\",\"decision\":\"CLEAR\"}")));
        out.accept(span("a", i, 3, span("a", i, 2), "fraud-service", SpanKind.SERVER, "POST /screenings", t + 4, 10,
            Map.of("http.request.body", screening)));
        out.accept(span("a", i, 4, span("a", i, 1), "claims-gateway", SpanKind.CLIENT, "POST", t + 20, 12, Map.of(
            "url.full", "http://claims-service:8080/claims", "http.request.body", screening)));
        out.accept(span("a", i, 5, span("a", i, 4), "claims-service", SpanKind.SERVER, "POST /claims", t + 22, 8,
            Map.of("http.request.body", screening)));
        long decided = t + 3_600_000L + i * 1_000L;
        String decision = "{\"claimId\":\"" + claim + "\",\"payoutId\":\"" + payout + "\",\"amount\":" + (100 + i) + "}";
        out.accept(span("b", i, 1, "", "adjuster-service", SpanKind.SERVER, "POST /cases/{caseId}/assessment",
            decided - 30, 200, Map.of("http.request.body", "{\"note\":\"seen\"}")));
        out.accept(span("b", i, 2, span("b", i, 1), "adjuster-service", SpanKind.CLIENT, "POST", decided, 40, Map.of(
            "url.full", "http://claims-service:8080/claims/" + claim + "/decision", "http.request.body", decision)));
        out.accept(span("b", i, 3, span("b", i, 2), "claims-service", SpanKind.SERVER,
            "POST /claims/{claimId}/decision", decided + 5, 30, Map.of("http.request.body", decision)));
        // the bank's transfer API answers 503 now and then; the payments service asks again
        long transfer = decided + 60_000L;
        if (i % 7 == 0) {
          out.accept(span("b", i, 4, span("b", i, 3), "claims-service", SpanKind.CLIENT, "POST", transfer, 30, Map.of(
              "url.full", "https://api.bank.example/v2/transfers", "http.response.status_code", "503",
              "http.request.body", decision, "http.response.body", "{\"error\":\"unavailable\",\"retryAfter\":2}")));
          transfer += 2_000;
        }
        out.accept(span("b", i, 5, span("b", i, 3), "claims-service", SpanKind.CLIENT, "POST", transfer, 40, Map.of(
            "url.full", "https://api.bank.example/v2/transfers", "http.response.status_code", "201",
            "http.request.body", decision, "http.response.body",
            "{\"payoutId\":\"" + payout + "\",\"transferId\":\"TR-" + i + "\"}")));
        out.accept(span("c", i, 1, "", "payments-service", SpanKind.SERVER, "POST /callbacks/bank",
            decided + 600_000L, 15, Map.of("http.request.body",
                "{\"endToEndId\":\"" + payout + "\",\"amount\":" + (100 + i) + ",\"status\":\"SETTLED\"}")));
      }
    }
    Path drafts = work.resolve("drafts");
    Inference.builder().name("claims").build().infer(recording).write(drafts);
    String yaml = Files.readString(drafts.resolve("claims/claims.flow.yaml"));
    List<FlowSpec> flows = new FlowSpecLoader().load(drafts);

    assertThat(flows.get(0).keys()).as(yaml).contains("claimId", "payoutId").doesNotContain("traceId");
    assertThat(yaml).contains("regex: '/claims/[^/?#]+/decision([?#].*)?$'").doesNotContain("CLM-400003/decision");
    // the 503s' error bodies are not what the flow carried on: the answers' schema requires the transfer
    String transfers;
    try (var schemas = Files.list(drafts.resolve("claims/schemas"))) {
      transfers = Files.readString(schemas.filter(f -> f.getFileName().toString().contains("transfers_response"))
          .findFirst().orElseThrow(() -> new AssertionError(yaml)));
    }
    assertThat(transfers).contains("\"required\" : [ \"payoutId\", \"transferId\" ]").doesNotContain("error");
    assertThat(yaml).doesNotContain("exceptions:");
    // the fraud service's side of the screening is no end of the flow: the claim goes on after the call
    FlowSpec claims = flows.get(0);
    assertThat(claims.terminalStages()).as(yaml).noneMatch(st -> st.events().stream()
        .anyMatch(e -> !e.isTopic() && "fraud-service".equals(e.span().service())));
    // a call whose server side is traced too is one step, not two ("screenings" and "screenings-2")
    assertThat(claims.stages()).as(yaml).noneMatch(st -> st.id().endsWith("-2"))
        .anySatisfy(st -> assertThat(st.events()).extracting(e -> e.span().service() + " " + e.span().kind())
            .contains("claims-gateway CLIENT", "fraud-service SERVER"));
    List<Verdict> verdicts = Replays.finals(flows, recording);
    assertThat(verdicts).hasSize(120).allSatisfy(v -> assertThat(v.status()).as(v.toString()).isEqualTo(VerdictStatus.PASSED));
  }

  private static Telemetry span(String trace, int i, int n, String parent, String service, SpanKind kind, String name,
      long ms, long durationMs, Map<String, String> attributes) {
    return Telemetry.of(Span.builder().traceId(traceId(trace, i)).spanId(span(trace, i, n)).parentSpanId(parent)
        .name(name).kind(kind).service(service).startEpochNanos(ms * 1_000_000L)
        .endEpochNanos((ms + durationMs) * 1_000_000L).attributes(Map.copyOf(attributes)).build());
  }

  private static String traceId(String trace, int i) {
    return String.format("%032x", (trace.charAt(0) - 'a' + 1L) << 40 | i);
  }

  private static String span(String trace, int i, int n) {
    return String.format("%016x", (trace.charAt(0) - 'a' + 1L) << 40 | (long) i << 8 | n);
  }
}
