import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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

/**
 * The outside project's system under test, traced the way production code is: each service has
 * its own SDK with the default {@link BatchSpanProcessor} (spans leave every 5 s). {@code
 * order-service} takes {@code POST /orders} and publishes {@code orders.requested}; {@code billing}
 * consumes it and publishes {@code orders.confirmed}. Two switches plant defects.
 */
final class OrderSystem implements AutoCloseable {
  private static final W3CTraceContextPropagator W3C = W3CTraceContextPropagator.getInstance();
  private static final Pattern TOTAL = Pattern.compile("\"total\":\\s*([0-9.]+)");

  /** billing confirms one cent more than was requested. */
  volatile boolean wrongTotal;
  /** billing's consumer starts a trace of its own instead of continuing the record's. */
  volatile boolean billingLosesContext;

  private final SdkTracerProvider orderTracing;
  private final SdkTracerProvider billingTracing;
  private final KafkaProducer<String, String> producer;
  private final HttpServer server;
  private final Thread billing;
  private final HttpClient http = HttpClient.newHttpClient();
  private volatile boolean running = true;

  private OrderSystem(String bootstrapServers, SpanExporter spans) throws IOException {
    this.orderTracing = tracing("order-service", spans);
    this.billingTracing = tracing("billing", spans);
    this.producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class));
    KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class));
    TopicPartition requested = new TopicPartition("orders.requested", 0);
    consumer.assign(List.of(requested));
    consumer.seekToEnd(List.of(requested));
    consumer.position(requested);
    this.billing = new Thread(() -> billingLoop(consumer), "billing");
    billing.start();
    this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/orders", this::order);
    server.start();
  }

  static OrderSystem start(String bootstrapServers, SpanExporter spans) throws IOException {
    return new OrderSystem(bootstrapServers, spans);
  }

  /** Places an order through {@code POST /orders}; returns its request id. */
  String placeOrder(String total) throws IOException, InterruptedException {
    String requestId = "req-" + UUID.randomUUID();
    String body = "{\"requestId\":\"" + requestId + "\",\"total\":" + total + "}";
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
        + server.getAddress().getPort() + "/orders")).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 202) {
      throw new IllegalStateException("POST /orders answered " + r.statusCode() + ": " + r.body());
    }
    return requestId;
  }

  private void order(HttpExchange exchange) throws IOException {
    try (exchange) {
      String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      Span span = orderTracing.get("orders").spanBuilder("POST /orders").setSpanKind(SpanKind.SERVER)
          .setAttribute("http.request.method", "POST")
          .setAttribute("url.path", "/orders")
          .setAttribute("http.request.body", body)
          .startSpan();
      try (Scope scope = span.makeCurrent()) {
        send("orders.requested", field(body, "requestId"), body);
        exchange.sendResponseHeaders(202, -1);
      } finally {
        span.end();
      }
    }
  }

  private void billingLoop(KafkaConsumer<String, String> consumer) {
    try (consumer) {
      while (running) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(50))) {
          bill(r);
        }
      }
    } catch (org.apache.kafka.common.errors.InterruptException e) {
      // closing
    }
  }

  private void bill(ConsumerRecord<String, String> record) {
    Context parent = billingLosesContext ? Context.root() : W3C.extract(Context.root(), record.headers(), HEADERS);
    Span span = billingTracing.get("billing").spanBuilder("process orders.requested").setParent(parent)
        .setSpanKind(SpanKind.CONSUMER)
        .setAttribute("messaging.system", "kafka")
        .setAttribute("messaging.destination.name", "orders.requested")
        .setAttribute("messaging.destination.partition.id", Integer.toString(record.partition()))
        .setAttribute("messaging.kafka.offset", record.offset())
        .startSpan();
    try (Scope scope = span.makeCurrent()) {
      Matcher total = TOTAL.matcher(record.value());
      BigDecimal confirmed = new BigDecimal(total.find() ? total.group(1) : "0")
          .add(wrongTotal ? new BigDecimal("0.01") : BigDecimal.ZERO);
      String requestId = field(record.value(), "requestId");
      send("orders.confirmed", requestId, "{\"requestId\":\"" + requestId + "\",\"orderId\":\"ord-"
          + UUID.randomUUID() + "\",\"total\":" + confirmed.toPlainString() + "}");
    } finally {
      span.end();
    }
  }

  /** Publishes in the current trace (W3C traceparent in the headers) and waits for the acknowledgement. */
  private void send(String topic, String key, String value) {
    ProducerRecord<String, String> record = new ProducerRecord<>(topic, key, value);
    W3C.inject(Context.current(), record.headers(), (headers, name, v) ->
        headers.add(name, v.getBytes(StandardCharsets.UTF_8)));
    try {
      producer.send(record).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("sending to " + topic + " failed: " + e.getCause(), e.getCause());
    }
  }

  private static String field(String json, String name) {
    Matcher m = Pattern.compile("\"" + name + "\":\\s*\"([^\"]*)\"").matcher(json);
    return m.find() ? m.group(1) : null;
  }

  private static SdkTracerProvider tracing(String service, SpanExporter spans) {
    return SdkTracerProvider.builder()
        .setResource(Resource.getDefault().merge(Resource.create(
            Attributes.of(AttributeKey.stringKey("service.name"), service))))
        .addSpanProcessor(BatchSpanProcessor.builder(spans).build())   // the SDK's defaults: every 5 s
        .build();
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    server.stop(0);
    billing.join(5_000);
    producer.close();
    orderTracing.close();
    billingTracing.close();
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
}
