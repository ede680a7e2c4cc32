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

  /** A timer: at event time {@code at}, for {@code instance}. */
  record Timer(long at, InstanceState instance, Kind kind) {}

  /** Soonest first, then by instance (a plain comparison: this runs for every timer of every instance). */
  private final PriorityQueue<Timer> timers = new PriorityQueue<>((x, y) -> {
    int c = Long.compare(x.at(), y.at());
    return c != 0 ? c : Long.compare(x.instance().id, y.instance().id);
  });

  void schedule(long at, InstanceState instance, Kind kind) {
    timers.add(new Timer(at, instance, kind));
  }

  /** The next timer due at {@code watermark}, removed; {@code null} when none is. */
  Timer nextDue(long watermark) {
    return !timers.isEmpty() && timers.peek().at() <= watermark ? timers.poll() : null;
  }

  /** Every instance a timer is still set for (the survivor of a merge). */
  Iterable<InstanceState> instances() {
    return timers.stream().map(t -> t.instance().current())::iterator;
  }

  void clear() {
    timers.clear();
  }
}
