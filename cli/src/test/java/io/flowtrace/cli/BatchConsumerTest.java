package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A trial's loyalty service reads captured payments in batches: one consumer span, in a trace of
 * its own, linked to each payment's producer span, and an award per payment in that trace. A
 * booking paid in two parts has both payments in one batch; each award was compared with the other
 * payment ({@code BAD_TRANSFORMATION}) and both counted against the first ({@code NON_IDEMPOTENT}).
 */
class BatchConsumerTest {

  private static final long T0 = 1_796_300_000_000L;

  @TempDir Path work;

  @Test
  void effectsInABatchTraceAreToldApartByWhatTheyCarry() throws Exception {
    Path flows = Files.createDirectories(work.resolve("flows"));
    Files.writeString(flows.resolve("booking.flow.yaml"), String.join("\n",
        "flow: booking",
        "keys: [bookingRef]",
        "stages:",
        "  - id: captured",
        "    events: [{id: captured, topic: payments.captured}]",
        "  - id: awarded",
        "    after: captured",
        "    terminal: true",
        "    events: [{id: awarded, topic: points.awarded}]",
        "enrichment:",
        "  - {from: captured, to: awarded, carry: [paymentId]}",
        "idempotency:",
        "  - {trigger: captured, dedupKey: paymentId, effects: [awarded]}",
        ""));
    Path recording = Files.createDirectories(work.resolve("recording"));
    String batch = String.format("%032x", 0xba7c4L);
    try (RecordingWriter file = RecordingWriter.open(recording)) {
      TracedTraffic out = new TracedTraffic(file);
      // a deposit and a balance; one payment; one award naming no payment of its booking; one payment awarded twice
      String[][] bookings = {{"BK-1", "P-1a", "P-1b"}, {"BK-2", "P-2a"}, {"BK-3", "P-3a", "P-3b"}, {"BK-4", "P-4a"}};
      List<String> links = new java.util.ArrayList<>();
      long offset = 0;
      for (int b = 0; b < bookings.length; b++) {
        String trace = String.format("%032x", 0xb00c0L + b);
        for (int p = 1; p < bookings[b].length; p++) {
          String payment = bookings[b][p];
          out.record(true, trace, "send-" + payment, "", "payment-service", "payments.captured", offset++,
              T0 + b * 100 + p * 10, json(bookings[b][0], payment));
          links.add(trace);
          links.add("send-" + payment);
        }
      }
      out.batch(batch, "batch", "loyalty-service", "payments.captured", T0 + 5_000, T0 + 5_050, links.toArray(String[]::new));
      Map<String, List<String>> awards = Map.of("BK-1", List.of("P-1a", "P-1b"), "BK-2", List.of("P-2a"),
          "BK-3", List.of("P-3a", "P-9z"), "BK-4", List.of("P-4a", "P-4a"));
      for (String ref : List.of("BK-1", "BK-2", "BK-3", "BK-4")) {
        int k = 0;
        for (String payment : awards.get(ref)) {
          out.record(true, batch, "award-" + ref + "-" + k++, "batch", "loyalty-service", "points.awarded", offset++,
              T0 + 5_010 + offset, json(ref, payment));
        }
      }
    }

    List<Verdict> verdicts = Replays.finals(new FlowSpecLoader().load(flows), recording);

    Map<String, String> found = verdicts.stream().collect(Collectors.toMap(v -> v.keys().get("bookingRef"),
        v -> v.status() + " " + v.violations().stream().map(x -> x.kind() + " at " + x.stage()).toList()));
    assertThat(found).containsEntry("BK-1", "PASSED []").containsEntry("BK-2", "PASSED []")
        .containsEntry("BK-3", "FAILED [BAD_TRANSFORMATION at awarded]")
        .containsEntry("BK-4", "FAILED [NON_IDEMPOTENT at awarded]");
    Verdict wrong = verdicts.stream().filter(v -> v.keys().get("bookingRef").equals("BK-3")).findFirst().orElseThrow();
    assertThat(wrong.violations()).extracting(Violation::message).singleElement().asString().contains("\"P-9z\"");
  }

  @Test
  void aRecordJoinedByTraceAloneJoinsNoInstanceWhenItsBatchReadSeveral() throws Exception {
    Path flows = Files.createDirectories(work.resolve("flows"));
    Files.writeString(flows.resolve("booking.flow.yaml"), String.join("\n",
        "flow: booking",
        "keys: [bookingRef]",
        "stages:",
        "  - id: captured",
        "    terminal: true",
        "    events: [{id: captured, topic: payments.captured}]",
        "  - id: awarded",
        "    after: captured",
        "    optional: true",
        "    events: [{id: awarded, topic: points.awarded, keys: {}}]",
        "enrichment:",
        "  - {from: captured, to: awarded, carry: [paymentId]}",
        ""));
    Path recording = Files.createDirectories(work.resolve("recording"));
    try (RecordingWriter file = RecordingWriter.open(recording)) {
      TracedTraffic out = new TracedTraffic(file);
      String[] refs = {"BK-1", "BK-2", "BK-3"};
      for (int b = 0; b < refs.length; b++) {
        out.record(true, String.format("%032x", 0xb00c0L + b), "send-" + b, "", "payment-service", "payments.captured",
            b, T0 + b * 100, json(refs[b], "P-" + b));
      }
      // one batch read BK-1's and BK-2's payments; another BK-3's alone and awarded a payment it never saw
      String shared = String.format("%032x", 0xba7c1L);
      String single = String.format("%032x", 0xba7c2L);
      out.batch(shared, "batch-1", "loyalty-service", "payments.captured", T0 + 5_000, T0 + 5_050,
          String.format("%032x", 0xb00c0L), "send-0", String.format("%032x", 0xb00c1L), "send-1");
      out.batch(single, "batch-2", "loyalty-service", "payments.captured", T0 + 6_000, T0 + 6_050,
          String.format("%032x", 0xb00c2L), "send-2");
      out.record(true, shared, "award-0", "batch-1", "loyalty-service", "points.awarded", 10, T0 + 5_010,
          "{\"paymentId\":\"P-0\"}");
      out.record(true, shared, "award-1", "batch-1", "loyalty-service", "points.awarded", 11, T0 + 5_020,
          "{\"paymentId\":\"P-1\"}");
      out.record(true, single, "award-2", "batch-2", "loyalty-service", "points.awarded", 12, T0 + 6_010,
          "{\"paymentId\":\"P-9\"}");
    }

    List<Verdict> verdicts = Replays.finals(new FlowSpecLoader().load(flows), recording);

    Map<String, String> found = verdicts.stream().collect(Collectors.toMap(v -> v.keys().get("bookingRef"),
        v -> v.status() + " " + v.violations().stream().map(x -> x.kind() + " at " + x.stage()).toList()));
    assertThat(found).containsOnly(Map.entry("BK-1", "PASSED []"), Map.entry("BK-2", "PASSED []"),
        Map.entry("BK-3", "FAILED [BAD_TRANSFORMATION at awarded]"));
  }

  private static String json(String ref, String payment) {
    return "{\"bookingRef\":\"" + ref + "\",\"paymentId\":\"" + payment + "\"}";
  }
}
