package io.flowtrace.verifier.assembly;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.check.ViolationKind;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictListener;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A side step no later stage follows: a loyalty service consumes captured payments in batches and
 * awards points up to half a minute after the confirmation that ends the booking flow. Judged as a
 * sidecar judges (an amendment window shorter than that lag), the award must not be "missing" while
 * the flow's deadline has not passed.
 */
class SideStageTest {

  private static final String SPEC = String.join("\n",
      "flow: booking",
      "keys: [ref]",
      "deadline: 60s",
      "stages:",
      "  - id: held",
      "    events:",
      "      - {id: held_msg, topic: b.held}",
      "  - id: captured",
      "    after: held",
      "    events:",
      "      - {id: captured_msg, topic: b.captured}",
      "  - id: notified",
      "    after: captured",
      "    terminal: true",
      "    events:",
      "      - {id: notified_msg, topic: b.notified}",
      "  - id: awarded",
      "    after: captured",
      "    events:",
      "      - {id: awarded_msg, topic: b.awarded}",
      "");

  private static final long T0 = 1_764_000_000_000L;

  @TempDir Path dir;
  private final Map<String, Verdict> finals = new HashMap<>();
  private long offsets;
  private FlowEngine engine;

  @BeforeEach
  void start() throws Exception {
    Files.writeString(dir.resolve("booking.flow.yaml"), SPEC);
    engine = FlowEngine.builder(new FlowSpecLoader().load(dir)).amendWindow(Duration.ofSeconds(5))
        .listener(new VerdictListener() {
          @Override
          public void finalized(Verdict v) {
            finals.put(v.keys().get("ref"), v);
          }
        }).build();
  }

  @Test
  void anAwardHalfAMinuteAfterTheConfirmationPassesWithinTheDeadline() {
    booking("b-1", 0, 1_000, 1_500);
    for (long s = 2; s <= 32; s++) {
      engine.advanceTo((T0 + s * 1_000) * 1_000_000L);
    }
    record("b.awarded", "b-1", 33_000);
    engine.advanceTo((T0 + 120_000) * 1_000_000L);
    engine.finish();

    Verdict v = finals.get("b-1");
    assertThat(v.violations()).isEmpty();
    assertThat(v.status()).isEqualTo(VerdictStatus.PASSED);
    assertThat(v.reason()).isEqualTo("complete");
  }

  @Test
  void anAwardThatNeverCameIsMissingAtTheDeadlineNotAtTheConfirmation() {
    booking("b-1", 0, 1_000, 1_500);
    for (long s = 2; s < 60; s++) {
      engine.advanceTo((T0 + s * 1_000) * 1_000_000L);
    }
    assertThat(finals).as("open until the deadline").isEmpty();
    engine.advanceTo((T0 + 120_000) * 1_000_000L);
    engine.finish();

    Verdict v = finals.get("b-1");
    assertThat(v.status()).isEqualTo(VerdictStatus.FAILED);
    assertThat(v.violations()).extracting(Violation::kind, Violation::stage)
        .containsExactly(tuple(ViolationKind.MISSING_STAGE, "awarded"));
    assertThat(v.reason()).isEqualTo("terminal stage seen; waited until the deadline for stage awarded");
  }

  @Test
  void aStageTheConfirmationFollowsIsMissingOnceTheGraceHasPassed() {
    record("b.held", "b-1", 0);
    record("b.notified", "b-1", 1_500);
    record("b.awarded", "b-1", 2_000);
    for (long s = 3; s <= 10; s++) {
      engine.advanceTo((T0 + s * 1_000) * 1_000_000L);
    }

    Verdict v = finals.get("b-1");
    assertThat(v).as("final a grace and an amendment window after the confirmation").isNotNull();
    assertThat(v.violations()).extracting(Violation::kind, Violation::stage)
        .containsExactly(tuple(ViolationKind.MISSING_STAGE, "captured"));
  }

  private void booking(String ref, long heldMs, long capturedMs, long notifiedMs) {
    record("b.held", ref, heldMs);
    record("b.captured", ref, capturedMs);
    record("b.notified", ref, notifiedMs);
  }

  /** A record of a booking whose trace was sampled out (no spans exported), stamped {@code ms} after T0. */
  private void record(String topic, String ref, long ms) {
    long offset = offsets++;
    String trace = String.format("%032x", ref.hashCode() & 0xffffffffL);
    engine.accept(Telemetry.of(new KafkaRecord(topic, 0, offset, T0 + ms, ref, List.of(RecordHeader.ofString(
        "traceparent", "00-" + trace + "-" + String.format("%016x", offset + 1) + "-00")),
        ("{\"ref\":\"" + ref + "\"}").getBytes(StandardCharsets.UTF_8))));
  }
}
