package io.flowtrace.verifier.rules;

import java.util.Map;

/**
 * The result of evaluating a CEL expression against an instance's payloads. {@code value} is the
 * result (a {@link Boolean} for rules and conditions) or {@code null} when evaluation failed, in
 * which case {@code error} says why. {@code observed} maps each field path the expression reads
 * from a payload (e.g. {@code payment_request.amount}) to the value it had, rendered as JSON text
 * ({@code <missing>} when absent), so a failed rule can show what it saw. {@code observed} is filled
 * only when the result is not {@code true} (evaluations that hold skip it, for speed).
 */
public record Evaluation(Object value, String error, Map<String, String> observed) {
  public Evaluation {
    observed = observed == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(observed));
  }

  public boolean isTrue() {
    return Boolean.TRUE.equals(value);
  }

  public boolean isFalse() {
    return Boolean.FALSE.equals(value);
  }

  public boolean failed() {
    return error != null;
  }
}
