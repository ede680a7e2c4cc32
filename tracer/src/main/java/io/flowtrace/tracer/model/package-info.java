/**
 * The telemetry model flowtrace verifies: immutable {@link io.flowtrace.tracer.model.Span}s and
 * {@link io.flowtrace.tracer.model.KafkaRecord}s. Nothing here depends on OTLP, Kafka client or
 * HTTP types; adapters convert into this model at the edge.
 */
package io.flowtrace.tracer.model;
