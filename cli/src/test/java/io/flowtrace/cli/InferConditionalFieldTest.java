package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fields a payload carries for some values of its own status only: a ride request is matched with a
 * driver and an arrival estimate, or finds no driver and carries neither (the driver null, the
 * estimate absent); a matched ride's fare is captured or declined, with a decline code only then.
 * A trial's matched trip without a driver passed a draft that only knew the driver may be null.
 */
class InferConditionalFieldTest {

  @TempDir static Path work;
  static String yaml;
  static List<FlowSpec> draft;

  @BeforeAll
  static void draftFromRides() throws Exception {
    Path recording = Files.createDirectories(work.resolve("rides"));
    try (RecordingWriter out = RecordingWriter.open(recording)) {
      rides(out, 0, 120, -1);
    }
    Path drafts = work.resolve("drafts");
    Inference.builder().name("rides").build().infer(recording).write(drafts);
    yaml = Files.readString(drafts.resolve("rides/rides.flow.yaml"));
    draft = new FlowSpecLoader().load(drafts);
  }

  @Test
  void aFieldSetForSomeStatusesIsRequiredForThoseOnly() {
    assertThat(yaml).as(yaml)
        .contains("expr: 'rides_matched.status != \"MATCHED\" || has(rides_matched.driver)"
            + " && rides_matched.driver != null'")
        .contains("expr: 'rides_matched.status != \"MATCHED\" || has(rides_matched.etaSeconds)'")
        .contains("expr: 'fares_settled.status != \"DECLINED\" || has(fares_settled.declineCode)'")
        .containsPattern("# set in \\d+/\\d+ instances whose status was MATCHED; null or absent in \\d+ with"
            + " another value")
        .doesNotContain("has(rides_matched.driver.name)");
  }

  @Test
  void otherTrafficOfTheSameShapePassesTheDraft() throws Exception {
    Path other = Files.createDirectories(work.resolve("other"));
    try (RecordingWriter out = RecordingWriter.open(other)) {
      rides(out, 1_000, 150, -1);
    }

    assertThat(Replays.finals(draft, other)).hasSize(150)
        .allSatisfy(v -> assertThat(v.violations()).as(yaml).isEmpty());
  }

  @Test
  void aMatchedRideWithoutItsDriverFailsTheDraft() throws Exception {
    Path defect = Files.createDirectories(work.resolve("defect"));
    try (RecordingWriter out = RecordingWriter.open(defect)) {
      rides(out, 2_000, 40, 2_007);
    }

    List<Verdict> verdicts = Replays.finals(draft, defect);
    assertThat(verdicts).hasSize(40);
    assertThat(verdicts).filteredOn(v -> !v.violations().isEmpty())
        .singleElement()
        .satisfies(v -> assertThat(v.keys().values()).contains("REQ-2007"))
        .satisfies(v -> assertThat(v.violations()).anySatisfy(x -> assertThat(x.message()).contains("driver")));
  }

  /** Rides {@code from}… ; every fourth finds no driver; the ride {@code driverless} is matched without one. */
  private static void rides(RecordingWriter out, int from, int count, int driverless) throws Exception {
    Random random = new Random(from + 11);
    long t0 = 1_797_500_000_000L + from * 60_000L;
    int offset = from * 3;
    for (int i = from; i < from + count; i++) {
      String id = "REQ-" + i;
      long t = t0 + (i - from) * 30_000L;
      boolean matched = random.nextInt(4) != 0 || i == driverless;
      out.accept(TracedTraffic.untraced("rides.requested", offset++, t, id,
          "{\"requestId\":\"" + id + "\",\"riderId\":\"R-" + random.nextInt(10_000) + "\",\"seats\":"
              + (1 + random.nextInt(3)) + "}"));
      String driver = i == driverless || !matched ? "null"
          : "{\"driverId\":\"D-" + random.nextInt(900) + "\",\"name\":\"Driver " + random.nextInt(900) + "\"}";
      out.accept(TracedTraffic.untraced("rides.matched", offset++, t + 1_500, id,
          "{\"requestId\":\"" + id + "\",\"status\":\"" + (matched ? "MATCHED" : "NO_DRIVER") + "\",\"driver\":"
              + driver + (matched ? ",\"etaSeconds\":" + (60 + random.nextInt(600)) : "") + "}"));
      if (matched) {
        boolean declined = random.nextInt(5) == 0;
        out.accept(TracedTraffic.untraced("fares.settled", offset++, t + 900_000, id,
            "{\"requestId\":\"" + id + "\",\"status\":\"" + (declined ? "DECLINED" : "CAPTURED") + "\""
                + (declined ? ",\"declineCode\":\"" + (random.nextBoolean() ? "insufficient_funds" : "expired_card")
                    + "\"" : "") + ",\"fare\":" + (5 + random.nextInt(40)) + "}"));
      }
    }
  }
}
