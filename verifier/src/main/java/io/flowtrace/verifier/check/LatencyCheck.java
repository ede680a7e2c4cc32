package io.flowtrace.verifier.check;

import io.flowtrace.verifier.model.Clocks;
import io.flowtrace.verifier.model.FlowInstance;
import io.flowtrace.verifier.model.Observation;
import io.flowtrace.verifier.model.Visibility;
import io.flowtrace.verifier.internal.Texts;
import io.flowtrace.verifier.spec.BudgetSpec;
import io.flowtrace.verifier.spec.EventSpec;
import io.flowtrace.verifier.spec.StageSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code LATENCY_BUDGET_EXCEEDED}: a hop took longer than its budget, or the terminal stage came
 * after the instance deadline. Says the budget and the actual time. A hop between two hosts is
 * judged on its skew-corrected time (see {@link Clocks}); the message then says what was read on
 * the two clocks and how uncertain the figure is.
 */
public final class LatencyCheck implements Check {
  @Override
  public List<Violation> check(FlowInstance instance) {
    List<Violation> out = new ArrayList<>();
    Clocks clocks = instance.clocks();
    for (BudgetSpec b : instance.spec().budgets()) {
      Observation to = point(instance, b.to());
      Observation from = start(instance, b.from(), to);
      if (!measurable(instance, from, to)) {
        continue;
      }
      Clocks.Gap gap = clocks.gap(from, to);
      long answered = answered(instance, to) - answered(instance, from);
      long took = took(instance, gap, from, to) + answered;
      if (took > b.within().toNanos() && !withinUncertainty(gap, b.within().toNanos() - answered)) {
        out.add(Violation.builder(ViolationKind.LATENCY_BUDGET_EXCEEDED, to.stageId())
            .event(to.eventId())
            .message(to.eventId() + " (" + to.describe() + ") came " + Texts.duration(took) + " after "
                + from.eventId() + " (" + from.describe() + ")" + skew(gap, took, b.within().toNanos()) + "; budget "
                + Texts.duration(b.within()))
            .expected("≤ " + Texts.duration(b.within()))
            .actual(Texts.duration(took))
            .evidence(Evidence.of(to))
            .build());
      }
    }
    long deadline = instance.spec().deadline().toNanos();
    Observation start = instance.observations().isEmpty() ? null : instance.observations().get(0);
    boolean terminalSeen = false;
    for (StageSpec terminal : instance.spec().terminalStages()) {
      terminalSeen |= instance.stageSeen(terminal.id());
      Observation end = lastOf(instance, terminal);
      if (end == null) {
        continue;
      }
      Clocks.Gap gap = clocks.gap(start, end);
      long took = took(instance, gap, start, end);
      if (took > deadline && !withinUncertainty(gap, deadline)) {
        out.add(Violation.builder(ViolationKind.LATENCY_BUDGET_EXCEEDED, terminal.id())
            .event(end.eventId())
            .message("the flow took " + Texts.duration(took) + " to reach " + terminal.id() + " ("
                + end.describe() + ")" + skew(gap, took, deadline) + "; its deadline is " + Texts.duration(deadline))
            .expected("≤ " + Texts.duration(deadline))
            .actual(Texts.duration(took))
            .evidence(Evidence.of(end))
            .build());
      }
    }
    StageSpec unseen = terminalSeen || start == null ? null : instance.terminalReached();
    if (unseen != null) {
      // reached unseen (spans of an unsampled trace): it came after the last event observed (each
      // event's first occurrence: a redelivery an hour later says nothing of when the flow ended)
      Observation last = start;
      Clocks.Gap lastGap = null;
      long took = Long.MIN_VALUE;
      for (EventSpec e : instance.spec().events()) {
        Observation o = instance.first(e.id());
        if (o == null) {
          continue;
        }
        Clocks.Gap gap = clocks.gap(start, o);
        long t = took(instance, gap, start, o);
        if (lastGap == null || t > took) {
          last = o;
          lastGap = gap;
          took = t;
        }
      }
      if (took > deadline) {
        Visibility.Unobserved why = unobserved(instance, unseen.id());
        out.add(Violation.builder(ViolationKind.LATENCY_BUDGET_EXCEEDED, unseen.id())
            .event(last.eventId())
            .message("the flow had not reached " + unseen.id() + " when " + last.eventId() + " (" + last.describe()
                + ") came " + Texts.duration(took) + " after its start" + skew(lastGap, took, deadline) + "; its deadline is "
                + Texts.duration(deadline) + (why == null ? "" : " (" + unseen.id() + " itself is not observed: "
                + why.reason() + ")"))
            .expected("≤ " + Texts.duration(deadline))
            .actual("> " + Texts.duration(took))
            .evidence(Evidence.of(last))
            .build());
      }
    }
    return out;
  }

