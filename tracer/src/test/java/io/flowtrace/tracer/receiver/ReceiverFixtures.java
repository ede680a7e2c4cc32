package io.flowtrace.tracer.receiver;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.opentelemetry.exporter.internal.otlp.traces.TraceRequestMarshaler;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/** Spans made by the real OpenTelemetry SDK, and the OTLP bytes its exporters would send. */
final class ReceiverFixtures {

  static final AttributeKey<String> TOPIC = AttributeKey.stringKey("messaging.destination.name");
  static final AttributeKey<Long> ORDER = AttributeKey.longKey("app.order.number");

  private ReceiverFixtures() {}

  /**
   * {@code count} finished SDK spans of one trace from service {@code gateway}: a SERVER span
   * {@code POST /api/orders} and {@code count - 1} PRODUCER children {@code send orders.requested},
   * each with a few attributes, as an instrumented gateway makes them.
   */
  static List<SpanData> sdkSpans(int count) {
    List<SpanData> finished = new ArrayList<>();
    SpanExporter collect = new SpanExporter() {
      @Override
      public synchronized CompletableResultCode export(Collection<SpanData> spans) {
        finished.addAll(spans);
        return CompletableResultCode.ofSuccess();
      }

      @Override
      public CompletableResultCode flush() {
        return CompletableResultCode.ofSuccess();
      }

      @Override
      public CompletableResultCode shutdown() {
        return CompletableResultCode.ofSuccess();
      }
    };
    try (SdkTracerProvider provider = SdkTracerProvider.builder()
        .setResource(Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), "gateway")))
        .addSpanProcessor(SimpleSpanProcessor.create(collect))
        .build()) {
      Tracer tracer = provider.get("flowtrace-test");
      io.opentelemetry.api.trace.Span server = tracer.spanBuilder("POST /api/orders")
          .setSpanKind(SpanKind.SERVER)
          .setAttribute("http.request.method", "POST")
          .setAttribute("http.route", "/api/orders")
          .startSpan();
      try (Scope ignored = server.makeCurrent()) {
        for (int i = 1; i < count; i++) {
          tracer.spanBuilder("send orders.requested")
              .setSpanKind(SpanKind.PRODUCER)
              .setAttribute("messaging.system", "kafka")
              .setAttribute(TOPIC, "orders.requested")
              .setAttribute(ORDER, (long) i)
              .setAttribute("messaging.kafka.message.key", "order-" + i)
              .startSpan()
              .end();
        }
      }
      server.setAttribute("http.response.status_code", 201L);
      server.end();
    }
    return finished;
  }

  /** The OTLP protobuf body the SDK's OTLP exporters send for these spans. */
  static byte[] protobuf(Collection<SpanData> spans) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      TraceRequestMarshaler.create(spans).writeBinaryTo(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  static byte[] gzip(byte[] body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
      gzip.write(body);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
