package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.cli.synth.Defect;
import io.flowtrace.cli.synth.Manifest;
import io.flowtrace.cli.synth.SyntheticOrderFlows;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.recording.RecordingReader;
import io.flowtrace.verifier.assembly.FlowEngine;
import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictListener;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A live engine, with the sidecar's default settings (6 s completion grace, 30 s amendment window, 200 ms lateness), fed the reference traffic in the order a staging
 * system delivers it when spans come late: every exporter batching for 5 s, and on top of that one
 * service's exporter stalled, or a third of the span batches held back (a spans-topic partition
 * whose consumer died and whose partition moves only after the session timeout). Records are never
 * late. Every flow's first published verdict must be the one its manifest plants — a late span
 * that turns a pass into a violation, or withdraws one, is a verdict that cried wolf or missed.
 */
class LateSpansTest {

  private static final Path FLOWS = Path.of("../flows");
  private static final long S = 1_000_000_000L;

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"gateway", "order-service", "inventory-service", "notification-service"})
  void spansOfOneExporterStalledTwelveSecondsChangeNoVerdict(String stalled) throws Exception {
    Manifest manifest = recording(31);
    long t0 = manifest.flows().get(0).start().toEpochMilli() * 1_000_000L;
    assertFirstVerdictsAsPlanted(manifest, span -> {
      boolean held = span.service().equals(stalled) && span.endEpochNanos() >= t0 + 8 * S
          && span.endEpochNanos() < t0 + 20 * S;
      return held ? t0 + 20 * S + 300_000_000L : batched(span);
    });
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2})
  void aThirdOfTheSpanBatchesHeldTenSecondsChangeNoVerdict(int partition) throws Exception {
    Manifest manifest = recording(32 + partition);
    long t0 = manifest.flows().get(0).start().toEpochMilli() * 1_000_000L;
    assertFirstVerdictsAsPlanted(manifest, span -> {
      long batched = batched(span);
      boolean held = Math.floorMod((span.service() + batched).hashCode(), 3) == partition
          && span.endEpochNanos() >= t0 + 8 * S && span.endEpochNanos() < t0 + 18 * S;
      return held ? batched + 10 * S : batched;
    });
  }

  @Test
  void exportersBatchingFiveSecondsChangeNoVerdict() throws Exception {
    assertFirstVerdictsAsPlanted(recording(35), LateSpansTest::batched);
  }

  /** Everything at once: half the traces sampled out, clocks tens of milliseconds apart, batching, a stall. */
  @ParameterizedTest
  @ValueSource(longs = {41, 42, 43, 44})
  void sampledSkewedBatchedAndStalledTelemetryChangesNoVerdict(long seed) throws Exception {
    String stalled = SyntheticOrderFlows.SERVICES.get((int) (seed % SyntheticOrderFlows.SERVICES.size()));
    Manifest manifest = recording(seed, b -> b.sampleRatio(0.5)
        .clockSkew("order-service", Duration.ofMillis(-40)).clockSkew("inventory-service", Duration.ofMillis(40))
        .clockSkew("notification-service", Duration.ofMillis(seed % 2 == 0 ? 50 : -50)));
    long t0 = manifest.flows().get(0).start().toEpochMilli() * 1_000_000L;
    assertFirstVerdictsAsPlanted(manifest, span -> {
      boolean held = span.service().equals(stalled) && span.endEpochNanos() >= t0 + 6 * S
          && span.endEpochNanos() < t0 + 16 * S;
      return held ? t0 + 16 * S + 500_000_000L : batched(span);
    }, flow -> flow.defect() == Defect.EARLY_ORDER_CREATED
        // 50 ms early and 80 ms more between these two clocks: beyond the 100 ms clockSkew allowed, records alone show it
        ? expected(flow) : FieldConditionsReplayTest.expectedUnderSampling(flow));
  }

  /** When a 5 s batch span processor of the span's service exports it (services' schedules offset). */
  private static long batched(Span span) {
    long offset = Math.floorMod(span.service().hashCode(), 5000) * 1_000_000L;
    long interval = 5 * S;
    return Math.floorDiv(span.endEpochNanos() - offset, interval) * interval + interval + offset;
  }

  private Manifest recording(long seed) throws Exception {
    return recording(seed, b -> {});
  }

  private Manifest recording(long seed, java.util.function.Consumer<SyntheticOrderFlows.Builder> conditions)
      throws Exception {
    int flows = 480;
    SyntheticOrderFlows.Builder b = SyntheticOrderFlows.builder().seed(seed).flows(flows)
        .interArrival(Duration.ofMillis(100));
    conditions.accept(b);
    int at = 3;
    for (int round = 0; round < 3; round++) {
      for (Defect d : Defect.values()) {
        if (d != Defect.TRUNCATED) {
          b.plant(d, at);
          at += 3;
        }
      }
    }
    return b.build().write(dir);
  }

  private void assertFirstVerdictsAsPlanted(Manifest manifest, ToLongFunction<Span> arrival) throws Exception {
    assertFirstVerdictsAsPlanted(manifest, arrival, LateSpansTest::expected);
  }

  private void assertFirstVerdictsAsPlanted(Manifest manifest, ToLongFunction<Span> arrival,
      java.util.function.Function<Manifest.Flow, String> expectedOf) throws Exception {
    List<Telemetry> all = new ArrayList<>();
    RecordingReader.defaults().read(dir, all::add, p -> {
      throw new AssertionError(p.toString());
    });
    Map<Telemetry, Long> arrives = new java.util.IdentityHashMap<>();
    for (Telemetry t : all) {
      arrives.put(t, t instanceof Telemetry.SpanEvent s ? arrival.applyAsLong(s.span()) : t.arrivalEpochNanos());
    }
    all.sort(Comparator.comparingLong(arrives::get));

    Map<String, List<String>> published = new LinkedHashMap<>();
    FlowEngine engine = FlowEngine.builder(new FlowSpecLoader().load(FLOWS))
        .completionGrace(Duration.ofSeconds(6))
        .amendWindow(Duration.ofSeconds(30))
        .listener(new VerdictListener() {
          @Override
          public void decided(Verdict v) {
            published.computeIfAbsent(v.keys().get("orderId"), k -> new ArrayList<>()).add("decided " + outcome(v));
          }

          @Override
          public void amended(Verdict previous, Verdict current) {
            published.computeIfAbsent(current.keys().get("orderId"), k -> new ArrayList<>())
                .add("amended " + outcome(current));
          }
        }).build();
    long lateness = 200_000_000L;
    for (Telemetry t : all) {
      engine.accept(t);
      engine.advanceTo(arrives.get(t) - lateness);
    }
    long end = arrives.get(all.get(all.size() - 1));
    for (long w = end; w < end + 120 * S; w += S / 10) {
      engine.advanceTo(w);
    }
    engine.finish();

    List<String> wrong = new ArrayList<>();
    for (Manifest.Flow flow : manifest.flows()) {
      List<String> got = published.getOrDefault(flow.orderId(), List.of());
      String expected = normalized(expectedOf.apply(flow));
      // An amendment that only refines the evidence (a figure measured on one clock once its span came) keeps the outcome.
      // A duplicate webhook a second after a flow that completed without spans to wait for is a finding
      // its first verdict could not have had: amended, nothing withdrawn.
      boolean lateDuplicate = flow.defect() == Defect.DUPLICATE_WEBHOOK_NON_IDEMPOTENT && got.size() > 1
          && got.get(0).equals("decided PASSED []");
      if (got.isEmpty() || !got.get(0).equals("decided " + expected) && !lateDuplicate
          || !got.stream().skip(1).allMatch(x -> x.equals("amended " + expected))) {
        wrong.add("flow " + flow.index() + " (" + flow.defect() + "): expected " + expected + ", published " + got);
      }
    }
    long refined = published.values().stream().mapToLong(l -> l.size() - 1).sum();
    System.out.printf("late spans: %d flows, %d verdicts not as planted, %d amendments that only refined the evidence%n",
        manifest.flows().size(), wrong.size(), refined);
    assertThat(wrong).as("flows whose published verdicts were not the planted one, once").isEmpty();
  }

  /** {@code STATUS [a, b]} with its kinds sorted. */
  private static String normalized(String outcome) {
    int space = outcome.indexOf(' ');
    String inner = outcome.substring(space + 2, outcome.length() - 1);
    return outcome.substring(0, space) + " "
        + (inner.isEmpty() ? List.of() : java.util.Arrays.stream(inner.split(", ")).sorted().toList());
  }

  private static String outcome(Verdict v) {
    List<String> kinds = new ArrayList<>();
    for (Violation x : v.violations()) {
      kinds.add(x.kind() + "@" + x.stage());
    }
    return v.status() + " " + kinds.stream().sorted().toList();
  }

  private static String expected(Manifest.Flow flow) {
    List<String> kinds = new ArrayList<>();
    for (Manifest.ExpectedViolation x : flow.violations()) {
      kinds.add(x.kind() + "@" + x.stage());
    }
    return VerdictStatus.valueOf(flow.status().name()) + " " + kinds.stream().sorted().toList();
  }
}