  /**
   * Whether a figure over its limit could still be within it for all the data tells of the two
   * hosts' clocks: the over-run is no larger than the skew it cannot rule out. Such a hop is not
   * called late (a false alarm on every instance where the clocks are tens of milliseconds apart
   * and the budget is tight) but listed as not verified.
   */
  private static boolean withinUncertainty(Clocks.Gap gap, long limit) {
    return !gap.sameClock() && gap.likelyMin() <= limit;
  }

  /**
   * The time from one event to another as the timeline draws it ({@link io.flowtrace.verifier.model.Offsets}:
   * clocks corrected as far as the data tells), within what the clocks prove: what the message says
   * is what the picture beside it shows.
   */
  private static long took(FlowInstance instance, Clocks.Gap gap, Observation from, Observation to) {
    long drawn = instance.offsets().at(to) - instance.offsets().at(from);
    return Math.max(gap.min(), Math.min(gap.max(), drawn));
  }

  /**
   * How long after its span began a budget's end happened: a response event ({@link
   * EventSpec#readsResponse}) at its span's end — "published within 100 ms of the bank's answer"
   * is timed from the answer, not from the request — else 0.
   */
  private static long answered(FlowInstance instance, Observation o) {
    EventSpec e = instance.spec().event(o.eventId());
    return e != null && e.readsResponse() && o.span() != null
        ? Math.max(0, o.span().endEpochNanos() - o.span().startEpochNanos()) : 0;
  }

  private static String uncertain(Clocks.Gap gap, long took, long limit, String what) {
    return what + " took " + Texts.duration(took) + " against " + Texts.duration(limit)
        + ", but across hosts that is uncertain by ±" + Texts.duration(gap.uncertainty()) + " for clock skew ("
        + gap.detail() + "): it may be within";
  }

  @Override
  public List<Unverified> unverified(FlowInstance instance) {
    List<Unverified> out = new ArrayList<>();
    Clocks clocks = instance.clocks();
    for (BudgetSpec b : instance.spec().budgets()) {
      if (offPath(instance, b.from()) || offPath(instance, b.to())) {
        continue;
      }
      Observation to = point(instance, b.to());
      Observation from = start(instance, b.from(), to);
      if (measurable(instance, from, to)) {
        Clocks.Gap gap = clocks.gap(from, to);
        long answered = answered(instance, to) - answered(instance, from);
        long took = took(instance, gap, from, to) + answered;
        if (took > b.within().toNanos() && withinUncertainty(gap, b.within().toNanos() - answered)) {
          out.add(new Unverified("budget", to.stageId(), b.from() + " → " + b.to(),
              uncertain(gap, took, b.within().toNanos(), "the hop")));
        }
        continue;
      }
      Visibility.Unobserved u = unobserved(instance, b.from());
      u = u != null ? u : unobserved(instance, b.to());
      u = u != null ? u : instance.visibility().partlyObserved(b.from());
      u = u != null ? u : instance.visibility().partlyObserved(b.to());
      if (u != null) {
        String stage = instance.spec().event(u.eventId()).stageId();
        out.add(new Unverified("budget", stage, b.from() + " → " + b.to(), u.eventId() + " not observed: "
            + u.reason()));
      }
    }
    long deadline = instance.spec().deadline().toNanos();
    Observation start = instance.observations().isEmpty() ? null : instance.observations().get(0);
    for (StageSpec terminal : instance.spec().terminalStages()) {
      Observation end = lastOf(instance, terminal);
      if (end != null) {
        Clocks.Gap gap = clocks.gap(start, end);
        long took = took(instance, gap, start, end);
        if (took > deadline && withinUncertainty(gap, deadline)) {
          out.add(new Unverified("budget", terminal.id(), "deadline", uncertain(gap, took, deadline, "the flow")));
        }
      }
    }
    return out;
  }

