package io.flowtrace.faults;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.cli.synth.Defect;
import io.flowtrace.cli.synth.LivePlayback;
import io.flowtrace.cli.synth.Manifest;
import io.flowtrace.cli.synth.SyntheticOrderFlows;
import io.flowtrace.kafka.testkit.KafkaBroker;
import io.flowtrace.sidecar.Sidecar;
import io.flowtrace.sidecar.SidecarConfig;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What the live sidecar tests share: a real broker per test with the flow topics (3 partitions
 * each), the spans and verdicts topics, a copy of {@code flows/} whose deadline is cut to 10 s, a
 * generator planting every kind of defect, forked sidecars, and readers that compare the verdicts
 * in {@code flowtrace.verdicts} with the generator's manifest.
 */
abstract class LiveSidecarTestBase {


  static final Path FLOWS = Path.of("../flows");
  static final Path CLI_JAR = Path.of(System.getProperty("flowtrace.jar", "../cli/target/flowtrace.jar"));
  static final String SPANS_TOPIC = "otlp_spans";
  static final Path LOGS = Path.of("target/it-logs");
  static final Duration TIMEOUT = Duration.ofSeconds(90);
  static final JsonMapper JSON = JsonMapper.builder().build();
  static final List<Defect> PLANTED = List.of(Defect.DROP_ENRICHMENT, Defect.WRONG_TOTAL,
      Defect.PAYMENT_AMOUNT_MISMATCH, Defect.DECLINED_BUT_CONFIRMED, Defect.DUPLICATE_WEBHOOK_NON_IDEMPOTENT,
      Defect.DUPLICATE_WEBHOOK_IDEMPOTENT, Defect.LOST_TRACEPARENT, Defect.SLOW_NOTIFICATION,
      Defect.BAD_AVRO_EMAIL, Defect.BAD_JSON_SCHEMA, Defect.EARLY_ORDER_CREATED);

  @TempDir Path dir;
  KafkaBroker broker;
  Path flows;
  final List<Process> forked = new ArrayList<>();

  @BeforeEach
  void startBroker() throws Exception {
    // A killed broker comes back once its controller forgets the old session: 9 s by default, 3 s here,
    // so an outage a test makes lasts what the test says and not that much more.
    broker = KafkaBroker.builder().serverProperty("broker.session.timeout.ms", "3000")
        .serverProperty("broker.heartbeat.interval.ms", "500").start();
    flows = dir.resolve("flows");
    copyWithDeadline(FLOWS, flows, "10s");
    for (FlowSpec flow : new FlowSpecLoader().load(flows)) {
      flow.eventsByTopic().keySet().forEach(t -> broker.createTopic(t, 3));
    }
    broker.createTopic(SPANS_TOPIC, 3);
    broker.createTopic(SidecarConfig.DEFAULT_VERDICTS_TOPIC, 3);
  }

  @AfterEach
  void stopBroker() {
    forked.forEach(Process::destroyForcibly);
    if (broker != null) {
      broker.close();
    }
  }

  static double verifiedTotal(Map<String, Double> metrics) {
    return metrics.entrySet().stream().filter(e -> e.getKey().startsWith("flowtrace_flows_verified_total{"))
        .mapToDouble(Map.Entry::getValue).sum();
  }

  // ---- fixture ----

  private static final java.util.concurrent.atomic.AtomicLong SEEDS = new java.util.concurrent.atomic.AtomicLong(4242);

  /**
   * A generator of new flows: every call its own seed, so no two tests (which share a broker, a
   * verdicts topic and a consumer group) play the same request ids, order ids and trace ids. With
   * one seed for all, a sidecar seeded at start with an earlier test's verdicts took this test's
   * spans for late events of instances it had already decided.
   */
  static SyntheticOrderFlows.Builder generator(int flows, Duration interArrival) {
    long seed = SEEDS.getAndIncrement();
    System.out.printf("generator seed %d%n", seed);
    SyntheticOrderFlows.Builder b = SyntheticOrderFlows.builder().seed(seed).flows(flows).interArrival(interArrival);
    for (int i = 0; i < PLANTED.size(); i++) {
      b.plant(PLANTED.get(i), 1 + 2 * i);
    }
    return b;
  }

