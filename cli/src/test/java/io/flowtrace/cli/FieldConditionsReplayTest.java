package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.cli.synth.Defect;
import io.flowtrace.cli.synth.Manifest;
import io.flowtrace.cli.synth.SyntheticOrderFlows;
import io.flowtrace.verifier.assembly.FlowEngine;
import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.replay.Replay;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictListener;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Replay of generated recordings of the reference flow under field conditions: hosts whose clocks
 * are tens of milliseconds apart, and head sampling that drops whole traces. Clean orders must get
 * no violation; planted defects must still be found wherever the data shows them.
 */
class FieldConditionsReplayTest {

  private static final Path FLOWS = Path.of("../flows");

  @TempDir Path dir;

  /** Skews as {@code service=ms,service=ms}. */
  @ParameterizedTest
  @ValueSource(strings = {
      "inventory-service=40", "order-service=-40,inventory-service=40", "gateway=-60",
      "notification-service=-50", "notification-service=45,gateway=-30", "order-service=90"})
  void clocksTensOfMillisecondsApartKeepEveryVerdictRight(String skews) throws Exception {
    SyntheticOrderFlows.Builder b = planted(SyntheticOrderFlows.builder().seed(11).flows(160)
        .interArrival(Duration.ofMillis(400)), 160, Duration.ofMillis(400), 3);
    for (String s : skews.split(",")) {
      String[] kv = s.split("=");
      b.clockSkew(kv[0], Duration.ofMillis(Long.parseLong(kv[1])));
    }
    Manifest manifest = b.build().write(dir);
    Map<String, Verdict> verdicts = replay(dir);

    for (Manifest.Flow flow : manifest.flows()) {
      Verdict v = verdicts.get(flow.orderId());
      assertThat(v).as("flow %d", flow.index()).isNotNull();
      assertThat(outcome(v)).as("flow %d (%s) under %s", flow.index(), flow.defect(), skews)
          .isEqualTo(expected(flow.status(), flow.violations()));
    }
  }

  /**
   * The allowance bounds how far apart two hosts are, not how far each is from true time: one 80 ms
   * ahead and one 80 ms behind are 160 ms apart, past the default 100 ms, and in orders sampled out
   * nothing measures it. Such an order violation must say what it rests on and what to raise, and
   * its expected line must name a time the actual one is not already past; with the allowance
   * raised, every clean order passes.
   */
  @Test
  void twoHostsFurtherApartThanTheAllowanceGetOrderViolationsThatSayToRaiseItAndPassWhenRaised() throws Exception {
    SyntheticOrderFlows.correct(240).seed(8).sampleRatio(0.5).clockSkew("order-service", Duration.ofMillis(80))
        .clockSkew("notification-service", Duration.ofMillis(-80)).build().write(dir);

    List<Violation> alarms = replay(dir, Duration.ofMillis(100)).values().stream()
        .flatMap(v -> v.violations().stream()).toList();
    Map<String, Verdict> raised = replay(dir, Duration.ofMillis(200));

    assertThat(alarms).as("the documented limit of the default allowance").isNotEmpty()
        .allSatisfy(v -> {
          assertThat(v.kind()).isEqualTo(io.flowtrace.verifier.check.ViolationKind.ORDER_VIOLATION);
          assertThat(v.message()).contains("if these two hosts' clocks can be further apart",
              "raise the flow's clockSkew");
          assertThat(millis(v.expected(), "not before \\+([0-9.]+ m?s)\\)$"))
              .as("%s / %s", v.expected(), v.actual()).isGreaterThan(millis(v.actual(), " at \\+([0-9.]+ m?s)$"));
        });
    assertThat(raised).hasSize(240).allSatisfy((order, v) -> assertThat(v.violations()).as(order).isEmpty());
  }

  @ParameterizedTest
  @ValueSource(doubles = {0.1, 0.5})
  void sampledOutOrdersGetNoFalseAlarmsAndTheirRecordVisibleDefectsAreFound(double ratio) throws Exception {
    Manifest manifest = planted(SyntheticOrderFlows.builder().seed(5).flows(330)
        .interArrival(Duration.ofMillis(150)), 330, Duration.ofMillis(150), 7).sampleRatio(ratio).build().write(dir);
    Map<String, Verdict> verdicts = replay(dir);

    int unsampledDefects = 0;
    for (Manifest.Flow flow : manifest.flows()) {
      Verdict v = verdicts.get(flow.orderId());
      assertThat(v).as("flow %d", flow.index()).isNotNull();
      String expected = expectedUnderSampling(flow);
      assertThat(outcome(v)).as("flow %d (%s, sampled %s)", flow.index(), flow.defect(), flow.sampled())
          .isEqualTo(expected);
      if (flow.sampled() != null && flow.sampled().all()) {
        assertThat(v.verification()).as("flow %d", flow.index()).isEqualTo(Verdict.Verification.FULL);
      }
      if (!flow.mainSampled() && flow.defect() != null) {
        unsampledDefects++;
      }
    }
    assertThat(unsampledDefects).as("planted defects that landed in unsampled orders").isGreaterThan(10);
  }

