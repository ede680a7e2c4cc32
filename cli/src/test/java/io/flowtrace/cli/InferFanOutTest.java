package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import io.flowtrace.verifier.spec.StageSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A booking fans out — a room is held and loyalty points accrue at once, in either order — and
 * joins again: confirmed where the room was held, cancelled (4 % of bookings) where it was not, the
 * refused hold carrying no hold id; gold guests whose room was held are offered a spa. Drafted
 * before as a chain with the points after the hold, each booking whose points came first failed its
 * order; the hold id was required of a refused hold; a field equal in every instance made a condition
 * ("taken in 96 %"); the offer's condition named the tier alone, failing each gold guest refused a
 * room; a greeter for silver guests at the airport, which no one field decides, was not declared;
 * the stages after the join hung from one side of it; and one malformed e-mail address in the
 * traffic still drafted {@code format: email}.
 */
class InferFanOutTest {

  private static final long T0 = 1_796_893_200_000L;

  @TempDir Path work;

  private final Random random = new Random(11);
  private final KcatLines kcat = new KcatLines(random);

  @Test
  void twoStagesInEitherOrderHangFromOneStageAndTheirJoinComesAfterBoth() throws Exception {
    for (int i = 0; i < 400; i++) {
      booking(i, i % 25 == 3);
    }
    Path recording = kcat.write(work.resolve("rec"));
    Path drafts = work.resolve("drafts");

    Inference.builder().build().infer(recording).write(drafts);
    Path file;
    try (var files = Files.walk(drafts)) {
      file = files.filter(f -> f.toString().endsWith(".flow.yaml")).findFirst().orElseThrow();
    }
    String yaml = Files.readString(file);
    FlowSpec flow = new FlowSpecLoader().load(drafts).get(0);
    List<Verdict> verdicts = Replays.finals(List.of(flow), recording);

    StageSpec held = stage(flow, "rooms.held");
    StageSpec points = stage(flow, "loyalty.accrued");
    assertThat(points.after()).as(yaml).isEqualTo(held.after());
    assertThat(held.terminal()).as(yaml).isFalse();
    assertThat(stage(flow, "bookings.confirmed").when().source()).as(yaml).contains("\"HELD\"");
    assertThat(stage(flow, "bookings.cancelled").when().source()).as(yaml).contains("\"UNAVAILABLE\"");
    assertThat(stage(flow, "offers.sent").when().source()).as(yaml).contains("\"gold\"").contains(" && ")
        .contains("\"HELD\"");
    assertThat(stage(flow, "greeters.assigned").when().source()).as("no one field decides it: " + yaml)
        .contains("\"silver\"").contains(" && ").contains("\"AIRPORT\"");
    assertThat(stage(flow, "bookings.confirmed").after()).as("after the join: " + yaml)
        .containsExactlyInAnyOrder(held.id(), points.id());
    assertThat(yaml).contains("holdId (where status is \"UNAVAILABLE\")");
    assertThat(verdicts).hasSize(400).allSatisfy(v -> assertThat(v.violations()).as(yaml).isEmpty());
  }

  private static StageSpec stage(FlowSpec flow, String topic) {
    return flow.stages().stream().filter(s -> s.events().stream().anyMatch(e -> topic.equals(e.topic())))
        .findFirst().orElseThrow(() -> new AssertionError("no stage of " + topic));
  }

  private void booking(int i, boolean unavailable) {
    String id = String.format(Locale.ROOT, "BK-%05d", i);
    String trace = kcat.trace();
    long t = T0 + i * 900L;
    Map<String, Object> requested = new LinkedHashMap<>();
    requested.put("bookingId", id);
    requested.put("nights", 1 + random.nextInt(6));
    requested.put("tier", List.of("bronze", "silver", "gold").get(random.nextInt(3)));
    requested.put("guestEmail", i == 7 ? ".guest7@example.org" : "guest" + i + "@example.org");
    requested.put("zone", random.nextBoolean() ? "AIRPORT" : "CITY");
    kcat.record("bookings.requested", t, trace, id, requested);
    Map<String, Object> hold = new LinkedHashMap<>(requested);
    hold.put("status", unavailable ? "UNAVAILABLE" : "HELD");
    if (!unavailable) {
      hold.put("holdId", "H-" + kcat.hex(8));
      hold.put("roomNumber", 100 + random.nextInt(300));
    }
    Map<String, Object> points = new LinkedHashMap<>(requested);
    points.put("points", 100 * (int) requested.get("nights"));
    long holdAt = t + 10 + random.nextInt(60);
    long pointsAt = t + 10 + random.nextInt(60);
    if (holdAt == pointsAt) {
      pointsAt++;
    }
    kcat.record("rooms.held", holdAt, trace, id, hold);
    kcat.record("loyalty.accrued", pointsAt, trace, id, points);
    long joined = Math.max(holdAt, pointsAt);
    if ("silver".equals(requested.get("tier")) && "AIRPORT".equals(requested.get("zone"))) {
      Map<String, Object> greeter = new LinkedHashMap<>();
      greeter.put("bookingId", id);
      greeter.put("greeter", "G-" + random.nextInt(20));
      kcat.record("greeters.assigned", t + 5, trace, id, greeter);
    }
    if (!unavailable && "gold".equals(requested.get("tier"))) {
      Map<String, Object> offer = new LinkedHashMap<>();
      offer.put("bookingId", id);
      offer.put("offer", "spa");
      kcat.record("offers.sent", joined + 10, trace, id, offer);
    }
    Map<String, Object> end = new LinkedHashMap<>();
    end.put("bookingId", id);
    end.put("reason", unavailable ? "no room" : "ok");
    kcat.record(unavailable ? "bookings.cancelled" : "bookings.confirmed", joined + 20, trace, id, end);
  }
}
