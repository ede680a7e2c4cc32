package io.flowtrace.tracer.tap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowtrace.kafka.testkit.KafkaBroker;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.receiver.InMemoryTelemetrySink;
import io.flowtrace.tracer.tap.OtlpSpansTopicSource.Encoding;
import io.flowtrace.tracer.tap.OtlpSpansTopicSource.SpanBatch;
import io.flowtrace.tracer.testing.Await;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.context.Scope;
import io.opentelemetry.exporter.internal.otlp.traces.TraceRequestMarshaler;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Spans on a real broker as the Collector's kafka exporter writes them: real SDK spans, encoded with
 * the official OTLP proto classes ({@code otlp_proto}) or as the SDK's OTLP/JSON with hex ids
 * ({@code otlp_json}), with an undecodable message in between that is reported and skipped.
 */
class OtlpSpansTopicSourceIT {

  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final byte[] GARBAGE = "{\"this is\": \"not OTLP\"".getBytes(StandardCharsets.UTF_8);

  private static KafkaBroker broker;
  private static KafkaProducer<byte[], byte[]> producer;
  private static Admin admin;

  @BeforeAll
  static void startBroker() {
    broker = KafkaBroker.start();
    producer = broker.newProducer(Map.of());
    admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
  }

  @AfterAll
  static void stopBroker() {
    if (producer != null) producer.close(Duration.ofSeconds(5));
    if (admin != null) admin.close(Duration.ofSeconds(5));
    if (broker != null) broker.close();
  }

  @Test
  void protobufMessagesArePolledAsBatchesWithTheirOffsetsAndGarbageIsReportedAndSkipped() throws Exception {
    String topic = topic();
    broker.createTopic(topic, 1);
    List<SpanData> first = sdkSpans("gateway", 3);
    List<SpanData> second = sdkSpans("order-service", 2);
    send(topic, proto(first));
    send(topic, GARBAGE);
    send(topic, proto(second));
    String group = "flowtrace-sidecar-" + UUID.randomUUID();

    List<SpanBatch> batches = new ArrayList<>();
    try (OtlpSpansTopicSource source = OtlpSpansTopicSource.builder().bootstrapServers(broker.bootstrapServers())
        .topic(topic).groupId(group).startPosition(StartPosition.EARLIEST).build()) {
      Await.until(TIMEOUT, () -> {
        batches.addAll(source.poll(Duration.ofMillis(200)));
        return batches.size() >= 3;
      }, batches::toString);

      assertThat(batches).extracting(SpanBatch::offset).containsExactly(0L, 1L, 2L);
      assertThat(batches).extracting(SpanBatch::topicPartition).containsOnly(new TopicPartition(topic, 0));
      assertThat(batches.get(0).spans()).usingRecursiveFieldByFieldElementComparatorIgnoringFields("attributes")
          .containsExactlyElementsOf(expected(first, "gateway"));
      assertThat(batches.get(0).spans()).allSatisfy(s -> assertThat(s.attributes()).containsEntry("app.step", "s"));
      assertThat(batches.get(2).spans()).extracting(Span::spanId)
          .containsExactlyElementsOf(second.stream().map(SpanData::getSpanId).toList());
      SpanBatch garbage = batches.get(1);
      assertThat(garbage.ok()).isFalse();
      assertThat(garbage.spans()).isEmpty();
      assertThat(garbage.toString()).startsWith(topic + "[0]@1: not an OTLP protobuf ExportTraceServiceRequest"
          + " (encoding otlp_proto): ").endsWith(" (the message looks like JSON: is the encoding otlp_json?)");
      assertThat(source.messages()).isEqualTo(3);
      assertThat(source.spans()).isEqualTo(5);
      assertThat(source.skipped()).isEqualTo(1);

      // Nothing is committed until the caller commits; then exactly what it asked for.
      assertThat(committed(group)).isEmpty();
      source.commit(SpanBatch.nextOffsets(batches.subList(0, 2)));
      assertThat(source.poll(Duration.ofMillis(50))).isEmpty();
      assertThat(source.commits()).isEqualTo(1);
      assertThat(committed(group)).isEqualTo(Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(2)));
    }

