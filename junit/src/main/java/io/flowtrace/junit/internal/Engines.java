package io.flowtrace.junit.internal;

import io.flowtrace.verifier.assembly.FlowEngine;
import io.flowtrace.verifier.model.FlowInstance;
import io.flowtrace.verifier.check.Check;
import io.flowtrace.verifier.check.Unverified;
import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.report.FlowVerifier;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictListener;
import io.flowtrace.verifier.spec.FlowSpec;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;

/**
 * Builds the engines the extension runs — the live one and the replays behind provisional verdicts
 * — wired to a {@link TestWindow}: every verdict goes there, and so does every instance the engine
 * verifies (a check that finds nothing and remembers the instance runs before the standard ones),
 * so a test can read the occurrences and payloads a verdict was made from. Internal: not API.
 */
public final class Engines {

  private static final FlowVerifier STANDARD = FlowVerifier.standard();

  private Engines() {}

  /**
   * An engine that reports into whatever window {@code target} gives at the time.
   *
   * @param grace the completion grace (see {@link FlowEngine.Builder#completionGrace})
   * @param amendWindow how long decided verdicts stay open to amendment
   */
  public static FlowEngine create(List<FlowSpec> specs, Supplier<TestWindow> target, Duration grace,
      Duration amendWindow) {
    Check capture = instance -> {
      target.get().snapshot(instance);
      return List.of();
    };
    Check standard = new Check() {
      private FlowInstance last;
      private Verdict verdict;

      private Verdict verdict(FlowInstance instance) {
        if (instance != last) { // both methods ask in turn, on the engine's one thread
          last = instance;
          verdict = STANDARD.verify(instance, false, "");
        }
        return verdict;
      }

      @Override
      public List<Violation> check(FlowInstance instance) {
        return verdict(instance).violations();
      }

      @Override
      public List<Unverified> unverified(FlowInstance instance) {
        return verdict(instance).unverified();
      }
    };
    VerdictListener listener = new VerdictListener() {
      @Override
      public void decided(Verdict verdict) {
        target.get().verdict(verdict);
      }

      @Override
      public void amended(Verdict previous, Verdict current) {
        target.get().verdict(current);
      }

      @Override
      public void amendmentWaiting(Verdict verdict, boolean waiting) {
        target.get().amending(verdict, waiting);
      }
    };
    return FlowEngine.builder(specs)
        .verifier(new FlowVerifier(List.of(capture, standard)))
        .listener(listener)
        .completionGrace(grace)
        .amendWindow(amendWindow)
        // a test's spans come through the extension's exporter or receiver, often a batch behind the
        // records they traced: "no span yet" is "not yet" for a sampled instance, not "none"
        .expectSpans(true)
        .build();
  }
}
