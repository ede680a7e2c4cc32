package io.flowtrace.verifier.spec;

import io.flowtrace.verifier.rules.CompiledExpression;

/**
 * A transformation rule: a CEL expression over event payloads that must be true. A failure is
 * reported at {@code stage}, naming {@code field} (may be null).
 */
public record RuleSpec(String name, String stage, String field, CompiledExpression expression) {}
