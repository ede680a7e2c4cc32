package io.flowtrace.verifier.check;

import io.flowtrace.verifier.model.Clocks;
import io.flowtrace.verifier.model.FlowInstance;
import io.flowtrace.verifier.model.Observation;
import io.flowtrace.verifier.model.Repeats;
import io.flowtrace.verifier.model.Offsets;
import io.flowtrace.verifier.internal.Texts;
import io.flowtrace.verifier.spec.EventSpec;
import io.flowtrace.verifier.spec.StageSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code ORDER_VIOLATION}: causality was broken — a stage began before an event of a stage it must
 * follow, or an event came before the event listed before it in the same stage. First occurrences
 * are compared by what the data proves ({@link Clocks}): times on one host's clock directly,
 * records of one partition by offset, and times on different hosts only after allowing for the
 * clock difference their happens-before edges permit (or the flow's {@code clockSkew} when nothing
 * relates them). Differences within the spec's tolerance (record times have millisecond
 * precision) are allowed. Two clocks that merely disagree are not a violation. An event some of
 * whose occurrences were sampled out (one webhook delivery traced, another not) is not taken as
 * the earlier side: its first observed occurrence need not be its first. Nor is it where the later
 * event was made from another occurrence (its consumer's span is the later one's parent: a
 * duplicate read before the first), which it then follows. A {@code fanIn} stage is
 * compared with every occurrence of the stages it follows that does not repeat an earlier one
 * ({@link Repeats}): a refund must follow each item's inspection, and a redelivered inspection
 * after it is not another.
 */
public final class OrderCheck implements Check {
  @Override
  public List<Violation> check(FlowInstance instance) {
    List<Violation> out = new ArrayList<>();
    long tolerance = instance.spec().tolerance().toNanos();
    Clocks clocks = instance.clocks();
    for (StageSpec stage : instance.spec().stages()) {
      List<Observation> mine = firsts(instance, stage);
      if (mine.isEmpty()) {
        continue;
      }
      Observation worstEarly = null;
      Observation worstLate = null;
      Clocks.Gap worst = null;
      for (Pair pair : afterPredecessors(instance, stage, mine)) {
        Clocks.Gap g = pair.gap();
        if (g.max() < -tolerance && (worst == null || g.max() < worst.max())) {
          worst = g;
          worstEarly = pair.later();
          worstLate = pair.earlier();
        }
      }
      if (worst != null) {
        out.add(violation(instance, stage.id(), worstEarly, worstLate, worst,
            "stage " + stage.id() + " began (" + worstEarly.eventId() + ", " + worstEarly.describe() + ") "
                + before(worst, worstEarly) + " " + worstLate.eventId() + " (" + worstLate.describe() + ") of stage "
                + worstLate.stageId() + which(instance, stage, worstLate) + ", which it must follow"
                + (stage.fanIn() ? " (fanIn: every one)" : "") + detail(worst) + partly(instance, worstLate, worstEarly)));
        continue;
      }
      Observation previous = null;
      for (EventSpec e : stage.events()) {
        Observation o = instance.first(e.id());
        if (o == null) {
          continue;
        }
        if (previous != null && !instance.visibility().isPartlyObserved(previous.eventId())) {
          Clocks.Gap g = clocks.gap(previous, o);
          if (g.max() < -tolerance) {
            out.add(violation(instance, stage.id(), o, previous, g,
                o.eventId() + " (" + o.describe() + ") came " + before(g, o) + " " + previous.eventId()
                    + " (" + previous.describe() + "), which it must follow" + detail(g)));
            break;
          }
        }
        previous = o;
      }
    }
    return out;
  }

  /**
   * Where other events of the stage it must follow did come first: a stage follows every event of
   * the stages it comes after, so a reply that overtakes the record announcing the call (an SMS
   * receipt before {@code notifications.sent}) fails, and the fix is in the spec, not the system.
   */
  private static String partly(FlowInstance instance, Observation late, Observation early) {
    long tolerance = instance.spec().tolerance().toNanos();
    List<String> came = new ArrayList<>();
    StageSpec stage = instance.spec().stage(late.stageId());
    for (EventSpec e : stage.events()) {
      Observation o = instance.first(e.id());
      if (o != null && o != late && instance.clocks().gap(o, early).max() >= -tolerance) {
        came.add(e.id());
      }
    }
    return came.isEmpty() ? "" : "; " + String.join(" and ", came) + " of " + stage.id() + " did come before it: a stage"
        + " follows every event of the stages it comes after (if only " + String.join(" and ", came) + " must, it is a"
        + " stage of its own)";
  }

  /** {@code 55 ms before}, {@code before}, {@code 3 ms before order-service received}, {@code at least 12 ms before}. */
  private static String before(Clocks.Gap g, Observation early) {
    return switch (g.basis()) {
      case ONE_CLOCK -> Texts.duration(-g.max()) + " before";
      case PARTITION -> "before";
      case RECEIPT -> Texts.duration(-g.max()) + " before " + Clocks.reader(early) + " received";
      case TWO_CLOCKS -> "at least " + Texts.duration(-g.max()) + " before";
    };
  }

  private static String detail(Clocks.Gap g) {
    return switch (g.basis()) {
      case ONE_CLOCK -> "";
      case PARTITION, RECEIPT -> " (" + g.detail() + ")";
      case TWO_CLOCKS -> " (" + Texts.duration(-g.raw()) + " apart as read; " + g.detail() + ")";
    };
  }

