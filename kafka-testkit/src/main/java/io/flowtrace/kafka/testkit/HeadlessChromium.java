package io.flowtrace.kafka.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * A real browser for tests of flowtrace's HTML pages: Debian's {@code chromium}, headless, driven
 * over the DevTools protocol with the JDK's own WebSocket client (no WebDriver, nothing downloaded).
 *
 * <pre>{@code
 * try (HeadlessChromium chrome = HeadlessChromium.start()) {
 *   chrome.open("file:///…/report.html");
 *   chrome.waitFor("document.body.dataset.readyMs", Duration.ofSeconds(10));
 *   JsonNode n = chrome.eval("document.querySelectorAll('.hop.bad').length");
 *   chrome.screenshot(Path.of("target/report.png"));
 * }
 * }</pre>
 *
 * <p>JavaScript dialogs ({@code alert}) are dismissed and recorded: {@link #dialogs()}. Tests call
 * {@link #unavailable()} to skip outside CI when no browser is installed; in CI (the {@code CI}
 * variable set) they must run, so {@code .ci/run} installs it.
 */
public final class HeadlessChromium implements AutoCloseable {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final Process process;
  private final Path profile;
  private final WebSocket socket;
  private final AtomicInteger ids = new AtomicInteger();
  private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
  private final List<String> dialogs = new CopyOnWriteArrayList<>();
  private final List<String> console = new CopyOnWriteArrayList<>();
  private volatile CompletableFuture<Void> loaded = new CompletableFuture<>();

  private HeadlessChromium(Process process, Path profile, WebSocket socket) {
    this.process = process;
    this.profile = profile;
    this.socket = socket;
  }

  /** The browser binary: {@code $CHROMIUM}, else {@code chromium}, {@code chromium-browser} or {@code google-chrome} on the PATH. */
  public static Optional<Path> find() {
    String env = System.getenv("CHROMIUM");
    if (env != null && Files.isExecutable(Path.of(env))) {
      return Optional.of(Path.of(env));
    }
    String path = System.getenv().getOrDefault("PATH", "");
    for (String name : List.of("chromium", "chromium-browser", "google-chrome")) {
      for (String dir : path.split(java.io.File.pathSeparator)) {
        Path p = Path.of(dir, name);
        if (!dir.isEmpty() && Files.isExecutable(p)) {
          return Optional.of(p);
        }
      }
    }
    return Optional.empty();
  }

  /**
   * Why a browser test cannot run here, or empty when it can: no browser and not in CI. In CI
   * (environment variable {@code CI} set) a missing browser is not a reason: the test must fail.
   */
  public static Optional<String> unavailable() {
    if (find().isPresent() || System.getenv("CI") != null) {
      return Optional.empty();
    }
    return Optional.of("no chromium on PATH (apt-get install chromium); browser tests are skipped outside CI");
  }

  /** Starts headless Chromium with a fresh profile and attaches to its first page. */
  public static HeadlessChromium start() throws IOException {
    Path binary = find().orElseThrow(() -> new IOException(
        "flowtrace: no chromium on PATH (apt-get install chromium), and CI is set: the browser tests must run"));
    Path profile = Files.createTempDirectory("flowtrace-chromium-");
    List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
        "--hide-scrollbars", "--mute-audio", "--remote-debugging-port=0", "--remote-allow-origins=*",
        "--user-data-dir=" + profile, "--window-size=1400,1000", "about:blank"));
    Process process = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    try {
      String browserWs = devToolsAddress(process);
      URI ws = URI.create(browserWs);
      HttpClient http = HttpClient.newHttpClient();
      String list = http.send(HttpRequest.newBuilder(URI.create("http://" + ws.getAuthority() + "/json/list")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      String pageWs = null;
      for (JsonNode t : JSON.readTree(list)) {
        if ("page".equals(t.path("type").asString())) {
          pageWs = t.path("webSocketDebuggerUrl").asString();
          break;
        }
      }
      if (pageWs == null) {
        throw new IOException("flowtrace: chromium has no page target: " + list);
      }
      HeadlessChromium[] self = new HeadlessChromium[1];
      Listener listener = new Listener(self);
      WebSocket socket = http.newWebSocketBuilder().buildAsync(URI.create(pageWs), listener).get(10, TimeUnit.SECONDS);
      HeadlessChromium c = new HeadlessChromium(process, profile, socket);
      self[0] = c;
      c.send("Page.enable", Map.of());
      c.send("Runtime.enable", Map.of());
      return c;
    } catch (IOException e) {
      process.destroyForcibly();
      throw e;
    } catch (Exception e) {
      process.destroyForcibly();
      throw new IOException("flowtrace: could not attach to chromium: " + e, e);
    }
  }

  private static String devToolsAddress(Process process) throws IOException {
    BufferedReader err = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8));
    CompletableFuture<String> found = new CompletableFuture<>();
    StringBuilder seen = new StringBuilder();
    Thread reader = new Thread(() -> {
      try {
        String line;
        while ((line = err.readLine()) != null) {
          int at = line.indexOf("ws://");
          if (line.startsWith("DevTools listening on") && at >= 0) {
            found.complete(line.substring(at).trim());
          } else if (seen.length() < 4000) {
            seen.append(line).append('\n');
          }
        }
        found.completeExceptionally(new IOException("chromium exited: " + seen));
      } catch (IOException e) {
        found.completeExceptionally(e);
      }
    }, "chromium-stderr");
    reader.setDaemon(true);
    reader.start();
    try {
      return found.get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IOException("flowtrace: chromium did not open its DevTools port: " + e.getMessage() + "\n" + seen, e);
    }
  }

  /** Sends a DevTools command and waits for its result. */
  public JsonNode send(String method, Map<String, ?> params) {
    int id = ids.incrementAndGet();
    ObjectNode msg = JSON.createObjectNode();
    msg.put("id", id);
    msg.put("method", method);
    msg.set("params", JSON.valueToTree(params));
    CompletableFuture<JsonNode> answer = new CompletableFuture<>();
    pending.put(id, answer);
    socket.sendText(msg.toString(), true).join();
    try {
      JsonNode r = answer.get(60, TimeUnit.SECONDS);
      if (r.has("error")) {
        throw new IllegalStateException(method + ": " + r.get("error"));
      }
      return r.path("result");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException(method + " got no answer: " + e, e);
    } finally {
      pending.remove(id);
    }
  }

  /** Sets the viewport size (CSS pixels). */
  public void viewport(int width, int height) {
    send("Emulation.setDeviceMetricsOverride", Map.of("width", width, "height", height, "deviceScaleFactor", 1,
        "mobile", false));
  }

  /** Navigates and waits for the load event. */
  public void open(String url) {
    loaded = new CompletableFuture<>();
    send("Page.navigate", Map.of("url", url));
    try {
      loaded.get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("page did not load: " + url + ": " + e, e);
    }
  }

  /** Evaluates an expression in the page (promises awaited) and returns its value as JSON. */
  public JsonNode eval(String expression) {
    JsonNode r = send("Runtime.evaluate", Map.of("expression", expression, "returnByValue", true, "awaitPromise", true));
    if (r.has("exceptionDetails")) {
      throw new IllegalStateException("script failed: " + expression + "\n" + r.get("exceptionDetails"));
    }
    return r.path("result").path("value");
  }

  /** Waits until {@code expression} is truthy and returns its value. */
  public JsonNode waitFor(String expression, Duration timeout) {
    long end = System.nanoTime() + timeout.toNanos();
    while (true) {
      JsonNode v = eval(expression);
      boolean truthy = !(v.isMissingNode() || v.isNull() || (v.isBoolean() && !v.asBoolean())
          || (v.isString() && v.asString().isEmpty()) || (v.isNumber() && v.asDouble() == 0));
      if (truthy) {
        return v;
      }
      if (System.nanoTime() > end) {
        throw new IllegalStateException("timed out after " + timeout + " waiting for " + expression
            + (console.isEmpty() ? "" : "; console: " + console));
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  /** A PNG of the viewport, or of the whole page when {@code fullPage}. */
  public void screenshot(Path file, boolean fullPage) {
    Map<String, Object> params = new java.util.HashMap<>(Map.of("format", "png"));
    if (fullPage) {
      JsonNode size = eval("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]");
      params.put("captureBeyondViewport", true);
      params.put("clip", Map.of("x", 0, "y", 0, "width", size.get(0).asInt(), "height", size.get(1).asInt(), "scale", 1));
    }
    write(file, send("Page.captureScreenshot", params));
  }

  /** A PNG of the element {@code selector} picks (page coordinates, scrolled into view). */
  public void screenshotOf(String selector, Path file) {
    JsonNode box = eval("(() => { const e = document.querySelector(" + JSON.valueToTree(selector)
        + "); if (!e) return null; const r = e.getBoundingClientRect();"
        + " return [r.left + scrollX, r.top + scrollY, Math.max(1, r.width), Math.max(1, r.height)]; })()");
    if (box.isNull() || box.isMissingNode()) {
      throw new IllegalStateException("no element " + selector);
    }
    write(file, send("Page.captureScreenshot", Map.of("format", "png", "captureBeyondViewport", true,
        "clip", Map.of("x", box.get(0).asDouble(), "y", box.get(1).asDouble(), "width", box.get(2).asDouble(),
            "height", box.get(3).asDouble(), "scale", 1))));
  }

  private static void write(Path file, JsonNode shot) {
    try {
      Path dir = file.toAbsolutePath().getParent();
      Files.createDirectories(dir);
      Files.write(file, Base64.getDecoder().decode(shot.path("data").asString()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The messages of JavaScript dialogs the page opened ({@code alert(…)}), each dismissed. */
  public List<String> dialogs() {
    return List.copyOf(dialogs);
  }

  /** Console messages and uncaught exceptions of the page. */
  public List<String> console() {
    return List.copyOf(console);
  }

  private void onMessage(String text) {
    JsonNode m = JSON.readTree(text);
    if (m.has("id")) {
      CompletableFuture<JsonNode> f = pending.get(m.get("id").asInt());
      if (f != null) {
        f.complete(m);
      }
      return;
    }
    String method = m.path("method").asString();
    JsonNode p = m.path("params");
    switch (method) {
      case "Page.loadEventFired" -> loaded.complete(null);
      case "Page.javascriptDialogOpening" -> {
        dialogs.add(p.path("message").asString());
        CompletableFuture.runAsync(() -> send("Page.handleJavaScriptDialog", Map.of("accept", false)));
      }
      case "Runtime.consoleAPICalled" -> {
        StringBuilder sb = new StringBuilder(p.path("type").asString()).append(':');
        p.path("args").forEach(a -> sb.append(' ').append(a.path("value").isMissingNode() ? a.path("description").asString()
            : a.path("value").toString()));
        console.add(sb.toString());
      }
      case "Runtime.exceptionThrown" -> console.add("exception: " + p.path("exceptionDetails").path("exception")
          .path("description").asString(p.path("exceptionDetails").path("text").asString()));
      default -> { }
    }
  }

  @Override
  public void close() {
    socket.abort();
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try (Stream<Path> files = Files.walk(profile)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      // a leftover temporary profile is harmless
    }
  }

  private static final class Listener implements WebSocket.Listener {
    private final HeadlessChromium[] owner;
    private final StringBuilder partial = new StringBuilder();

    Listener(HeadlessChromium[] owner) {
      this.owner = owner;
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        String text = partial.toString();
        partial.setLength(0);
        HeadlessChromium c = owner[0];
        if (c != null) {
          c.onMessage(text);
        }
      }
      ws.request(1);
      return null;
    }
  }
}
