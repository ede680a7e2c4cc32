package io.flowtrace.verifier.check;

import io.flowtrace.verifier.model.Diversion;
import io.flowtrace.verifier.model.FlowInstance;
import io.flowtrace.verifier.model.FlowPaths;
import io.flowtrace.verifier.model.FlowPaths.Requirement;
import io.flowtrace.verifier.model.Observation;
import io.flowtrace.verifier.model.Visibility;
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
 * missing); a required stage that did not happen, or happened only in part, is
 * {@code MISSING_STAGE} once the instance is over (its deadline passed, or its terminal stage came
 * without it), or once a latency budget to it ran out well before the input ended. Only the first stage where the flow stopped is reported — the one whose
 * predecessors were all seen — not every stage after it. A stage that happened although none of
 * the stages it follows did or should have (a step of a branch the data did not take) is a
 * {@code BAD_TRANSFORMATION} too; an instance whose path stops short of every terminal stage by its
 * deadline, with no required stage missing, is a {@code MISSING_STAGE} saying where it stopped and
 * why, so a failed verdict always names what failed. Span events that are unobserved by design
 * (an unsampled trace) are not missing: they are reported as not verified, and a path whose
 * condition reads them is taken from what was observed.
 */
public final class StageCheck implements Check {
  @Override
  public List<Violation> check(FlowInstance instance) {
    List<Violation> out = new ArrayList<>();
    FlowPaths paths = instance.paths();
    Set<String> displaced = new HashSet<>();
    for (StageSpec stage : instance.spec().stages()) {
      if (paths.requirement(stage.id()) == Requirement.FORBIDDEN && instance.stageSeen(stage.id())
          && stage.when() != null && paths.condition(stage.id()) != null && !secondWay(paths, stage)) {
        Evaluation cond = paths.condition(stage.id());
        Observation first = firstOf(instance, stage);
        List<String> alternatives = alternatives(instance, stage, paths);
        displaced.addAll(alternatives);
        String seen = observed(cond);
        out.add(Violation.builder(ViolationKind.BAD_TRANSFORMATION, stage.id())
            .event(first.eventId())
            .message("stage " + stage.id() + " happened (" + first.describe() + ") although its condition "
                + stage.when().oneLine() + " is false" + (seen.isEmpty() ? "" : " (saw " + seen + ")")
                + (alternatives.isEmpty() ? "" : "; the data calls for " + String.join(" or ", alternatives)))
            .expected(alternatives.isEmpty() ? "not " + stage.id() : String.join(" or ", alternatives))
            .actual(stage.id())
            .evidence(Evidence.of(first))
            .build());
      }
    }
    for (StageSpec stage : instance.spec().stages()) {
      if (paths.requirement(stage.id()) == Requirement.FORBIDDEN && instance.stageSeen(stage.id())
          && paths.condition(stage.id()) == null && !stage.after().isEmpty()
          && stage.after().stream().allMatch(p -> certainlyNotTaken(instance, paths, p, 0))) {
        Observation first = firstOf(instance, stage);
        String why = stage.after().stream().map(p -> p + notTakenBecause(instance, paths, p))
            .collect(Collectors.joining(", "));
        out.add(Violation.builder(ViolationKind.BAD_TRANSFORMATION, stage.id())
            .event(first.eventId())
            .message("stage " + stage.id() + " happened (" + first.describe() + ") although "
                + (stage.after().size() == 1 ? "the stage it follows, " + why + ", did not and should not have"
                    : "none of the stages it follows happened or should have: " + why))
            .expected("not " + stage.id())
            .actual(stage.id())
            .evidence(Evidence.of(first))
            .build());
      }
    }
    for (StageSpec stage : instance.spec().stages()) {
      String taken = secondWay(paths, stage) ? paths.taken(stage.id()) : null;
      if (taken != null && !taken.equals(stage.id()) && instance.stageSeen(stage.id())) {
        Observation first = firstOf(instance, stage);
        Observation before = firstOf(instance, instance.spec().stage(taken));
        out.add(Violation.builder(ViolationKind.BAD_TRANSFORMATION, stage.id())
            .event(first.eventId())
            .message("stage " + stage.id() + " happened (" + first.describe() + ") although " + taken
                + ", another way of choice '" + stage.choice() + "', had happened first (" + before.describe()
                + "): a choice takes one way")
            .expected("not " + stage.id() + " after " + taken)
            .actual(stage.id())
            .evidence(Evidence.of(first))
            .build());
      }
    }
    boolean over = instance.deadlinePassed() || terminalSeen(instance);
    java.util.Map<String, String> overdue = over ? java.util.Map.of() : overdue(instance);
    if (!over && overdue.isEmpty()) {
      return out;
    }
    String when = instance.deadlinePassed()
        ? "within " + Texts.duration(instance.spec().deadline()) + " of the flow's start"
        : "before the flow ended";
    Violation choice = over ? openChoice(instance, paths, when) : null;
    if (choice != null) {
      out.add(choice);
    }
    if (over) {
      out.addAll(noWayTaken(instance, paths, when));
    }
    for (StageSpec stage : instance.spec().stages()) {
      if (paths.requirement(stage.id()) != Requirement.REQUIRED || displaced.contains(stage.id())
          || !over && !overdue.containsKey(stage.id())) {
        continue;
      }
      String due = over ? when : overdue.get(stage.id());
      List<EventSpec> missing = stage.events().stream().filter(e -> !instance.accountedFor(e.id())).toList();
      if (missing.isEmpty() || !predecessorsSeen(instance, stage, paths)) {
        continue; // only the first stage where the flow stopped is reported, not every one after it
      }
      String what = missing.stream().map(e -> e.id() + " (" + e.describeSource() + ")")
          .collect(Collectors.joining(", "));
      List<String> seen = stage.events().stream().filter(e -> instance.has(e.id())).map(EventSpec::id).toList();
      String message = seen.isEmpty()
          ? "stage " + stage.id() + " did not happen: no " + what + " " + due
          : "stage " + stage.id() + " is incomplete: no " + what + " " + due + "; " + String.join(", ", seen)
              + (seen.size() == 1 ? " was" : " were") + " observed";
      Diversion astray = astray(instance, missing);
      Violation.Builder v = Violation.builder(ViolationKind.MISSING_STAGE, stage.id())
          .event(missing.get(0).id())
          .message(message)
          .expected(missing.get(0).describeSource())
          .actual(seen.isEmpty() ? "nothing observed" : "only " + String.join(", ", seen));
      if (astray != null) {
        String event = astray.event().eventId();
        String changed = changedKeys(instance, astray);
        v.event(event)
            .message(message + ". The " + event + " of this flow's trace (" + astray.event().describe() + ") carried "
                + changed + " and so began an instance of its own: a key changed on the way")
            .actual(event + " with " + changed)
            .evidence(Evidence.of(astray.event()));
      }
      out.add(v.build());
    }
    if (instance.deadlinePassed() && instance.terminalReached() == null
        && out.stream().noneMatch(v -> v.kind() == ViolationKind.MISSING_STAGE)) {
      out.add(deadEnd(instance, paths, when));
    }
    if (instance.deadlinePassed() && out.stream().noneMatch(v -> v.kind() == ViolationKind.MISSING_STAGE)) {
      Violation undecided = undecided(instance, paths, when);
      if (undecided != null) {
        out.add(undecided);
      }
    }
    return out;
  }