  @Test
  void atTenPercentSamplingMostChecksStillRunOnEveryOrder() throws Exception {
    Manifest manifest = SyntheticOrderFlows.builder().seed(3).flows(300).interArrival(Duration.ofMillis(100))
        .sampleRatio(0.1).build().write(dir);
    Map<String, Verdict> verdicts = replay(dir);

    long partly = verdicts.values().stream().filter(v -> v.verification() == Verdict.Verification.PARTIAL).count();
    long unsampledOrders = manifest.flows().stream().filter(f -> !f.mainSampled()).count();
    double unverifiedPerOrder = verdicts.values().stream().mapToInt(v -> v.unverified().size()).average().orElse(0);
    System.out.printf("at 10%% sampling: %d of %d orders partly verified (%d unsampled main traces); "
        + "%.1f items not verified per order on average%n", partly, verdicts.size(), unsampledOrders, unverifiedPerOrder);
    assertThat(verdicts.values()).allSatisfy(v -> assertThat(v.violations()).as(v.toString()).isEmpty());
    assertThat(partly).isGreaterThanOrEqualTo(unsampledOrders);
  }

  /**
   * A trace whose records say "not sampled" never exports the span that would connect it, so what
   * an unsampled order leaves unverified about propagation is known from its records alone: the same
   * whether spans of other orders arrived before it was decided (replay, a sidecar in mid-stream) or
   * none yet (a sidecar deciding its first orders before the exporter's first batch).
   */
  @Test
  void anUnsampledTraceIsListedAsUnverifiedPropagationWhetherOrNotAnySpanArrived() throws Exception {
    Manifest manifest = SyntheticOrderFlows.builder().seed(9).flows(200).interArrival(Duration.ofMillis(100))
        .sampleRatio(0.3).build().write(dir);
    Map<String, Verdict> withSpans = replay(dir);
    try (var files = java.nio.file.Files.list(dir)) {
      for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".otlp.jsonl")).toList()) {
        java.nio.file.Files.delete(f);
      }
    }
    Map<String, Verdict> recordsOnly = replay(dir);

    int listed = 0;
    for (Manifest.Flow flow : manifest.flows()) {
      List<String> expected = propagation(withSpans.get(flow.orderId()));
      assertThat(propagation(recordsOnly.get(flow.orderId()))).as("flow %d without any span", flow.index())
          .isEqualTo(expected);
      if (!expected.isEmpty()) {
        listed++;
      }
    }
    assertThat(listed).as("orders with an unsampled trace that no span connects").isGreaterThan(5);
  }

  private static List<String> propagation(Verdict v) {
    return v.unverified().stream().filter(u -> u.check().equals("propagation"))
        .map(u -> u.stage() + "/" + u.subject() + ": " + u.reason()).toList();
  }

  /**
   * Plants every defect {@code times} times over the flows that start at least 32 s before the
   * last one (so the recording outlasts each one's deadline), and a truncated flow last.
   */
  private static SyntheticOrderFlows.Builder planted(SyntheticOrderFlows.Builder b, int flows, Duration every,
      int times) {
    List<Defect> defects = new ArrayList<>(List.of(Defect.values()));
    defects.remove(Defect.TRUNCATED);
    int slots = defects.size() * times;
    int span = flows - (int) (32_000 / every.toMillis()) - 1;
    if (span < slots + 1) {
      throw new IllegalArgumentException("too few flows for " + slots + " defects");
    }
    for (int t = 0; t < times; t++) {
      for (int k = 0; k < defects.size(); k++) {
        b.plant(defects.get(k), 1 + (t * defects.size() + k) * (span - 1) / slots);
      }
    }
    return b.plant(Defect.TRUNCATED, flows - 1);
  }

  private Map<String, Verdict> replay(Path recording) throws Exception {
    return replay(recording, null);
  }

  /** Verdicts by order id, every flow's {@code clockSkew} set to {@code skew} unless it is null. */
  private Map<String, Verdict> replay(Path recording, Duration skew) throws Exception {
    Map<String, Verdict> out = new HashMap<>();
    List<io.flowtrace.verifier.spec.FlowSpec> specs = new FlowSpecLoader().load(FLOWS).stream()
        .map(f -> skew == null ? f : new io.flowtrace.verifier.spec.FlowSpec(f.name(), f.description(), f.source(),
            f.keys(), f.deadline(), f.tolerance(), skew, f.spans(), f.stages(), f.enrichment(), f.rules(),
            f.idempotency(), f.budgets(), f.redact()))
        .toList();
    FlowEngine engine = FlowEngine.builder(specs).amendUntilEnd()
        .listener(new VerdictListener() {
          @Override
          public void finalized(Verdict v) {
            out.put(v.keys().get("orderId"), v);
          }
        }).build();
    Replay.builder(engine).build().run(recording);
    return out;
  }

  /** The duration {@code pattern}'s group finds in {@code text} ({@code 35 ms}, {@code 1.59 s}), in milliseconds. */
  private static double millis(String text, String pattern) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile(pattern).matcher(text);
    assertThat(m.find()).as("%s in %s", pattern, text).isTrue();
    String[] amount = m.group(1).split(" ");
    return Double.parseDouble(amount[0]) * (amount[1].equals("s") ? 1000 : 1);
  }

  private static String outcome(Verdict v) {
    List<String> kinds = new ArrayList<>();
    for (Violation x : v.violations()) {
      kinds.add(x.kind() + "@" + x.stage());
    }
    return v.status() + " " + kinds;
  }

  private static String expected(Manifest.Status status, List<Manifest.ExpectedViolation> violations) {
    List<String> kinds = new ArrayList<>();
    for (Manifest.ExpectedViolation x : violations) {
      kinds.add(x.kind() + "@" + x.stage());
    }
    return VerdictStatus.valueOf(status.name()) + " " + kinds;
  }

  /** What a correct verifier reaches for a flow some of whose traces were not sampled. */
  static String expectedUnderSampling(Manifest.Flow flow) {
    return flow.defectObservable() ? expected(flow.status(), flow.violations()) : "PASSED []";
  }
}
