package io.flowtrace.verifier.assembly;

import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictListener;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.UnaryOperator;

/** Feeds telemetry, in arrival order, to an engine of the flows in a directory, to its end: the final verdicts. */
final class EngineRun {
  private EngineRun() {}

  /** The final verdicts of {@code telemetry} against the flows in {@code flows}, the engine's clock moved to {@code untilMs}. */
  static List<Verdict> finals(Path flows, List<Telemetry> telemetry, long untilMs) throws Exception {
    return finals(flows, telemetry, untilMs, b -> b);
  }

  /** As above, with the engine built with {@code options}. */
  static List<Verdict> finals(Path flows, List<Telemetry> telemetry, long untilMs,
      UnaryOperator<FlowEngine.Builder> options) throws Exception {
    return finals(flows, telemetry, untilMs, options, false);
  }

  /** As above, records {@linkplain FlowEngine#prepare prepared} first, as replay and the sidecar feed them. */
  static List<Verdict> preparedFinals(Path flows, List<Telemetry> telemetry, long untilMs,
      UnaryOperator<FlowEngine.Builder> options) throws Exception {
    return finals(flows, telemetry, untilMs, options, true);
  }

  private static List<Verdict> finals(Path flows, List<Telemetry> telemetry, long untilMs,
      UnaryOperator<FlowEngine.Builder> options, boolean prepared) throws Exception {
    List<Verdict> finals = new ArrayList<>();
    FlowEngine engine = options.apply(FlowEngine.builder(new FlowSpecLoader().load(flows)).listener(new VerdictListener() {
      @Override
      public void finalized(Verdict v) {
        finals.add(v);
      }
    })).build();
    List<Telemetry> sorted = new ArrayList<>(telemetry);
    sorted.sort(Comparator.comparingLong(Telemetry::arrivalEpochNanos));
    for (Telemetry t : sorted) {
      if (prepared && t instanceof Telemetry.RecordEvent r) {
        PreparedRecord p = engine.prepare(r.record());
        if (p != null) {
          engine.accept(p);
        }
      } else {
        engine.accept(t);
      }
    }
    engine.advanceTo(untilMs * 1_000_000L);
    engine.finish();
    return finals;
  }
}