  /**
   * A stage whose condition reads events that never came (its own, where it reads only those: a
   * rejection's status, where the order was accepted), past the deadline: whether the stage was
   * owed could not be told, and the instance fails for it — named, so that a failed verdict says
   * what failed.
   */
  private static Violation undecided(FlowInstance instance, FlowPaths paths, String when) {
    for (StageSpec stage : instance.spec().stages()) {
      if (stage.when() == null || paths.requirement(stage.id()) != Requirement.UNDECIDED
          || paths.openChoice().contains(stage.id()) || instance.stageSeen(stage.id())) {
        continue;
      }
      List<String> unseen = stage.when().referencedVariables().stream()
          .filter(v -> !instance.has(v) && !instance.visibility().isUnobserved(v)).sorted().toList();
      if (unseen.isEmpty()) {
        continue;
      }
      EventSpec first = stage.events().get(0);
      return Violation.builder(ViolationKind.MISSING_STAGE, stage.id())
          .event(first.id())
          .message("whether stage " + stage.id() + " was owed could not be told " + when + ": its condition "
              + stage.when().oneLine() + " reads " + String.join(", ", unseen) + ", which did not come")
          .expected(stage.when().oneLine())
          .actual("no " + String.join(", ", unseen))
          .build();
    }
    return null;
  }

