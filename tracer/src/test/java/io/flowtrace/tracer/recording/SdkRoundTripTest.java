package io.flowtrace.tracer.recording;

import static io.opentelemetry.api.common.AttributeKey.booleanKey;
import static io.opentelemetry.api.common.AttributeKey.doubleKey;
import static io.opentelemetry.api.common.AttributeKey.longArrayKey;
import static io.opentelemetry.api.common.AttributeKey.longKey;
import static io.opentelemetry.api.common.AttributeKey.stringArrayKey;
import static io.opentelemetry.api.common.AttributeKey.stringKey;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.SpanLink;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.exporter.internal.otlp.traces.TraceRequestMarshaler;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Spans made by the real OpenTelemetry SDK and encoded by its own OTLP marshaler read back exactly. */
class SdkRoundTripTest {

  static List<SpanData> sdkSpans;
  static ExportTraceServiceRequest request;

  @TempDir Path dir;

  private final Collected collected = new Collected();

  /** Keeps what the SDK exports; the SDK's testing module is not a dependency. */
  static final class CollectingExporter implements SpanExporter {
    final List<SpanData> spans = new CopyOnWriteArrayList<>();

    @Override
    public CompletableResultCode export(Collection<SpanData> batch) {
      spans.addAll(batch);
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
  }

  @BeforeAll
  static void produceSpansWithTheSdk() throws IOException {
    CollectingExporter exporter = new CollectingExporter();
    try (SdkTracerProvider provider = SdkTracerProvider.builder()
        .setResource(Resource.getDefault().merge(
            Resource.create(Attributes.of(stringKey("service.name"), "order-service"))))
        .addSpanProcessor(SimpleSpanProcessor.create(exporter))
        .build()) {
      Tracer tracer = provider.get("flowtrace-test");
      io.opentelemetry.api.trace.Span webhook = tracer.spanBuilder("POST /webhooks/payment")
          .setSpanKind(io.opentelemetry.api.trace.SpanKind.SERVER)
          .setAttribute("http.request.method", "POST")
          .setAttribute("http.route", "/webhooks/payment")
          .setAttribute("http.response.status_code", 200L)
          .setAttribute("http.request.body", "{\"eventId\":\"e-1\",\"orderId\":\"o-1\",\"status\":\"captured\"}")
          .startSpan();
      Context underWebhook = Context.root().with(webhook);
      io.opentelemetry.api.trace.Span producer = tracer.spanBuilder("send orders.confirmed")
          .setParent(underWebhook)
          .setSpanKind(io.opentelemetry.api.trace.SpanKind.PRODUCER)
          .setAttribute("messaging.system", "kafka")
          .setAttribute("messaging.destination.name", "orders.confirmed")
          .setAttribute("messaging.kafka.offset", 17L)
          .startSpan();
      producer.end();
      io.opentelemetry.api.trace.Span client = tracer.spanBuilder("POST")
          .setParent(underWebhook)
          .setSpanKind(io.opentelemetry.api.trace.SpanKind.CLIENT)
          .setAttribute(doubleKey("payment.amount"), 12.5)
          .setAttribute(booleanKey("payment.retry"), true)
          .setAttribute(stringArrayKey("flowtrace.keys"), List.of("orderId", "transactionId"))
          .setAttribute(longArrayKey("flowtrace.numbers"), List.of(1L, -2L))
          .startSpan();
      client.setStatus(StatusCode.ERROR, "declined");
      client.end();
      webhook.end();
      tracer.spanBuilder("process orders.confirmed")
          .setSpanKind(io.opentelemetry.api.trace.SpanKind.CONSUMER)
          .setNoParent()
          .addLink(producer.getSpanContext(), Attributes.of(longKey("messaging.kafka.offset"), 17L))
          .startSpan()
          .end();
      tracer.spanBuilder("render e-mail").startSpan().end();
    }
    sdkSpans = List.copyOf(exporter.spans);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    TraceRequestMarshaler.create(sdkSpans).writeBinaryTo(bytes);
    request = ExportTraceServiceRequest.parseFrom(bytes.toByteArray());
  }