  /** Whether a budget's end (an event, or a stage) is on a branch the data did not take. */
  private static boolean offPath(FlowInstance instance, String id) {
    StageSpec stage = instance.spec().stage(id);
    return stage == null ? instance.offPath(id) : instance.offPath(stage.events().get(0).id());
  }

  private static Visibility.Unobserved unobserved(FlowInstance instance, String id) {
    if (instance.spec().stage(id) == null) {
      return instance.visibility().unobserved(id);
    }
    if (!instance.stageUnobserved(id)) {
      return null;
    }
    return instance.visibility().unobserved(instance.spec().stage(id).events().get(0).id());
  }

  /**
   * What clock skew does to the figure, when it matters: a correction was applied, or the skew the
   * data allows could put the hop within its limit.
   */
  private static String skew(Clocks.Gap gap, long took, long limit) {
    if (gap.sameClock() || took == gap.raw() && gap.likelyMin() > limit) {
      return "";
    }
    if (took == gap.raw()) {
      return " (across hosts: uncertain by ±" + Texts.duration(gap.uncertainty()) + " for clock skew; "
          + gap.detail() + ")";
    }
    return " (" + Texts.duration(gap.raw()) + " as read on their clocks, corrected for clock skew; uncertain by ±"
        + Texts.duration(gap.uncertainty()) + ": " + gap.detail() + ")";
  }

  /** Whether a budget's two ends were observed, each in full (no occurrence sampled out). */
  private static boolean measurable(FlowInstance instance, Observation from, Observation to) {
    return from != null && to != null && !instance.visibility().isPartlyObserved(from.eventId())
        && !instance.visibility().isPartlyObserved(to.eventId());
  }

  /** The latest first occurrence among a terminal stage's events, or {@code null} when none came. */
  private static Observation lastOf(FlowInstance instance, StageSpec terminal) {
    Observation end = null;
    for (EventSpec e : terminal.events()) {
      Observation o = instance.first(e.id());
      if (o != null && (end == null || o.timeEpochNanos() > end.timeEpochNanos())) {
        end = o;
      }
    }
    return end;
  }

  /**
   * Where a budget starts: of an event's occurrences, the one the budget's end followed ({@link
   * FlowInstance#followedBy}: its cause, else the last before it; the last the clocks' skew leaves
   * possible, so a budget is not failed by a skew it cannot rule out) — the one the
   * flow went on from: the callback that settled, not one rejected hours before it; a call's attempt
   * that answered, not a 503 four seconds earlier; a redelivery, not the delivery before it — else
   * its first (an end that came before every start is late by none of them); a
   * stage's earliest event.
   */
  private static Observation start(FlowInstance instance, String id, Observation end) {
    Observation first = point(instance, id);
    if (first == null || end == null || instance.spec().stage(id) != null) {
      return first;
    }
    List<Observation> maybe = instance.mayHaveFollowed(id, end);
    Observation followed = maybe.isEmpty() ? instance.followedBy(id, end) : maybe.get(maybe.size() - 1);
    return followed != null ? followed : instance.retried(first) ? instance.answered(id) : first;
  }

  /** An event's first occurrence, or a stage's earliest event. */
  private static Observation point(FlowInstance instance, String id) {
    Observation o = instance.first(id);
    return o != null || instance.spec().stage(id) == null ? o : instance.stageFirst(id);
  }
}
