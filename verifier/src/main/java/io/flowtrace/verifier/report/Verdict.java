package io.flowtrace.verifier.report;

import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.check.ViolationKind;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The verdict on one flow instance. {@code revision} is 0 when first decided and grows with each
 * amendment (late events for an already-decided instance); {@code reason} explains an
 * {@code INCOMPLETE} verdict or how the instance was decided.
 */
public record Verdict(
    String flow,
    Map<String, String> keys,
    VerdictStatus status,
    List<Violation> violations,
    List<String> traceIds,
    long startEpochNanos,
    long decidedEpochNanos,
    int revision,
    String reason,
    List<TimelineEntry> timeline) {

  public Verdict {
    keys = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(keys));
    violations = List.copyOf(violations);
    traceIds = List.copyOf(traceIds);
    timeline = List.copyOf(timeline);
    reason = reason == null ? "" : reason;
  }

  public boolean hasViolation(ViolationKind kind) {
    return violations.stream().anyMatch(v -> v.kind() == kind);
  }

  /** {@code flow + instance keys}, the identity a consumer de-duplicates verdicts by. */
  public String instanceKey() {
    StringBuilder sb = new StringBuilder(flow);
    keys.forEach((k, v) -> sb.append('|').append(k).append('=').append(v));
    if (keys.isEmpty() && !traceIds.isEmpty()) {
      sb.append("|trace=").append(traceIds.get(0));
    }
    return sb.toString();
  }

  /** The same verdict with a new revision number. */
  public Verdict withRevision(int newRevision) {
    return new Verdict(flow, keys, status, violations, traceIds, startEpochNanos, decidedEpochNanos,
        newRevision, reason, timeline);
  }

  /** Whether the two verdicts say the same thing (ignoring when and revision). */
  public boolean sameOutcome(Verdict other) {
    return other != null && status == other.status && violations.equals(other.violations)
        && keys.equals(other.keys);
  }
}
