package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Vet appointments as a trial drafted them: a reminder hours after booking, then the visit the
 * front desk records in a trace of its own (no service of the flow calls it: the customer came),
 * the invoice and the receipt; a tenth declined at triage; two in five reviewed by the customer
 * hours after the receipt, through the gateway that took the booking. The draft hung the visit
 * after triage (nothing in the traces fed it), drafted the reminder terminal — every accepted
 * appointment then failed under a 30-second amendment window — hung the review after the booking,
 * and took the reviews into a deadline of 200000 s.
 */
class InferOutsideCallersTest {

  private static final long HOUR = 3_600_000L;
  @TempDir static Path work;
  private static Path recording;
  private static String spec;
  private static FlowSpec flow;
  private static long longestWithoutReview;

  @BeforeAll
  static void draft() throws Exception {
    recording = Files.createDirectories(work.resolve("visits"));
    try (RecordingWriter writer = RecordingWriter.open(recording)) {
      TracedTraffic out = new TracedTraffic(writer);
      long offset = 0;
      for (int i = 0; i < 200; i++) {
        String a = String.format("%032x", 0xA000L + i);
        String id = "APT-" + (10_000 + i);
        long t = 1_798_000_000_000L + i * 60_000L;
        out.span(true, a, "a" + i, "", "POST /appointments", SpanKind.SERVER, "gateway", t, t + 20,
            Map.of("http.route", "/appointments", "http.request.body", "{\"petId\":\"PET-" + i + "\"}"));
        out.record(true, a, "b" + i, "a" + i, "gateway", "appointment.requested", offset++, t + 5,
            "{\"appointmentId\":\"" + id + "\",\"petId\":\"PET-" + i + "\"}");
        boolean declined = i % 10 == 3;
        out.span(true, a, "c" + i, "b" + i, "appointment.requested process", SpanKind.CONSUMER, "triage", t + 50,
            t + 110, TracedTraffic.consumed("appointment.requested"));
        out.record(true, a, "d" + i, "c" + i, "triage", "appointment.triaged", offset++, t + 100,
            "{\"appointmentId\":\"" + id + "\",\"decision\":\"" + (declined ? "declined" : "accepted") + "\"}");
        out.span(true, a, "e" + i, "d" + i, "appointment.triaged process", SpanKind.CONSUMER,
            declined ? "notifier" : "scheduling", t + 120, t + 160, TracedTraffic.consumed("appointment.triaged"));
        if (declined) {
          out.record(true, a, "f" + i, "e" + i, "notifier", "appointment.declined", offset++, t + 150,
              "{\"appointmentId\":\"" + id + "\"}");
          longestWithoutReview = Math.max(longestWithoutReview, 150);
          continue;
        }
        out.record(true, a, "f" + i, "e" + i, "scheduling", "appointment.scheduled", offset++, t + 150,
            "{\"appointmentId\":\"" + id + "\",\"slot\":\"" + (9 + i % 8) + ":00\"}");
        long remindAt = t + HOUR + i % 5 * HOUR / 2;
        out.span(true, a, "g" + i, "f" + i, "appointment.scheduled process", SpanKind.CONSUMER, "notifier",
            remindAt - 10, remindAt + 5, TracedTraffic.consumed("appointment.scheduled"));
        out.record(true, a, "h" + i, "g" + i, "notifier", "appointment.reminded", offset++, remindAt,
            "{\"appointmentId\":\"" + id + "\"}");
        // the customer comes: the front desk records the visit, in a trace of its own
        String b = String.format("%032x", 0xB000L + i);
        String visit = "VIS-" + (20_000 + i);
        long visitAt = remindAt + HOUR + i % 3 * HOUR / 3;
        out.span(true, b, "v" + i, "", "POST /visits", SpanKind.SERVER, "clinic", visitAt, visitAt + 30,
            Map.of("http.route", "/visits", "http.request.body", "{\"appointmentId\":\"" + id + "\"}"));
        out.record(true, b, "w" + i, "v" + i, "clinic", "visit.completed", offset++, visitAt + 10,
            "{\"appointmentId\":\"" + id + "\",\"visitId\":\"" + visit + "\"}");
        out.span(true, b, "x" + i, "w" + i, "visit.completed process", SpanKind.CONSUMER, "billing", visitAt + 100,
            visitAt + 210, TracedTraffic.consumed("visit.completed"));
        out.record(true, b, "y" + i, "x" + i, "billing", "invoice.issued", offset++, visitAt + 200,
            "{\"visitId\":\"" + visit + "\",\"invoiceId\":\"INV-" + i + "\",\"total\":" + (40 + i % 7) + "}");
        out.span(true, b, "z" + i, "y" + i, "invoice.issued process", SpanKind.CONSUMER, "notifier", visitAt + 250,
            visitAt + 310, TracedTraffic.consumed("invoice.issued"));
        out.record(true, b, "r" + i, "z" + i, "notifier", "receipt.sent", offset++, visitAt + 300,
            "{\"invoiceId\":\"INV-" + i + "\",\"total\":" + (40 + i % 7) + "}");
        longestWithoutReview = Math.max(longestWithoutReview, visitAt + 300 - t);
        if (i % 5 == 1 || i % 5 == 3) {
          // hours later, through the gateway that took the booking
          String d = String.format("%032x", 0xD000L + i);
          long reviewAt = visitAt + 2 * HOUR + i % 4 * HOUR;
          out.span(true, d, "p" + i, "", "POST /reviews", SpanKind.SERVER, "gateway", reviewAt, reviewAt + 20,
              Map.of("http.route", "/reviews", "http.request.body", "{\"visitId\":\"" + visit + "\",\"rating\":5}"));
          out.record(true, d, "q" + i, "p" + i, "gateway", "review.submitted", offset++, reviewAt + 5,
              "{\"visitId\":\"" + visit + "\",\"rating\":5}");
        }
      }
    }
    Path drafts = work.resolve("drafts");
    Inference.builder().name("visits").build().infer(recording).write(drafts);
    spec = Files.readString(drafts.resolve("visits/visits.flow.yaml"));
    flow = new FlowSpecLoader().load(drafts).get(0);
  }

