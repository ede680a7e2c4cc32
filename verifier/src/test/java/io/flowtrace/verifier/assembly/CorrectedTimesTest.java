package io.flowtrace.verifier.assembly;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.docs.FlowDocs;
import io.flowtrace.verifier.internal.Texts;
import io.flowtrace.verifier.report.TimelineEntry;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Billing and shipping each consume the order record, on hosts 20 and 10 ms behind the order
 * service's clock (their consumption proves it), and nothing relates the two to each other. The
 * timeline draws both on corrected clocks; what a budget between them says it took is what the
 * timeline draws (a trial saw "50 ms" beside two arrows 36 ms apart).
 */
class CorrectedTimesTest {
  private static final String SPEC = String.join("\n",
      "flow: star",
      "keys: [orderId]",
      "stages:",
      "  - id: placed",
      "    events:",
      "      - {id: placed_msg, topic: t.placed}",
      "  - id: billed",
      "    after: placed",
      "    events:",
      "      - {id: billed_msg, topic: t.billed}",
      "  - id: shipped",
      "    after: placed",
      "    terminal: true",
      "    events:",
      "      - {id: shipped_msg, topic: t.shipped}",
      "budgets:",
      "  - {from: billed_msg, to: shipped_msg, within: 5ms}",
      "");
  private static final long T0 = 1_790_000_000_000L;
  private static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

  @TempDir Path dir;
  private final List<Telemetry> all = new ArrayList<>();
  private long offset;
  private String host = "";

  @BeforeEach
  void writeTheSpec() throws Exception {
    Files.writeString(dir.resolve("star.flow.yaml"), SPEC);
  }

  @Test
  void aBudgetBetweenTwoHostsSaysTheTimeTheTimelineDraws() throws Exception {
    Verdict v = replay(verdict -> { });

    long drawn = at(v, "shipped_msg") - at(v, "billed_msg");
    assertThat(drawn).as("the timeline, on corrected clocks").isEqualTo(20_000_000L);
    String said = v.unverified().stream().filter(u -> u.check().equals("budget")).map(u -> u.reason())
        .findFirst().orElseThrow(() -> new AssertionError(v.toString()));
    assertThat(said).startsWith("the hop took " + Texts.duration(drawn) + " against 5 ms");
  }

  /** Billing and shipping read placed at +3 true time: as read on their clocks, 16 and 6 ms before it was written. */
  @Test
  void aDwellTheClocksDoNotMeasureIsNotDrawnOrTabledAsZero() throws Exception {
    FlowSpec star = new FlowSpecLoader().load(dir).get(0);
    FlowDocs docs = new FlowDocs(List.of(star));
    Verdict v = replay(docs::finalized);

    TimelineEntry placed = v.timeline().stream().filter(t -> t.event().equals("placed_msg")).findFirst().orElseThrow();
    assertThat(placed.detail().consumers()).hasSize(2).allSatisfy(c -> {
      assertThat(c.offsetNanos()).as("drawn no earlier than the record").isGreaterThanOrEqualTo(
          placed.detail().recordOffsetNanos());
      assertThat(c.dwellEstimated()).as(c.service() + "'s clock was corrected against the record's").isTrue();
    });
    TimelineEntry billed = v.timeline().stream().filter(t -> t.event().equals("billed_msg")).findFirst().orElseThrow();
    assertThat(billed.detail().consumers()).isEmpty();
    assertThat(docs.flow(star)).contains("| t.placed | — | — | — | — | 0 |")
        .contains("Not measured, and not counted above, where the hosts' clocks differ")
        .contains("t.placed 1 of 1.");
  }

  /**
   * The order service, which served the flow's entry, serves an amendment two hours later, after
   * billing; nothing but the declared order relates the amendment's clock to billing's. Clocks that
   * agree are drawn as read: billing's record at +25 ms, not moved an hour into the gap between
   * "billing's clock is not behind" and "billing is not two hours ahead" (a trial's timelines put
   * its billing minutes late, and the docs' latency table with them).
   */
  @Test
  void aStageOfTheEntrysServiceHoursLaterMovesNoClock() throws Exception {
    Path amended = dir.resolve("amended");
    Files.createDirectories(amended);
    Files.writeString(amended.resolve("amended.flow.yaml"), String.join("\n",
        "flow: amended",
        "keys: [orderId]",
        "deadline: 3h",
        "stages:",
        "  - id: placed",
        "    events:",
        "      - {id: placed_msg, topic: t.placed}",
        "  - id: billed",
        "    after: placed",
        "    events:",
        "      - {id: billed_msg, topic: t.billed}",
        "  - id: amended",
        "    after: billed",
        "    terminal: true",
        "    events:",
        "      - {id: amended_msg, topic: t.amended}",
        ""));
    record("orders", 0, "a1", "", "t.placed", 1);
    consume("billing", 0, "b1", "a1", "t.placed", 3);
    record("billing", 0, "b2", "b1", "t.billed", 25);
    record("orders", 0, "d1", "", "t.amended", 2 * 3_600_000);

    Verdict v = replayed(amended, verdict -> { });

    assertThat(v.status()).as(v.toString()).isEqualTo(VerdictStatus.PASSED);
    assertThat(at(v, "billed_msg")).isEqualTo(24_000_000L);
    assertThat(at(v, "amended_msg")).isEqualTo((2 * 3_600_000L - 1) * 1_000_000L);
  }

