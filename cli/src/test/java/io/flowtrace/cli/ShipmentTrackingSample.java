package io.flowtrace.cli;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.recording.KcatJsonLinesWriter;
import io.flowtrace.tracer.recording.OtlpJsonLinesWriter;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanId;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceId;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.exporter.internal.otlp.traces.TraceRequestMarshaler;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.IdGenerator;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Writes {@code samples/shipment-tracking}: ten shipments of {@code flows/shipment-tracking}, spans
 * made by the OpenTelemetry SDK (one tracer provider per service, seeded ids, explicit times) and
 * exported as the SDK's OTLP exporter encodes them, records as {@code kcat -C -J} prints them, and
 * {@code expected.json} with every instance's verdict. Two shipments carry a planted defect:
 * shipment 3's {@code shipments.requested} lacks {@code requestedAt} (MISSING_ENRICHMENT), and
 * shipment 6's DELIVERED webhook is delivered twice and updates the shipment twice
 * (NON_IDEMPOTENT). {@code tracking-service} uses the older messaging conventions ({@code <topic>
 * publish}, {@code messaging.operation}, {@code messaging.kafka.message.offset}).
 *
 * <p>Regenerate from the repository root (the test {@code ShipmentTrackingSampleTest} fails when the
 * committed files differ from what this writes): run {@link #main} with {@code samples/shipment-tracking}.
 */
final class ShipmentTrackingSample {

  static final long SEED = 20261201L;
  static final int SHIPMENTS = 10;
  static final Instant START = Instant.parse("2026-12-01T10:00:00Z");
  static final int MISSING_ENRICHMENT = 3;
  static final int DUPLICATE_DELIVERED = 6;

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String CARRIER_URL = "https://api.acme-carrier.example/v1/labels";

  private final SplittableRandom random = new SplittableRandom(SEED);
  private final Map<String, Collector> exporters = new LinkedHashMap<>();
  private final Map<String, SdkTracerProvider> providers = new LinkedHashMap<>();
  private final Map<String, List<KafkaRecord>> records = new LinkedHashMap<>();
  private final ArrayNode expected = JSON.createArrayNode();
  private long end;

  /** Collects what a service's span processor exports, in the order spans end. */
  private static final class Collector implements SpanExporter {
    final List<SpanData> spans = new ArrayList<>();

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

  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args.length > 0 ? args[0] : "samples/shipment-tracking");
    new ShipmentTrackingSample().write(dir);
    System.out.println("wrote " + dir);
  }

  /** Writes the recording and {@code expected.json} into {@code dir} (created if needed). */
  void write(Path dir) throws IOException {
    Files.createDirectories(dir);
    for (int i = 0; i < SHIPMENTS; i++) {
      shipment(i, START.toEpochMilli() * 1_000_000L + i * 2_000_000_000L + random.nextInt(50_000_000));
    }
    providers.values().forEach(SdkTracerProvider::close);
    for (Map.Entry<String, Collector> e : exporters.entrySet()) {
      try (OtlpJsonLinesWriter out = OtlpJsonLinesWriter.open(dir.resolve(e.getKey() + ".otlp.jsonl"))) {
        // as a batching exporter sends them: a few spans per request, not in time order across files
        List<SpanData> spans = e.getValue().spans;
        for (int from = 0; from < spans.size(); from += 5) {
          out.write(request(spans.subList(from, Math.min(spans.size(), from + 5))));
        }
      }
    }
    try (KcatJsonLinesWriter out = KcatJsonLinesWriter.open(dir.resolve("messages.kcat.jsonl"))) {
      for (List<KafkaRecord> topic : records.values()) {
        for (KafkaRecord r : topic) {
          out.write(r);
        }
      }
    }
    ObjectNode manifest = JSON.createObjectNode();
    manifest.put("flow", "shipment-tracking");
    manifest.put("seed", SEED);
    ObjectNode recording = manifest.putObject("recording");
    recording.put("start", START.toString());
    recording.put("end", Instant.ofEpochSecond(0, end).toString());
    recording.put("spans", exporters.values().stream().mapToInt(c -> c.spans.size()).sum());
    recording.put("records", records.values().stream().mapToInt(List::size).sum());
    manifest.set("flows", expected);
    Files.writeString(dir.resolve("expected.json"),
        JSON.writerWithDefaultPrettyPrinter().writeValueAsString(manifest) + "\n");
  }

  private static ExportTraceServiceRequest request(List<SpanData> spans) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    TraceRequestMarshaler.create(spans).writeBinaryTo(out);
    return ExportTraceServiceRequest.parseFrom(out.toByteArray());
  }

  private Tracer tracer(String service) {
    Collector exporter = exporters.computeIfAbsent(service, s -> new Collector());
    SdkTracerProvider provider = providers.computeIfAbsent(service, s -> SdkTracerProvider.builder()
        .setResource(Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), s,
            AttributeKey.stringKey("telemetry.sdk.language"), "java")))
        .setIdGenerator(new IdGenerator() {
          @Override
          public String generateSpanId() {
            return SpanId.fromLong(random.nextLong() | 1L);
          }

          @Override
          public String generateTraceId() {
            return TraceId.fromLongs(random.nextLong() | 1L, random.nextLong());
          }
        })
        .addSpanProcessor(SimpleSpanProcessor.create(exporter))
        .build());
    return provider.get("io.flowtrace.samples.shipment-tracking");
  }

  private Span start(String service, SpanKind kind, String name, Context parent, long startNanos, Attributes attributes) {
    return tracer(service).spanBuilder(name).setSpanKind(kind).setParent(parent)
        .setStartTimestamp(startNanos, TimeUnit.NANOSECONDS).setAllAttributes(attributes).startSpan();
  }

  private void end(Span span, long endNanos) {
    span.end(endNanos, TimeUnit.NANOSECONDS);
    end = Math.max(end, endNanos);
  }

  private static Context parent(Span span) {
    return Context.root().with(span);
  }

  private static Context remote(String traceparent) {
    String[] p = traceparent.split("-");
    return Context.root().with(Span.wrap(SpanContext.createFromRemoteParent(p[1], p[2], TraceFlags.getSampled(),
        TraceState.getDefault())));
  }

  /** Publishes a record from {@code producer} (its context in {@code traceparent}); returns the record. */
  private KafkaRecord publish(String topic, String key, String value, Span producer, long timeNanos) {
    List<KafkaRecord> topicRecords = records.computeIfAbsent(topic, t -> new ArrayList<>());
    SpanContext c = producer.getSpanContext();
    String traceparent = "00-" + c.getTraceId() + "-" + c.getSpanId() + "-01";
    KafkaRecord r = new KafkaRecord(topic, 0, topicRecords.size(), timeNanos / 1_000_000L, key,
        List.of(new RecordHeader("traceparent", traceparent.getBytes(StandardCharsets.UTF_8))),
        value.getBytes(StandardCharsets.UTF_8));
    topicRecords.add(r);
    return r;
  }

  private static Attributes http(String method, String route, int status, String requestBody, String responseBody) {
    AttributesBuilder a = Attributes.builder()
        .put("http.request.method", method)
        .put("http.response.status_code", status)
        .put("http.request.body", requestBody);
    if (route.startsWith("https://")) {
      a.put("url.full", route).put("server.address", "api.acme-carrier.example");
    } else {
      a.put("http.route", route).put("url.path", route).put("url.scheme", "http");
    }
    if (responseBody != null) {
      a.put("http.response.body", responseBody);
    }
    return a.build();
  }

  /** Messaging attributes in the stable conventions, or the Java agent's older default ones. */
  private static Attributes messaging(String topic, String operation, long offset, boolean older) {
    if (older) {
      return Attributes.builder().put("messaging.system", "kafka").put("messaging.destination", topic)
          .put("messaging.operation", operation.equals("send") ? "publish" : operation)
          .put("messaging.kafka.destination.partition", 0L).put("messaging.kafka.message.offset", offset).build();
    }
    return Attributes.builder().put("messaging.system", "kafka").put("messaging.destination.name", topic)
        .put("messaging.operation.type", operation).put("messaging.destination.partition.id", "0")
        .put("messaging.kafka.offset", offset).build();
  }

  private String hex(int chars) {
    StringBuilder sb = new StringBuilder();
    while (sb.length() < chars) {
      sb.append(Long.toHexString(random.nextLong() | Long.MIN_VALUE));
    }
    return sb.substring(0, chars);
  }

  private String trackingNumber() {
    String alphabet = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ";
    StringBuilder sb = new StringBuilder("1Z");
    for (int i = 0; i < 16; i++) {
      sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return sb.toString();
  }

  private static String time(long nanos) {
    return Instant.ofEpochSecond(0, nanos / 1_000_000L * 1_000_000L).toString();
  }

  private static final long MS = 1_000_000L;

  private void shipment(int index, long t) throws IOException {
    String orderId = "ord-" + hex(12);
    String shipmentId = "shp-" + hex(12);
    String trackingNumber = trackingNumber();
    String[][] addresses = {
        {"Ada Lovelace", "12 St James's Square", "London", "SW1Y 4JH", "GB"},
        {"Grace Hopper", "1 Navy Yard", "Arlington", "22202", "US"},
        {"Emmy Noether", "Bunsenstrasse 3", "Göttingen", "37073", "DE"}};
    String[] a = addresses[index % addresses.length];
    ObjectNode address = JSON.createObjectNode().put("name", a[0]).put("street", a[1]).put("city", a[2])
        .put("zipCode", a[3]).put("country", a[4]);
    ArrayNode parcels = JSON.createArrayNode();
    double weight = 0;
    for (int p = 0; p <= index % 3; p++) {
      double w = Math.round((0.4 + random.nextDouble() * 4.6) * 100) / 100.0;
      weight += w;
      parcels.addObject().put("weightKg", w);
    }
    weight = Math.round(weight * 100) / 100.0;
    ObjectNode body = JSON.createObjectNode().put("orderId", orderId);
    body.set("address", address);
    body.set("parcels", parcels);

    // 1. shipping-api: POST /api/shipments, publishes shipments.requested
    Span api = start("shipping-api", SpanKind.SERVER, "POST /api/shipments", Context.root(), t,
        http("POST", "/api/shipments", 202, body.toString(), null));
    ObjectNode requested = body.deepCopy().put("shipmentId", shipmentId);
    if (index != MISSING_ENRICHMENT) {
      requested.put("requestedAt", time(t + 4 * MS));
    }
    long offset = records.getOrDefault("shipments.requested", List.of()).size();
    Span send = start("shipping-api", SpanKind.PRODUCER, "send shipments.requested", parent(api), t + 12 * MS,
        messaging("shipments.requested", "send", offset, false));
    KafkaRecord r1 = publish("shipments.requested", orderId, requested.toString(), send, t + 14 * MS);
    end(send, t + 16 * MS);
    end(api, t + 21 * MS);

    // 2. shipment-service: consumes, asks the carrier for a label, publishes shipments.labelled
    long c = t + 48 * MS + random.nextInt(20) * MS;
    Span process = start("shipment-service", SpanKind.CONSUMER, "process shipments.requested",
        remote(r1.lastHeader("traceparent").orElseThrow().valueAsString()), c,
        messaging("shipments.requested", "process", r1.offset(), false));
    ObjectNode labelRequest = JSON.createObjectNode().put("orderId", orderId);
    labelRequest.set("address", address);
    labelRequest.put("weightKg", weight);
    ObjectNode label = JSON.createObjectNode().put("trackingNumber", trackingNumber)
        .put("labelUrl", "https://labels.acme-carrier.example/" + trackingNumber + ".pdf");
    Span carrier = start("shipment-service", SpanKind.CLIENT, "POST", parent(process), c + 3 * MS,
        http("POST", CARRIER_URL, 201, labelRequest.toString(), label.toString()));
    long labelled = c + 180 * MS + random.nextInt(60) * MS;
    end(carrier, labelled);
    ObjectNode labelledMsg = JSON.createObjectNode().put("orderId", orderId).put("shipmentId", shipmentId)
        .put("trackingNumber", trackingNumber).put("carrier", "ACME");
    Span sendLabelled = start("shipment-service", SpanKind.PRODUCER, "send shipments.labelled", parent(process),
        labelled + 2 * MS, messaging("shipments.labelled", "send",
            records.getOrDefault("shipments.labelled", List.of()).size(), false));
    publish("shipments.labelled", orderId, labelledMsg.toString(), sendLabelled, labelled + 4 * MS);
    end(sendLabelled, labelled + 5 * MS);
    end(process, labelled + 7 * MS);

    // 3. the carrier's webhooks, each in a trace of its own: PICKED_UP, then DELIVERED (shipment 6: twice)
    long pickedUp = t + 700 * MS + random.nextInt(100) * MS;
    long deliveredAt = pickedUp + 500 * MS + random.nextInt(200) * MS;
    String pickedUpEvent = "evt-" + hex(10);
    String deliveredEvent = "evt-" + hex(10);
    webhook(orderId, shipmentId, trackingNumber, pickedUpEvent, "PICKED_UP", pickedUp, true);
    webhook(orderId, shipmentId, trackingNumber, deliveredEvent, "DELIVERED", deliveredAt, true);
    ObjectNode verdict = expected.addObject();
    verdict.put("index", index);
    verdict.put("flow", "shipment-tracking");
    verdict.putObject("keys").put("orderId", orderId).put("trackingNumber", trackingNumber);
    ArrayNode violations = JSON.createArrayNode();
    String defect = null;
    if (index == DUPLICATE_DELIVERED) {
      // the carrier did not see the 200 in time and delivers the same event again; the update repeats
      webhook(orderId, shipmentId, trackingNumber, deliveredEvent, "DELIVERED", deliveredAt + 1_200 * MS, false);
      violations.addObject().put("kind", "NON_IDEMPOTENT").put("stage", "carrier-update").put("field", "eventId");
      defect = "DUPLICATE_WEBHOOK_NON_IDEMPOTENT";
    }
    if (index == MISSING_ENRICHMENT) {
      violations.addObject().put("kind", "MISSING_ENRICHMENT").put("stage", "shipment-requested")
          .put("field", "requestedAt");
      defect = "DROP_ENRICHMENT";
    }
    verdict.put("status", violations.isEmpty() ? "PASSED" : "FAILED");
    verdict.set("violations", violations);
    verdict.put("defect", defect);
    verdict.put("start", Instant.ofEpochSecond(0, t).toString());
  }

  /**
   * One delivery of a carrier event: tracking-service takes the webhook and publishes
   * shipments.updated (older conventions); shipment-service consumes it and, on the first
   * DELIVERED, publishes shipments.delivered.
   */
  private void webhook(String orderId, String shipmentId, String trackingNumber, String eventId, String status,
      long at, boolean firstDelivery) throws IOException {
    ObjectNode event = JSON.createObjectNode().put("eventId", eventId).put("trackingNumber", trackingNumber)
        .put("status", status).put("occurredAt", time(at - 250 * MS));
    Span hook = start("tracking-service", SpanKind.SERVER, "POST /webhooks/carrier", Context.root(), at,
        http("POST", "/webhooks/carrier", 200, event.toString(), null));
    long offset = records.getOrDefault("shipments.updated", List.of()).size();
    Span send = start("tracking-service", SpanKind.PRODUCER, "shipments.updated publish", parent(hook), at + 6 * MS,
        messaging("shipments.updated", "send", offset, true));
    ObjectNode update = JSON.createObjectNode().put("trackingNumber", trackingNumber).put("status", status)
        .put("occurredAt", time(at - 250 * MS)).put("eventId", eventId);
    KafkaRecord r = publish("shipments.updated", trackingNumber, update.toString(), send, at + 8 * MS);
    end(send, at + 9 * MS);
    end(hook, at + 14 * MS);

    long c = at + 35 * MS + random.nextInt(20) * MS;
    Span process = start("shipment-service", SpanKind.CONSUMER, "process shipments.updated",
        remote(r.lastHeader("traceparent").orElseThrow().valueAsString()), c,
        messaging("shipments.updated", "process", r.offset(), false));
    if (status.equals("DELIVERED") && firstDelivery) {
      ObjectNode delivered = JSON.createObjectNode().put("orderId", orderId).put("shipmentId", shipmentId)
          .put("trackingNumber", trackingNumber).put("deliveredAt", time(at - 250 * MS));
      Span sendDelivered = start("shipment-service", SpanKind.PRODUCER, "send shipments.delivered", parent(process),
          c + 4 * MS, messaging("shipments.delivered", "send",
              records.getOrDefault("shipments.delivered", List.of()).size(), false));
      publish("shipments.delivered", orderId, delivered.toString(), sendDelivered, c + 6 * MS);
      end(sendDelivered, c + 7 * MS);
    }
    end(process, c + 11 * MS);
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "ShipmentTrackingSample[seed %d, %d shipments]", SEED, SHIPMENTS);
  }
}
