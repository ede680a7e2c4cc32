package io.flowtrace.verifier.assembly;

import java.util.PriorityQueue;

/**
 * The event-time timers of one flow's instances: its deadline, the completion grace after its
 * terminal stage, a waiting amendment, the end of its amendment window, the arrival of the last
 * event that could still reach it (known ahead in replay, see {@link Lookahead}). A timer names the
 * instance it was set for; when that instance was merged since, it applies to the survivor.
 */
final class DecisionScheduler {

  /** What a timer is for. */
  enum Kind { DEADLINE, GRACE, AMEND, FINALIZE, QUIET }

  /**
   * What an instance's timers name: the instance until it is final ({@link #spend}), then nothing.
   * A deadline's timer outlives most instances by seconds; at thousands a second, the final ones it
   * kept reachable were tens of megabytes.
   */
  static final class Target {
    private InstanceState instance;

    Target(InstanceState instance) {
      this.instance = instance;
    }
  }

  /** A timer: at event time {@code at}, for the instance with {@code id} while {@code target} names it. */
  record Timer(long at, long id, Target target, Kind kind) {
    /** The instance it was set for, or {@code null} once that is final. */
    InstanceState instance() {
      return target.instance;
    }
  }

  /** Soonest first, then by instance (a plain comparison: this runs for every timer of every instance). */
  private final PriorityQueue<Timer> timers = new PriorityQueue<>((x, y) -> {
    int c = Long.compare(x.at(), y.at());
    return c != 0 ? c : Long.compare(x.id(), y.id());
  });

  void schedule(long at, InstanceState instance, Kind kind) {
    timers.add(new Timer(at, instance.id, instance.timers, kind));
  }

  /** The instance is final: its timers, when due, are dropped unread. */
  static void spend(InstanceState instance) {
    instance.timers.instance = null;
  }

  /** The next timer due at {@code watermark} whose instance is not final, removed; {@code null} when none is. */
  Timer nextDue(long watermark) {
    while (!timers.isEmpty() && timers.peek().at() <= watermark) {
      Timer t = timers.poll();
      if (t.instance() != null) {
        return t;
      }
    }
    return null;
  }

  /** When the earliest timer is due ({@code Long.MAX_VALUE}: none); spent timers are dropped first. */
  long nextAt() {
    while (!timers.isEmpty() && timers.peek().instance() == null) {
      timers.poll();
    }
    return timers.isEmpty() ? Long.MAX_VALUE : timers.peek().at();
  }

  /** Every instance a timer is still set for (the survivor of a merge). */
  Iterable<InstanceState> instances() {
    return timers.stream().filter(t -> t.instance() != null).map(t -> t.instance().current())::iterator;
  }

  void clear() {
    timers.clear();
  }
}