  /**
   * Slack past a latency budget before a stage that has not happened counts as missing while the
   * deadline has not passed: exporters send spans in batches seconds late, consumers lag.
   */
  static final long OVERDUE_SLACK_NANOS = 30_000_000_000L;

  /**
   * Stages an instance not yet over was due to reach within a latency budget that ran out long
   * before now (the input went on past it: a replay's recording, a sidecar stopping), with the
   * words that say so. A declined request whose notice never came is then missing when the input
   * ends, hours after its 5 s budget, rather than incomplete for want of a deadline of 16 h. Only
   * a budget to a record counts: a recording's span files may end sooner than its record dump
   * (an exporter's last batch not yet sent), and a span not in them may still have happened.
   */
  private static java.util.Map<String, String> overdue(FlowInstance instance) {
    java.util.Map<String, String> out = new java.util.HashMap<>();
    for (io.flowtrace.verifier.spec.BudgetSpec b : instance.spec().budgets()) {
      Observation from = instance.first(b.from());
      EventSpec to = instance.spec().event(b.to());
      if (from == null || to == null || !to.isTopic() || instance.has(b.to()) || out.containsKey(to.stageId())) {
        continue;
      }
      long since = instance.asOfEpochNanos() - from.timeEpochNanos();
      if (since - b.within().toNanos() > OVERDUE_SLACK_NANOS) {
        out.put(to.stageId(), "within " + Texts.duration(b.within()) + " of " + b.from() + " (its latency budget;"
            + " the input went on " + Texts.duration(since) + " past " + b.from() + ")");
      }
    }
    return out;
  }

  /**
   * The instance reached no terminal stage by its deadline, and no required stage is missing: the
   * path its data calls for stops short of every terminal stage (a spec without the branch the data
   * took, or data no branch's condition accepts). Said where it stopped and why, so that a failed
   * verdict always names what failed.
   */
  private static Violation deadEnd(FlowInstance instance, FlowPaths paths, String when) {
    List<String> last = new ArrayList<>();
    List<String> closed = new ArrayList<>();
    for (StageSpec stage : instance.spec().stages()) {
      if (!instance.stageSeen(stage.id())) {
        continue;
      }
      List<StageSpec> next = instance.spec().stages().stream().filter(n -> n.after().contains(stage.id())).toList();
      if (next.stream().anyMatch(n -> instance.stageSeen(n.id()))) {
        continue;
      }
      last.add(stage.id());
      for (StageSpec n : next) {
        if (paths.requirement(n.id()) == Requirement.FORBIDDEN) {
          closed.add(n.id() + notTakenBecause(instance, paths, n.id()));
        }
      }
    }
    String terminals = instance.spec().terminalStages().stream().map(StageSpec::id).collect(Collectors.joining(" or "));
    String where = last.isEmpty() ? "" : "; it stopped after " + String.join(", ", last);
    String why = closed.isEmpty() ? "" : ", where the data calls for no further stage: " + String.join(", ", closed);
    StageSpec firstTerminal = instance.spec().terminalStages().get(0);
    return Violation.builder(ViolationKind.MISSING_STAGE, firstTerminal.id())
        .event(firstTerminal.events().get(0).id())
        .message("the flow reached no terminal stage (" + terminals + ") " + when + where + why)
        .expected(terminals)
        .actual(last.isEmpty() ? "nothing observed" : "stopped after " + String.join(", ", last))
        .build();
  }

