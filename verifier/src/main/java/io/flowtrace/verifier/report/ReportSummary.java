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
  private long schemasUnchecked;
  private final Map<ViolationKind, Long> byKind = new EnumMap<>(ViolationKind.class);
  private final Map<String, Map<String, Long>> missing = new java.util.TreeMap<>();

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
    for (io.flowtrace.verifier.check.Unverified u : v.unverified()) {
      if (u.check().equals("schema")) {
        schemasUnchecked++;
      }
    }
    java.util.Set<String> stages = new java.util.HashSet<>();
    for (Violation x : v.violations()) {
      byKind.merge(x.kind(), 1L, Long::sum);
      if (x.kind() == ViolationKind.MISSING_STAGE && x.stage() != null && stages.add(x.stage())) {
        missing.computeIfAbsent(v.flow(), f -> new java.util.TreeMap<>()).merge(x.stage(), 1L, Long::sum);
      }
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

  /** Payloads of the verdicts whose schema could not be had (a registry that did not answer): not checked. */
  public long schemasUnchecked() { return schemasUnchecked; }

  /** Of each flow, how many instances failed {@code MISSING_STAGE} at each stage, by stage id. */
  public Map<String, Long> missingStages(String flow) {
    return java.util.Collections.unmodifiableMap(missing.getOrDefault(flow, Map.of()));
  }

  /** Violations by kind, in the kinds' declared order (the same on every run). */
  public Map<ViolationKind, Long> byKind() {
    return java.util.Collections.unmodifiableMap(new EnumMap<>(byKind));
  }
}