  /** The span the SDK's data should become. */
  static Span expected(SpanData data) {
    return new Span(
        data.getTraceId(),
        data.getSpanId(),
        data.getParentSpanContext().isValid() ? data.getParentSpanId() : "",
        data.getName(),
        SpanKind.valueOf(data.getKind().name()),
        data.getResource().getAttribute(stringKey("service.name")),
        data.getStartEpochNanos(),
        data.getEndEpochNanos(),
        attributes(data.getAttributes()),
        data.getLinks().stream()
            .map(link -> new SpanLink(link.getSpanContext().getTraceId(), link.getSpanContext().getSpanId(),
                attributes(link.getAttributes())))
            .toList(),
        data.getStatus().getStatusCode() == StatusCode.ERROR);
  }

  private static Map<String, Object> attributes(Attributes attributes) {
    Map<String, Object> map = new HashMap<>();
    attributes.forEach((key, value) -> map.put(key.getKey(), value));
    return map;
  }

  private List<Span> readBack(Path file) throws IOException {
    RecordingReader.Summary summary = RecordingReader.defaults().read(file, collected, collected);
    assertThat(collected.problems).isEmpty();
    assertThat(summary.spans()).isEqualTo(sdkSpans.size());
    return collected.spans();
  }

  @Test
  void theSdkProducedEveryKindOfSpanTheTestNeeds() {
    assertThat(sdkSpans).hasSize(5);
    assertThat(sdkSpans).extracting(span -> span.getKind().name())
        .contains("SERVER", "CLIENT", "PRODUCER", "CONSUMER", "INTERNAL");
    assertThat(request.getResourceSpansCount()).isEqualTo(1);
  }

  @Test
  void sdkSpansSurviveOtlpJsonLinesWriteAndRead() throws IOException {
    Path file = dir.resolve("spans.otlp.jsonl");
    try (OtlpJsonLinesWriter writer = OtlpJsonLinesWriter.open(file)) {
      writer.write(request);
    }
    assertThat(Files.readAllLines(file)).singleElement().asString()
        .contains("\"traceId\":\"" + sdkSpans.get(0).getTraceId() + "\"");

    assertThat(readBack(file))
        .containsExactlyInAnyOrderElementsOf(sdkSpans.stream().map(SdkRoundTripTest::expected).toList());
  }

  @Test
  void sdkSpansSurviveOtlpProtobufWriteAndRead() throws IOException {
    Path file = dir.resolve("spans.otlp.pb");
    try (OtlpProtobufWriter writer = OtlpProtobufWriter.open(file)) {
      writer.write(request);
    }

    assertThat(readBack(file))
        .containsExactlyInAnyOrderElementsOf(sdkSpans.stream().map(SdkRoundTripTest::expected).toList());
  }

  @Test
  void theSdksOwnOtlpJsonEncodingIsRead() throws IOException {
    Path file = dir.resolve("sdk.otlp.jsonl");
    try (OutputStream out = Files.newOutputStream(file)) {
      TraceRequestMarshaler.create(sdkSpans).writeJsonTo(out);
      out.write('\n');
    }

    assertThat(readBack(file))
        .containsExactlyInAnyOrderElementsOf(sdkSpans.stream().map(SdkRoundTripTest::expected).toList());
  }

  @Test
  void theLinkAndTheParentsPointAtTheSdksSpans() throws IOException {
    Path file = dir.resolve("spans.otlp.pb");
    try (OtlpProtobufWriter writer = OtlpProtobufWriter.open(file)) {
      writer.write(request);
    }
    Map<String, Span> byName = new HashMap<>();
    readBack(file).forEach(span -> byName.put(span.name(), span));

    Span webhook = byName.get("POST /webhooks/payment");
    Span producer = byName.get("send orders.confirmed");
    assertThat(webhook.isRoot()).isTrue();
    assertThat(producer.parentSpanId()).isEqualTo(webhook.spanId());
    assertThat(byName.get("POST").error()).isTrue();
    assertThat(byName.get("process orders.confirmed").links()).containsExactly(
        new SpanLink(producer.traceId(), producer.spanId(), Map.of("messaging.kafka.offset", 17L)));
  }
}
