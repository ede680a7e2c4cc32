package io.flowtrace.verifier.replay;

/** Told how a replay is going; called from the replay thread every so often. */
public interface ReplayProgress {

  /** Reading: bytes read so far of the total, spans and records so far. */
  default void reading(String file, long bytesRead, long totalBytes, long spans, long records) {}

  /** Verifying: events fed so far of the total, verdicts decided so far. */
  default void verifying(long eventsFed, long totalEvents, long verdicts) {}

  ReplayProgress NONE = new ReplayProgress() {};
}
