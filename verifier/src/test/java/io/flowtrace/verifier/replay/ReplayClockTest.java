package io.flowtrace.verifier.replay;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.assembly.FlowEngine;
import io.flowtrace.verifier.assembly.ShopFlows;
import io.flowtrace.verifier.report.LateEvent;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictListener;
import io.flowtrace.verifier.report.VerdictStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replay moves its engine's clock every 256 events, and before any event that comes well after
 * the last. Where traffic is sparse (a review left hours after the rest), 256 events spanned
 * hours: an event was taken with the clock hours behind it, and amended a verdict whose amendment
 * window had long closed — while its span, in the next batch, came late.
 */
class ReplayClockTest {

  @TempDir Path dir;

  @Test
  void anEventAnHourAfterItsInstanceWasDecidedComesAfterAThirtySecondWindowNotIntoIt() throws Exception {
    ShopFlows.Order o = ShopFlows.order("o-1", 0).delivery("evt-o-1", true, true); // delivered again…
    o.deliveryGapMs = 3_600_000; // …an hour later
    List<Telemetry> telemetry = new ShopFlows().telemetry(o);
    Path recording = TestRecordings.write(Files.createDirectories(dir.resolve("rec")), telemetry, new Random(1), 1, false);

    List<Verdict> finals = new ArrayList<>();
    List<LateEvent> late = new ArrayList<>();
    FlowEngine engine = FlowEngine.builder(TestRecordings.shopFlows(dir)).amendWindow(Duration.ofSeconds(30))
        .listener(new VerdictListener() {
          @Override
          public void finalized(Verdict v) {
            finals.add(v);
          }

          @Override
          public void late(LateEvent e) {
            late.add(e);
          }
        }).build();
    Replay.builder(engine).build().run(recording);

    assertThat(finals).singleElement().satisfies(v -> {
      assertThat(v.violations()).isEmpty();
      assertThat(v.status()).isEqualTo(VerdictStatus.PASSED);
      assertThat(v.revision()).isZero();
    });
    assertThat(late).isNotEmpty().allSatisfy(e -> assertThat(e.eventEpochNanos() - e.finalizedEpochNanos())
        .isGreaterThan(Duration.ofMinutes(59).toNanos()));
  }

  /** A trial's late double posting showed only as a PASSED verdict: the JSON report said nothing of what came late. */
  @Test
  void theJsonReportListsTheEventsThatCameAfterTheirInstancesWindow() throws Exception {
    ShopFlows.Order o = ShopFlows.order("o-1", 0).delivery("evt-o-1", true, true);
    o.deliveryGapMs = 3_600_000;
    Path recording = TestRecordings.write(Files.createDirectories(dir.resolve("rec")), new ShopFlows().telemetry(o),
        new Random(1), 1, false);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    io.flowtrace.verifier.report.JsonReportWriter json = new io.flowtrace.verifier.report.JsonReportWriter(out);

    FlowEngine engine = FlowEngine.builder(TestRecordings.shopFlows(dir)).amendWindow(Duration.ofSeconds(30))
        .listener(json).build();
    Replay.builder(engine).build().run(recording);
    json.close();

    tools.jackson.databind.JsonNode report = new tools.jackson.databind.ObjectMapper().readTree(out.toByteArray());
    assertThat(report.at("/summary/lateEvents").asInt()).isEqualTo(report.get("late").size()).isPositive();
    assertThat(report.get("late")).allSatisfy(e -> {
      assertThat(e.at("/keys/orderId").asString()).isEqualTo("o-1");
      assertThat(e.get("finalizedAt").asString()).isLessThan(e.get("eventTime").asString());
    });
  }
}
