package io.flowtrace.example.order;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code gateway}: {@code POST /api/orders} with a bearer token; enriches the client body with {@code
 * userId}, {@code timestamp} and {@code requestId}, publishes it to {@code orders.requested} keyed by
 * {@code requestId} and answers 202 with the {@code requestId}.
 */
final class Gateway implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Gateway.class);

  /** Bearer tokens of the demo users. */
  static final Map<String, String> TOKENS = Map.of(
      "token-alice", "u-alice",
      "token-bob", "u-bob");

  private final Kafka kafka;
  private final HttpServer server;
  private final DefectSwitches defects;

  Gateway(String bootstrapServers, int port, DefectSwitches defects) throws IOException {
    this.defects = defects;
    this.kafka = new Kafka(bootstrapServers, "gateway");
    this.server = Http.server(port);
    server.createContext("/api/orders", this::handle);
    server.start();
    LOG.info("gateway listening on {}, defects {}", server.getAddress(), defects);
  }

  int port() {
    return server.getAddress().getPort();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!"POST".equals(exchange.getRequestMethod())) {
        Http.reply(exchange, 405, Http.error("POST only"));
        return;
      }
      String body = Http.requestBody(exchange);
      String auth = exchange.getRequestHeaders().getFirst("Authorization");
      String userId = auth != null && auth.startsWith("Bearer ") ? TOKENS.get(auth.substring(7).trim()) : null;
      if (userId == null) {
        Http.reply(exchange, 401, Http.error("unknown or missing bearer token"));
        return;
      }
      JsonNode client;
      try {
        client = Json.read(body);
      } catch (JacksonException e) {
        Http.reply(exchange, 400, Http.error("body is not JSON: " + e.getOriginalMessage()));
        return;
      }
      if (!client.isObject()) {
        Http.reply(exchange, 400, Http.error("body must be a JSON object"));
        return;
      }
      String requestId = UUID.randomUUID().toString();
      ObjectNode enriched = ((ObjectNode) client).deepCopy();
      if (!defects.on(Defect.DROP_ENRICHMENT, client.path("items"))) {
        enriched.put("userId", userId);
      }
      enriched.put("timestamp", Json.now());
      enriched.put("requestId", requestId);
      kafka.send(Topics.ORDERS_REQUESTED, requestId, Json.bytes(enriched));
      Http.reply(exchange, 202, Json.text(Json.object().put("requestId", requestId)));
    } catch (RuntimeException e) {
      LOG.warn("POST /api/orders failed", e);
      Http.reply(exchange, 500, Http.error(e.toString()));
    }
  }

  @Override
  public void close() {
    server.stop(0);
    kafka.close();
  }
}