  static Path write(SyntheticOrderFlows.Builder generator, Path recording, Instant start) throws IOException {
    generator.start(start).build().write(clean(recording));
    return recording;
  }

  /**
   * Writes the generator's flows to {@code dir/recording} and fills the broker's topics up to where
   * the recording starts, so that played records land at their recorded offsets; returns the
   * recording, to be written again with the real start time and played.
   */
  Path filledRecording(SyntheticOrderFlows.Builder generator) throws IOException {
    Path recording = dir.resolve("recording");
    try (LivePlayback filler = new LivePlayback(broker.bootstrapServers(), write(generator, recording, Instant.now()))) {
      filler.fill();
    }
    return recording;
  }

  /** Writes the generator's flows as they happened an hour ago and produces them all now: a backlog nobody read. */
  Manifest backlog(SyntheticOrderFlows.Builder generator, Path recording) throws Exception {
    Instant anHourAgo = Instant.now().minus(Duration.ofHours(1));
    Manifest written = generator.start(anHourAgo).build().write(clean(recording));
    try (LivePlayback backlog = new LivePlayback(broker.bootstrapServers(), recording)) {
      backlog.fill(anHourAgo.minusSeconds(60));
      backlog.play(SPANS_TOPIC, null);
    }
    return written;
  }

  static Path clean(Path recording) throws IOException {
    if (Files.exists(recording)) {
      try (Stream<Path> files = Files.list(recording)) {
        for (Path f : files.toList()) {
          Files.delete(f);
        }
      }
    }
    Files.createDirectories(recording);
    return recording;
  }

