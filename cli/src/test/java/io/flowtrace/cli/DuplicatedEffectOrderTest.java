package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A live trial's driver app sent its acceptance twice and pricing priced both; notifications read
 * the second price first and notified from it. Besides the double price, the trip failed with an
 * ORDER_VIOLATION: its first notice was compared with the first price, which notifications had
 * not read yet, though the spans show the notice was made from the second.
 */
class DuplicatedEffectOrderTest {

  private static final long T0 = 1_796_500_000_000L;

  @TempDir Path work;

  @Test
  void aStepMadeFromADuplicateReadFirstFollowsThatDuplicate() throws Exception {
    Path flows = tripsFlow("flows",
        "  - id: accepted",
        "    events: [{id: trips_accepted, topic: trips.accepted}]",
        "  - id: priced",
        "    after: accepted",
        "    events: [{id: trips_priced, topic: trips.priced}]",
        "  - id: notified",
        "    after: priced",
        "    terminal: true",
        "    events: [{id: riders_notified, topic: riders.notified}]",
        "idempotency:",
        "  - {trigger: trips_accepted, effects: [trips_priced, riders_notified]}",
        "");
    Path recording = Files.createDirectories(work.resolve("recording"));
    String trace = String.format("%032x", 0xab0001L);
    long t = T0;
    try (RecordingWriter file = RecordingWriter.open(recording)) {
      TracedTraffic out = new TracedTraffic(file);
      String trip = "{\"tripId\":\"TR-1\",\"acceptanceId\":\"AC-1\"}";
      out.record(true, trace, "accept", "", "driver-app", "trips.accepted", 0, t, trip);
      out.record(true, trace, "accept-again", "", "driver-app", "trips.accepted", 1, t + 5, trip);
      out.span(true, trace, "price-0", "accept", "process trips.accepted", SpanKind.CONSUMER, "pricing", t + 20, t + 30,
          TracedTraffic.consumed("trips.accepted"));
      out.record(true, trace, "priced-0", "price-0", "pricing", "trips.priced", 0, t + 25, "{\"tripId\":\"TR-1\",\"fare\":12}");
      out.span(true, trace, "price-1", "accept-again", "process trips.accepted", SpanKind.CONSUMER, "pricing", t + 31,
          t + 40, TracedTraffic.consumed("trips.accepted"));
      out.record(true, trace, "priced-1", "price-1", "pricing", "trips.priced", 1, t + 35, "{\"tripId\":\"TR-1\",\"fare\":12}");
      // notifications reads the second price first, then the first
      out.span(true, trace, "notify-1", "priced-1", "process trips.priced", SpanKind.CONSUMER, "notifications", t + 60,
          t + 70, TracedTraffic.consumed("trips.priced"));
      out.record(true, trace, "notified-1", "notify-1", "notifications", "riders.notified", 0, t + 65,
          "{\"tripId\":\"TR-1\"}");
      out.span(true, trace, "notify-0", "priced-0", "process trips.priced", SpanKind.CONSUMER, "notifications", t + 90,
          t + 100, TracedTraffic.consumed("trips.priced"));
      out.record(true, trace, "notified-0", "notify-0", "notifications", "riders.notified", 1, t + 95,
          "{\"tripId\":\"TR-1\"}");
    }

    List<Verdict> verdicts = Replays.finals(new FlowSpecLoader().load(flows), recording);

    assertThat(verdicts).singleElement().satisfies(v -> assertThat(v.violations())
        .extracting(x -> x.kind() + " at " + x.stage()).containsExactly("NON_IDEMPOTENT at accepted"));
  }