  @Override
  public List<Unverified> unverified(FlowInstance instance) {
    List<Unverified> out = new ArrayList<>();
    // a stage that began before one it must follow as read, by less than the skew the clocks may
    // still differ by (nothing proves the order either way): not a violation, and not checked either
    long tolerance = instance.spec().tolerance().toNanos();
    for (StageSpec stage : instance.spec().stages()) {
      for (Pair pair : afterPredecessors(instance, stage, firsts(instance, stage))) {
        Clocks.Gap g = pair.gap();
        if (g.basis() == Clocks.Basis.TWO_CLOCKS && g.raw() < -tolerance && g.min() < -tolerance
            && g.max() >= -tolerance) {
          Observation o = pair.later();
          Observation before = pair.earlier();
          out.add(new Unverified("order", stage.id(), before.eventId() + " → " + o.eventId(), o.eventId()
              + " came " + Texts.duration(-g.raw()) + " before " + before.eventId() + " as read, within what the"
              + " clocks may differ (" + g.detail() + "): its order is not known"));
          break;
        }
      }
    }
    for (String event : instance.spec().events().stream().map(EventSpec::id).toList()) {
      var u = instance.visibility().partlyObserved(event);
      if (u != null) {
        out.add(new Unverified("order", instance.spec().event(event).stageId(), event,
            "what follows " + event + " is not checked against it: some of its occurrences were not observed ("
                + u.reason() + ")"));
      }
    }
    return out;
  }

  /** A first event of a stage and a first event of a stage it must follow, and the gap between them. */
  private record Pair(Observation earlier, Observation later, Clocks.Gap gap) {}

  /**
   * Each of {@code mine} (a stage's first events) against each first event of the stages it must
   * follow — but one some of whose occurrences were not observed: its first observed occurrence
   * need not be its first.
   */
  private static List<Pair> afterPredecessors(FlowInstance instance, StageSpec stage, List<Observation> mine) {
    List<Pair> out = new ArrayList<>();
    if (mine.isEmpty()) {
      return out;
    }
    Clocks clocks = instance.clocks();
    long tolerance = instance.spec().tolerance().toNanos();
    for (String p : stage.after()) {
      StageSpec earlier = instance.spec().stage(p);
      for (Observation before : stage.fanIn() ? every(instance, earlier) : firsts(instance, earlier)) {
        if (!instance.visibility().isPartlyObserved(before.eventId())) {
          for (Observation o : mine) {
            Clocks.Gap gap = clocks.gap(before, o);
            if (!stage.fanIn() && (gap.max() < -tolerance || gap.raw() < -tolerance)) {
              // made from another occurrence of that event (a duplicate read first): it followed that one
              Observation cause = o.causeAmong(instance.all(before.eventId()));
              if (cause != null) {
                out.add(new Pair(cause, o, clocks.gap(cause, o)));
                continue;
              }
            }
            out.add(new Pair(before, o, gap));
          }
        }
      }
    }
    return out;
  }

  /** Every occurrence of a stage's events that does not repeat an earlier one (for a {@code fanIn} stage after it). */
  private static List<Observation> every(FlowInstance instance, StageSpec stage) {
    List<Observation> out = new ArrayList<>();
    for (EventSpec e : stage.events()) {
      out.addAll(Repeats.distinctOccurrences(instance, e.id()));
    }
    return out;
  }

  /** {@code , occurrence 3 of 4}, for an occurrence a {@code fanIn} stage must follow; else empty. */
  private static String which(FlowInstance instance, StageSpec stage, Observation before) {
    if (!stage.fanIn()) {
      return "";
    }
    List<Observation> all = Repeats.distinctOccurrences(instance, before.eventId());
    int at = all.indexOf(before);
    return all.size() < 2 || at < 0 ? "" : ", occurrence " + (at + 1) + " of " + all.size();
  }

  private static List<Observation> firsts(FlowInstance instance, StageSpec stage) {
    List<Observation> out = new ArrayList<>(stage.events().size());
    for (EventSpec e : stage.events()) {
      Observation o = instance.first(e.id());
      if (o != null) {
        out.add(o);
      }
    }
    return out;
  }

  /**
   * When the early event should have come, in the terms the gap was judged in: the later event's own
   * time on one clock; its receipt by the early event's service; or, across two clocks, the later
   * event's time and the earliest the early event could have come with the clocks as far apart as
   * allowed (so that the line never names a time the actual one is already past). Times are where the
   * timeline puts them ({@link Offsets}: on clocks corrected as far as the data tells).
   */
  private static String expected(Observation early, Observation late, Clocks.Gap gap, Offsets offsets) {
    String lateAt = Texts.exactOffset(offsets.at(late));
    String due = Texts.exactOffset(offsets.at(Clocks.domain(early), early.timeEpochNanos() - gap.max()));
    return switch (gap.basis()) {
      case ONE_CLOCK, PARTITION -> early.eventId() + " after " + late.eventId() + " (" + lateAt + ")";
      case RECEIPT -> early.eventId() + " after " + Clocks.reader(early) + " received " + late.eventId() + " (" + due + ")";
      case TWO_CLOCKS -> early.eventId() + " after " + late.eventId() + " (" + lateAt + "; with the clocks "
          + "as far apart as allowed, not before " + due + ")";
    };
  }

  private static Violation violation(FlowInstance instance, String stage, Observation early, Observation late,
      Clocks.Gap gap, String message) {
    Offsets offsets = instance.offsets();
    return Violation.builder(ViolationKind.ORDER_VIOLATION, stage)
        .event(early.eventId())
        .message(message)
        .expected(expected(early, late, gap, offsets))
        .actual(early.eventId() + " at " + Texts.exactOffset(offsets.at(early)))
        .evidence(Evidence.of(early))
        .build();
  }
}