  static void copyWithDeadline(Path from, Path to, String deadline) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path f : files.toList()) {
        Path target = to.resolve(from.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(target);
        } else if (f.getFileName().toString().endsWith(".flow.yaml")) {
          Files.writeString(target, Files.readString(f).replaceFirst("(?m)^deadline: .*$", "deadline: " + deadline));
        } else {
          Files.copy(f, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  /** A sidecar in its own JVM: the process, its {@code /metrics} port and its log file. */
  record ForkedSidecar(Process process, int opsPort, Path log) {}

  /** Forks {@code flowtrace sidecar} on the test's broker and flows (extra flags appended) and waits until it is ready. */
  ForkedSidecar forkSidecar(String name, String... extraArgs) throws IOException {
    return forkSidecar(name, STATIC_MEMBER, extraArgs);
  }

  /**
   * Forks a sidecar as {@link #forkSidecar(String, String...)} does, a static member of its groups
   * named {@code groupInstanceId}, or a dynamic one (leaving its groups when stopped) when it is null.
   */
  ForkedSidecar forkSidecar(String name, String groupInstanceId, String... extraArgs) throws IOException {
    Path log = LOGS.resolve("sidecar-" + name + ".log");
    return awaitStarted(name, launchSidecar(log, 0, groupInstanceId, extraArgs), log);
  }

  /** Waits until a launched sidecar says where its ops endpoints are and is ready. */
  static ForkedSidecar awaitStarted(String name, Process p, Path log) {
    Pattern opsUrl = Pattern.compile("metrics http://127\\.0\\.0\\.1:(\\d+)/metrics");
    int[] port = {-1};
    io.flowtrace.kafka.testkit.Await.until(TIMEOUT, () -> {
      try {
        Matcher m = opsUrl.matcher(Files.readString(log));
        if (m.find()) {
          port[0] = Integer.parseInt(m.group(1));
        }
        return port[0] > 0 || !p.isAlive();
      } catch (IOException e) {
        return false;
      }
    }, () -> "the sidecar's ops port in " + log);
    assertThat(p.isAlive()).as("sidecar %s is running (see %s)", name, log).isTrue();
    awaitReady(port[0]);
    return new ForkedSidecar(p, port[0], log);
  }

  /** Starts {@code flowtrace sidecar} in its own JVM, its output to {@code log}, and returns at once. */
  Process launchSidecar(Path log, int httpPort, String... extraArgs) throws IOException {
    return launchSidecar(log, httpPort, STATIC_MEMBER, extraArgs);
  }

  /** The static group membership of the forked sidecars unless a test says otherwise: a restart keeps its partitions. */
  static final String STATIC_MEMBER = "flowtrace-sidecar-1";

  /** Starts a sidecar as {@link #launchSidecar(Path, int, String...)} does, with the given group membership (null: dynamic). */
  Process launchSidecar(Path log, int httpPort, String groupInstanceId, String... extraArgs) throws IOException {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Files.createDirectories(LOGS);
    List<String> command = new ArrayList<>(List.of(java.toString(), "-Xmx512m", "-Dflowtrace.statsIntervalMillis=2000",
        "-Dorg.slf4j.simpleLogger.showDateTime=true", "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS", "-jar", CLI_JAR.toString(), "sidecar",
        "--flows", flows.toString(),
        "--bootstrap-servers", broker.bootstrapServers(),
        "--spans-topic", SPANS_TOPIC,
        "--otlp-http-port", "-1", "--otlp-grpc-port", "-1",
        "--commit-interval", "500ms",
        "--kafka-property", "session.timeout.ms=10000",
        "--http-port", String.valueOf(httpPort),
        "--console", "false"));
    if (groupInstanceId != null) {
      command.addAll(List.of("--kafka-property", "group.instance.id=" + groupInstanceId));
    }
    command.addAll(List.of(extraArgs));
    Process p = new ProcessBuilder(command)
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    forked.add(p);
    return p;
  }

  static void awaitReady(int opsPort) {
    HttpClient http = HttpClient.newHttpClient();
    io.flowtrace.kafka.testkit.Await.until(TIMEOUT, () -> {
      try {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + opsPort + "/readyz")).build(),
            HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
      } catch (IOException e) {
        return false;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }, () -> "sidecar ready");
  }

  static Map<String, Double> scrape(int opsPort) throws IOException, InterruptedException {
    String body = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + opsPort + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    Map<String, Double> out = new TreeMap<>();
    Pattern line = Pattern.compile("^([a-z_]+(?:\\{[^}]*\\})?) (\\S+)$");
    for (String l : body.split("\n")) {
      Matcher m = line.matcher(l);
      if (m.matches()) {
        out.put(m.group(1), Double.parseDouble(m.group(2)));
      }
    }
    return out;
  }

  static String latencySummary(Map<String, Double> metrics) {
    double count = metrics.get("flowtrace_verdict_latency_seconds_count");
    TreeMap<Double, Double> buckets = new TreeMap<>();
    Pattern bucket = Pattern.compile("flowtrace_verdict_latency_seconds_bucket\\{le=\"([^\"]+)\"\\}");
    metrics.forEach((name, value) -> {
      Matcher m = bucket.matcher(name);
      if (m.matches()) {
        buckets.put(m.group(1).equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(m.group(1)), value);
      }
    });
    StringBuilder sb = new StringBuilder(String.format("%.0f decisions", count));
    for (double q : new double[] {0.5, 0.99}) {
      buckets.entrySet().stream().filter(e -> e.getValue() >= q * count).findFirst()
          .ifPresent(e -> sb.append(String.format(", p%.0f <= %s s", q * 100, e.getKey())));
    }
    return sb.toString();
  }

  /** The verdicts on {@code topic}, in order (late-event notes left out). */
  List<JsonNode> readVerdicts(String topic) {
    List<JsonNode> out = new ArrayList<>();
    try (KafkaConsumer<String, String> c = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new StringDeserializer(), new StringDeserializer())) {
      List<org.apache.kafka.common.TopicPartition> tps = c.partitionsFor(topic).stream()
          .map(p -> new org.apache.kafka.common.TopicPartition(topic, p.partition())).toList();
      c.assign(tps);
      c.seekToBeginning(tps);
      Map<org.apache.kafka.common.TopicPartition, Long> ends = c.endOffsets(tps);
      while (tps.stream().anyMatch(tp -> c.position(tp) < ends.get(tp))) {
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
          JsonNode v = JSON.readTree(r.value());
          if (v.has("verdict")) { // not a late-event note
            out.add(v);
          }
        }
      }
    }
    return out;
  }

  int countVerdicts(String topic) {
    return readVerdicts(topic).size();
  }

  /** Waits until the latest verdict of every expected flow is in the topic and says what the manifest says. */
  List<JsonNode> awaitVerdicts(String topic, Manifest expected) {
    return awaitVerdicts(topic, expectedByOrder(expected));
  }

  /** Waits until the latest verdict of every order is in the topic and says what {@code want} says (by order id). */
  List<JsonNode> awaitVerdicts(String topic, Map<String, String> want) {
    List<List<JsonNode>> last = new ArrayList<>(List.of(List.of()));
    try {
      io.flowtrace.kafka.testkit.Await.until(TIMEOUT, () -> {
        List<JsonNode> verdicts = readVerdicts(topic);
        last.set(0, verdicts);
        return latestByOrder(verdicts).equals(want);
      }, () -> "verdicts as the manifest says");
    } catch (AssertionError e) {
      Map<String, String> got = latestByOrder(last.get(0));
      for (JsonNode v : last.get(0)) {
        String order = v.path("verdict").path("keys").path("orderId").asString(null);
        if (order != null && !java.util.Objects.equals(got.get(order), want.get(order))) {
          System.out.println("wrong in the end, " + order + " (expected " + want.get(order) + "): " + v);
        }
      }
      assertThat(got).isEqualTo(want);
    }
    return last.get(0);
  }

  static Map<String, String> expectedByOrder(List<Manifest> manifests) {
    Map<String, String> want = new TreeMap<>();
    manifests.forEach(m -> want.putAll(expectedByOrder(m)));
    return want;
  }

  static Map<String, String> expectedByOrder(Manifest m) {
    Map<String, String> out = new TreeMap<>();
    for (Manifest.Flow f : m.flows()) {
      out.put(f.orderId(), expected(f));
    }
    return out;
  }

  /** The verdict planted in a flow, as {@link #latestByOrder} writes verdicts. */
  static String expected(Manifest.Flow f) {
    TreeSet<String> v = new TreeSet<>();
    f.violations().forEach(x -> v.add(x.kind() + "@" + x.stage()));
    return f.status() + " " + v;
  }

  static Map<String, String> latestByOrder(List<JsonNode> verdicts) {
    Map<String, Integer> revision = new HashMap<>();
    Map<String, String> out = new TreeMap<>();
    for (JsonNode v : verdicts) {
      String order = v.path("verdict").path("keys").path("orderId").asString(null);
      int rev = v.path("revision").asInt();
      if (order != null && rev >= revision.getOrDefault(order, -1)) {
        revision.put(order, rev);
        out.put(order, outcome(v));
      }
    }
    return out;
  }

  static String outcome(JsonNode v) {
    TreeSet<String> kinds = new TreeSet<>();
    v.path("verdict").path("violations").forEach(x -> kinds.add(x.path("kind").asString() + "@" + x.path("stage").asString()));
    return v.path("verdict").path("status").asString() + " " + kinds;
  }

  static List<String> jsonLines(Path verdictsDir) throws IOException {
    List<String> lines = new ArrayList<>();
    try (Stream<Path> files = Files.list(verdictsDir)) {
      for (Path f : files.sorted().toList()) {
        lines.addAll(Files.readAllLines(f).stream().filter(l -> !l.isBlank()).toList());
      }
    }
    return lines;
  }

  /** What a live run ended with, against the generator's manifests (one per phase of the run). */
  static final class Outcome {
    final List<Manifest> expected;
    final List<JsonNode> verdicts;
    final Set<String> readyDuringOutage;

    Outcome(Manifest expected, List<JsonNode> verdicts, Set<String> readyDuringOutage) {
      this(List.of(expected), verdicts, readyDuringOutage);
    }

    Outcome(List<Manifest> expected, List<JsonNode> verdicts, Set<String> readyDuringOutage) {
      this.expected = List.copyOf(expected);
      this.verdicts = verdicts;
      this.readyDuringOutage = readyDuringOutage;
    }

    int flows() {
      return expected.stream().mapToInt(m -> m.flows().size()).sum();
    }

    /** First decisions published again for an instance already decided. */
    long resent() {
      return firstDecisions() - verdicts.stream().filter(v -> v.path("revision").asInt() == 0)
          .map(v -> v.path("instanceKey").asString()).distinct().count();
    }

    long firstDecisions() {
      return verdicts.stream().filter(v -> v.path("revision").asInt() == 0).count();
    }

    /** Verdicts whose outcome differs from the instance's final one: said, then taken back. */
    List<String> contradicted() {
      Map<String, String> last = latestByOrder(verdicts);
      return verdicts.stream().filter(v -> v.has("verdict")).filter(v -> {
        String order = v.path("verdict").path("keys").path("orderId").asString(null);
        return order != null && !outcome(v).equals(last.get(order));
      }).map(v -> {
        String order = v.path("verdict").path("keys").path("orderId").asString();
        String planted = expected.stream().flatMap(m -> m.flows().stream()).filter(f -> f.orderId().equals(order)).findFirst()
            .map(f -> f.defect() == null ? "no defect" : f.defect().name()).orElse("not in the manifest");
        return v.path("instanceKey").asString() + " r" + v.path("revision").asInt() + " " + outcome(v) + " (" + planted
            + ", finally " + last.get(order) + ", decided " + v.path("verdict").path("reason").asString() + " at "
            + v.path("decided").asString() + ")";
      }).toList();
    }

    /**
     * Violations a verdict published that the instance's final verdict no longer has: false alarms.
     * (A verdict that later gains a violation — a duplicate webhook delivered after the flow
     * completed — is contradicted, but raised no false alarm.)
     */
    List<String> withdrawn() {
      Map<String, JsonNode> last = new HashMap<>();
      for (JsonNode v : verdicts) {
        String key = v.path("instanceKey").asString();
        if (v.has("verdict") && (!last.containsKey(key) || v.path("revision").asInt() >= last.get(key).path("revision").asInt())) {
          last.put(key, v);
        }
      }
      List<String> out = new ArrayList<>();
      for (JsonNode v : verdicts) {
        JsonNode fin = last.get(v.path("instanceKey").asString());
        if (fin == null || fin == v) {
          continue;
        }
        Set<String> finalKinds = new TreeSet<>();
        fin.path("verdict").path("violations").forEach(x -> finalKinds.add(x.path("kind").asString() + "@" + x.path("stage").asString()));
        v.path("verdict").path("violations").forEach(x -> {
          String kind = x.path("kind").asString() + "@" + x.path("stage").asString();
          if (!finalKinds.contains(kind)) {
            out.add(v.path("instanceKey").asString() + " r" + v.path("revision").asInt() + " said " + kind);
          }
        });
      }
      return out;
    }

    void assertRightOnceAndNeverContradicted() {
      assertRightAndDecidedOnce();
      assertThat(contradicted()).as("verdicts contradicted later").isEmpty();
    }

    /**
     * Right, decided once, and no false alarm: no violation published and withdrawn later. A verdict
     * may change only by a finding it could not have had — a duplicate webhook delivered (here, held
     * back by a broker outage) after its flow completed.
     */
    void assertRightOnceWithoutFalseAlarms() {
      assertRightAndDecidedOnce();
      assertThat(withdrawn()).as("violations published and then withdrawn: false alarms").isEmpty();
      assertThat(contradicted()).as("verdicts changed later other than by a duplicate webhook delivered after the flow"
          + " completed (a finding the first verdict could not have had)")
          .allMatch(c -> c.contains("(DUPLICATE_WEBHOOK_NON_IDEMPOTENT, finally FAILED [NON_IDEMPOTENT@payment-captured]"));
    }

    void assertRightAndDecidedOnce() {
      verdicts.stream().filter(v -> v.path("verdict").path("keys").path("orderId").isMissingNode())
          .forEach(v -> System.out.println("verdict without an orderId: " + v));
      assertThat(latestByOrder(verdicts)).isEqualTo(expectedByOrder(expected));
      assertDecidedOnce();
    }

    void assertDecidedOnce() {
      Map<String, Long> firstByKey = new TreeMap<>();
      verdicts.stream().filter(v -> v.path("revision").asInt() == 0)
          .forEach(v -> firstByKey.merge(v.path("instanceKey").asString(), 1L, Long::sum));
      assertThat(firstByKey).as("first decisions per instance").hasSize(flows())
          .allSatisfy((key, n) -> assertThat(n).as(key).isEqualTo(1L));
    }
  }
}
