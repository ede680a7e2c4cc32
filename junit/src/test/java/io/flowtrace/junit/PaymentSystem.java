package io.flowtrace.junit;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.TracerProvider;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The system the extension's tests drive, in this JVM: {@code pay-service} takes {@code POST /pay}
 * (a SERVER span with the body) and publishes {@code payments.requested}; the {@code ledger}
 * consumes it (a CONSUMER span) and publishes {@code ledger.entries}. Real Kafka, real OpenTelemetry
 * SDK, W3C trace context in the record headers. Switches plant defects; {@link #reset()} clears them.
 */
final class PaymentSystem implements AutoCloseable {

  static final String REQUESTED = "payments.requested";
  static final String LEDGER = "ledger.entries";
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final W3CTraceContextPropagator W3C = W3CTraceContextPropagator.getInstance();

  /** pay-service publishes once per eventId (else once per request). */
  volatile boolean payIdempotent = true;
  /** The ledger books once per eventId (else once per record). */
  volatile boolean ledgerIdempotent = true;
  /** The ledger books one unit more than requested. */
  volatile boolean wrongAmount;
  /** The ledger books nothing. */
  volatile boolean ledgerDown;
  /** The ledger publishes its booking without the trace context (no traceparent header). */
  volatile boolean ledgerDropsContext;
  /**
   * When set, the ledger's clock is this far behind and it starts processing 1 ms after the record
   * was written (as on a quiet machine), so its span starts before the record it consumes.
   */
  volatile Duration ledgerClockBehind;

  private final ExporterSwitch exporter;
  private final SdkTracerProvider payTracing;
  private final SdkTracerProvider ledgerTracing;
  /** Tracer providers a test chose for a service (sampled out, skewed clock, batched export). */
  private final Map<String, TracerProvider> tracing = new ConcurrentHashMap<>();
  private final HttpServer server;
  private final KafkaProducer<String, String> producer;
  private final Thread ledger;
  private final HttpClient http = HttpClient.newHttpClient();
  private final Set<String> paid = ConcurrentHashMap.newKeySet();
  private final Set<String> booked = ConcurrentHashMap.newKeySet();
  private volatile boolean running = true;
  /** The first send the ledger could not make: {@link #pay} reports it, as the test's next step. */
  private volatile IllegalStateException ledgerFailure;

  private PaymentSystem(String bootstrapServers, SpanExporter spans) throws IOException {
    this.exporter = new ExporterSwitch(spans);
    this.payTracing = tracing("pay-service");
    this.ledgerTracing = tracing("ledger");
    this.producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class));
    KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class));
    TopicPartition partition = new TopicPartition(REQUESTED, 0);
    consumer.assign(List.of(partition));
    consumer.seekToEnd(List.of(partition));
    consumer.position(partition); // positioned now: every later record is read
    this.ledger = new Thread(() -> ledgerLoop(consumer), "ledger");
    this.ledger.start();
    this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/pay", this::pay);
    server.start();
  }

  /** The broker the module's test classes share, with this system's topics. */
  static SharedKafka kafka() {
    return SharedKafka.create().withTopic(REQUESTED, 1).withTopic(LEDGER, 1);
  }

  static PaymentSystem start(String bootstrapServers, SpanExporter spans) throws IOException {
    return new PaymentSystem(bootstrapServers, spans);
  }

  /** Sends spans to this exporter from now on. */
  void exportTo(SpanExporter spans) {
    exporter.delegate = spans;
  }

  /** Traces {@code service} ({@code pay-service} or {@code ledger}) with this provider until {@link #reset()}. */
  void traceWith(String service, TracerProvider provider) {
    tracing.put(service, provider);
  }

  /** Switches every defect off and traces each service with its own provider again. */
  void reset() {
    payIdempotent = true;
    ledgerIdempotent = true;
    wrongAmount = false;
    ledgerDown = false;
    ledgerDropsContext = false;
    ledgerClockBehind = null;
    tracing.clear();
  }

  private Tracer tracer(String service, SdkTracerProvider own) {
    return tracing.getOrDefault(service, own).get(service);
  }

  /** Pays {@code amount} through {@code POST /pay}; returns the payment id. */
  String pay(String amount) throws IOException, InterruptedException {
    return pay(amount, "pay-" + UUID.randomUUID());
  }

  /**
   * Throws when the ledger could not publish a booking: its consumer thread cannot fail the test
   * itself, so the next {@link #pay} and each test's end ask here.
   */
  void assertNothingLost() {
    IllegalStateException lost = ledgerFailure;
    if (lost != null) {
      throw new IllegalStateException("the ledger lost a booking: " + lost.getMessage(), lost);
    }
  }

  /** Pays {@code amount} under a payment id of the caller's (a new event id each time). */
  String pay(String amount, String paymentId) throws IOException, InterruptedException {
    return post("{\"paymentId\":\"" + paymentId + "\",\"eventId\":\"evt-" + UUID.randomUUID()
        + "\",\"amount\":" + amount + "}", paymentId);
  }

  /** Pays {@code amount}, and after {@code pause} sends the same request again (a client's retry). */
  String payTwice(String amount, Duration pause) throws IOException, InterruptedException {
    String paymentId = "pay-" + UUID.randomUUID();
    String body = "{\"paymentId\":\"" + paymentId + "\",\"eventId\":\"evt-" + UUID.randomUUID()
        + "\",\"amount\":" + amount + "}";
    post(body, paymentId);
    Thread.sleep(pause.toMillis());
    return post(body, paymentId);
  }

  private String post(String body, String paymentId) throws IOException, InterruptedException {
    assertNothingLost();
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
        + server.getAddress().getPort() + "/pay")).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 202) {
      throw new IllegalStateException("POST /pay answered " + r.statusCode() + ": " + r.body());
    }
    return paymentId;
  }

  private void pay(HttpExchange exchange) throws IOException {
    try (exchange) {
      String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      Span span = tracer("pay-service", payTracing).spanBuilder("POST /pay").setSpanKind(SpanKind.SERVER)
          .setAttribute("http.request.method", "POST")
          .setAttribute("url.scheme", "http")
          .setAttribute("server.address", "127.0.0.1")
          .setAttribute("server.port", (long) server.getAddress().getPort())
          .setAttribute("url.path", "/pay")
          .setAttribute("http.request.body", body)
          .startSpan();
      try (Scope scope = span.makeCurrent()) {
        JsonNode payment = JSON.readTree(body);
        if (!payIdempotent || paid.add(payment.path("eventId").asString())) {
          try {
            send(REQUESTED, payment.path("paymentId").asString(), body);
          } catch (IllegalStateException e) {
            byte[] why = e.getMessage().getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(500, why.length);
            exchange.getResponseBody().write(why);
            return;
          }
        }
        exchange.sendResponseHeaders(202, -1);
      } finally {
        span.end();
      }
    }
  }

  private void ledgerLoop(KafkaConsumer<String, String> consumer) {
    try (consumer) {
      while (running) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(50))) {
          book(r);
        }
      }
    } catch (org.apache.kafka.common.errors.InterruptException e) {
      // closing
    }
  }

  private void book(ConsumerRecord<String, String> record) {
    Context parent = W3C.extract(Context.root(), record.headers(), HEADERS);
    io.opentelemetry.api.trace.SpanBuilder builder = tracer("ledger", ledgerTracing).spanBuilder("process " + REQUESTED);
    Duration behind = ledgerClockBehind;
    if (behind != null) {
      builder.setStartTimestamp(record.timestamp() * 1_000_000L + 1_000_000L - behind.toNanos(),
          java.util.concurrent.TimeUnit.NANOSECONDS);
    }
    Span span = builder.setParent(parent)
        .setSpanKind(SpanKind.CONSUMER)
        .setAttribute("messaging.system", "kafka")
        .setAttribute("messaging.destination.name", REQUESTED)
        .setAttribute("messaging.operation.type", "process")
        .setAttribute("messaging.destination.partition.id", Integer.toString(record.partition()))
        .setAttribute("messaging.kafka.offset", record.offset())
        .startSpan();
    try (Scope scope = span.makeCurrent()) {
      ObjectNode payment = (ObjectNode) JSON.readTree(record.value());
      if (ledgerDown || !(!ledgerIdempotent || booked.add(payment.path("eventId").asString()))) {
        return;
      }
      ObjectNode entry = JSON.createObjectNode().put("paymentId", payment.path("paymentId").asString())
          .put("eventId", payment.path("eventId").asString())
          .put("amount", payment.path("amount").decimalValue().add(wrongAmount ? java.math.BigDecimal.ONE
              : java.math.BigDecimal.ZERO));
      try (Scope lost = ledgerDropsContext ? Context.root().makeCurrent() : Scope.noop()) {
        send(LEDGER, entry.path("paymentId").asString(), entry.toString());
      } catch (IllegalStateException e) {
        if (ledgerFailure == null) {
          ledgerFailure = e;
        }
      }
    } finally {
      span.end();
    }
  }

  /** Publishes in the current trace: the W3C traceparent goes into the record's headers. */
  private void send(String topic, String key, String value) {
    ProducerRecord<String, String> record = new ProducerRecord<>(topic, key, value);
    W3C.inject(Context.current(), record.headers(), (headers, name, v) ->
        headers.add(name, v.getBytes(StandardCharsets.UTF_8)));
    try {
      producer.send(record).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("sending to " + topic + " failed: " + e.getCause(), e.getCause());
    }
  }

  private SdkTracerProvider tracing(String service) {
    return provider(service, Sampler.parentBased(Sampler.alwaysOn()), SimpleSpanProcessor.create(exporter));
  }

  /** An SDK for {@code service} (its {@code service.name}) with a test's own sampler and span processor. */
  static SdkTracerProvider provider(String service, Sampler sampler, SpanProcessor processor) {
    return SdkTracerProvider.builder()
        .setResource(Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), service)))
        .setSampler(sampler)
        .addSpanProcessor(processor)
        .build();
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    server.stop(0);
    ledger.join(5_000);
    producer.close();
    payTracing.close();
    ledgerTracing.close();
  }

  private static final TextMapGetter<Headers> HEADERS = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(Headers headers) {
      List<String> keys = new ArrayList<>();
      headers.forEach(h -> keys.add(h.key()));
      return keys;
    }

    @Override
    public String get(Headers headers, String key) {
      Header h = headers == null ? null : headers.lastHeader(key);
      return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
  };

  /** Lets the tests move the spans to another extension's exporter. */
  private static final class ExporterSwitch implements SpanExporter {
    volatile SpanExporter delegate;

    ExporterSwitch(SpanExporter delegate) {
      this.delegate = delegate;
    }

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      return delegate.export(spans);
    }

    @Override
    public CompletableResultCode flush() {
      return delegate.flush();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }
}
