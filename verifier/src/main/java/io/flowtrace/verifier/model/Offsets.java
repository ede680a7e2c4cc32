package io.flowtrace.verifier.model;

import io.flowtrace.tracer.model.Span;
import io.flowtrace.verifier.spec.StageSpec;
import java.util.Map;

/**
 * An instance's times as offsets from its start on its first event's clock, each corrected by the
 * skew the data proves between its clock and that one ({@link Clocks#corrections}: 0 where nothing
 * relates the two), so that what is drawn shows what caused what in order — not a consumer before
 * its producer because one host's clock runs 40 ms ahead — and so that what a violation says of a
 * time is where the timeline beside it puts that time. Where the data does not relate two clocks (a
 * trace sampled out: records only), the flow's own stage order does, as far as the data and the
 * flow's {@code clockSkew} allow: a stage is not drawn before a stage it comes after because its
 * producer's clock is behind, a skew the checks allowed; one further ahead is drawn where it
 * happened. When a correction puts an event before the start, every offset moves so that the
 * earliest is 0.
 */
public final class Offsets {
  private final long start;
  private final Map<String, Long> shifts;
  private final long base;

  private Offsets(long start, Map<String, Long> shifts, long base) {
    this.start = start;
    this.shifts = shifts;
    this.base = base;
  }

  static Offsets of(FlowInstance instance) {
    if (instance.observations().isEmpty()) {
      return new Offsets(instance.startEpochNanos(), Map.of(), 0);
    }
    Map<String, Long> shifts = declaredOrder(instance).corrections(Clocks.domain(instance.observations().get(0)));
    Offsets raw = new Offsets(instance.startEpochNanos(), shifts, 0);
    long min = 0;
    for (Observation o : instance.observations()) {
      min = Math.min(min, raw.at(o));
    }
    return min == 0 ? raw : new Offsets(instance.startEpochNanos(), shifts, min);
  }

  /**
   * The instance's clocks bounded further by the order of its stages' first events, and by a
   * record's time (stamped on its producer's clock, within its producer span) before its consumers.
   */
  private static Clocks declaredOrder(FlowInstance instance) {
    Clocks clocks = instance.clocks();
    for (Observation o : instance.observations()) {
      Span p = o.isRecord() ? o.producer() : null;
      long stamped = o.isRecord() ? o.record().timestampNanos() : 0;
      if (p == null || stamped < p.startEpochNanos() || stamped > p.endEpochNanos()) {
        continue;
      }
      for (Span c : o.consumers()) {
        clocks = clocks.withBound(Clocks.domain(o), Clocks.domain(c), stamped - c.startEpochNanos());
      }
    }
    // only as far as the skew allowed: a stage further ahead of its predecessor is out of order
    // (an ORDER_VIOLATION), and is drawn where it happened, not bent into the declared order
    long allowance = instance.spec().clockSkew().toNanos();
    for (StageSpec stage : instance.spec().stages()) {
      Observation later = instance.stageFirst(stage.id());
      for (String before : stage.after()) {
        Observation earlier = later == null ? null : instance.stageFirst(before);
        long gap = earlier == null ? 0 : earlier.timeEpochNanos() - later.timeEpochNanos();
        if (earlier != null && gap <= allowance) {
          clocks = clocks.withBound(Clocks.domain(earlier), Clocks.domain(later), gap);
        }
      }
    }
    return clocks;
  }

  /** A time read on the clock of {@code domain}, as an offset from the instance's start. */
  public long at(String domain, long epochNanos) {
    return epochNanos - start + shifts.getOrDefault(domain, 0L) - base;
  }

  /** When the occurrence happened, as an offset from the instance's start. */
  public long at(Observation o) {
    return at(Clocks.domain(o), o.timeEpochNanos());
  }

  /**
   * Whether times read on these two clocks are compared as read: both were moved alike (by
   * nothing, or by the same correction), so the time between them is measured, not estimated.
   */
  public boolean alike(String domain, String other) {
    return shifts.getOrDefault(domain, 0L).longValue() == shifts.getOrDefault(other, 0L).longValue();
  }

  /** Whether any clock was corrected (else offsets are the times as read). */
  public boolean corrected() {
    return base != 0 || shifts.values().stream().anyMatch(v -> v != 0);
  }
}