  /**
   * The flow comes back to the order service on another pod, whose clock reads 60 ms behind the
   * first's: billing's consumption proves the first pod not behind it, the second pod's consumption
   * of billing's record proves it 57 ms behind. Taken as one clock the two bounds contradict each
   * other and relate nothing, and the order of the last two stages (5 ms apart) was not known; each
   * pod reads its own clock, so the order is proven and the skew noted against the pod.
   */
  @Test
  void aServiceBackOnAnotherHostWhoseClockDiffersIsJudgedOnThatHostsClock() throws Exception {
    Path back = dir.resolve("back");
    Files.createDirectories(back);
    Files.writeString(back.resolve("back.flow.yaml"), String.join("\n",
        "flow: back",
        "keys: [orderId]",
        "stages:",
        "  - id: placed",
        "    events:",
        "      - {id: placed_msg, topic: t.placed}",
        "  - id: billed",
        "    after: placed",
        "    events:",
        "      - {id: billed_msg, topic: t.billed}",
        "  - id: done",
        "    after: billed",
        "    terminal: true",
        "    events:",
        "      - {id: done_msg, topic: t.done}",
        ""));
    host = "orders-pod-a";
    record("orders", 0, "a1", "", "t.placed", 1);
    host = "billing-pod";
    consume("billing", 0, "b1", "a1", "t.placed", 3);
    record("billing", 0, "b2", "b1", "t.billed", 5);
    host = "orders-pod-b";
    consume("orders", -60, "c1", "b2", "t.billed", 8);
    record("orders", -60, "c2", "c1", "t.done", 10);

    Verdict v = replayed(back, verdict -> { });

    assertThat(v.status()).as(v.toString()).isEqualTo(VerdictStatus.PASSED);
    assertThat(v.unverified()).as("nothing left unknown").isEmpty();
    assertThat(v.notes()).anySatisfy(n -> assertThat(n).startsWith("clock skew: orders on orders-pod-b reads"));
    assertThat(at(v, "done_msg") - at(v, "billed_msg")).as("drawn on the corrected clock").isPositive();
  }

  /**
   * The star flow once — true times: placed +1, consumed by both at +3, billed +25, shipped +45 (a
   * true gap of 20 ms; 30 as read) — told to {@code also} as well; its one final verdict.
   */
  private Verdict replay(Consumer<Verdict> also) throws Exception {
    record("orders", 0, "a1", "", "t.placed", 1);
    consume("billing", -20, "b1", "a1", "t.placed", 3);
    record("billing", -20, "b2", "b1", "t.billed", 25);
    consume("shipping", -10, "c1", "a1", "t.placed", 3);
    record("shipping", -10, "c2", "c1", "t.shipped", 45);
    return replayed(dir, also);
  }

  /** What was recorded so far, replayed against the flows in {@code flows}; the one final verdict. */
  private Verdict replayed(Path flows, Consumer<Verdict> also) throws Exception {
    long last = all.stream().mapToLong(Telemetry::arrivalEpochNanos).max().orElse(0) / 1_000_000;
    List<Verdict> finals = EngineRun.finals(flows, all, last + 60_000);
    assertThat(finals).hasSize(1);
    also.accept(finals.get(0));
    return finals.get(0);
  }

  private static long at(Verdict v, String event) {
    return v.timeline().stream().filter(t -> t.event().equals(event)).findFirst().map(TimelineEntry::offsetNanos)
        .orElseThrow();
  }

  private void record(String service, long skewMs, String id, String parent, String topic, long ms) {
    long at = T0 + ms + skewMs;
    all.add(Telemetry.of(new Span(TRACE, spanId(id), parent.isEmpty() ? "" : spanId(parent), "send " + topic,
        SpanKind.PRODUCER, service, at * 1_000_000L, (at + 1) * 1_000_000L,
        Map.of("messaging.system", "kafka", "messaging.destination.name", topic, "messaging.operation.type", "send",
            "messaging.destination.partition.id", "0", "messaging.kafka.offset", offset), List.of(), false, host)));
    all.add(Telemetry.of(new KafkaRecord(topic, 0, offset++, at, "o-1",
        List.of(RecordHeader.ofString("traceparent", "00-" + TRACE + "-" + spanId(id) + "-01")),
        "{\"orderId\":\"o-1\"}".getBytes(StandardCharsets.UTF_8))));
  }

  private void consume(String service, long skewMs, String id, String parent, String topic, long ms) {
    long at = T0 + ms + skewMs;
    all.add(Telemetry.of(new Span(TRACE, spanId(id), spanId(parent), "process " + topic, SpanKind.CONSUMER, service,
        at * 1_000_000L, (at + 1) * 1_000_000L, Map.of("messaging.system", "kafka", "messaging.destination.name", topic,
            "messaging.operation.type", "process"), List.of(), false, host)));
  }

  private static String spanId(String id) {
    return String.format("%016x", (long) id.hashCode() & 0xffffffffL);
  }
}
