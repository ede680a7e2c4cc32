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
import io.flowtrace.verifier.report.html.HtmlAssets;

/**
 * The operations endpoint: {@code /metrics} (Prometheus text), {@code /healthz}, {@code /readyz},
 * and the live page: {@code /} (recent verdicts, failed first, with each one's sequence diagram),
 * {@code /verdicts.json} (what it shows, fetched every few seconds), {@code /verdict.json?id=N}
 * (one verdict's diagram data) and {@code /assets/flowtrace.js|css} — the very script and stylesheet
 * of the replay report ({@link HtmlAssets}). Read-only (GET/HEAD).
 *
 * <p>The page has no inline script or style, so its Content-Security-Policy allows scripts,
 * styles and fetches from the sidecar itself only ({@code 'self'}, no {@code 'unsafe-inline'}):
 * even markup smuggled into a payload could not run. The script shows every value as text anyway.
 */
public final class OpsServer implements Closeable {

  /** A health or readiness answer: ok, and a line saying why not. */
  public record Status(boolean ok, String detail) {}

  private final HttpServer server;

  /** How often the live page refreshes. */
  static final int REFRESH_SECONDS = 3;
  static final String PAGE_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self';"
      + " img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

  public OpsServer(String host, int port, SidecarMetrics metrics, Supplier<Status> health, Supplier<Status> ready)
      throws IOException {
    this(host, port, metrics, health, ready, null);
  }

  /** With the live page of {@code live} (none when {@code null}). */
  public OpsServer(String host, int port, SidecarMetrics metrics, Supplier<Status> health, Supplier<Status> ready,
      LiveVerdicts live) throws IOException {
    io.flowtrace.tracer.receiver.OtlpHttpReceiver.boundRequestTime(); // the JDK reads it at its first server
    server = HttpServer.create(new InetSocketAddress(host, port), 16);
    server.createContext("/metrics", ex -> {
      if (methodAllowed(ex)) {
        respond(ex, 200, SidecarMetrics.contentType(), metrics.scrape());
      }
    });
    server.createContext("/healthz", ex -> status(ex, health.get()));
    server.createContext("/readyz", ex -> status(ex, ready.get()));
    if (live != null) {
      server.createContext("/", ex -> {
        if (!methodAllowed(ex)) {
          return;
        }
        String path = ex.getRequestURI().getPath();
        switch (path) {
          case "/" -> {
            ex.getResponseHeaders().add("Content-Security-Policy", PAGE_POLICY);
            respond(ex, 200, "text/html; charset=utf-8", PAGE);
          }
          case "/assets/flowtrace.js" -> respond(ex, 200, "text/javascript; charset=utf-8", HtmlAssets.script());
          case "/assets/flowtrace.css" -> respond(ex, 200, "text/css; charset=utf-8", HtmlAssets.stylesheet());
          case "/verdicts.json" -> {
            ex.getResponseHeaders().add("Cache-Control", "no-store");
            respond(ex, 200, "application/json", live.verdictsJson(REFRESH_SECONDS));
          }
          case "/verdict.json" -> {
            ex.getResponseHeaders().add("Cache-Control", "no-store");
            String detail = null;
            String q = ex.getRequestURI().getRawQuery();
            if (q != null && q.matches("id=\\d{1,18}")) {
              detail = live.detailJson(Long.parseLong(q.substring(3)));
            }
            if (detail == null) {
              respond(ex, 404, "text/plain; charset=utf-8", "no such verdict (no longer held?)\n");
            } else {
              respond(ex, 200, "application/json", detail);
            }
          }
          default -> respond(ex, 404, "text/plain; charset=utf-8", "not found\n");
        }
      });
    }
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

  /** The live page: a shell the shared script fills in (no inline code: see the class comment). */
  private static final String PAGE = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      + "<title>flowtrace sidecar \u2014 live verdicts</title>\n"
      + "<link rel=\"stylesheet\" href=\"/assets/flowtrace.css\">\n</head>\n<body data-mode=\"live\">\n"
      + "<div id=\"app\"><noscript>This page needs JavaScript; the same data is at /verdicts.json.</noscript></div>\n"
      + "<script src=\"/assets/flowtrace.js\"></script>\n</body>\n</html>\n";

  private static void respond(HttpExchange ex, int code, String type, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", type);
    ex.getResponseHeaders().add("X-Content-Type-Options", "nosniff");
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
