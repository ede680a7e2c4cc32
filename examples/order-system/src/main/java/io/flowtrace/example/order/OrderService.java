package io.flowtrace.example.order;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code order-service}: turns {@code orders.requested} into an order (inventory request/reply, user
 * look-up, pricing, {@code orders.created}), asks the payment provider ({@code POST /payments}),
 * cancels on {@code declined} ({@code orders.cancelled}) and confirms on the provider's webhook
 * {@code POST /webhooks/payment} ({@code orders.confirmed}), once per {@code eventId}.
 *
 * <p>The payment call is a CLIENT span named {@code POST} with {@code url.full} made through the
 * OpenTelemetry API (so the request and response bodies land on it for certain); run the agent with
 * {@code OTEL_INSTRUMENTATION_JAVA_HTTP_CLIENT_ENABLED=false} so it does not add a second one.
 */
final class OrderService implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(OrderService.class);

  /** Users by id: e-mail and name. */
  static final Map<String, User> USERS = Map.of(
      "u-alice", new User("alice@example.com", "Alice Example"),
      "u-bob", new User("bob@example.com", "Bob Example"));

  /** Unit prices by product id. */
  static final Map<String, BigDecimal> CATALOG = Map.of(
      "P-100", new BigDecimal("19.99"),
      "P-200", new BigDecimal("5.50"),
      "P-300", new BigDecimal("7.13"),
      "P-400", new BigDecimal("0.10"));

  static final String CURRENCY = "USD";

  /** Who an order without a known {@code userId} is for. */
  static final String GUEST_ID = "u-guest";
  static final User GUEST = new User("guest@example.com", "Guest");

  record User(String email, String name) {}

  private final Kafka kafka;
  private final HttpServer server;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final Tracer tracer = GlobalOpenTelemetry.getTracer("io.flowtrace.example.order");
  private final URI paymentUri;
  private final DefectSwitches defects;
  private final Map<String, ObjectNode> requested = new ConcurrentHashMap<>();
  private final Map<String, ObjectNode> orders = new ConcurrentHashMap<>();
  private final Set<String> seenEvents = ConcurrentHashMap.newKeySet();

  OrderService(String bootstrapServers, int webhookPort, URI paymentUri, DefectSwitches defects) throws IOException {
    this.paymentUri = paymentUri;
    this.defects = defects;
    this.kafka = new Kafka(bootstrapServers, "order-service");
    this.server = Http.server(webhookPort);
    server.createContext("/webhooks/payment", this::webhook);
    server.start();
    kafka.consume("order-service", List.of(Topics.ORDERS_REQUESTED, Topics.INVENTORY_REPLIES), this::handle);
    LOG.info("order-service webhook on {}, payments at {}, defects {}", server.getAddress(), paymentUri, defects);
  }

  int port() {
    return server.getAddress().getPort();
  }

  private void handle(ConsumerRecord<String, byte[]> record) {
    if (Topics.ORDERS_REQUESTED.equals(record.topic())) {
      requested(Json.read(record.value()));
    } else {
      inventoryReply(Json.read(record.value()));
    }
  }

  private void requested(JsonNode request) {
    String orderId = "ord-" + UUID.randomUUID();
    requested.put(orderId, (ObjectNode) request);
    ObjectNode ask = Json.object().put("orderId", orderId).put("requestId", request.path("requestId").asString());
    ArrayNode items = ask.putArray("items");
    for (JsonNode item : request.path("items")) {
      items.addObject().put("productId", item.path("productId").asString()).put("quantity", item.path("quantity").asInt());
    }
    kafka.send(Topics.INVENTORY_REQUESTS, orderId, Json.bytes(ask));
  }

  private void inventoryReply(JsonNode reply) {
    String orderId = reply.path("orderId").asString();
    ObjectNode request = requested.remove(orderId);
    if (request == null) {
      LOG.warn("inventory reply for unknown order {}", orderId);
      return;
    }
    if (!reply.path("available").asBoolean()) {
      LOG.warn("order {}: items not available, dropped", orderId);
      return;
    }
    String userId = request.path("userId").asString(GUEST_ID); // a missing userId goes unnoticed here
    User user = USERS.getOrDefault(userId, GUEST);
    ObjectNode order = Json.object().put("orderId", orderId).put("requestId", request.path("requestId").asString())
        .put("userId", userId).put("userEmail", user.email()).put("userName", user.name());
    ArrayNode items = order.putArray("items");
    BigDecimal total = BigDecimal.ZERO;
    for (JsonNode item : request.path("items")) {
      String productId = item.path("productId").asString();
      int quantity = item.path("quantity").asInt();
      BigDecimal price = CATALOG.getOrDefault(productId, BigDecimal.ONE);
      items.addObject().put("productId", productId).put("quantity", quantity).put("unitPrice", price);
      total = total.add(price.multiply(BigDecimal.valueOf(quantity)));
    }
    if (defects.on(Defect.WRONG_TOTAL, request.path("items"))) {
      total = total.add(BigDecimal.ONE);
    }
    total = total.setScale(2, RoundingMode.HALF_UP);
    order.put("total", total).put("currency", CURRENCY).put("status", "pending");
    orders.put(orderId, order);
    kafka.send(Topics.ORDERS_CREATED, orderId, Json.bytes(order));

    BigDecimal amount = defects.on(Defect.PAYMENT_AMOUNT_MISMATCH, request.path("items")) ? total.add(new BigDecimal("0.50")) : total;
    String paymentRequest = Json.text(Json.object().put("amount", amount).put("currency", CURRENCY).put("orderId", orderId));
    JsonNode payment = pay(paymentRequest);
    if (payment == null) {
      return;
    }
    String status = payment.path("status").asString();
    order.put("transactionId", payment.path("transactionId").asString());
    if ("declined".equals(status)) {
      order.put("status", "cancelled");
      ObjectNode cancelled = Json.object().put("orderId", orderId).put("reason", "payment_declined")
          .put("cancelledAt", Json.now());
      kafka.send(Topics.ORDERS_CANCELLED, orderId, Json.bytes(cancelled));
    }
  }

  /** {@code POST /payments} in a CLIENT span carrying both bodies; null when the call failed. */
  private JsonNode pay(String body) {
    Span span = tracer.spanBuilder("POST").setSpanKind(SpanKind.CLIENT)
        .setAttribute("http.request.method", "POST")
        .setAttribute("url.full", paymentUri.toString())
        .setAttribute("server.address", paymentUri.getHost())
        .setAttribute("server.port", (long) paymentUri.getPort())
        .startSpan();
    try (Scope scope = span.makeCurrent()) {
      Span.current().setAttribute(Http.REQUEST_BODY, body);
      HttpRequest.Builder request = HttpRequest.newBuilder(paymentUri).timeout(Duration.ofSeconds(10))
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
      GlobalOpenTelemetry.getPropagators().getTextMapPropagator()
          .inject(Context.current(), request, (r, k, v) -> r.header(k, v));
      HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
      Span.current().setAttribute("http.response.status_code", (long) response.statusCode());
      Span.current().setAttribute(Http.RESPONSE_BODY, response.body());
      if (response.statusCode() >= 400) {
        span.setStatus(StatusCode.ERROR);
        LOG.warn("payment failed: {} {}", response.statusCode(), response.body());
        return null;
      }
      return Json.read(response.body());
    } catch (IOException | JacksonException e) {
      span.setStatus(StatusCode.ERROR, e.toString());
      LOG.warn("payment call failed", e);
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    } finally {
      span.end();
    }
  }

  private void webhook(HttpExchange exchange) throws IOException {
    try (exchange) {
      JsonNode event;
      try {
        event = Json.read(Http.requestBody(exchange));
      } catch (JacksonException e) {
        Http.reply(exchange, 400, Http.error("body is not JSON"));
        return;
      }
      String orderId = event.path("orderId").asString("");
      ObjectNode order = orders.get(orderId);
      if (order == null) {
        Http.reply(exchange, 404, Http.error("unknown order " + orderId));
        return;
      }
      boolean first = seenEvents.add(event.path("eventId").asString(""));
      if ((first || defects.on(Defect.NON_IDEMPOTENT_WEBHOOK, order.path("items"))) && "captured".equals(event.path("status").asString())) {
        order.put("status", "confirmed");
        ObjectNode confirmed = Json.object().put("orderId", orderId)
            .put("transactionId", event.path("transactionId").asString()).put("status", "confirmed")
            .put("confirmedAt", Json.now());
        kafka.send(Topics.ORDERS_CONFIRMED, orderId, Json.bytes(confirmed));
      }
      Http.reply(exchange, 200, Json.text(Json.object().put("received", true)));
    } catch (RuntimeException e) {
      LOG.warn("POST /webhooks/payment failed", e);
      Http.reply(exchange, 500, Http.error(e.toString()));
    }
  }

  @Override
  public void close() {
    server.stop(0);
    kafka.close();
  }
}
