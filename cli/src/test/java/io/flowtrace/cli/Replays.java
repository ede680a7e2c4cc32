package io.flowtrace.cli;

import io.flowtrace.verifier.assembly.FlowEngine;
import io.flowtrace.verifier.replay.Replay;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictListener;
import io.flowtrace.verifier.spec.FlowSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Replays a recording against flows in-process, as {@code flowtrace replay} does, for the final verdicts. */
final class Replays {

  private Replays() {}

  /** Every instance's final verdict, in the order they were finalized. */
  static List<Verdict> finals(List<FlowSpec> flows, Path recording) throws Exception {
    return run(flows, recording).finals();
  }

  /** The final verdicts of a replay and the engine's counts. */
  record Run(List<Verdict> finals, FlowEngine.EngineStats stats) {}

  static Run run(List<FlowSpec> flows, Path recording) throws Exception {
    return run(flows, recording, null);
  }

  /** As {@link #run(List, Path)}, with verdicts open to amendment for {@code amendWindow} only ({@code null}: to the end). */
  static Run run(List<FlowSpec> flows, Path recording, java.time.Duration amendWindow) throws Exception {
    List<Verdict> out = new ArrayList<>();
    FlowEngine.Builder builder = FlowEngine.builder(flows).listener(new VerdictListener() {
      @Override
      public void finalized(Verdict v) {
        out.add(v);
      }
    });
    FlowEngine engine = (amendWindow == null ? builder.amendUntilEnd() : builder.amendWindow(amendWindow)).build();
    Replay.builder(engine).build().run(recording);
    return new Run(out, engine.stats());
  }
}
