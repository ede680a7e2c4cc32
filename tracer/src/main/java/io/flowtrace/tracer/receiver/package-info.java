/**
 * Live span intake: the OTLP receivers ({@link io.flowtrace.tracer.receiver.OtlpHttpReceiver} on
 * {@code POST /v1/traces}, {@link io.flowtrace.tracer.receiver.OtlpGrpcReceiver} for {@code
 * TraceService/Export}) and the in-JVM {@link io.flowtrace.tracer.receiver.FlowTraceSpanExporter}.
 * All three decode through {@link io.flowtrace.tracer.otlp.OtlpSpans} and offer whole requests to
 * one {@link io.flowtrace.tracer.receiver.BoundedTelemetryQueue}, whose thread hands them to a
 * {@link io.flowtrace.tracer.receiver.TelemetrySink}. When the queue is full a request is refused
 * with a retry hint, never buffered without bound; refusals are counted and logged once per kind.
 */
package io.flowtrace.tracer.receiver;