  /** The first event of this instance's trace that is one of {@code missing} and went to an instance of its own. */
  private static Diversion astray(FlowInstance instance, List<EventSpec> missing) {
    for (Diversion d : instance.diverted()) {
      for (EventSpec e : missing) {
        if (e.id().equals(d.event().eventId())) {
          return d;
        }
      }
    }
    return null;
  }

  /** {@code orderId=o-9 instead of o-1}: the keys on which the diverted event contradicts the instance. */
  private static String changedKeys(FlowInstance instance, Diversion d) {
    List<String> parts = new ArrayList<>();
    for (String k : instance.spec().keys()) {
      String other = d.keys().get(k);
      String mine = instance.keys().get(k);
      if (other != null && mine != null && !other.equals(mine)) {
        parts.add(k + "=" + other + " instead of " + mine);
      }
    }
    return parts.isEmpty() ? d.describeKeys(instance.spec().keys()) : String.join(", ", parts);
  }

  /** What a condition read: {@code a.x = 1, b.y = "z"}. */
  private static String observed(Evaluation cond) {
    return cond.observed().entrySet().stream().map(x -> x.getKey() + " = " + x.getValue())
        .collect(Collectors.joining(", "));
  }

  /** Whether the data shows the stage did not happen and should not have: not merely unseen. */
  private static boolean certainlyNotTaken(FlowInstance instance, FlowPaths paths, String stageId, int depth) {
    StageSpec stage = instance.spec().stage(stageId);
    if (stage == null || depth > 64 || paths.requirement(stageId) != Requirement.FORBIDDEN
        || instance.stageSeen(stageId) || paths.assumption(stageId) != null) {
      return false;
    }
    Evaluation cond = paths.condition(stageId);
    if (cond != null && cond.isFalse()) {
      return true; // the data says it must not happen: had it happened unseen (its trace not sampled), it was wrong too
    }
    if (instance.stageUnobserved(stageId)) {
      return false;
    }
    return !stage.after().isEmpty()
        && stage.after().stream().allMatch(p -> certainlyNotTaken(instance, paths, p, depth + 1));
  }

  /** Why a forbidden stage is not taken, as " (…)": its false condition and what it saw, or its predecessors. */
  private static String notTakenBecause(FlowInstance instance, FlowPaths paths, String stageId) {
    StageSpec stage = instance.spec().stage(stageId);
    Evaluation cond = paths.condition(stageId);
    if (stage != null && stage.when() != null && cond != null && cond.isFalse()) {
      String seen = observed(cond);
      return " (its condition " + stage.when().oneLine() + " is false" + (seen.isEmpty() ? "" : ": saw " + seen) + ")";
    }
    if (stage != null && !stage.after().isEmpty()) {
      return " (follows only " + String.join(", ", stage.after()) + ", not taken)";
    }
    return "";
  }

  /**
   * Alternatives that cannot be told apart (their conditions read unobserved events) and none of
   * which was observed: one of them had to happen. Not reported when one of them could have
   * happened unseen (it has only span events, all unobserved).
   */
  /** Whether the stage is a way of a choice that another way took first: forbidden for that, not for its condition. */
  private static boolean secondWay(FlowPaths paths, StageSpec stage) {
    String taken = stage.choice() == null ? null : paths.taken(stage.id());
    return taken != null && !taken.equals(stage.id());
  }

