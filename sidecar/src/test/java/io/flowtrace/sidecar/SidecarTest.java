package io.flowtrace.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import io.flowtrace.sidecar.output.VerdictSink;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The sidecar without Kafka: OTLP in, verdict files out, the operations endpoint, a draining shutdown. */
class SidecarTest {

  private static final Path FLOWS = Path.of("../flows");
  private final HttpClient http = HttpClient.newHttpClient();

  @TempDir Path dir;

  @Test
  void aGracefulStopDecidesWhatIsInFlightSoNoReceivedSpanIsLost() throws Exception {
    Sidecar sidecar = Sidecar.start(config());
    try {
      HttpResponse<String> export = http.send(HttpRequest.newBuilder(sidecar.otlpHttpEndpoint())
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(gatewaySpan())).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(export.statusCode()).isEqualTo(200);
      io.flowtrace.kafka.testkit.Await.until(() -> sidecar.engineStats().openInstances() == 1,
          () -> "open instances " + sidecar.engineStats().openInstances());
    } finally {
      sidecar.close();
    }

    List<JsonNode> verdicts = verdictLines();
    assertThat(verdicts).singleElement().satisfies(v -> {
      assertThat(v.path("verdict").path("status").asString()).isEqualTo("INCOMPLETE");
      assertThat(v.path("verdict").path("traceIds").get(0).asString()).isEqualTo("5b8efff798038103d269b633813fc60c");
    });
  }

