package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two flows whose last records share one topic: bookings and reviews both send an e-mail through
 * {@code notifications.outbox}, each record keyed by its own flow's id. Drafted with that record
 * key as the instance key, each flow took the other's e-mails for instances of its own (1,038
 * instances for 520 flows in the trial that found it, half of them failing); and an e-mail that
 * one flow placed was still reported as placed in no instance, because the other did not.
 */
class InferSharedTopicTest {

  private static final long T0 = 1_796_893_200_000L;

  @TempDir Path work;

  private final Random random = new Random(5);
  private final KcatLines kcat = new KcatLines(random);

  @Test
  void aTopicTwoFlowsShareIsNotKeyedByItsRecordKeyAndEachRecordIsPlacedOnce() throws Exception {
    for (int i = 0; i < 240; i++) {
      long start = T0 + i * 700L;
      if (i % 3 == 2) {
        String id = String.format(Locale.ROOT, "RV-%05d", i);
        flow(start, "reviews.submitted", "reviews.published", "reviewId", id, "REVIEW_THANKS");
      } else {
        String id = String.format(Locale.ROOT, "BK-%05d", i);
        flow(start, "bookings.requested", "bookings.confirmed", "bookingId", id, "BOOKING_CONFIRMED");
      }
    }
    Path recording = kcat.write(work.resolve("rec"));
    Path drafts = work.resolve("drafts");

    Inference.builder().build().infer(recording).write(drafts);
    String yaml;
    try (var files = Files.walk(drafts)) {
      yaml = files.filter(f -> f.toString().endsWith(".flow.yaml")).sorted().map(f -> {
        try {
          return Files.readString(f);
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }).collect(Collectors.joining("\n"));
    }
    List<FlowSpec> flows = new FlowSpecLoader().load(drafts);
    Replays.Run run = Replays.run(flows, recording);
    List<Verdict> verdicts = run.finals();

    assertThat(flows).as(yaml).hasSize(2);
    assertThat(yaml).contains("topic notifications.outbox also carries records that are not this flow's");
    assertThat(verdicts).as(yaml).hasSize(240).allSatisfy(v -> assertThat(v.violations()).as(yaml).isEmpty());
    assertThat(run.stats().eventsUnplaced()).as("each e-mail was placed by its own flow").isZero();
  }

  private void flow(long start, String first, String second, String idField, String id, String template) {
    String trace = kcat.trace();
    long t = start;
    Map<String, Object> payload = new java.util.LinkedHashMap<>();
    payload.put(idField, id);
    payload.put("guest", "guest-" + random.nextInt(1000));
    kcat.record(first, t, trace, id, payload);
    t += 20 + random.nextInt(40);
    payload.put("status", "OK");
    kcat.record(second, t, trace, id, payload);
    t += 20 + random.nextInt(40);
    Map<String, Object> mail = new java.util.LinkedHashMap<>();
    mail.put("notificationId", kcat.hex(16));
    mail.put(idField, id);
    mail.put("template", template);
    mail.put("to", "guest" + random.nextInt(1000) + "@example.org");
    kcat.record("notifications.outbox", t, trace, id, mail);
  }
}
