package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import io.flowtrace.verifier.spec.StageSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A trial's loyalty service reads captured payments ten at a time: one consumer span, in a trace of
 * its own linked to each payment's producer span, and an award per booking in that trace (or, where
 * the batch's trace was not sampled, awards that share its {@code traceparent} alone). The draft
 * glued each batch's bookings into one instance, saw awards in one instance of ten, and said the
 * award carries none of the keys.
 */
class InferBatchConsumerTest {

  private static final int BOOKINGS = 200;
  private static final int BATCH = 10;

  @TempDir Path work;

  @Test
  void theRecordsOfABatchConsumerJoinTheirOwnInstances() throws Exception {
    Path recording = Files.createDirectories(work.resolve("bookings"));
    long t0 = 1_796_400_000_000L;
    try (RecordingWriter file = RecordingWriter.open(recording)) {
      TracedTraffic out = new TracedTraffic(file);
      long offset = 0;
      for (int b = 0; b < BOOKINGS; b += BATCH) {
        List<String> links = new ArrayList<>();
        for (int i = b; i < b + BATCH; i++) {
          String ref = "BK-" + (80_000 + i);
          String trace = String.format("%032x", 0xb0000L + i);
          boolean sampled = i % 2 == 0;
          long t = t0 + i * 1_000L;
          String body = "{\"bookingRef\":\"" + ref + "\",\"amountMinor\":" + (20_000 + 17 * i) + "}";
          out.record(sampled, trace, "req-" + i, "", "booking-api", "bookings.requested", offset++, t, body);
          out.record(sampled, trace, "cap-" + i, "req-" + i, "payment-service", "payments.captured", offset++, t + 300, body);
          out.record(sampled, trace, "note-" + i, "cap-" + i, "notification-service", "notifications.sent", offset++,
              t + 500, "{\"bookingRef\":\"" + ref + "\",\"type\":\"CONFIRMED\"}");
          // a link to each record's context, as its traceparent names it, sampled or not
          links.add(trace);
          links.add("cap-" + i);
        }
        String batch = String.format("%032x", 0xba7c0000L + b);
        boolean batchSampled = b / BATCH % 2 == 0;
        long at = t0 + (b + BATCH) * 1_000L + 2_000;
        if (batchSampled) {
          out.batch(batch, "batch-" + b, "loyalty-service", "payments.captured", at, at + 40, links.toArray(String[]::new));
        }
        for (int i = b; i < b + BATCH; i++) {
          String ref = "BK-" + (80_000 + i);
          out.record(batchSampled, batch, "award-" + i, "batch-" + b, "loyalty-service", "points.awarded", offset++,
              at + 10 + i - b, "{\"bookingRef\":\"" + ref + "\",\"points\":" + (200 + i) + "}");
        }
      }
    }
    Path drafts = work.resolve("drafts");
    Inference.builder().name("bookings").build().infer(recording).write(drafts);
    String yaml = Files.readString(drafts.resolve("bookings/bookings.flow.yaml"));
    FlowSpec flow = new FlowSpecLoader().load(drafts).get(0);

    assertThat(yaml).contains("id: points-awarded   # seen in " + BOOKINGS + "/" + BOOKINGS + " instances")
        .doesNotContain("carries none of the keys");
    assertThat(flow.stages()).as(yaml).filteredOn(s -> s.id().equals("points-awarded"))
        .singleElement().satisfies(s -> assertThat(s.optional()).isFalse());
    List<Verdict> verdicts = Replays.finals(List.of(flow), recording);
    assertThat(verdicts).hasSize(BOOKINGS)
        .allSatisfy(v -> assertThat(v.status()).as("%s\n%s", v, yaml).isEqualTo(VerdictStatus.PASSED));
  }
}
