package io.flowtrace.verifier.report;

/** The outcome of one flow instance. */
public enum VerdictStatus {
  /** Complete, no violation. */
  PASSED,
  /** At least one violation (including a missing stage past the deadline). */
  FAILED,
  /** Not complete and its deadline had not passed when the input ended; no violation so far. */
  INCOMPLETE
}
