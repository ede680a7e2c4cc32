package io.flowtrace.junit.internal;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.TracerBuilder;
import io.opentelemetry.api.trace.TracerProvider;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;

/**
 * An {@link OpenTelemetry} the extension owns for one service: an SDK tracer provider whose
 * resource says {@code service.name}, every span exported into the extension as it ends (a {@link
 * SimpleSpanProcessor}: no batching delay), W3C trace-context and baggage propagators. Users get
 * only the API ({@link OpenTelemetry}, and a {@link TracerProvider} that is not the SDK's), so
 * nothing a test does can shut it down; the extension does, after the class. Internal: not API.
 */
public final class OwnedOpenTelemetry implements OpenTelemetry {

  private static final ContextPropagators PROPAGATORS = ContextPropagators.create(TextMapPropagator.composite(
      W3CTraceContextPropagator.getInstance(), W3CBaggagePropagator.getInstance()));

  private final String service;
  private final SdkTracerProvider provider;
  private final TracerProvider tracers;

  OwnedOpenTelemetry(String service, SpanExporter exporter) {
    this.service = service;
    this.provider = SdkTracerProvider.builder()
        .setResource(Resource.getDefault().merge(
            Resource.builder().put(AttributeKey.stringKey("service.name"), service).build()))
        .addSpanProcessor(SimpleSpanProcessor.create(exporter))
        .build();
    SdkTracerProvider p = provider;
    this.tracers = new TracerProvider() {
      @Override
      public Tracer get(String instrumentationScopeName) {
        return p.get(instrumentationScopeName);
      }

      @Override
      public Tracer get(String instrumentationScopeName, String instrumentationScopeVersion) {
        return p.get(instrumentationScopeName, instrumentationScopeVersion);
      }

      @Override
      public TracerBuilder tracerBuilder(String instrumentationScopeName) {
        return p.tracerBuilder(instrumentationScopeName);
      }
    };
  }

  @Override
  public TracerProvider getTracerProvider() {
    return tracers;
  }

  @Override
  public ContextPropagators getPropagators() {
    return PROPAGATORS;
  }

  /** The service whose spans this makes. */
  public String service() {
    return service;
  }

  /** Ends the SDK: exports what it holds and stops. */
  void close() {
    provider.close();
  }

  @Override
  public String toString() {
    return "flowtrace OpenTelemetry{service.name=" + service + "}";
  }
}
