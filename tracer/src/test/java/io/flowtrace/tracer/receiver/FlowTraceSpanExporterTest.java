package io.flowtrace.tracer.receiver;

import static io.flowtrace.tracer.receiver.ReceiverFixtures.sdkSpans;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class FlowTraceSpanExporterTest {

  private final InMemoryTelemetrySink sink = InMemoryTelemetrySink.create();

  @Test
  void deliversSpansOfARealTracerProviderWithTheirIdsAttributesAndService() {
    try (BoundedTelemetryQueue queue = BoundedTelemetryQueue.create(sink)) {
      FlowTraceSpanExporter exporter = FlowTraceSpanExporter.create(queue);
      SpanContext server;
      SpanContext consumer;
      try (SdkTracerProvider provider = SdkTracerProvider.builder()
          .setResource(Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), "order-service")))
          .addSpanProcessor(SimpleSpanProcessor.create(exporter))
          .build()) {
        Tracer tracer = provider.get("test");
        io.opentelemetry.api.trace.Span parent = tracer.spanBuilder("POST /api/orders")
            .setSpanKind(io.opentelemetry.api.trace.SpanKind.SERVER).startSpan();
        server = parent.getSpanContext();
        try (Scope ignored = parent.makeCurrent()) {
          io.opentelemetry.api.trace.Span child = tracer.spanBuilder("process orders.requested")
              .setSpanKind(io.opentelemetry.api.trace.SpanKind.CONSUMER)
              .setAttribute("messaging.kafka.offset", 42L)
              .setAttribute("messaging.destination.name", "orders.requested")
              .startSpan();
          consumer = child.getSpanContext();
          child.setStatus(StatusCode.ERROR);
          child.end();
        }
        parent.end();
        assertThat(exporter.flush().join(5, TimeUnit.SECONDS).isSuccess()).isTrue();
      }

      List<Span> spans = sink.spans();
      assertThat(spans).hasSize(2);
      Span child = spans.get(0);
      assertThat(child.traceId()).isEqualTo(server.getTraceId());
      assertThat(child.spanId()).isEqualTo(consumer.getSpanId());
      assertThat(child.parentSpanId()).isEqualTo(server.getSpanId());
      assertThat(child.kind()).isEqualTo(SpanKind.CONSUMER);
      assertThat(child.service()).isEqualTo("order-service");
      assertThat(child.error()).isTrue();
      assertThat(child.attributes()).containsEntry("messaging.kafka.offset", 42L)
          .containsEntry("messaging.destination.name", "orders.requested");
      assertThat(spans.get(1).isRoot()).isTrue();
      assertThat(spans.get(1).name()).isEqualTo("POST /api/orders");
    }
  }

  @Test
  void failsAnExportTheQueueCannotTakeWithoutThrowing() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    try (BoundedTelemetryQueue queue = BoundedTelemetryQueue.builder(telemetry -> {
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }).capacity(5).build()) {
      FlowTraceSpanExporter exporter = FlowTraceSpanExporter.create(queue, Duration.ofMillis(50));

      assertThat(exporter.export(sdkSpans(3)).isSuccess()).isTrue();
      assertThat(exporter.export(sdkSpans(3)).isSuccess()).isFalse();
      assertThat(exporter.flush().isSuccess()).isFalse();
      assertThat(queue.dropped(DropReason.OVERLOADED)).isEqualTo(3);

      release.countDown();
      assertThat(queue.awaitDrained(Duration.ofSeconds(5))).isTrue();
      assertThat(exporter.export(sdkSpans(3)).isSuccess()).isTrue();
    }
  }

  @Test
  void shutdownAndFlushAreIdempotentAndExportsAfterShutdownFail() {
    try (BoundedTelemetryQueue queue = BoundedTelemetryQueue.create(sink)) {
      FlowTraceSpanExporter exporter = FlowTraceSpanExporter.create(queue);
      assertThat(exporter.export(sdkSpans(2)).isSuccess()).isTrue();

      assertThat(exporter.flush().isSuccess()).isTrue();
      assertThat(exporter.flush().isSuccess()).isTrue();
      assertThat(exporter.shutdown().isSuccess()).isTrue();
      assertThat(exporter.shutdown().isSuccess()).isTrue();

      assertThat(exporter.export(sdkSpans(2)).isSuccess()).isFalse();
      assertThat(sink.spans()).hasSize(2);
    }
  }
}
