package io.flowtrace.verifier.replay;

import io.flowtrace.verifier.assembly.FlowEngine;

/**
 * Moves an engine's clock as a replay feeds it a recording in time order: every 256 events (each
 * move verifies the instances the events since changed), at least every second of event time,
 * and across a gap in the recording through every decision timer due in it, each at its own time.
 * Where traffic is sparse (a review left hours after the rest), 256 events spanned hours: an event
 * was taken with the clock hours behind it, and amended a verdict whose amendment window had long
 * closed — while its span, a moment later in the next batch, came late.
 */
final class ReplayClock {
  private static final int ADVANCE_EVERY = 256;
  /** A gap between two events past which the clock steps through the timers due in it. */
  private static final long GAP_NANOS = 50_000_000L;
  /** Event time the clock trails the events fed by at most. */
  private static final long LAG_NANOS = 1_000_000_000L;
  /** Timers stepped through in one gap at most (one that keeps being set again a moment on, no further). */
  private static final int MAX_TIMER_STEPS = 10_000;

  private final FlowEngine engine;
  private long fed;
  private long lastAt = Long.MIN_VALUE;
  private long advancedTo = Long.MIN_VALUE;

  ReplayClock(FlowEngine engine) {
    this.engine = engine;
  }

  /** Before an event of time {@code at} is fed: moves the clock up to just short of it where it trails too far. */
  void beforeFeeding(long at) {
    if (fed == 0 || at - lastAt <= GAP_NANOS && at - advancedTo <= LAG_NANOS) {
      return;
    }
    // what the events so far completed is decided at their time; each timer due before this event at its own
    long now = Math.max(advancedTo, lastAt);
    engine.advanceTo(now);
    for (int steps = 0; steps < MAX_TIMER_STEPS; steps++) {
      long due = engine.nextTimerAt();
      if (due >= at || due <= now) {
        break;
      }
      engine.advanceTo(due);
      now = due;
    }
    engine.advanceTo(at - 1);
    advancedTo = at - 1;
  }

  /** After the event of time {@code at} was fed. */
  void fed(long at) {
    lastAt = at;
    if (++fed % ADVANCE_EVERY == 0) {
      engine.advanceTo(at);
      advancedTo = at;
    }
  }
}
