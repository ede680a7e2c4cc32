package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A trial's bank transfers: screened, then funds reserved (straight away, or after a manual review
 * of minutes) or the transfer rejected; a reserved transfer is submitted to the clearing house (a
 * call only sampled traces show, 20 % here), and its submission and settlement recorded. The draft
 * had made the call every instance's step (it is in nearly every sampled one), left the submission
 * and settlement out as "no field of an earlier event tells which", and given the flow a deadline
 * of 3 × the p95 that every reviewed transfer failed.
 */
class InferStepsAfterABranchTest {

  private static final int TRANSFERS = 400;

  @TempDir Path work;

  @Test
  void stepsAfterABranchAreDeclaredAndASlowWayStretchesTheDeadline() throws Exception {
    Path recording = writeTransfers(Files.createDirectories(work.resolve("transfers")));
    Path drafts = work.resolve("drafts");
    Inference.builder().name("transfers").build().infer(recording).write(drafts);
    String yaml = Files.readString(drafts.resolve("transfers/transfers.flow.yaml"));
    FlowSpec flow = new FlowSpecLoader().load(drafts).get(0);

    assertThat(flow.stages()).as(yaml).anySatisfy(s -> assertThat(s.events())
        .anyMatch(e -> "transfers.submitted".equals(e.topic())));
    assertThat(flow.stages()).as(yaml).anySatisfy(s -> assertThat(s.events())
        .anyMatch(e -> "transfers.settled".equals(e.topic())));
    assertThat(flow.deadline()).as("reviews took up to 6 min\n%s", yaml).isGreaterThanOrEqualTo(Duration.ofMinutes(9));
    List<Verdict> verdicts = Replays.finals(List.of(flow), recording);
    assertThat(verdicts).hasSize(TRANSFERS)
        .allSatisfy(v -> assertThat(v.status()).as("%s\n%s", v, yaml).isEqualTo(VerdictStatus.PASSED));
  }

  private static Path writeTransfers(Path dir) throws Exception {
    Random random = new Random(7);
    long t0 = 1_796_000_000_000L;
    Map<String, Long> offsets = new HashMap<>();
    try (RecordingWriter out = RecordingWriter.open(dir)) {
      for (int i = 0; i < TRANSFERS; i++) {
        String id = "TRF-" + (70_000 + i);
        String trace = String.format("%032x", 0xdef000L + i);
        boolean sampled = random.nextInt(10) < 2;
        int draw = random.nextInt(100);
        String decision = draw < 90 ? "PASS" : draw < 96 ? "REVIEW" : "BLOCK";
        long t = t0 + i * 2_000L;
        String body = "{\"transferId\":\"" + id + "\",\"amount\":" + (100 + i) + ",\"decision\":\"" + decision + "\"}";
        out.accept(record("transfers.initiated", offsets, id, trace, sampled, t, body));
        out.accept(record("transfers.screened", offsets, id, trace, sampled, t + 200 + random.nextInt(50), body));
        long reserved = t + 400 + random.nextInt(100);
        if (decision.equals("REVIEW")) {
          out.accept(record("reviews.queued", offsets, id, trace, sampled, t + 300, body));
          reserved = t + 120_000 + random.nextInt(240_000); // an analyst answers in 2 to 6 minutes
          out.accept(record("transfers.reviewed", offsets, id, trace, sampled, reserved - 100, body));
        }
        if (decision.equals("BLOCK")) {
          out.accept(record("transfers.rejected", offsets, id, trace, sampled, t + 400, body));
          out.accept(record("customer.notifications", offsets, id, trace, sampled, t + 450, body));
          continue;
        }
        out.accept(record("funds.reserved", offsets, id, trace, sampled, reserved, body));
        if (sampled) { // the clearing gateway takes the reservation and submits it
          out.accept(Telemetry.of(Span.builder().traceId(trace).spanId(String.format("%016x", 0x6000L + i))
              .name("funds.reserved process").kind(SpanKind.CONSUMER).service("clearing-gateway")
              .startEpochNanos((reserved + 20) * 1_000_000L).endEpochNanos((reserved + 110) * 1_000_000L)
              .attributes(Map.of("messaging.system", "kafka", "messaging.destination.name", "funds.reserved",
                  "messaging.operation.type", "process"))
              .build()));
          out.accept(Telemetry.of(Span.builder().traceId(trace).spanId(String.format("%016x", 0x7000L + i))
              .parentSpanId(String.format("%016x", 0x6000L + i))
              .name("POST").kind(SpanKind.CLIENT).service("clearing-gateway")
              .startEpochNanos((reserved + 50) * 1_000_000L).endEpochNanos((reserved + 90) * 1_000_000L)
              .attributes(Map.of("http.request.method", "POST", "url.full", "https://clearing.example/api/v1/submissions",
                  "http.request.body", body))
              .build()));
        }
        out.accept(record("transfers.submitted", offsets, id, trace, sampled, reserved + 100, body));
        out.accept(record("transfers.settled", offsets, id, trace, sampled, reserved + 15_000 + random.nextInt(5_000),
            body));
        out.accept(record("customer.notifications", offsets, id, trace, sampled, reserved + 21_000, body));
      }
    }
    return dir;
  }

  private static Telemetry record(String topic, Map<String, Long> offsets, String id, String trace, boolean sampled,
      long ms, String json) {
    long offset = offsets.merge(topic, 1L, Long::sum) - 1;
    String traceparent = "00-" + trace + "-" + String.format("%016x", 0x1000L + offset * 16 + topic.length())
        + (sampled ? "-01" : "-00");
    return Telemetry.of(new KafkaRecord(topic, 0, offset, ms, id,
        List.of(RecordHeader.ofString("traceparent", traceparent)), json.getBytes(StandardCharsets.UTF_8)));
  }
}
