package io.flowtrace.verifier.check;

import io.flowtrace.verifier.assembly.FlowInstance;
import io.flowtrace.verifier.assembly.Observation;
import io.flowtrace.verifier.internal.Texts;
import io.flowtrace.verifier.spec.BudgetSpec;
import io.flowtrace.verifier.spec.EventSpec;
import io.flowtrace.verifier.spec.StageSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code LATENCY_BUDGET_EXCEEDED}: a hop took longer than its budget, or the terminal stage came
 * after the instance deadline. Says the budget and the actual time.
 */
public final class LatencyCheck implements Check {
  @Override
  public List<Violation> check(FlowInstance instance) {
    List<Violation> out = new ArrayList<>();
    for (BudgetSpec b : instance.spec().budgets()) {
      Observation from = point(instance, b.from(), true);
      Observation to = point(instance, b.to(), true);
      if (from == null || to == null) {
        continue;
      }
      long took = to.timeEpochNanos() - from.timeEpochNanos();
      if (took > b.within().toNanos()) {
        out.add(Violation.builder(ViolationKind.LATENCY_BUDGET_EXCEEDED, to.stageId())
            .event(to.eventId())
            .message(to.eventId() + " (" + to.describe() + ") came " + Texts.duration(took) + " after "
                + from.eventId() + " (" + from.describe() + "); budget " + Texts.duration(b.within()))
            .expected("≤ " + Texts.duration(b.within()))
            .actual(Texts.duration(took))
            .evidence(to.evidence())
            .build());
      }
    }
    long deadline = instance.spec().deadline().toNanos();
    for (StageSpec terminal : instance.spec().terminalStages()) {
      Observation end = null;
      for (EventSpec e : terminal.events()) {
        Observation o = instance.first(e.id());
        if (o != null && (end == null || o.timeEpochNanos() > end.timeEpochNanos())) {
          end = o;
        }
      }
      if (end == null) {
        continue;
      }
      long took = end.timeEpochNanos() - instance.startEpochNanos();
      if (took > deadline) {
        out.add(Violation.builder(ViolationKind.LATENCY_BUDGET_EXCEEDED, terminal.id())
            .event(end.eventId())
            .message("the flow took " + Texts.duration(took) + " to reach " + terminal.id() + " ("
                + end.describe() + "); its deadline is " + Texts.duration(deadline))
            .expected("≤ " + Texts.duration(deadline))
            .actual(Texts.duration(took))
            .evidence(end.evidence())
            .build());
      }
    }
    return out;
  }

  /** An event's first occurrence, or a stage's earliest event. */
  private static Observation point(FlowInstance instance, String id, boolean earliest) {
    Observation o = instance.first(id);
    if (o != null || instance.spec().stage(id) == null) {
      return o;
    }
    Observation best = null;
    for (EventSpec e : instance.spec().stage(id).events()) {
      Observation x = instance.first(e.id());
      if (x != null && (best == null || (earliest ? x.timeEpochNanos() < best.timeEpochNanos()
          : x.timeEpochNanos() > best.timeEpochNanos()))) {
        best = x;
      }
    }
    return best;
  }
}
