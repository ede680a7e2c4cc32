package io.flowtrace.verifier.rules;

import static java.util.Objects.requireNonNull;

import io.flowtrace.verifier.schema.PayloadShape;

/**
 * What is known of a CEL variable's value (an event's payload) when a flow is loaded: its schema's
 * shape, nothing ({@link #unknown()}: no schema, or one known only at run time), or that the event
 * has no payload at all, so an expression that reads it can never be evaluated.
 *
 * @param shape the payload's shape ({@link PayloadShape#unknown()} when not known)
 * @param schema how messages name the schema, e.g. {@code JSON Schema schemas/x.json}; null if none
 * @param noPayload why the event has no payload to read; null when it has one
 */
public record VariableType(PayloadShape shape, String schema, String noPayload) {

  private static final VariableType UNKNOWN = new VariableType(PayloadShape.unknown(), null, null);

  public VariableType {
    requireNonNull(shape, "shape");
  }

  /** A payload nothing is known about: every use type-checks. */
  public static VariableType unknown() {
    return UNKNOWN;
  }

  /** A payload of this shape, from the schema {@code schema} describes. */
  public static VariableType of(PayloadShape shape, String schema) {
    return new VariableType(shape, requireNonNull(schema, "schema"), null);
  }

  /** An event without a payload to read, and why (e.g. a span event without a payload attribute). */
  public static VariableType noPayload(String why) {
    return new VariableType(PayloadShape.unknown(), null, requireNonNull(why, "why"));
  }
}