    // A restart in the same group resumes at the committed offset, not at the start position.
    try (OtlpSpansTopicSource again = OtlpSpansTopicSource.builder().bootstrapServers(broker.bootstrapServers())
        .topic(topic).groupId(group).startPosition(StartPosition.EARLIEST).resumeFromCommitted(true).build()) {
      List<SpanBatch> resumed = new ArrayList<>();
      Await.until(TIMEOUT, () -> {
        resumed.addAll(again.poll(Duration.ofMillis(200)));
        return !resumed.isEmpty();
      }, resumed::toString);
      assertThat(resumed).extracting(SpanBatch::offset).containsExactly(2L);
      assertThatThrownBy(() -> again.startBatches(b -> { }))
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("already being polled");
    }
  }

  @Test
  void jsonMessagesArePushedIntoASinkAndAProtobufOneAmongThemIsReportedAndSkipped() throws Exception {
    String topic = topic();
    broker.createTopic(topic, 2);
    List<SpanData> first = sdkSpans("inventory-service", 2);
    List<SpanData> second = sdkSpans("notification-service", 4);
    InMemoryTelemetrySink sink = InMemoryTelemetrySink.create();

    try (OtlpSpansTopicSource source = OtlpSpansTopicSource.builder().bootstrapServers(broker.bootstrapServers())
        .topic(topic).encoding(Encoding.of("OTLP_JSON")).pollTimeout(Duration.ofMillis(100)).build()
        .start(sink)) {
      assertThat(source.awaitAssignment(TIMEOUT)).isTrue();
      String json = json(first);
      assertThat(json).contains("\"traceId\":\"" + first.get(0).getTraceId() + "\""); // hex ids, as the Collector writes
      send(topic, 0, json.getBytes(StandardCharsets.UTF_8));
      send(topic, 0, proto(first));
      send(topic, 1, json(second).getBytes(StandardCharsets.UTF_8));

      // The counter moves when a message is read, before its spans reach the sink: wait for both.
      Await.until(TIMEOUT, () -> source.messages() >= 3 && sink.spans().size() >= 6, () -> sink.spans().toString());
      assertThat(sink.spans()).extracting(Span::spanId).containsExactlyInAnyOrderElementsOf(
          concat(first, second).stream().map(SpanData::getSpanId).toList());
      assertThat(sink.spans()).filteredOn(s -> s.service().equals("inventory-service"))
          .usingRecursiveFieldByFieldElementComparatorIgnoringFields("attributes")
          .containsExactlyElementsOf(expected(first, "inventory-service"));
      assertThat(source.skipped()).isEqualTo(1);
      assertThat(source.spans()).isEqualTo(6);
      assertThat(source.isRunning()).isTrue();
      assertThatThrownBy(() -> source.poll(Duration.ofMillis(1)))
          .isInstanceOf(IllegalStateException.class).hasMessageEndingWith("pushes on its own thread; poll() is not available");
    }
  }

  @Test
  void badSettingsAreRejectedNamingThem() {
    assertThatThrownBy(() -> OtlpSpansTopicSource.builder().build())
        .isInstanceOf(IllegalStateException.class).hasMessage("Missing : bootstrapServers");
    assertThatThrownBy(() -> Encoding.of("otlp_xml"))
        .hasMessage("unknown spans encoding 'otlp_xml'; known: otlp_proto, otlp_json");
    assertThatThrownBy(() -> OtlpSpansTopicSource.builder().overrides(Map.of("enable.auto.commit", true)))
        .hasMessageStartingWith("overrides may not set enable.auto.commit");
  }

  // ---------------------------------------------------------------------------------------------

  /** Finished SDK spans of one trace: a SERVER span and {@code count - 1} PRODUCER children. */
  static List<SpanData> sdkSpans(String service, int count) {
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
        .setResource(Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), service)))
        .addSpanProcessor(SimpleSpanProcessor.create(collect)).build()) {
      var tracer = provider.get("flowtrace-test");
      var server = tracer.spanBuilder("POST /api/orders").setSpanKind(io.opentelemetry.api.trace.SpanKind.SERVER)
          .setAttribute("app.step", "s").startSpan();
      try (Scope ignored = server.makeCurrent()) {
        for (int i = 1; i < count; i++) {
          tracer.spanBuilder("send orders.requested").setSpanKind(io.opentelemetry.api.trace.SpanKind.PRODUCER)
              .setAttribute("app.step", "s").setAttribute("messaging.destination.name", "orders.requested")
              .startSpan().end();
        }
      }
      server.end();
    }
    return finished;
  }

  /** Protobuf bytes of the official {@code ExportTraceServiceRequest} class for these spans. */
  private static byte[] proto(List<SpanData> spans) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    TraceRequestMarshaler.create(spans).writeBinaryTo(out);
    return ExportTraceServiceRequest.parseFrom(out.toByteArray()).toByteArray();
  }

  /** OTLP/JSON as the SDK's exporter writes it (hex ids, enums as numbers), like the Collector. */
  private static String json(List<SpanData> spans) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    TraceRequestMarshaler.create(spans).writeJsonTo(out);
    return out.toString(StandardCharsets.UTF_8);
  }

  private static List<Span> expected(List<SpanData> spans, String service) {
    return spans.stream().map(s -> new Span(s.getTraceId(), s.getSpanId(),
        s.getParentSpanContext().isValid() ? s.getParentSpanId() : "", s.getName(),
        s.getKind() == io.opentelemetry.api.trace.SpanKind.SERVER ? SpanKind.SERVER : SpanKind.PRODUCER,
        service, s.getStartEpochNanos(), s.getEndEpochNanos(), Map.of(), List.of(), false)).toList();
  }

  private static <T> List<T> concat(List<T> a, List<T> b) {
    List<T> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  private static void send(String topic, byte[] value) throws Exception {
    send(topic, 0, value);
  }

  private static void send(String topic, int partition, byte[] value) throws Exception {
    producer.send(new ProducerRecord<>(topic, partition, null, value)).get(30, TimeUnit.SECONDS);
  }

  private static Map<TopicPartition, OffsetAndMetadata> committed(String group) throws Exception {
    return admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
  }

  private static String topic() {
    return "otlp_spans-" + UUID.randomUUID().toString().substring(0, 8);
  }
}
