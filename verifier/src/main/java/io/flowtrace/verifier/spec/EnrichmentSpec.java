package io.flowtrace.verifier.spec;

import java.util.List;

/**
 * What event {@code to} must add to and carry over from event {@code from}: {@code add} fields
 * must be present in {@code to}; {@code carry} fields (or, with {@code carryAll}, every field of
 * {@code from}) must reach {@code to} unchanged.
 */
public record EnrichmentSpec(
    String from, String to, boolean carryAll, List<FieldPath> carry, List<FieldPath> add) {
  public EnrichmentSpec {
    carry = List.copyOf(carry);
    add = List.copyOf(add);
  }
}