  /**
   * The same trial's re-test: the driver app's acceptance sent twice as it was (one producer span,
   * one {@code traceparent}), each copy read once by pricing. The message said each copy "was
   * consumed 2 times": both consumer spans hang from the one producer span, so each copy was given
   * both. Without an offset on the consumer spans the copies' readings cannot be told apart, and
   * no copy is said to have been read twice.
   */
  @Test
  void copiesOfOneSendReadOnceEachAreNotSaidToBeReadTwice() throws Exception {
    Path flows = tripsFlow("copies",
        "  - id: accepted",
        "    events: [{id: trips_accepted, topic: trips.accepted}]",
        "  - id: priced",
        "    after: accepted",
        "    terminal: true",
        "    events: [{id: trips_priced, topic: trips.priced}]",
        "idempotency:",
        "  - {trigger: trips_accepted, effects: [trips_priced]}",
        "");
    Path recording = Files.createDirectories(work.resolve("copies-recording"));
    String trace = String.format("%032x", 0xad0001L);
    try (RecordingWriter file = RecordingWriter.open(recording)) {
      TracedTraffic out = new TracedTraffic(file);
      String trip = "{\"tripId\":\"TR-1\",\"acceptanceId\":\"AC-1\"}";
      out.record(true, trace, "accept", "", "driver-app", "trips.accepted", 0, T0, trip);
      file.accept(TracedTraffic.published("trips.accepted", 1, T0 + 3, "k0", trace, TracedTraffic.spanId("accept"), true,
          trip)); // the same send again
      for (int k = 0; k < 2; k++) {
        out.span(true, trace, "price-" + k, "accept", "process trips.accepted", SpanKind.CONSUMER, "pricing",
            T0 + 20 + 20 * k, T0 + 30 + 20 * k, TracedTraffic.consumed("trips.accepted"));
        out.record(true, trace, "priced-" + k, "price-" + k, "pricing", "trips.priced", k, T0 + 25 + 20 * k,
            "{\"tripId\":\"TR-1\",\"fare\":12}");
      }
    }

    List<Verdict> verdicts = Replays.finals(new FlowSpecLoader().load(flows), recording);

    assertThat(verdicts).singleElement().satisfies(v -> assertThat(v.violations()).singleElement().satisfies(x -> {
      assertThat(x.kind().name()).isEqualTo("NON_IDEMPOTENT");
      assertThat(x.message()).startsWith("trips_accepted was delivered 2 times; trips_priced happened 2 times")
          .doesNotContain("consumed");
    }));
  }

  /**
   * The same trial's notifications sent a notice without {@code traceparent}, and its producer sent
   * that record again byte for byte (a lost acknowledgement): a second notice was counted, though
   * its own {@code notificationId} says it is the same one. A notice that names nothing of its own
   * cannot be told from a second notice, and still counts twice.
   */
  @Test
  void anUntracedRecordSentAgainByteForByteIsOneEffectWhenItNamesItself() throws Exception {
    Path flows = tripsFlow("notices",
        "  - id: priced",
        "    events: [{id: trips_priced, topic: trips.priced}]",
        "  - id: notified",
        "    after: priced",
        "    terminal: true",
        "    events: [{id: riders_notified, topic: riders.notified}]",
        "idempotency:",
        "  - {trigger: trips_priced, effects: [riders_notified]}",
        "");
    Path recording = Files.createDirectories(work.resolve("notices-recording"));
    try (RecordingWriter file = RecordingWriter.open(recording)) {
      TracedTraffic out = new TracedTraffic(file);
      int offset = 0;
      for (String trip : List.of("TR-1", "TR-2")) {
        String trace = String.format("%032x", 0xac0000L + offset);
        long t = T0 + offset * 1_000L;
        out.record(true, trace, "priced-" + trip, "", "pricing", "trips.priced", offset, t,
            "{\"tripId\":\"" + trip + "\"}");
        String notice = trip.equals("TR-1") ? "{\"tripId\":\"TR-1\",\"notificationId\":\"N-77\"}" : "{\"tripId\":\"TR-2\"}";
        file.accept(TracedTraffic.untraced("riders.notified", offset, t + 50, trip, notice));
        file.accept(TracedTraffic.untraced("riders.notified", offset + 1, t + 51, trip, notice));
        offset += 2;
      }
    }

    List<Verdict> verdicts = Replays.finals(new FlowSpecLoader().load(flows), recording);

    java.util.Map<String, List<String>> kinds = verdicts.stream().collect(java.util.stream.Collectors.toMap(
        v -> v.keys().get("tripId"), v -> v.violations().stream().map(x -> x.kind().name()).distinct().sorted().toList()));
    assertThat(kinds).containsEntry("TR-1", List.of("BROKEN_PROPAGATION"))
        .containsEntry("TR-2", List.of("BROKEN_PROPAGATION", "NON_IDEMPOTENT"));
  }

  /** A spec of the flow {@code trips}, keyed by {@code tripId}, whose stages are {@code lines}, in a directory of its own. */
  private Path tripsFlow(String dir, String... lines) throws java.io.IOException {
    Path flows = Files.createDirectories(work.resolve(dir));
    Files.writeString(flows.resolve("trips.flow.yaml"),
        "flow: trips\nkeys: [tripId]\nstages:\n" + String.join("\n", lines));
    return flows;
  }
}