  private static String stageOf(String eventId) {
    assertThat(flow.event(eventId)).as(spec).isNotNull();
    return flow.event(eventId).stageId();
  }

  @Test
  void aStepACallerFromOutsideBeginsFollowsTheStepItAlwaysCameAfter() {
    assertThat(flow.stage(stageOf("visit_completed")).after()).as(spec).containsExactly(stageOf("appointment_reminded"));
    assertThat(flow.stage(stageOf("appointment_reminded")).terminal()).as(spec).isFalse();
  }

  @Test
  void anOptionalStepACallerFromOutsideBeginsFollowsTheEndNotTheServiceItShares() {
    var review = flow.stage(stageOf("review_submitted"));

    assertThat(review.optional()).as(spec).isTrue();
    assertThat(review.after()).as(spec).containsExactly(stageOf("receipt_sent"));
  }

  @Test
  void theDeadlineIsTakenOverTheStepsEveryInstanceWaitsForNotTheOptionalReviewsHoursLater() {
    assertThat(flow.deadline()).as(spec).isLessThanOrEqualTo(Duration.ofMillis(4 * longestWithoutReview));
    assertThat(spec).contains("from first to last event of a stage that is not optional");
  }

  @Test
  void theDraftPassesItsOwnTrafficUnderTheSidecarsAmendmentWindow() throws Exception {
    var run = Replays.run(List.of(flow), recording, Duration.ofSeconds(30));

    assertThat(run.finals()).hasSize(200)
        .allSatisfy(v -> assertThat(v.status()).as(v + "\n" + spec).isEqualTo(VerdictStatus.PASSED));
  }
}
