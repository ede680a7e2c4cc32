package io.flowtrace.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.flowtrace.kafka.testkit.Await;
import io.flowtrace.kafka.testkit.HeadlessChromium;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The sidecar's live page ({@code GET /} on the ops port), looked at in headless Chromium: failed
 * verdicts first with their sequence diagrams, refreshing by itself, markup in telemetry as text,
 * and served read-only with a Content-Security-Policy that allows no inline code.
 */
class LivePageIT {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String ATTACK = "</script><script>window.__pwned=1</script>\"><img src=x onerror=window.__pwned=2>";
  private final HttpClient http = HttpClient.newHttpClient();

  @TempDir Path dir;

  @Test
  void showsFailedVerdictsWithTheirDiagramAndRefreshesByItself() throws Exception {
    assumeTrue(HeadlessChromium.unavailable().isEmpty(), () -> HeadlessChromium.unavailable().orElse(""));
    Path flows = dir.resolve("flows");
    copyTree(Path.of("../flows"), flows);
    Path spec = flows.resolve("order-creation/order-creation.flow.yaml");
    Files.writeString(spec, Files.readString(spec).replace("deadline: 30s", "deadline: 1s"));
    SidecarConfig config = SidecarConfig.from(null, Map.of(), Map.of("flows", flows.toString(), "otlp-http-port", "0",
        "otlp-grpc-port", "-1", "http-port", "0", "console", "false"));
    try (Sidecar sidecar = Sidecar.start(config); HeadlessChromium chrome = HeadlessChromium.start()) {
      String base = "http://127.0.0.1:" + sidecar.opsPort();
      export(sidecar, "5b8efff798038103d269b633813fc60c", "req-plain");
      export(sidecar, "6c9f0008a9149214e37ac744924fd71d", ATTACK);
      Await.until(() -> JSON.readTree(get(base + "/verdicts.json").body()).path("verdicts").size() == 2,
          () -> get(base + "/verdicts.json").body());

      HttpResponse<String> page = get(base + "/");
      assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
      assertThat(page.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(p ->
          assertThat(p).startsWith("default-src 'none'; script-src 'self';").doesNotContain("unsafe-inline"));
      assertThat(get(base + "/assets/flowtrace.js").headers().firstValue("Content-Type")).hasValue("text/javascript; charset=utf-8");
      assertThat(get(base + "/verdicts.json").headers().firstValue("Content-Type")).hasValue("application/json");
      assertThat(get(base + "/verdict.json?id=99999").statusCode()).isEqualTo(404);
      assertThat(get(base + "/nothing-here").statusCode()).isEqualTo(404);
      assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/verdicts.json")).POST(HttpRequest.BodyPublishers.noBody())
          .build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(405);

      chrome.viewport(1400, 900);
      chrome.open(base + "/");
      chrome.waitFor("document.body.dataset.readyMs", Duration.ofSeconds(15));
      assertThat(chrome.eval("document.querySelectorAll('.rows .row').length").asInt()).isEqualTo(2);
      assertThat(chrome.eval("document.querySelector('.rows .row').dataset.status").asString()).isEqualTo("FAILED");
      assertThat(chrome.eval("document.body.innerText").asString()).contains("MISSING_STAGE", "requestId=" + ATTACK);

      // open the failed instance: its diagram shows the stages that never came as dashed red arrows
      chrome.eval("Array.from(document.querySelectorAll('.rows .row')).find(r => r.textContent.includes('req-plain')).click()");
      chrome.waitFor("document.querySelector('#detail svg .hop.missing')", Duration.ofSeconds(10));
      assertThat(chrome.eval("document.querySelector('#detail svg .hop.missing.bad').dataset.stage").asString())
          .isEqualTo("order-requested");
      chrome.screenshot(Path.of("target/screenshots/live-page.png"), false);

      // it refreshes by itself: a third verdict shows up without a reload
      export(sidecar, "7da00119ba25a325f48bd855a35ee82e", "req-later");
      chrome.waitFor("document.querySelectorAll('.rows .row').length === 3", Duration.ofSeconds(20));
      assertThat(chrome.eval("document.getElementById('detail').dataset.instance").asString()).contains("req-plain");

      chrome.eval("Array.from(document.querySelectorAll('.rows .row')).find(r => r.textContent.includes('onerror')).click()");
      chrome.waitFor("(document.getElementById('detail').dataset.instance || '').includes('onerror')", Duration.ofSeconds(10));
      chrome.eval("document.querySelector('#detail svg .hop').dispatchEvent(new MouseEvent('click', {bubbles: true}))");
      assertThat(chrome.eval("document.getElementById('hop-panel').textContent").asString())
          .contains("</script><script>window.__pwned=1</script>\\\"><img src=x onerror=window.__pwned=2>");
      assertThat(chrome.eval("typeof window.__pwned").asString()).isEqualTo("undefined");
      assertThat(chrome.eval("document.querySelectorAll('img, [onerror]').length").asInt()).isZero();
      assertThat(chrome.eval("document.scripts.length").asInt()).isEqualTo(1);
      assertThat(chrome.dialogs()).isEmpty();
      assertThat(chrome.console()).noneMatch(c -> c.startsWith("exception"));
    }
  }

  /** A gateway SERVER span of an order request (body with this requestId), started now, as OTLP/JSON. */
  private void export(Sidecar sidecar, String traceId, String requestId) throws Exception {
    long start = Instant.now().toEpochMilli() * 1_000_000L;
    ObjectNode body = JSON.createObjectNode();
    body.putArray("items").addObject().put("productId", "P-100").put("quantity", 1);
    body.putObject("shipping").put("address", "1 Main St").put("city", "Springfield").put("zipCode", "12345");
    body.put("requestId", requestId);
    ObjectNode span = JSON.createObjectNode().put("traceId", traceId).put("spanId", "eee19b7ec3c1b174")
        .put("name", "POST /api/orders").put("kind", 2).put("startTimeUnixNano", String.valueOf(start))
        .put("endTimeUnixNano", String.valueOf(start + 5_000_000));
    span.putArray("attributes").addObject().put("key", "http.request.body").putObject("value")
        .put("stringValue", body.toString());
    ObjectNode request = JSON.createObjectNode();
    ObjectNode rs = request.putArray("resourceSpans").addObject();
    rs.putObject("resource").putArray("attributes").addObject().put("key", "service.name").putObject("value")
        .put("stringValue", "gateway");
    rs.putArray("scopeSpans").addObject().putArray("spans").add(span);
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(sidecar.otlpHttpEndpoint())
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(request.toString())).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
  }

  private HttpResponse<String> get(String url) {
    try {
      return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static void copyTree(Path from, Path to) throws java.io.IOException {
    try (Stream<Path> paths = Files.walk(from)) {
      for (Path p : paths.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }
}
