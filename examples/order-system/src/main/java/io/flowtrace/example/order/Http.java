package io.flowtrace.example.order;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.api.trace.Span;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;

/** JDK HTTP server helpers; bodies go on the current (SERVER) span as the contract names them. */
final class Http {

  static final String REQUEST_BODY = "http.request.body";
  static final String RESPONSE_BODY = "http.response.body";

  private Http() {}

  /** The address HTTP servers bind to: {@code http.host}/{@code HTTP_HOST}, default 127.0.0.1 (0.0.0.0 in a container). */
  static String host() {
    return Config.get("http.host", "HTTP_HOST", "127.0.0.1");
  }

  static HttpServer server(int port) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(host(), port), 0);
    server.setExecutor(Executors.newFixedThreadPool(4));
    return server;
  }

  /** Reads the request body and puts it on the current span. */
  static String requestBody(HttpExchange exchange) throws IOException {
    String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    Span.current().setAttribute(REQUEST_BODY, body);
    return body;
  }

  /** Replies with a JSON body and puts it on the current span. */
  static void reply(HttpExchange exchange, int status, String json) throws IOException {
    Span.current().setAttribute(RESPONSE_BODY, json);
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  static String error(String message) {
    return Json.text(Json.object().put("error", message));
  }
}
