package io.flowtrace.verifier.check;

/** The vocabulary of every report. */
public enum ViolationKind {
  /** A stage the data calls for never happened (by the deadline, or by the time the flow ended). */
  MISSING_STAGE,
  /** A payload broke its declared schema (JSON Schema, Avro, AsyncAPI message). */
  SCHEMA_VIOLATION,
  /** A field a stage must add or carry over is absent. */
  MISSING_ENRICHMENT,
  /** A transformation rule is false, a carried value changed, or the flow took a path its data forbids. */
  BAD_TRANSFORMATION,
  /** A side effect that must happen once per instance happened more than once. */
  NON_IDEMPOTENT,
  /** A stage happened before a stage it must follow. */
  ORDER_VIOLATION,
  /** A hop or the whole flow took longer than its budget. */
  LATENCY_BUDGET_EXCEEDED,
  /** A Kafka hop left its producer's trace (no traceparent, or a new trace without a link). */
  BROKEN_PROPAGATION
}
