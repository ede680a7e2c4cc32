/**
 * Continuous verification of live flows: {@link io.flowtrace.sidecar.Sidecar} runs the streaming
 * engine on OTLP and Kafka input, writes verdicts, serves metrics and health, commits input offsets
 * only when it is safe to, and (in a cluster) routes work by instance through Kafka.
 * {@link io.flowtrace.sidecar.SidecarConfig} is everything it is told.
 */
package io.flowtrace.sidecar;
