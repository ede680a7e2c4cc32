package io.flowtrace.verifier.check;

import io.flowtrace.verifier.assembly.FlowInstance;
import io.flowtrace.verifier.assembly.Observation;
import io.flowtrace.verifier.internal.Texts;
import io.flowtrace.verifier.spec.EventSpec;
import io.flowtrace.verifier.spec.StageSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code ORDER_VIOLATION}: a stage began before the latest event of a stage it must follow, or an
 * event came before the event listed before it in the same stage. First occurrences are compared;
 * differences within the spec's tolerance (record times have millisecond precision) are allowed.
 */
public final class OrderCheck implements Check {
  @Override
  public List<Violation> check(FlowInstance instance) {
    List<Violation> out = new ArrayList<>();
    long tolerance = instance.spec().tolerance().toNanos();
    for (StageSpec stage : instance.spec().stages()) {
      Observation earliest = earliest(instance, stage);
      if (earliest == null) {
        continue;
      }
      Observation latestBefore = null;
      for (String p : stage.after()) {
        StageSpec ps = instance.spec().stage(p);
        for (EventSpec e : ps.events()) {
          Observation o = instance.first(e.id());
          if (o != null && (latestBefore == null || o.timeEpochNanos() > latestBefore.timeEpochNanos())) {
            latestBefore = o;
          }
        }
      }
      if (latestBefore != null && earliest.timeEpochNanos() + tolerance < latestBefore.timeEpochNanos()) {
        out.add(violation(instance, stage.id(), earliest, latestBefore,
            "stage " + stage.id() + " began (" + earliest.eventId() + ", " + earliest.describe() + ") "
                + Texts.duration(latestBefore.timeEpochNanos() - earliest.timeEpochNanos()) + " before "
                + latestBefore.eventId() + " (" + latestBefore.describe() + ") of stage "
                + latestBefore.stageId() + ", which it must follow"));
        continue;
      }
      Observation previous = null;
      for (EventSpec e : stage.events()) {
        Observation o = instance.first(e.id());
        if (o == null) {
          continue;
        }
        if (previous != null && o.timeEpochNanos() + tolerance < previous.timeEpochNanos()) {
          out.add(violation(instance, stage.id(), o, previous,
              o.eventId() + " (" + o.describe() + ") came "
                  + Texts.duration(previous.timeEpochNanos() - o.timeEpochNanos()) + " before "
                  + previous.eventId() + " (" + previous.describe() + "), which it must follow"));
          break;
        }
        previous = o;
      }
    }
    return out;
  }

  private static Violation violation(FlowInstance instance, String stage, Observation early, Observation late,
      String message) {
    long start = instance.startEpochNanos();
    return Violation.builder(ViolationKind.ORDER_VIOLATION, stage)
        .event(early.eventId())
        .message(message)
        .expected(early.eventId() + " after " + late.eventId() + " (+" + Texts.duration(late.timeEpochNanos() - start) + ")")
        .actual(early.eventId() + " at +" + Texts.duration(early.timeEpochNanos() - start))
        .evidence(early.evidence())
        .build();
  }

  private static Observation earliest(FlowInstance instance, StageSpec stage) {
    Observation best = null;
    for (EventSpec e : stage.events()) {
      Observation o = instance.first(e.id());
      if (o != null && (best == null || o.timeEpochNanos() < best.timeEpochNanos())) {
        best = o;
      }
    }
    return best;
  }
}
