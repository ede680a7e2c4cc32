package io.flowtrace.example.order;

import static io.flowtrace.example.order.OrderServices.AGENT;
import static io.flowtrace.example.order.OrderServices.LOGS;
import static io.flowtrace.example.order.OrderServices.agentEnv;
import static io.flowtrace.example.order.OrderServices.await;
import static io.flowtrace.example.order.OrderServices.awaitLog;
import static io.flowtrace.example.order.OrderServices.fork;
import static io.flowtrace.example.order.OrderServices.freePort;
import static io.flowtrace.example.order.OrderServices.service;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.flowtrace.cli.FlowTraceCli;
import io.flowtrace.kafka.testkit.KafkaBroker;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The reference order system on a real broker, each service a forked JVM under the OpenTelemetry
 * Java agent exporting to {@code flowtrace record} (itself forked, from {@code cli/target/flowtrace.jar}),
 * and the recording replayed against {@code flows/}: the clean system passes, a planted defect is
 * found as exactly its violation on its stage.
 */
class OrderSystemIT {

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final Path FLOWS = Path.of(System.getProperty("flowtrace.flows", "../../flows"));
  private static final Path CLI_JAR = Path.of(System.getProperty("flowtrace.jar", "../../cli/target/flowtrace.jar"));
  private static final String CLOCK_MARKER = "clock-marker";

  /** The orders driven through the gateway: two authorized, one declined (total ends in .13). */
  static final List<String[]> ORDERS = List.of(
      new String[] {"token-alice", "{\"items\":[{\"productId\":\"P-100\",\"quantity\":2},{\"productId\":\"P-200\",\"quantity\":1}],"
          + "\"shipping\":{\"address\":\"1 Main St\",\"city\":\"Springfield\",\"zipCode\":\"12345\"}}"},
      new String[] {"token-bob", "{\"items\":[{\"productId\":\"P-300\",\"quantity\":1}],"
          + "\"shipping\":{\"address\":\"2 Side St\",\"city\":\"Shelbyville\",\"zipCode\":\"54321\"}}"},
      new String[] {"token-alice", "{\"items\":[{\"productId\":\"P-400\",\"quantity\":3},{\"productId\":\"P-200\",\"quantity\":2}],"
          + "\"shipping\":{\"address\":\"1 Main St\",\"city\":\"Springfield\",\"zipCode\":\"12345\"}}"});

  private static KafkaBroker broker;

  @TempDir Path dir;

