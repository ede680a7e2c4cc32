package io.flowtrace.verifier.check;

import io.flowtrace.verifier.assembly.FlowInstance;
import io.flowtrace.verifier.assembly.FlowPaths;
import io.flowtrace.verifier.assembly.FlowPaths.Requirement;
import io.flowtrace.verifier.assembly.Observation;
import io.flowtrace.verifier.internal.Texts;
import io.flowtrace.verifier.rules.Evaluation;
import io.flowtrace.verifier.spec.EventSpec;
import io.flowtrace.verifier.spec.StageSpec;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The flow took exactly the path its data calls for. A stage that happened although its condition
 * is false is a {@code BAD_TRANSFORMATION} (the alternative it displaced is then not reported
 * missing); a required stage that did not happen is {@code MISSING_STAGE} once the instance is
 * over (its deadline passed, or its terminal stage came without it). Only the first stage where the
 * flow stopped is reported — the one whose predecessors were all seen — not every stage after it.
 */
public final class StageCheck implements Check {
  @Override
  public List<Violation> check(FlowInstance instance) {
    List<Violation> out = new ArrayList<>();
    FlowPaths paths = FlowPaths.of(instance);
    Set<String> displaced = new HashSet<>();
    for (StageSpec stage : instance.spec().stages()) {
      if (paths.requirement(stage.id()) == Requirement.FORBIDDEN && instance.stageSeen(stage.id())
          && stage.when() != null) {
        Evaluation cond = paths.condition(stage.id());
        Observation first = firstOf(instance, stage);
        List<String> alternatives = alternatives(instance, stage, paths);
        displaced.addAll(alternatives);
        String seen = cond == null ? "" : cond.observed().entrySet().stream()
            .map(x -> x.getKey() + " = " + x.getValue()).collect(Collectors.joining(", "));
        out.add(Violation.builder(ViolationKind.BAD_TRANSFORMATION, stage.id())
            .event(first.eventId())
            .message("stage " + stage.id() + " happened (" + first.describe() + ") although its condition "
                + stage.when().source() + " is false" + (seen.isEmpty() ? "" : " (saw " + seen + ")")
                + (alternatives.isEmpty() ? "" : "; the data calls for " + String.join(" or ", alternatives)))
            .expected(alternatives.isEmpty() ? "not " + stage.id() : String.join(" or ", alternatives))
            .actual(stage.id())
            .evidence(first.evidence())
            .build());
      }
    }
    boolean over = instance.deadlinePassed() || terminalSeen(instance);
    if (!over) {
      return out;
    }
    for (StageSpec stage : instance.spec().stages()) {
      if (paths.requirement(stage.id()) != Requirement.REQUIRED || displaced.contains(stage.id())) {
        continue;
      }
      List<EventSpec> missing = stage.events().stream().filter(e -> !instance.has(e.id())).toList();
      if (missing.isEmpty() || !predecessorsSeen(instance, stage, paths)) {
        continue; // only the first stage where the flow stopped is reported, not every one after it
      }
      String what = missing.stream().map(e -> e.id() + " (" + e.describeSource() + ")")
          .collect(Collectors.joining(", "));
      String when = instance.deadlinePassed()
          ? "within " + Texts.duration(instance.spec().deadline()) + " of the flow's start"
          : "before the flow ended";
      out.add(Violation.builder(ViolationKind.MISSING_STAGE, stage.id())
          .event(missing.get(0).id())
          .message("stage " + stage.id() + " did not happen: no " + what + " " + when)
          .expected(missing.get(0).describeSource())
          .actual("nothing observed")
          .build());
    }
    return out;
  }

  /** Whether every required predecessor of the stage was seen (the flow got as far as this stage). */
  private static boolean predecessorsSeen(FlowInstance instance, StageSpec stage, FlowPaths paths) {
    for (String p : stage.after()) {
      if (paths.requirement(p) == Requirement.REQUIRED && !instance.stageSeen(p)) {
        return false;
      }
    }
    return true;
  }

  static boolean terminalSeen(FlowInstance instance) {
    return instance.spec().terminalStages().stream().anyMatch(s -> instance.stageSeen(s.id()));
  }

  private static Observation firstOf(FlowInstance instance, StageSpec stage) {
    Observation first = null;
    for (EventSpec e : stage.events()) {
      Observation o = instance.first(e.id());
      if (o != null && (first == null || o.timeEpochNanos() < first.timeEpochNanos())) {
        first = o;
      }
    }
    return first;
  }

  /** Required stages that share a predecessor with {@code stage}: the path the data called for instead. */
  private static List<String> alternatives(FlowInstance instance, StageSpec stage, FlowPaths paths) {
    List<String> out = new ArrayList<>();
    for (StageSpec other : instance.spec().stages()) {
      if (other != stage && other.when() != null && !java.util.Collections.disjoint(other.after(), stage.after())
          && paths.requirement(other.id()) == Requirement.REQUIRED) {
        out.add(other.id());
      }
    }
    return out;
  }
}
