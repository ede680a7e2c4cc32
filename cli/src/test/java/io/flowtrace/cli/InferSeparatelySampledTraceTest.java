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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A trial's manual review: a few transfers wait for an analyst, whose decision is a request in a
 * trace of its own, sampled on its own (as every entry trace, 20 % here), and the reviewed record is
 * published in that trace. The draft had counted the analyst's request against every transfer,
 * found it in 2 % of them and left it out, so the reviewed record's trace joined nothing and every
 * sampled review failed {@code BROKEN_PROPAGATION}.
 */
class InferSeparatelySampledTraceTest {

  private static final int TRANSFERS = 400;

  @TempDir Path work;

  @Test
  void aRequestInATraceOfItsOwnIsCountedAgainstTheSampledInstancesAndStartsANewTrace() throws Exception {
    Path recording = writeTransfers(Files.createDirectories(work.resolve("transfers")));
    Path drafts = work.resolve("drafts");
    Inference.builder().name("transfers").build().infer(recording).write(drafts);
    String yaml = Files.readString(drafts.resolve("transfers/transfers.flow.yaml"));
    FlowSpec flow = new FlowSpecLoader().load(drafts).get(0);

    assertThat(flow.stages()).as(yaml).anySatisfy(s -> assertThat(s.events())
        .anySatisfy(e -> {
          assertThat(e.span()).isNotNull();
          assertThat(e.span().service()).isEqualTo("review-desk");
          assertThat(e.newTrace()).isTrue();
        }));
    List<Verdict> verdicts = Replays.finals(List.of(flow), recording);
    assertThat(verdicts).hasSize(TRANSFERS)
        .allSatisfy(v -> assertThat(v.status()).as("%s\n%s", v, yaml).isEqualTo(VerdictStatus.PASSED));
  }

  private static Path writeTransfers(Path dir) throws Exception {
    Random random = new Random(11);
    long t0 = 1_796_000_000_000L;
    Map<String, Long> offsets = new HashMap<>();
    int sampledReviews = 0;
    try (RecordingWriter out = RecordingWriter.open(dir)) {
      for (int i = 0; i < TRANSFERS; i++) {
        String id = "TRF-" + (80_000 + i);
        String caseId = "CASE-" + i;
        String trace = String.format("%032x", 0xabc000L + i);
        boolean sampled = random.nextInt(10) < 2;
        boolean review = random.nextInt(100) < 8;
        long t = t0 + i * 2_000L;
        String body = "{\"transferId\":\"" + id + "\",\"amount\":" + (100 + i) + ",\"review\":" + review + "}";
        String apiSpan = String.format("%016x", 0x5000L + i);
        if (sampled) {
          out.accept(Telemetry.of(Span.builder().traceId(trace).spanId(apiSpan)
              .name("POST /transfers").kind(SpanKind.SERVER).service("payments-api")
              .startEpochNanos((t - 20) * 1_000_000L).endEpochNanos((t + 5) * 1_000_000L)
              .attributes(Map.of("http.request.method", "POST", "http.route", "/transfers"))
              .build()));
        }
        out.accept(record("transfers.initiated", offsets, id, trace, apiSpan, sampled, t, body));
        long reserved = t + 400 + random.nextInt(100);
        if (review) {
          String queued = "{\"transferId\":\"" + id + "\",\"caseId\":\"" + caseId + "\"}";
          out.accept(record("reviews.queued", offsets, id, trace, null, sampled, t + 300, queued));
          long decided = t + 60_000 + random.nextInt(120_000);
          String analystTrace = String.format("%032x", 0xfed000L + i);
          String serverSpan = String.format("%016x", 0x9000L + i);
          boolean analystSampled = random.nextInt(10) < 3;
          String decision = "{\"caseId\":\"" + caseId + "\",\"outcome\":\"APPROVED\"}";
          if (analystSampled) {
            sampledReviews++;
            out.accept(Telemetry.of(Span.builder().traceId(analystTrace).spanId(serverSpan)
                .name("POST /cases/{caseId}/decision").kind(SpanKind.SERVER).service("review-desk")
                .startEpochNanos(decided * 1_000_000L).endEpochNanos((decided + 30) * 1_000_000L)
                .attributes(Map.of("http.request.method", "POST", "http.route", "/cases/{caseId}/decision",
                    "http.request.body", decision))
                .build()));
          }
          String reviewed = "{\"transferId\":\"" + id + "\",\"caseId\":\"" + caseId + "\",\"outcome\":\"APPROVED\"}";
          out.accept(record("transfers.reviewed", offsets, id, analystTrace, serverSpan, analystSampled, decided + 10,
              reviewed));
          reserved = decided + 200;
        }
        out.accept(record("funds.reserved", offsets, id, trace, null, sampled, reserved, body));
        out.accept(record("customer.notifications", offsets, id, trace, null, sampled, reserved + 300, body));
      }
    }
    assertThat(sampledReviews).as("the analyst's requests seen: rarer than 3 %% of the transfers")
        .isBetween(3, TRANSFERS * 3 / 100 - 1);
    return dir;
  }

  private static Telemetry record(String topic, Map<String, Long> offsets, String id, String trace, String parent,
      boolean sampled, long ms, String json) {
    long offset = offsets.merge(topic, 1L, Long::sum) - 1;
    String parentId = parent != null ? parent : String.format("%016x", 0x1000L + offset * 16 + topic.length());
    return TracedTraffic.published(topic, offset, ms, id, trace, parentId, sampled, json);
  }
}
