package io.flowtrace.sidecar.internal;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/** The operations endpoint: {@code /metrics} (Prometheus text), {@code /healthz}, {@code /readyz}. */
public final class OpsServer implements Closeable {

  /** A health or readiness answer: ok, and a line saying why not. */
  public record Status(boolean ok, String detail) {}

  private final HttpServer server;

  public OpsServer(String host, int port, SidecarMetrics metrics, Supplier<Status> health, Supplier<Status> ready)
      throws IOException {
    io.flowtrace.tracer.receiver.OtlpHttpReceiver.boundRequestTime(); // the JDK reads it at its first server
    server = HttpServer.create(new InetSocketAddress(host, port), 16);
    server.createContext("/metrics", ex -> {
      if (methodAllowed(ex)) {
        respond(ex, 200, SidecarMetrics.contentType(), metrics.scrape());
      }
    });
    server.createContext("/healthz", ex -> status(ex, health.get()));
    server.createContext("/readyz", ex -> status(ex, ready.get()));
    server.setExecutor(Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "flowtrace-ops-http");
      t.setDaemon(true);
      return t;
    }));
    server.start();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private static void status(HttpExchange ex, Status s) throws IOException {
    if (methodAllowed(ex)) {
      respond(ex, s.ok() ? 200 : 503, "text/plain; charset=utf-8", (s.ok() ? "ok" : "not ok") + ": " + s.detail() + "\n");
    }
  }

  private static boolean methodAllowed(HttpExchange ex) throws IOException {
    if ("GET".equals(ex.getRequestMethod()) || "HEAD".equals(ex.getRequestMethod())) {
      return true;
    }
    ex.getResponseHeaders().add("Allow", "GET, HEAD");
    respond(ex, 405, "text/plain; charset=utf-8", "method not allowed\n");
    return false;
  }

  private static void respond(HttpExchange ex, int code, String type, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", type);
    boolean head = "HEAD".equals(ex.getRequestMethod());
    ex.sendResponseHeaders(code, head ? -1 : bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      if (!head) {
        out.write(bytes);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
  }
}
