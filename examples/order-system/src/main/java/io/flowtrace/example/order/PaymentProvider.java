package io.flowtrace.example.order;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * The fake external payment provider: {@code POST /payments} declines amounts whose cents are 13
 * (e.g. 7.13) and authorizes the rest; for an authorized payment it calls the webhook back after
 * {@code webhookDelay}, {@code deliveries} times with the same {@code eventId}. It is external: run
 * it without the agent, so the webhook starts a new trace.
 */
final class PaymentProvider implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(PaymentProvider.class);

  private final HttpServer server;
  private final URI webhook;
  private final Duration webhookDelay;
  private final int deliveries;
  private final HttpClient http = HttpClient.newHttpClient();
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

  PaymentProvider(int port, URI webhook, Duration webhookDelay, int deliveries) throws IOException {
    this.webhook = webhook;
    this.webhookDelay = webhookDelay;
    this.deliveries = deliveries;
    this.server = Http.server(port);
    server.createContext("/payments", this::payment);
    server.start();
    LOG.info("payment provider on {}, webhook {} after {} x{}", server.getAddress(), webhook, webhookDelay, deliveries);
  }

  int port() {
    return server.getAddress().getPort();
  }

  static boolean declines(BigDecimal amount) {
    return amount.movePointRight(2).remainder(BigDecimal.valueOf(100)).intValue() == 13;
  }

  private void payment(HttpExchange exchange) throws IOException {
    try (exchange) {
      JsonNode request;
      try {
        request = Json.read(Http.requestBody(exchange));
      } catch (JacksonException e) {
        Http.reply(exchange, 400, Http.error("body is not JSON"));
        return;
      }
      String orderId = request.path("orderId").asString("");
      String transactionId = "tx-" + UUID.randomUUID();
      boolean declined = declines(request.path("amount").decimalValue());
      var response = Json.object().put("transactionId", transactionId)
          .put("status", declined ? "declined" : "authorized");
      if (!declined) {
        response.put("authCode", "A" + (int) (Math.random() * 100_000));
        String event = Json.text(Json.object().put("eventId", "evt-" + UUID.randomUUID())
            .put("transactionId", transactionId).put("orderId", orderId).put("status", "captured"));
        for (int i = 0; i < deliveries; i++) {
          scheduler.schedule(() -> deliver(event), webhookDelay.toMillis() * (i + 1), TimeUnit.MILLISECONDS);
        }
      }
      Http.reply(exchange, 200, Json.text(response));
    }
  }

  private void deliver(String event) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(webhook).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(event)).build(), HttpResponse.BodyHandlers.ofString());
      LOG.info("webhook {} -> {}", event, r.statusCode());
    } catch (IOException e) {
      LOG.warn("webhook delivery failed: {}", e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
    server.stop(0);
  }
}
