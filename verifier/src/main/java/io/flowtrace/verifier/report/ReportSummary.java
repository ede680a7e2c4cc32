package io.flowtrace.verifier.report;

import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.check.ViolationKind;
import java.util.EnumMap;
import java.util.Map;

/**
 * Counts of final verdicts: flows, passed, failed, incomplete, violations by kind, and how many
 * were fully and how many only partly verified (some checks could not run: unsampled spans).
 */
public final class ReportSummary implements VerdictListener {
  private long flows;
  private long passed;
  private long failed;
  private long incomplete;
  private long partlyVerified;
  private final Map<ViolationKind, Long> byKind = new EnumMap<>(ViolationKind.class);

  public void add(Verdict v) {
    flows++;
    switch (v.status()) {
      case PASSED -> passed++;
      case FAILED -> failed++;
      case INCOMPLETE -> incomplete++;
    }
    if (v.verification() == Verdict.Verification.PARTIAL) {
      partlyVerified++;
    }
    for (Violation x : v.violations()) {
      byKind.merge(x.kind(), 1L, Long::sum);
    }
  }

  @Override
  public void finalized(Verdict verdict) {
    add(verdict);
  }

  public long flows() { return flows; }
  public long passed() { return passed; }
  public long failed() { return failed; }
  public long incomplete() { return incomplete; }
  /** Instances every check could run on. */
  public long fullyVerified() { return flows - partlyVerified; }
  /** Instances some check could not run on (see {@link Verdict#unverified()}). */
  public long partlyVerified() { return partlyVerified; }

  /** Violations by kind, in the kinds' declared order (the same on every run). */
  public Map<ViolationKind, Long> byKind() {
    return java.util.Collections.unmodifiableMap(new EnumMap<>(byKind));
  }
}
