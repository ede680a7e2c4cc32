package io.flowtrace.verifier.check;

import static java.util.Objects.requireNonNull;

/**
 * Something a check could not verify on an instance, and why: a span event of an unsampled trace,
 * a rule that reads it, a path chosen by a condition on it, a hop whose trace context cannot be
 * followed. The instance is then only partly verified; what was verified still stands.
 *
 * @param check which check: {@code stage}, {@code path}, {@code rule}, {@code enrichment},
 *     {@code idempotency}, {@code order}, {@code budget} or {@code propagation}
 * @param stage the stage it concerns
 * @param subject what was not verified: an event id, a rule's name, {@code from → to}
 * @param reason why, in words (e.g. {@code unsampled trace 4bf92f…})
 */
public record Unverified(String check, String stage, String subject, String reason) {
  public Unverified {
    requireNonNull(check, "check");
    requireNonNull(stage, "stage");
    requireNonNull(subject, "subject");
    requireNonNull(reason, "reason");
  }

  @Override
  public String toString() {
    return check + " " + subject + " at " + stage + ": " + reason;
  }
}