  @BeforeAll
  static void startBroker() throws IOException {
    assertThat(CLI_JAR).as("the flowtrace CLI jar (build cli first)").exists();
    assertThat(AGENT).as("the OpenTelemetry Java agent").exists();
    Files.createDirectories(LOGS);
    broker = KafkaBroker.start();
    Topics.ALL.forEach(t -> broker.createTopic(t, 1));
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  void theCleanSystemPasses() throws Exception {
    Map<String, List<String>> verdicts = run("clean", "");
    assertThat(verdicts).hasSize(ORDERS.size());
    assertThat(verdicts.values()).allSatisfy(v -> assertThat(v).containsExactly("PASSED"));
  }

  /**
   * Every defect switch on for every order, one system start each (about 20 s per run), so only with
   * {@code -Dorder.defects=all}: the default run proves them all in one start ({@link
   * #everyDefectIsFoundOnItsOwnOrderInOneRun}). With {@code -Dorder.keepRecordings=DIR} these runs
   * write the shipped recordings ({@code recordings/<defect>}, e.g. {@code recordings/wrong-total}). Expected verdicts per order of {@link #ORDERS} (the second is declined): a
   * duplicate webhook and a slow e-mail matter only on the authorized path. {@code
   * -Dorder.defects=WRONG_TOTAL,NO_NOTIFICATION} runs only those. Without any e-mail a flow is only
   * FAILED once its 30 s deadline has passed within the recording, so that run ends with a marker
   * span stamped 31 s later (as later traffic would), which moves the recording's end past it.
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "DROP_ENRICHMENT|notifications.email|3|FAILED MISSING_ENRICHMENT@order-requested:userId",
      "WRONG_TOTAL|notifications.email|3|FAILED BAD_TRANSFORMATION@order-created:total",
      "PAYMENT_AMOUNT_MISMATCH|notifications.email|3|FAILED BAD_TRANSFORMATION@payment-authorized:amount",
      "NON_IDEMPOTENT_WEBHOOK|notifications.email|5|FAILED NON_IDEMPOTENT@payment-captured:eventId;PASSED;FAILED NON_IDEMPOTENT@payment-captured:eventId",
      "LOSE_TRACEPARENT|notifications.email|3|FAILED BROKEN_PROPAGATION@notification-sent:",
      "SLOW_NOTIFICATION|notifications.email|3|FAILED LATENCY_BUDGET_EXCEEDED@notification-sent:;PASSED;FAILED LATENCY_BUDGET_EXCEEDED@notification-sent:",
      "NO_NOTIFICATION|orders.confirmed|2|FAILED MISSING_STAGE@notification-sent:",
      "BROKEN_EMAIL_SCHEMA|notifications.email|3|FAILED SCHEMA_VIOLATION@notification-sent:"})
  @EnabledIfSystemProperty(named = "order.defects", matches = ".+")
  void eachDefectIsFound(String defect, String waitTopic, int waitCount, String expected) throws Exception {
    String selected = System.getProperty("order.defects");
    assumeTrue("all".equals(selected) || List.of(selected.split(",")).contains(defect), "not selected: " + defect);
    Map<String, List<String>> verdicts = run(defect.toLowerCase(java.util.Locale.ROOT).replace('_', '-'), defect,
        waitTopic, waitCount, false);
    List<List<String>> expectedPerOrder = new ArrayList<>();
    String[] perOrder = expected.split(";");
    for (int i = 0; i < ORDERS.size(); i++) {
      expectedPerOrder.add(List.of(perOrder[perOrder.length == 1 ? 0 : i].split(" ")));
    }
    assertThat(new ArrayList<>(verdicts.values())).as("verdicts of %s", defect).isEqualTo(expectedPerOrder);
  }

  /** One order of the all-defects run: who, what, the verdict it must get, and what to wait for. */
  private record Case(String label, String token, String body, String expected, String waitTopic, int waitCount) {}

  /**
   * Every defect switch in one system start, each scoped to the orders carrying its own product
   * ({@code DEFECT@P-90n}, see {@link DefectSwitches}), next to a clean authorized and a clean
   * declined order: each defect is found as exactly its violation on its stage, on its order only.
   * The e-mail of the slow order is sent later on a timer, so it holds up no other e-mail; the
   * order without an e-mail is only FAILED once the recording ends past its 30 s deadline, so the
   * run ends with a marker span stamped 31 s later.
   */
  @Test
  void everyDefectIsFoundOnItsOwnOrderInOneRun() throws Exception {
    everyDefectOnItsOwnOrder("all-defects", Map.of(), new String[][] {
        {"DROP_ENRICHMENT", "FAILED MISSING_ENRICHMENT@order-requested:userId", Topics.NOTIFICATIONS_EMAIL, "1"},
        {"WRONG_TOTAL", "FAILED BAD_TRANSFORMATION@order-created:total", Topics.NOTIFICATIONS_EMAIL, "1"},
        {"PAYMENT_AMOUNT_MISMATCH", "FAILED BAD_TRANSFORMATION@payment-authorized:amount", Topics.NOTIFICATIONS_EMAIL, "1"},
        {"NON_IDEMPOTENT_WEBHOOK", "FAILED NON_IDEMPOTENT@payment-captured:eventId", Topics.NOTIFICATIONS_EMAIL, "2"},
        {"LOSE_TRACEPARENT", "FAILED BROKEN_PROPAGATION@notification-sent:", Topics.NOTIFICATIONS_EMAIL, "1"},
        {"SLOW_NOTIFICATION", "FAILED LATENCY_BUDGET_EXCEEDED@notification-sent:", Topics.NOTIFICATIONS_EMAIL, "1"},
        {"NO_NOTIFICATION", "FAILED MISSING_STAGE@notification-sent:", Topics.ORDERS_CONFIRMED, "1"},
        {"BROKEN_EMAIL_SCHEMA", "FAILED SCHEMA_VIOLATION@notification-sent:", Topics.NOTIFICATIONS_EMAIL, "1"}});
  }

  /**
   * The same system with every trace head-sampled out ({@code parentbased_traceidratio}, ratio 0):
   * no span is exported, every record still carries a {@code traceparent} (flags {@code 02}/{@code 00}).
   * Clean orders pass (partly verified), every defect the records show is still found, and the two
   * whose only evidence is a span (the payment call's amount, the lost trace context of a trace
   * that is itself unsampled) are not verified rather than falsely passed or failed.
   */
  @Test
  void withEveryTraceSampledOutCleanOrdersPassAndEveryRecordVisibleDefectIsFound() throws Exception {
    everyDefectOnItsOwnOrder("sampled-out", OrderServices.sampling(0.0), new String[][] {
        {"DROP_ENRICHMENT", "FAILED MISSING_ENRICHMENT@order-requested:userId", Topics.NOTIFICATIONS_EMAIL, "1"},
        {"WRONG_TOTAL", "FAILED BAD_TRANSFORMATION@order-created:total", Topics.NOTIFICATIONS_EMAIL, "1"},
        {"PAYMENT_AMOUNT_MISMATCH", "PASSED", Topics.NOTIFICATIONS_EMAIL, "1"},
        {"NON_IDEMPOTENT_WEBHOOK", "FAILED NON_IDEMPOTENT@payment-captured:eventId", Topics.NOTIFICATIONS_EMAIL, "2"},
        {"LOSE_TRACEPARENT", "PASSED", Topics.NOTIFICATIONS_EMAIL, "1"},
        {"SLOW_NOTIFICATION", "FAILED LATENCY_BUDGET_EXCEEDED@notification-sent:", Topics.NOTIFICATIONS_EMAIL, "1"},
        {"NO_NOTIFICATION", "FAILED MISSING_STAGE@notification-sent:", Topics.ORDERS_CONFIRMED, "1"},
        {"BROKEN_EMAIL_SCHEMA", "FAILED SCHEMA_VIOLATION@notification-sent:", Topics.NOTIFICATIONS_EMAIL, "1"}});
  }

  private void everyDefectOnItsOwnOrder(String name, Map<String, String> agentSettings, String[][] defects)
      throws Exception {
    List<Case> cases = new ArrayList<>();
    cases.add(new Case("clean", "token-alice", body("P-100", 2), "PASSED", Topics.NOTIFICATIONS_EMAIL, 1));
    cases.add(new Case("clean declined", "token-bob", body("P-300", 1), "PASSED", Topics.NOTIFICATIONS_EMAIL, 1));
    List<String> switches = new ArrayList<>();
    for (int i = 0; i < defects.length; i++) {
      String product = "P-90" + (i + 1);
      switches.add(defects[i][0] + "@" + product);
      cases.add(new Case(defects[i][0], i % 2 == 0 ? "token-alice" : "token-bob", body("P-100", 1, product, 1),
          defects[i][1], defects[i][2], Integer.parseInt(defects[i][3])));
    }
    assertThat(switches).hasSize(Defect.values().length);

    List<String[]> orders = cases.stream().map(c -> new String[] {c.token(), c.body()}).toList();
    Map<String, List<String>> verdicts = run(name, String.join(",", switches), orders, (recording, requestIds) -> {
      Map<String, Map<String, Integer>> counts = countsPerRequest(recording);
      for (int i = 0; i < cases.size(); i++) {
        Case c = cases.get(i);
        int seen = counts.getOrDefault(c.waitTopic(), Map.of()).getOrDefault(requestIds.get(i), 0);
        if (seen < c.waitCount()) {
          return false;
        }
      }
      return true;
    }, true, false, agentSettings);

    Map<String, String> actual = new LinkedHashMap<>();
    Map<String, String> expected = new LinkedHashMap<>();
    List<List<String>> perOrder = new ArrayList<>(verdicts.values());
    for (int i = 0; i < cases.size(); i++) {
      actual.put(cases.get(i).label(), String.join(" ", perOrder.get(i)));
      expected.put(cases.get(i).label(), cases.get(i).expected());
    }
    assertThat(actual).as("verdict per order").containsExactlyEntriesOf(expected);
  }

  static String body(Object... productsAndQuantities) {
    StringBuilder items = new StringBuilder();
    for (int i = 0; i < productsAndQuantities.length; i += 2) {
      items.append(items.length() == 0 ? "" : ",").append("{\"productId\":\"").append(productsAndQuantities[i])
          .append("\",\"quantity\":").append(productsAndQuantities[i + 1]).append('}');
    }
    return "{\"items\":[" + items + "],\"shipping\":{\"address\":\"1 Main St\",\"city\":\"Springfield\",\"zipCode\":\"12345\"}}";
  }

  /** Waits until the recording holds what a run needs, given the requestIds of its orders in order. */
  @FunctionalInterface
  private interface Done {
    boolean test(Path recording, List<String> requestIds);
  }

  /**
   * Starts recorder and services, drives {@link #ORDERS}, waits for {@code waitCount} records of
   * {@code waitTopic} for them in the recording, stops everything and replays: per requestId in the
   * order of {@link #ORDERS}, the status then each violation as kind@stage:field.
   */
  private Map<String, List<String>> run(String name, String defects) throws Exception {
    return run(name, defects, Topics.NOTIFICATIONS_EMAIL, ORDERS.size(), true);
  }

  private Map<String, List<String>> run(String name, String defects, String waitTopic, int waitCount,
      boolean decodeEmails) throws Exception {
    return run(name, defects, ORDERS, (recording, requestIds) ->
            count(recording, new LinkedHashSet<>(requestIds), waitTopic) >= waitCount,
        !Topics.NOTIFICATIONS_EMAIL.equals(waitTopic), decodeEmails);
  }

  private Map<String, List<String>> run(String name, String defects, List<String[]> orders, Done done,
      boolean advanceClock, boolean decodeEmails) throws Exception {
    return run(name, defects, orders, done, advanceClock, decodeEmails, Map.of());
  }

  private Map<String, List<String>> run(String name, String defects, List<String[]> orders, Done done,
      boolean advanceClock, boolean decodeEmails, Map<String, String> agentSettings) throws Exception {
    Path recording = dir.resolve("recording");
    forgetEarlierRuns();
    int otlpPort = freePort();
    int gatewayPort = freePort();
    int orderPort = freePort();
    int paymentPort = freePort();
    List<Process> services = new ArrayList<>();
    Process recorder = null;
    Set<String> requestIds = new LinkedHashSet<>();
    try {
      recorder = fork(name + "-recorder", List.of("-jar", CLI_JAR.toString(), "record", "--out", recording.toString(),
          "--flows", FLOWS.toString(), "--bootstrap-servers", broker.bootstrapServers(), "--from", "earliest",
          "--otlp-http-port", Integer.toString(otlpPort), "--otlp-grpc-port", "0"), Map.of());
      Map<String, String> common = new HashMap<>(Map.of(
          "BOOTSTRAP_SERVERS", broker.bootstrapServers(),
          "GATEWAY_PORT", Integer.toString(gatewayPort),
          "ORDER_SERVICE_PORT", Integer.toString(orderPort),
          "PAYMENT_PROVIDER_PORT", Integer.toString(paymentPort),
          "FLOWTRACE_DEFECTS", defects,
          "EXIT_ON_STDIN_EOF", "true"));
      services.add(fork(name + "-payment-provider", service("payment-provider", false), common));
      for (String service : List.of("inventory-service", "notification-service", "order-service", "gateway")) {
        Map<String, String> env = new HashMap<>(common);
        env.putAll(agentEnv(service, "http://127.0.0.1:" + otlpPort));
        env.putAll(agentSettings);
        services.add(fork(name + "-" + service, service(service, true), env));
      }
      awaitLog(name + "-recorder", "flowtrace: OTLP/HTTP");
      for (String service : List.of("payment-provider", "inventory-service", "notification-service", "order-service", "gateway")) {
        awaitLog(name + "-" + service, "ready " + service);
      }

      HttpClient http = HttpClient.newHttpClient();
      for (String[] order : orders) {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gatewayPort + "/api/orders"))
            .header("Authorization", "Bearer " + order[0]).header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(order[1])).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        requestIds.add(JSON.readTree(r.body()).get("requestId").asString());
      }
      List<String> ids = List.copyOf(requestIds);
      await(() -> done.test(recording, ids),
          () -> "the records awaited for " + ids + "; recorded per topic and requestId " + countsPerRequest(recording));
      if (advanceClock) {
        advanceRecordingClock(recording, otlpPort);
      }
      if (decodeEmails) {
        for (GenericRecord email : emails(recording, requestIds)) {
          assertThat(email.get("to").toString()).endsWith("@example.com");
        }
      }
    } finally {
      services.forEach(Process::destroy); // SIGTERM to all at once: the agents export what they still hold
      services.forEach(OrderServices::stop);
      if (recorder != null) {
        OrderServices.stop(recorder); // SIGTERM: the recorder writes everything it acknowledged
      }
    }

    keep(name, recording);
    Path report = dir.resolve("report.json");
    int exit = FlowTraceCli.run("replay", "--flows", FLOWS.toString(), "--no-progress", "--format", "json",
        "--output", report.toString(), recording.toString());
    JsonNode json = JSON.readTree(Files.readString(report));
    Map<String, List<String>> verdicts = new LinkedHashMap<>();
    requestIds.forEach(id -> verdicts.put(id, List.of("NOT REPORTED")));
    for (JsonNode flow : json.get("flows")) {
      String requestId = flow.path("keys").path("requestId").asString("");
      if (!requestIds.contains(requestId)) {
        continue;
      }
      List<String> v = new ArrayList<>();
      v.add(flow.get("status").asString());
      for (JsonNode violation : flow.get("violations")) {
        v.add(violation.path("kind").asString() + "@" + violation.path("stage").asString() + ":" + violation.path("field").asString(""));
      }
      verdicts.put(requestId, v);
    }
    assertThat(exit).as("replay exit code; report %s", json).isIn(FlowTraceCli.EXIT_PASSED, FlowTraceCli.EXIT_VIOLATIONS);
    return verdicts;
  }

  /**
   * Deletes every record earlier runs left on the topics (the recorder reads from the earliest
   * offset, and a clock marker of an earlier run is stamped in the future), so a run's recording
   * holds only its own traffic. The services' groups have committed past them already.
   */
  private static void forgetEarlierRuns() throws Exception {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      for (String topic : Topics.ALL) {
        latest.put(new TopicPartition(topic, 0), OffsetSpec.latest());
      }
      Map<TopicPartition, RecordsToDelete> delete = new HashMap<>();
      admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS)
          .forEach((tp, info) -> delete.put(tp, RecordsToDelete.beforeOffset(info.offset())));
      admin.deleteRecords(delete).all().get(30, TimeUnit.SECONDS);
    }
  }

  /**
   * Sends the recorder a span of service {@value #CLOCK_MARKER} stamped 31 s from now (as later
   * traffic would be) and waits until it is recorded: the recording then ends past the flows'
   * deadline. The span matches no flow event, so it adds no instance; it names a flow topic
   * ({@code messaging.destination.name}), so replay keeps it (spans that neither match an event nor
   * name a flow topic are dropped before sorting) and it moves event time.
   */
  private static void advanceRecordingClock(Path recording, int otlpPort) throws Exception {
    long at = (System.currentTimeMillis() + 31_000) * 1_000_000;
    String traceId = UUID.randomUUID().toString().replace("-", "");
    String span = "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"
        + "{\"stringValue\":\"" + CLOCK_MARKER + "\"}}]},\"scopeSpans\":[{\"scope\":{\"name\":\"OrderSystemIT\"},"
        + "\"spans\":[{\"traceId\":\"" + traceId + "\",\"spanId\":\"" + traceId.substring(0, 16) + "\","
        + "\"name\":\"recording clock marker\",\"kind\":1,\"startTimeUnixNano\":\"" + at + "\",\"endTimeUnixNano\":\"" + at
        + "\",\"attributes\":[{\"key\":\"messaging.system\",\"value\":{\"stringValue\":\"kafka\"}},"
        + "{\"key\":\"messaging.destination.name\",\"value\":{\"stringValue\":\"" + Topics.ORDERS_REQUESTED + "\"}}]"
        + "}]}]}]}";
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + otlpPort + "/v1/traces"))
            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(span)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    await(() -> spansText(recording).contains(CLOCK_MARKER), () -> "the clock marker span was not recorded");
  }

  private static String spansText(Path recording) {
    StringBuilder text = new StringBuilder();
    try (Stream<Path> files = Files.list(recording)) {
      for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".otlp.jsonl")).toList()) {
        text.append(Files.readString(f));
      }
    } catch (IOException e) {
      return "";
    }
    return text.toString();
  }

  /** With {@code -Dorder.keepRecordings=DIR}, copies the recording to DIR/name (for samples). */
  private static void keep(String name, Path recording) throws IOException {
    String keep = System.getProperty("order.keepRecordings");
    if (keep == null || keep.isBlank()) {
      return;
    }
    Path target = Path.of(keep).resolve(name);
    Files.createDirectories(target);
    try (Stream<Path> files = Files.list(recording)) {
      for (Path f : files.toList()) {
        Files.copy(f, target.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

  /** How many records of the topic the recording holds for the orders created from these requests. */
  private static int count(Path recording, Set<String> requestIds, String topic) {
    Map<String, String> orderIds = new HashMap<>();
    List<String> keys = new ArrayList<>();
    for (JsonNode r : recorded(recording)) {
      String t = r.path("topic").asString("");
      if (Topics.ORDERS_CREATED.equals(t)) {
        JsonNode created = JSON.readTree(r.path("payload").asString());
        orderIds.put(created.path("orderId").asString(), created.path("requestId").asString());
      }
      if (topic.equals(t)) {
        keys.add(r.path("key").asString(""));
      }
    }
    return (int) keys.stream().filter(k -> requestIds.contains(orderIds.get(k))).count();
  }

  /** Per topic, per requestId: how many records the recording holds for the order of that request. */
  private static Map<String, Map<String, Integer>> countsPerRequest(Path recording) {
    Map<String, String> requestByOrder = new HashMap<>();
    List<JsonNode> records = recorded(recording);
    for (JsonNode r : records) {
      if (Topics.ORDERS_CREATED.equals(r.path("topic").asString(""))) {
        JsonNode created = JSON.readTree(r.path("payload").asString());
        requestByOrder.put(created.path("orderId").asString(), created.path("requestId").asString());
      }
    }
    Map<String, Map<String, Integer>> counts = new TreeMap<>();
    for (JsonNode r : records) {
      String requestId = requestByOrder.get(r.path("key").asString(""));
      if (requestId != null) {
        counts.computeIfAbsent(r.path("topic").asString(""), t -> new TreeMap<>()).merge(requestId, 1, Integer::sum);
      }
    }
    return counts;
  }

  private static List<JsonNode> recorded(Path recording) {
    List<JsonNode> records = new ArrayList<>();
    if (!Files.isDirectory(recording)) {
      return records;
    }
    try (Stream<Path> files = Files.list(recording)) {
      for (Path file : files.filter(f -> f.getFileName().toString().endsWith(".kcat.jsonl")).toList()) {
        for (String line : Files.readAllLines(file)) {
          try {
            records.add(JSON.readTree(line));
          } catch (RuntimeException partialLine) {
            // the writer may be mid-line
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return records;
  }

  /** The decoded e-mails in the recording for the orders created from these requests. */
  private static List<GenericRecord> emails(Path recording, Set<String> requestIds) {
    Map<String, String> orderIds = new HashMap<>();
    Map<String, List<byte[]>> emailsByOrder = new LinkedHashMap<>();
    if (!Files.isDirectory(recording)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(recording)) {
      for (Path file : files.filter(f -> f.getFileName().toString().endsWith(".kcat.jsonl")).toList()) {
        for (String line : Files.readAllLines(file)) {
          JsonNode r;
          try {
            r = JSON.readTree(line);
          } catch (RuntimeException partialLine) {
            continue;
          }
          String topic = r.path("topic").asString("");
          if (Topics.ORDERS_CREATED.equals(topic)) {
            JsonNode created = JSON.readTree(r.path("payload").asString());
            orderIds.put(created.path("orderId").asString(), created.path("requestId").asString());
          } else if (Topics.NOTIFICATIONS_EMAIL.equals(topic)) {
            emailsByOrder.computeIfAbsent(r.path("key").asString(""), k -> new ArrayList<>())
                .add(Base64.getDecoder().decode(r.path("payload_base64").asString()));
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<GenericRecord> emails = new ArrayList<>();
    emailsByOrder.forEach((orderId, list) -> {
      if (requestIds.contains(orderIds.get(orderId))) {
        list.forEach(bytes -> emails.add(EmailCodec.decode(bytes)));
      }
    });
    return emails;
  }
}
