package io.flowtrace.verifier.report;

/**
 * Receives verdicts as the engine decides them. An instance is {@link #decided} once, may be
 * {@link #amended} when late events change its outcome, and is {@link #finalized} when it leaves
 * the amendment window (or the input ends) with its final verdict; an event for an instance already
 * final is reported to {@link #late}. Called on the engine's thread.
 */
public interface VerdictListener {

  default void decided(Verdict verdict) {}

  /**
   * An instance's verdict changed. {@code previous} is {@code null} when the verdict it amends was
   * decided elsewhere (a live engine's earlier owner; see {@code LiveHooks#markDecided}).
   */
  default void amended(Verdict previous, Verdict current) {}

  /**
   * Events reached a decided instance and are waited on before they are judged ({@code waiting}
   * true: records whose spans, which tie them into the instance, may still come — at most a
   * completion grace), or were judged ({@code false}; {@link #amended} came first where the verdict
   * changed). {@code verdict} is the verdict as it stands: a reader that waits for a verdict to
   * settle should not take it while an amendment waits.
   */
  default void amendmentWaiting(Verdict verdict, boolean waiting) {}

  /**
   * An instance's verdict can no longer change. Not called for an instance an earlier owner
   * decided whose verdict stands here unchanged (a live engine reading events again after a
   * restart): it is that owner's, and was final there; one this engine amended is.
   */
  default void finalized(Verdict verdict) {}

  /**
   * An event arrived for an instance whose verdict is already final; it changes nothing, but
   * must not vanish unnoticed.
   */
  default void late(LateEvent event) {}

  /** Sends every callback to each listener in turn. */
  static VerdictListener composite(VerdictListener... listeners) {
    java.util.List<VerdictListener> all = java.util.List.of(listeners);
    return new VerdictListener() {
      @Override
      public void decided(Verdict v) {
        all.forEach(l -> l.decided(v));
      }

      @Override
      public void amended(Verdict p, Verdict c) {
        all.forEach(l -> l.amended(p, c));
      }

      @Override
      public void finalized(Verdict v) {
        all.forEach(l -> l.finalized(v));
      }

      @Override
      public void amendmentWaiting(Verdict v, boolean waiting) {
        all.forEach(l -> l.amendmentWaiting(v, waiting));
      }

      @Override
      public void late(LateEvent e) {
        all.forEach(l -> l.late(e));
      }
    };
  }
}
