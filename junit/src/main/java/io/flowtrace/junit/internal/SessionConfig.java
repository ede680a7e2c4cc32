package io.flowtrace.junit.internal;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.function.Supplier;

/**
 * How a {@link LiveSession} runs; built by {@code FlowTraceExtension.Builder}. Internal: not API.
 *
 * @param flows where the flow specs are: {@code classpath:DIR} or a directory
 * @param bootstrapServers gives the Kafka cluster to tap, or {@code null}; asked before each test
 *     until it gives one
 * @param otlpReceiver whether to run the OTLP/HTTP receiver
 * @param otlpPort its port (0: a free one)
 * @param timeout how long assertions wait for a verdict unless told otherwise
 * @param settle how long a decided verdict must stay unchanged before assertions read it
 * @param lateness how far the engine's event time trails the wall clock
 * @param completionGrace the engine's wait for stragglers once the terminal stage arrived
 * @param amendWindow how long a decided verdict stays open to amendment
 * @param idempotencyWindow how long after a redelivery to watch for extra side effects, or
 *     {@code null} to derive it from the flow's latency budgets
 * @param serviceName the {@code service.name} of the extension's default {@code OpenTelemetry}
 * @param registerGlobal whether that {@code OpenTelemetry} is registered as the global one for the class
 * @param failOnAnyFailedFlow whether a test fails after it when a flow that started in it failed and
 *     no assertion looked at that flow's verdict
 * @param schemaRegistry the schema registry of flows whose schema is {@code {avro-registry: true}},
 *     or {@code null}
 */
public record SessionConfig(
    String flows,
    Supplier<String> bootstrapServers,
    boolean otlpReceiver,
    int otlpPort,
    Duration timeout,
    Duration settle,
    Duration lateness,
    Duration completionGrace,
    Duration amendWindow,
    Duration idempotencyWindow,
    String serviceName,
    boolean registerGlobal,
    boolean failOnAnyFailedFlow,
    java.net.URI schemaRegistry) {

  public SessionConfig {
    requireNonNull(flows, "flows");
    requireNonNull(timeout, "timeout");
    requireNonNull(settle, "settle");
    requireNonNull(lateness, "lateness");
    requireNonNull(completionGrace, "completionGrace");
    requireNonNull(amendWindow, "amendWindow");
    requireNonNull(serviceName, "serviceName");
  }
}
