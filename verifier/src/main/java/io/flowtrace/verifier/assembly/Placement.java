package io.flowtrace.verifier.assembly;

/**
 * Whether one span or record found an instance in some flow. Every flow whose event it is holds
 * the same placement: it counts as unplaced ({@link FlowEngine.EngineStats#eventsUnplaced()}) only
 * once each of those flows has given up on it and none placed it — a record of a topic two flows
 * share is the other flow's when this one has no instance for it. Engine thread only.
 */
final class Placement {
  private int claims = 1; // the engine's, while it hands the event to each flow
  private boolean placed;
  private boolean taken;

  /** A flow took it as its event. */
  void claim() {
    claims++;
    taken = true;
  }

  /**
   * The engine handed it to every flow: one that gave up on it before another took it has not
   * made it unplaced. Returns whether it is unplaced in every flow that took it (each has given up).
   */
  boolean handedOut() {
    return --claims == 0 && !placed && taken;
  }

  /** A flow placed it: in an instance, or as a late event of one. */
  void place() {
    placed = true;
  }

  /** A flow could place it nowhere; returns whether it is now unplaced in every flow. */
  boolean giveUp() {
    return --claims == 0 && !placed;
  }
}
