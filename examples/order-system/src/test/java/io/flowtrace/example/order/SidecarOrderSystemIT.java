package io.flowtrace.example.order;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.kafka.testkit.Await;
import io.flowtrace.kafka.testkit.KafkaBroker;
import io.flowtrace.sidecar.Sidecar;
import io.flowtrace.sidecar.SidecarConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The reference order system runs under the OpenTelemetry Java agent, exporting to one {@code
 * flowtrace sidecar} that taps the real broker; every defect switch is on, each scoped to the orders
 * carrying its own product, beside a clean authorized and a clean declined order. Each planted
 * defect must show up in the sidecar's verdicts topic within seconds (the missing e-mail once the
 * 30 s deadline has passed), exactly as its violation on its stage and on its order only, with the
 * sidecar's metrics agreeing with the verdicts it wrote. The agent exports with its default 5 s
 * batch delay, so records reach the sidecar seconds before the spans that explain them; no
 * violation may be published and then withdrawn.
 */
class SidecarOrderSystemIT {

  private static final Path FLOWS = Path.of(System.getProperty("flowtrace.flows", "../../flows"));
  private static final Duration VERDICT_TIMEOUT = Duration.ofSeconds(90);
  private static final JsonMapper JSON = JsonMapper.builder().build();

  /**
   * Per order: its label, the client's token, the products that scope its defect (none: a clean
   * order), and the outcome expected — status and kind@stage:field. One defect per order.
   */
  private record Case(String label, String token, String body, String expected) {}

  private static final String[][] DEFECTS = {
      {"DROP_ENRICHMENT", "FAILED MISSING_ENRICHMENT@order-requested:userId"},
      {"WRONG_TOTAL", "FAILED BAD_TRANSFORMATION@order-created:total"},
      {"PAYMENT_AMOUNT_MISMATCH", "FAILED BAD_TRANSFORMATION@payment-authorized:amount"},
      {"NON_IDEMPOTENT_WEBHOOK", "FAILED NON_IDEMPOTENT@payment-captured:eventId"},
      {"LOSE_TRACEPARENT", "FAILED BROKEN_PROPAGATION@notification-sent:"},
      {"SLOW_NOTIFICATION", "FAILED LATENCY_BUDGET_EXCEEDED@notification-sent:"},
      {"BROKEN_EMAIL_SCHEMA", "FAILED SCHEMA_VIOLATION@notification-sent:"},
      {"NO_NOTIFICATION", "FAILED MISSING_STAGE@notification-sent:"}};

  private static KafkaBroker broker;