  /** A spec that takes its Avro schemas from a registry (as replay's does) runs in the sidecar given one. */
  @Test
  void flowsWhoseSchemasComeFromARegistryNeedTheSchemaRegistrySetting() throws Exception {
    Path flows = dir.resolve("flows");
    try (Stream<Path> files = Files.walk(FLOWS)) {
      for (Path f : files.toList()) {
        Path to = flows.resolve(FLOWS.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(to);
        } else {
          Files.copy(f, to);
        }
      }
    }
    Path spec = flows.resolve("order-creation/order-creation.flow.yaml");
    String local = "schema: {avro: schemas/email-notification.avsc, ids: [1]}";
    assertThat(Files.readString(spec)).contains(local);
    Files.writeString(spec, Files.readString(spec).replace(local, "schema: {avro-registry: true, ids: [1]}"));
    Map<String, String> settings = new java.util.HashMap<>(Map.of("flows", flows.toString(), "otlp-http-port", "0",
        "otlp-grpc-port", "-1", "console", "false"));

    assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> Sidecar.start(SidecarConfig.from(null, Map.of(),
        settings)).close())).hasMessageContaining("avro-registry: true needs a schema registry URL");
    settings.put("schema-registry", "http://schema-registry.invalid:8081");
    try (Sidecar sidecar = Sidecar.start(SidecarConfig.from(null, Map.of(), settings))) {
      assertThat(sidecar.otlpHttpEndpoint()).isNotNull();
    }
    settings.put("schema-registry", "registry:8081");
    assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> SidecarConfig.from(null, Map.of(), settings)))
        .hasMessageContaining("schema-registry = 'registry:8081': schema registry URL must be http(s)://host[:port][/path]");
  }

  @Test
  void theOperationsEndpointServesMetricsHealthAndReadiness() throws Exception {
    try (Sidecar sidecar = Sidecar.start(config())) {
      String base = "http://127.0.0.1:" + sidecar.opsPort();
      HttpResponse<String> metrics = get(base + "/metrics");
      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(metrics.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
      assertThat(metrics.body()).contains("# TYPE flowtrace_instances_in_flight gauge", "flowtrace_instances_in_flight 0.0",
          "# TYPE flowtrace_records_ingested_total counter", "# TYPE flowtrace_verdict_latency_seconds histogram");
      assertThat(get(base + "/healthz").body()).startsWith("ok: engine loop");
      io.flowtrace.kafka.testkit.Await.until(() -> get(base + "/readyz").statusCode() == 200, () -> "ready");
      HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics"))
          .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(post.statusCode()).isEqualTo(405);
    }
  }

  @Test
  void theFinalVerdictsMetricCountsAnInstanceOnceWhenItsVerdictCanNoLongerChange() throws Exception {
    Path flows = flowsWithADeadlineOfOneSecond();
    SidecarConfig config = SidecarConfig.from(null, Map.of(), Map.of(
        "flows", flows.toString(), "otlp-http-port", "0", "otlp-grpc-port", "-1", "http-port", "0",
        "console", "false", "completion-grace", "200ms", "amend-window", "1s"));
    try (Sidecar sidecar = Sidecar.start(config)) {
      String base = "http://127.0.0.1:" + sidecar.opsPort();
      String failed = "flowtrace_flows_final_total{flow=\"order-creation\",status=\"FAILED\"} ";
      assertThat(get(base + "/metrics").body()).contains(failed + "0.0");
      http.send(HttpRequest.newBuilder(sidecar.otlpHttpEndpoint()).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(gatewaySpan())).build(), HttpResponse.BodyHandlers.ofString());

      io.flowtrace.kafka.testkit.Await.until(() -> get(base + "/metrics").body().contains(failed + "1.0"),
          () -> get(base + "/metrics").body().lines().filter(l -> l.startsWith("flowtrace_flows_")).toList().toString());
      assertThat(get(base + "/metrics").body()).contains(
          "flowtrace_flows_verified_total{flow=\"order-creation\",status=\"FAILED\"} 1.0",
          "flowtrace_flows_final_total{flow=\"order-creation\",status=\"PASSED\"} 0.0");
    }
  }

  @Test
  void aFailingVerdictOutputKeepsItsVerdictsSaysSoAndWritesThemOnceWhenItWorksAgain() throws Exception {
    Path flows = flowsWithADeadlineOfOneSecond();
    java.util.concurrent.atomic.AtomicBoolean diskFull = new java.util.concurrent.atomic.AtomicBoolean(true);
    List<String> durable = new java.util.concurrent.CopyOnWriteArrayList<>();
    VerdictSink disk = new VerdictSink() {
      private final List<String> buffered = new java.util.ArrayList<>();

      @Override
      public void write(io.flowtrace.verifier.report.Verdict verdict) throws java.io.IOException {
        if (diskFull.get()) {
          throw new java.io.IOException("No space left on device");
        }
        buffered.add(verdict.instanceKey() + " r" + verdict.revision());
      }

      @Override
      public void flush() throws java.io.IOException {
        if (diskFull.get()) {
          throw new java.io.IOException("No space left on device");
        }
        durable.addAll(buffered);
        buffered.clear();
      }

      @Override
      public void rewind() {
        buffered.clear();
      }

      @Override
      public void close() {}
    };
    SidecarConfig config = SidecarConfig.from(null, Map.of(), Map.of(
        "flows", flows.toString(), "otlp-http-port", "0", "otlp-grpc-port", "-1", "http-port", "0",
        "console", "false", "verdicts-dir", dir.resolve("verdicts").toString()));

    try (Sidecar sidecar = Sidecar.start(config, System.out, List.of(disk))) {
      String base = "http://127.0.0.1:" + sidecar.opsPort();
      io.flowtrace.kafka.testkit.Await.until(() -> get(base + "/readyz").statusCode() == 200, () -> "ready");
      http.send(HttpRequest.newBuilder(sidecar.otlpHttpEndpoint()).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(gatewaySpan())).build(), HttpResponse.BodyHandlers.ofString());

      io.flowtrace.kafka.testkit.Await.until(() -> get(base + "/readyz").body().contains("verdict output failing"),
          () -> "readyz " + get(base + "/readyz").body());
      assertThat(get(base + "/readyz").body()).contains("degraded: verdict output failing: " + disk.getClass().getName()
          + " write of \"", "java.io.IOException: No space left on device (1 waiting); retrying, offsets not committed meanwhile");
      assertThat(get(base + "/readyz").statusCode()).as("ready all the same").isEqualTo(200);
      assertThat(get(base + "/healthz").statusCode()).as("a restart would not free the disk").isEqualTo(200);
      assertThat(get(base + "/metrics").body()).contains("flowtrace_output_failures_total 1.0");
      assertThat(durable).isEmpty();

      diskFull.set(false);
      io.flowtrace.kafka.testkit.Await.until(() -> !durable.isEmpty(), () -> "readyz " + get(base + "/readyz").body());
      io.flowtrace.kafka.testkit.Await.until(() -> !get(base + "/readyz").body().contains("degraded"),
          () -> "readyz " + get(base + "/readyz").body());
    }
    assertThat(durable).as("written once, when the disk had room again").hasSize(1);
    assertThat(verdictLines()).as("the other output got the verdict all along").hasSize(1);
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

  /** The reference flows with a deadline of 1 s, so an instance is decided within the test. */
  private Path flowsWithADeadlineOfOneSecond() throws java.io.IOException {
    Path flows = dir.resolve("flows");
    copyTree(FLOWS, flows);
    Path spec = flows.resolve("order-creation/order-creation.flow.yaml");
    Files.writeString(spec, Files.readString(spec).replace("deadline: 30s", "deadline: 1s"));
    return flows;
  }

  private SidecarConfig config() throws Exception {
    return SidecarConfig.from(null, Map.of(), Map.of(
        "flows", FLOWS.toString(),
        "otlp-http-port", "0",
        "otlp-grpc-port", "-1",
        "http-port", "0",
        "console", "false",
        "verdicts-dir", dir.resolve("verdicts").toString()));
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

  /** The gateway's SERVER span of an order request, started now, as OTLP/JSON. */
  private static String gatewaySpan() {
    long start = Instant.now().toEpochMilli() * 1_000_000L;
    String body = "{\\\"items\\\":[{\\\"productId\\\":\\\"P-100\\\",\\\"quantity\\\":1}],"
        + "\\\"shipping\\\":{\\\"address\\\":\\\"1 Main St\\\",\\\"city\\\":\\\"Springfield\\\",\\\"zipCode\\\":\\\"12345\\\"}}";
    return "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"gateway\"}}]},"
        + "\"scopeSpans\":[{\"spans\":[{\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b174\","
        + "\"name\":\"POST /api/orders\",\"kind\":2,\"startTimeUnixNano\":\"" + start + "\",\"endTimeUnixNano\":\""
        + (start + 5_000_000) + "\",\"attributes\":[{\"key\":\"http.request.body\",\"value\":{\"stringValue\":\"" + body
        + "\"}}]}]}]}]}";
  }

  private List<JsonNode> verdictLines() throws Exception {
    JsonMapper json = JsonMapper.builder().build();
    try (Stream<Path> files = Files.list(dir.resolve("verdicts"))) {
      return files.sorted().flatMap(f -> {
        try {
          return Files.readAllLines(f).stream();
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }).filter(l -> !l.isBlank()).map(l -> (JsonNode) json.readTree(l)).toList();
    }
  }
}