  /**
   * Declared choices ({@link StageSpec#choice}) none of whose ways happened, though the stages they
   * follow did: one of them was owed.
   */
  private static List<Violation> noWayTaken(FlowInstance instance, FlowPaths paths, String when) {
    List<Violation> out = new ArrayList<>();
    Set<String> done = new HashSet<>();
    for (StageSpec stage : instance.spec().stages()) {
      if (stage.choice() == null || !done.add(stage.choice())) {
        continue;
      }
      List<StageSpec> ways = instance.spec().stages().stream().filter(w -> stage.choice().equals(w.choice())).toList();
      boolean owed = ways.stream().allMatch(w -> paths.requirement(w.id()) == Requirement.UNDECIDED
          && !instance.stageSeen(w.id()) && !instance.stageUnobserved(w.id()))
          && stage.after().stream().anyMatch(instance::stageSeen) && predecessorsSeen(instance, stage, paths);
      if (!owed) {
        continue;
      }
      String names = ways.stream().map(StageSpec::id).collect(Collectors.joining(" nor "));
      EventSpec firstEvent = stage.events().stream().filter(EventSpec::isTopic).findFirst().orElse(stage.events().get(0));
      out.add(Violation.builder(ViolationKind.MISSING_STAGE, stage.id())
          .event(firstEvent.id())
          .message("neither " + names + " happened " + when + "; one way of choice '" + stage.choice() + "' must")
          .expected(ways.stream().map(StageSpec::id).collect(Collectors.joining(" or ")))
          .actual("nothing observed")
          .build());
    }
    return out;
  }

  private static Violation openChoice(FlowInstance instance, FlowPaths paths, String when) {
    if (paths.openChoice().isEmpty()) {
      return null;
    }
    List<StageSpec> stages = paths.openChoice().stream().map(id -> instance.spec().stage(id)).toList();
    for (StageSpec s : stages) {
      if (instance.stageUnobserved(s.id()) || !predecessorsSeen(instance, s, paths)) {
        return null;
      }
    }
    StageSpec first = stages.get(0);
    String conditionInputs = String.join(", ", first.when().referencedVariables());
    Visibility.Unobserved why = null;
    for (String v : first.when().referencedVariables()) {
      why = why != null ? why : instance.visibility().unobserved(v);
    }
    if (why != null && why.cause() == Visibility.Cause.BEFORE_KEY_CHANGED) {
      return null; // the choice was made in the instance whose trace this one began in: its verdict tells
    }
    String names = stages.stream().map(StageSpec::id).collect(Collectors.joining(" nor "));
    EventSpec firstEvent = first.events().stream().filter(EventSpec::isTopic).findFirst().orElse(first.events().get(0));
    return Violation.builder(ViolationKind.MISSING_STAGE, first.id())
        .event(firstEvent.id())
        .message("neither " + names + " happened " + when + "; one of them must (which one, its condition on "
            + conditionInputs + " would tell, but that was not observed"
            + (why == null ? "" : ": " + why.reason()) + ")")
        .expected(stages.stream().map(StageSpec::id).collect(Collectors.joining(" or ")))
        .actual("nothing observed")
        .build();
  }

  @Override
  public List<Unverified> unverified(FlowInstance instance) {
    List<Unverified> out = new ArrayList<>();
    for (Visibility.Unobserved u : instance.visibility().all().values()) {
      if (instance.offPath(u.eventId())) {
        continue;
      }
      EventSpec e = instance.spec().event(u.eventId());
      out.add(new Unverified("stage", e.stageId(), e.id(), e.describeSource() + " not observed: " + u.reason()));
    }
    instance.paths().assumptions().forEach((stage, why) -> out.add(new Unverified("path", stage, stage, why)));
    return out;
  }

  /** Whether every required predecessor of the stage was seen, or may have happened unseen. */
  private static boolean predecessorsSeen(FlowInstance instance, StageSpec stage, FlowPaths paths) {
    for (String p : stage.after()) {
      if (paths.requirement(p) == Requirement.REQUIRED && !instance.stageSeen(p) && !instance.stageUnobserved(p)) {
        return false;
      }
      if (paths.openChoice().contains(p)) {
        return false; // the open choice itself is where the flow stopped
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