  @BeforeAll
  static void startBroker() {
    broker = KafkaBroker.start();
    Topics.ALL.forEach(t -> broker.createTopic(t, 1));
    broker.createTopic(SidecarConfig.DEFAULT_VERDICTS_TOPIC, 1);
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  void theSidecarReportsEveryPlantedDefectWithinSecondsAndItsMetricsMatchItsVerdicts() throws Exception {
    int otlpPort = OrderServices.freePort();
    SidecarConfig config = SidecarConfig.from(null, Map.of(), Map.of(
        "flows", FLOWS.toString(),
        "bootstrap-servers", broker.bootstrapServers(),
        "start-from", "earliest",
        "otlp-http-port", Integer.toString(otlpPort),
        "otlp-grpc-port", "-1",
        "http-port", "0",
        "console", "false"));
    List<Case> cases = new ArrayList<>();
    cases.add(new Case("clean", "token-alice", OrderSystemIT.body("P-100", 2), "PASSED"));
    cases.add(new Case("clean declined", "token-bob", OrderSystemIT.body("P-300", 1), "PASSED"));
    List<String> switches = new ArrayList<>();
    for (int i = 0; i < DEFECTS.length; i++) {
      String product = "P-90" + (i + 1);
      switches.add(DEFECTS[i][0] + "@" + product);
      cases.add(new Case(DEFECTS[i][0], i % 2 == 0 ? "token-alice" : "token-bob",
          OrderSystemIT.body("P-100", 1, product, 1), DEFECTS[i][1]));
    }
    assertThat(switches).hasSize(Defect.values().length);
    Map<String, String> timings = new LinkedHashMap<>();
    try (Sidecar sidecar = Sidecar.start(config);
        OrderServices services = new OrderServices("sidecar", broker.bootstrapServers(), "http://127.0.0.1:" + otlpPort,
            Map.of("OTEL_BSP_SCHEDULE_DELAY", "5000"))) {
      services.run(String.join(",", switches));
      Map<String, String> requestIds = new LinkedHashMap<>();
      Map<String, Long> placed = new HashMap<>();
      for (Case c : cases) {
        String id = services.placeOrder(c.token(), c.body());
        requestIds.put(c.label(), id);
        placed.put(c.label(), System.nanoTime());
      }
      Map<String, String> expected = new LinkedHashMap<>();
      cases.forEach(c -> expected.put(c.label(), c.expected()));
      Map<String, String> seen = new LinkedHashMap<>();
      Await.until(VERDICT_TIMEOUT, () -> {
        List<String> now = outcomes(latestVerdicts(), List.copyOf(requestIds.values()));
        seen.clear();
        int i = 0;
        for (String label : requestIds.keySet()) {
          seen.put(label, now.get(i++));
          if (seen.get(label).equals(expected.get(label))) {
            timings.putIfAbsent(label, String.format("%.1f s", (System.nanoTime() - placed.get(label)) / 1e9));
          }
        }
        return seen.equals(expected);
      }, () -> "expected " + expected + ", the sidecar said " + seen);
      System.out.println("sidecar: orders placed → every expected verdict in flowtrace.verdicts: " + timings);

      List<JsonNode> all = verdicts();
      List<String> withdrawn = withdrawn(all);
      System.out.println("sidecar: " + all.size() + " verdict messages, "
          + all.stream().filter(v -> v.path("revision").asInt() > 0).count() + " amendments, "
          + withdrawn.size() + " violations published and then withdrawn");
      assertThat(withdrawn).as("violations a later revision withdrew (a false alarm on the verdicts topic)").isEmpty();
      Map<String, Double> metrics = scrape(sidecar.opsPort());
      Map<String, Long> statuses = new TreeMap<>();
      Map<String, Long> kinds = new TreeMap<>();
      for (JsonNode v : all) {
        if (v.path("revision").asInt() == 0) {
          statuses.merge(v.path("verdict").path("status").asString(), 1L, Long::sum);
          v.path("verdict").path("violations").forEach(x -> kinds.merge(x.path("kind").asString(), 1L, Long::sum));
        }
      }
      statuses.forEach((status, n) -> assertThat(metrics)
          .containsEntry("flowtrace_flows_verified_total{flow=\"order-creation\",status=\"" + status + "\"}", (double) n));
      kinds.forEach((kind, n) -> assertThat(metrics)
          .containsEntry("flowtrace_violations_total{flow=\"order-creation\",kind=\"" + kind + "\"}", (double) n));
      assertThat(statuses.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(cases.size());
    }
  }

  /**
   * Violations of an instance's revision that its next revision no longer has: each one paged
   * someone for nothing. Every webhook is delivered twice and the agent batches spans, so records
   * often arrive before the spans that explain them.
   */
  private static List<String> withdrawn(List<JsonNode> all) {
    Map<String, TreeMap<Integer, JsonNode>> byInstance = new TreeMap<>();
    for (JsonNode v : all) {
      if (v.has("verdict")) {
        byInstance.computeIfAbsent(v.path("instanceKey").asString(), k -> new TreeMap<>())
            .put(v.path("revision").asInt(), v.path("verdict"));
      }
    }
    List<String> out = new ArrayList<>();
    byInstance.forEach((key, revisions) -> {
      JsonNode previous = null;
      for (Map.Entry<Integer, JsonNode> r : revisions.entrySet()) {
        if (previous != null) {
          Set<String> now = violationKeys(r.getValue());
          for (String v : violationKeys(previous)) {
            if (!now.contains(v)) {
              out.add(key + " revision " + r.getKey() + " withdrew " + v);
            }
          }
        }
        previous = r.getValue();
      }
    });
    return out;
  }

  private static Set<String> violationKeys(JsonNode verdict) {
    Set<String> out = new java.util.HashSet<>();
    verdict.path("violations").forEach(x -> out.add(x.path("kind").asString() + "@" + x.path("stage").asString()
        + ":" + x.path("field").asString("")));
    return out;
  }

  /** The latest verdict per requestId. */
  private static Map<String, JsonNode> latestVerdicts() {
    Map<String, JsonNode> latest = new HashMap<>();
    for (JsonNode v : verdicts()) {
      String requestId = v.path("verdict").path("keys").path("requestId").asString("");
      JsonNode seen = latest.get(requestId);
      if (seen == null || v.path("revision").asInt() >= seen.path("revision").asInt()) {
        latest.put(requestId, v);
      }
    }
    return latest;
  }

  private static List<String> outcomes(Map<String, JsonNode> latest, List<String> requestIds) {
    List<String> out = new ArrayList<>();
    for (String id : requestIds) {
      JsonNode v = latest.get(id);
      if (v == null) {
        out.add("none yet");
        continue;
      }
      StringBuilder sb = new StringBuilder(v.path("verdict").path("status").asString());
      for (JsonNode x : v.path("verdict").path("violations")) {
        sb.append(' ').append(x.path("kind").asString()).append('@').append(x.path("stage").asString())
            .append(':').append(x.path("field").asString(""));
      }
      out.add(sb.toString());
    }
    return out;
  }

  private static List<JsonNode> verdicts() {
    List<JsonNode> out = new ArrayList<>();
    try (KafkaConsumer<String, String> c = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()), new StringDeserializer(),
        new StringDeserializer())) {
      TopicPartition tp = new TopicPartition(SidecarConfig.DEFAULT_VERDICTS_TOPIC, 0);
      c.assign(Set.of(tp));
      c.seekToBeginning(Set.of(tp));
      long end = c.endOffsets(Set.of(tp)).get(tp);
      while (c.position(tp) < end) {
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
          out.add(JSON.readTree(r.value()));
        }
      }
    }
    return out;
  }

  private static Map<String, Double> scrape(int port) throws Exception {
    String body = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    Map<String, Double> out = new TreeMap<>();
    Matcher m = Pattern.compile("(?m)^([a-z_]+(?:\\{[^}]*\\})?) (\\S+)$").matcher(body);
    while (m.find()) {
      out.put(m.group(1), Double.parseDouble(m.group(2)));
    }
    return out;
  }
}
