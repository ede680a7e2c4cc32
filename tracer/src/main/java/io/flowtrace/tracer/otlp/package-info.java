/**
 * The OTLP adapter: converts OpenTelemetry protocol messages ({@code ExportTraceServiceRequest},
 * protobuf or OTLP/JSON) into the {@link io.flowtrace.tracer.model.Span} model. OTLP types stay in
 * this package and in the recording readers that use it.
 */
package io.flowtrace.tracer.otlp;
