package io.flowtrace.junit.internal;

import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.check.Unverified;
import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.check.ViolationKind;
import io.flowtrace.verifier.model.FlowInstance;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.spec.EventSpec;
import io.flowtrace.verifier.spec.StageSpec;
import io.flowtrace.verifier.assembly.FlowEngine;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Verdicts on what a test saw so far, for instances the live engine has not decided: the window's
 * telemetry is replayed through a fresh engine up to now, and an instance still open is then
 * judged as if its deadline had passed now — its flow's deadline is cut to the time the instance
 * has had — so the stage it is stuck before is named ({@code MISSING_STAGE}) instead of a bare
 * {@code INCOMPLETE}. Internal: not API.
 */
public final class ProvisionalVerdicts {

  private ProvisionalVerdicts() {}

  /**
   * Every instance that started in the window, as the engine sees it at {@code nowEpochNanos} when
   * the input ends there: those still open are {@code INCOMPLETE} (unless past their deadline).
   */
  public static TestWindow asOf(List<FlowSpec> specs, TestWindow window, long nowEpochNanos, Duration grace) {
    return replay(specs, sorted(window), window.startEpochNanos(), nowEpochNanos, grace);
  }

  /**
   * Every instance that started in the window, decided as of {@code nowEpochNanos}; an instance
   * still open is judged as if its flow's deadline had passed then.
   */
  public static TestWindow judge(List<FlowSpec> specs, TestWindow window, long nowEpochNanos, Duration grace) {
    List<Telemetry> telemetry = sorted(window);
    TestWindow asIs = replay(specs, telemetry, window.startEpochNanos(), nowEpochNanos, grace);
    Map<String, Duration> had = new HashMap<>();
    for (TestWindow.Entry e : asIs.entries()) {
      if (e.decided() && e.verdict().status() == VerdictStatus.INCOMPLETE) {
        Duration d = Duration.ofMillis(Math.max(1, (nowEpochNanos - e.verdict().startEpochNanos()) / 1_000_000));
        had.merge(e.flow(), d, (a, b) -> a.compareTo(b) <= 0 ? a : b);
      }
    }
    if (had.isEmpty()) {
      return asIs;
    }
    List<FlowSpec> cut = new ArrayList<>(specs.size());
    for (FlowSpec s : specs) {
      Duration d = had.get(s.name());
      cut.add(d == null || d.compareTo(s.deadline()) >= 0 ? s : withDeadline(s, d));
    }
    TestWindow judged = replay(cut, telemetry, window.startEpochNanos(), nowEpochNanos, grace);
    TestWindow out = new TestWindow(window.startEpochNanos(), 0, () -> {});
    for (TestWindow.Entry e : judged.entries()) {
      if (e.snapshot() != null) {
        out.snapshot(e.snapshot());
      }
      if (e.decided()) {
        TestWindow.Entry before = asIs.find(e);
        boolean judgedNow = before != null && before.decided() && before.verdict().status() == VerdictStatus.INCOMPLETE;
        out.verdict(judgedNow && e.snapshot() != null ? withSpansPending(e.verdict(), e.snapshot()) : e.verdict());
      }
    }
    return out;
  }

  /**
   * A judged verdict without the stages it calls missing only for want of a span, where another
   * event of the stage came: the stage happened, and its span may still be in an exporter's batch
   * (the SDK's {@code BatchSpanProcessor} sends every 5 s by default) when the wait ends — not
   * verified rather than missing, so that the message points at what really did not happen.
   */
  static Verdict withSpansPending(Verdict v, FlowInstance instance) {
    List<Violation> kept = new ArrayList<>();
    List<Unverified> pending = new ArrayList<>();
    for (Violation x : v.violations()) {
      StageSpec stage = x.kind() == ViolationKind.MISSING_STAGE ? instance.spec().stage(x.stage()) : null;
      List<EventSpec> missing = stage == null ? List.of()
          : stage.events().stream().filter(e -> instance.first(e.id()) == null).toList();
      if (missing.isEmpty() || missing.size() == stage.events().size() || missing.stream().anyMatch(EventSpec::isTopic)) {
        kept.add(x);
        continue;
      }
      for (EventSpec e : missing) {
        pending.add(new Unverified("stage", stage.id(), e.id(), "its span had not arrived when the wait ended, though"
            + " the stage's other events had: it may still be in an exporter's batch (the SDK's BatchSpanProcessor"
            + " sends every 5 s by default); wait longer to see it checked"));
      }
    }
    if (pending.isEmpty()) {
      return v;
    }
    List<Unverified> unverified = new ArrayList<>(v.unverified());
    unverified.addAll(pending);
    VerdictStatus status = !kept.isEmpty() ? VerdictStatus.FAILED
        : v.status() == VerdictStatus.PASSED ? VerdictStatus.PASSED : VerdictStatus.INCOMPLETE;
    return new Verdict(v.flow(), v.keys(), status, kept, v.traceIds(), v.startEpochNanos(), v.decidedEpochNanos(),
        v.revision(), v.reason(), v.timeline(), unverified, v.notes());
  }

  private static List<Telemetry> sorted(TestWindow window) {
    List<Telemetry> telemetry = new ArrayList<>(window.telemetry());
    telemetry.sort(Comparator.comparingLong(Telemetry::arrivalEpochNanos));
    return telemetry;
  }

  private static TestWindow replay(List<FlowSpec> specs, List<Telemetry> sorted, long start, long now,
      Duration grace) {
    TestWindow out = new TestWindow(start, 0, () -> {});
    FlowEngine engine = Engines.create(specs, () -> out, grace, Duration.ofDays(1));
    for (Telemetry t : sorted) {
      engine.accept(t);
      engine.advanceTo(Math.min(t.arrivalEpochNanos(), now));
    }
    engine.advanceTo(now);
    engine.finish();
    return out;
  }

  private static FlowSpec withDeadline(FlowSpec s, Duration deadline) {
    return s.withDeadline(deadline);
  }
}
