package io.flowtrace.verifier.spec;

import io.flowtrace.verifier.rules.CompiledExpression;
import java.util.List;

/**
 * A transformation rule: a CEL expression over event payloads that must be true. It is evaluated
 * once every event it reads, and every event in {@code requires} (a path condition: "only when
 * orders_confirmed happened"), has been observed. A failure is reported at {@code stage}, naming
 * {@code field} (may be null).
 */
public record RuleSpec(String name, String stage, String field, List<String> requires, CompiledExpression expression) {
  public RuleSpec {
    requires = List.copyOf(requires);
  }
}
