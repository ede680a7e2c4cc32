/**
 * Recordings: directories of span and Kafka record files that {@code replay} reads and {@code
 * record} writes. {@link io.flowtrace.tracer.recording.RecordingReader} reads a whole recording;
 * one {@link io.flowtrace.tracer.recording.TelemetryFileReader} per file format streams its
 * files, reporting malformed input to a {@link io.flowtrace.tracer.recording.ReadListener} and
 * going on.
 */
package io.flowtrace.tracer.recording;
