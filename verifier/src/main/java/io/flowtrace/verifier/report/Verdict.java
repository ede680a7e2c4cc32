package io.flowtrace.verifier.report;

import io.flowtrace.verifier.check.Unverified;
import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.check.ViolationKind;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The verdict on one flow instance. {@code revision} is 0 when first decided and grows with each
 * amendment (late events for an already-decided instance); {@code reason} explains an
 * {@code INCOMPLETE} verdict or how the instance was decided.
 *
 * <p>{@code unverified} lists what could not be checked because events were unobserved by design
 * (spans of an unsampled trace): the verdict is then {@linkplain Verification#PARTIAL partly
 * verified} — a {@code PASSED} instance passed every check that could run. {@code notes} says what
 * was assumed, such as a clock skew between hosts that the data proves.
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
    List<TimelineEntry> timeline,
    List<Unverified> unverified,
    List<String> notes) {

  /** Whether every check could run on everything it needs. */
  public enum Verification {
    /** Every check ran on everything it needs. */
    FULL,
    /** Some checks could not run (see {@link Verdict#unverified()}); the others did. */
    PARTIAL
  }

  public Verdict {
    keys = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(keys));
    violations = List.copyOf(violations);
    traceIds = List.copyOf(traceIds);
    timeline = List.copyOf(timeline);
    reason = reason == null ? "" : reason;
    unverified = unverified == null ? List.of() : List.copyOf(unverified);
    notes = notes == null ? List.of() : List.copyOf(notes);
  }

  /** A fully verified verdict without notes. */
  public Verdict(String flow, Map<String, String> keys, VerdictStatus status, List<Violation> violations,
      List<String> traceIds, long startEpochNanos, long decidedEpochNanos, int revision, String reason,
      List<TimelineEntry> timeline) {
    this(flow, keys, status, violations, traceIds, startEpochNanos, decidedEpochNanos, revision, reason, timeline,
        List.of(), List.of());
  }

  /** {@code FULL} when nothing was left unverified, else {@code PARTIAL}. */
  public Verification verification() {
    return unverified.isEmpty() ? Verification.FULL : Verification.PARTIAL;
  }

  public boolean hasViolation(ViolationKind kind) {
    return violations.stream().anyMatch(v -> v.kind() == kind);
  }

  /**
   * {@code flow + instance keys}, the identity a consumer de-duplicates verdicts by; without keys,
   * the flow and its first trace, or (no trace either) its first record's coordinates.
   */
  public String instanceKey() {
    StringBuilder sb = new StringBuilder(flow);
    keys.forEach((k, v) -> sb.append('|').append(k).append('=').append(v));
    if (keys.isEmpty() && !traceIds.isEmpty()) {
      sb.append("|trace=").append(traceIds.get(0));
    } else if (keys.isEmpty() && !timeline.isEmpty()) {
      sb.append("|at=").append(timeline.get(0).where()); // a record with neither keys nor a trace: its coordinates
    }
    return sb.toString();
  }

  /**
   * What the verdict says, in a form another process can compute from its published JSON: the
   * status and the sorted {@code kind@stage} of its violations (see {@link #outcome(String, Collection)}).
   */
  public String outcome() {
    return outcome(status.name(), violations.stream().map(v -> v.kind().name() + "@" + v.stage()).toList());
  }

  /** A verdict's {@link #outcome()} from its status and its violations' {@code kind@stage}. */
  public static String outcome(String status, java.util.Collection<String> kindsAtStages) {
    return status + " " + new java.util.TreeSet<>(kindsAtStages);
  }

  /** The same verdict with a new revision number. */
  public Verdict withRevision(int newRevision) {
    return new Verdict(flow, keys, status, violations, traceIds, startEpochNanos, decidedEpochNanos,
        newRevision, reason, timeline, unverified, notes);
  }

  /** This verdict with another reason (an amendment says what changed it). */
  public Verdict withReason(String newReason) {
    return new Verdict(flow, keys, status, violations, traceIds, startEpochNanos, decidedEpochNanos,
        revision, newReason, timeline, unverified, notes);
  }

  /**
   * Whether the two verdicts find the same: status, keys, what was not verified, and each violation's
   * kind, stage, event and field — whatever the words and figures of its evidence (a clock bound
   * refined by a millisecond as more spans came).
   */
  public boolean sameFindings(Verdict other) {
    if (other == null || status != other.status || !keys.equals(other.keys) || !unverified.equals(other.unverified)
        || violations.size() != other.violations.size()) {
      return false;
    }
    for (int i = 0; i < violations.size(); i++) {
      Violation a = violations.get(i);
      Violation b = other.violations.get(i);
      if (a.kind() != b.kind() || !java.util.Objects.equals(a.stage(), b.stage())
          || !java.util.Objects.equals(a.event(), b.event()) || !java.util.Objects.equals(a.field(), b.field())) {
        return false;
      }
    }
    return true;
  }

  /**
   * This verdict (its revision, reason and when it was decided) with what a later look at the same
   * instance saw — its evidence in the later words, its traces, timeline and notes — where that look
   * {@link #sameFindings found the same}: events that came after the decision and changed nothing (a
   * rating left later) still show, without an amendment.
   */
  public Verdict withFindingsOf(Verdict later) {
    return new Verdict(flow, keys, status, later.violations, later.traceIds, startEpochNanos, decidedEpochNanos,
        revision, reason, later.timeline, unverified, later.notes);
  }

  /** Whether the two verdicts say the same thing (ignoring when and revision). */
  public boolean sameOutcome(Verdict other) {
    return other != null && status == other.status && violations.equals(other.violations)
        && keys.equals(other.keys) && unverified.equals(other.unverified);
  }
}
