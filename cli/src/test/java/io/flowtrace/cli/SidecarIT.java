package io.flowtrace.cli;

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
 * {@code flowtrace sidecar} on a real broker, fed in real time: a generated recording (every kind
 * of defect planted) is played into Kafka and OTLP as the system would produce it, and the verdicts
 * the sidecar writes to {@code flowtrace.verdicts} are compared with the generator's manifest.
 * The flows' deadline is cut to 10 s (a copy of {@code flows/}) so a run takes seconds, not minutes.
 */
class SidecarIT {

  private static final Path FLOWS = Path.of("../flows");
  private static final Path CLI_JAR = Path.of("target/flowtrace.jar");
  private static final String SPANS_TOPIC = "otlp_spans";
  private static final Path LOGS = Path.of("target/it-logs");
  private static final Duration TIMEOUT = Duration.ofSeconds(90);
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final List<Defect> PLANTED = List.of(Defect.DROP_ENRICHMENT, Defect.WRONG_TOTAL,
      Defect.PAYMENT_AMOUNT_MISMATCH, Defect.DECLINED_BUT_CONFIRMED, Defect.DUPLICATE_WEBHOOK_NON_IDEMPOTENT,
      Defect.DUPLICATE_WEBHOOK_IDEMPOTENT, Defect.LOST_TRACEPARENT, Defect.SLOW_NOTIFICATION,
      Defect.BAD_AVRO_EMAIL, Defect.BAD_JSON_SCHEMA, Defect.EARLY_ORDER_CREATED);

  @TempDir Path dir;
  private KafkaBroker broker;
  private Path flows;
  private final List<Process> forked = new ArrayList<>();

  @BeforeEach
  void startBroker() throws Exception {
    broker = KafkaBroker.start();
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

  @Test
  void verifiesLiveFlowsAsTheyHappenAndItsMetricsMatchItsVerdicts() throws Exception {
    SyntheticOrderFlows.Builder generator = generator(30, Duration.ofMillis(200));
    Path recording = dir.resolve("recording");
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    Map<String, String> flags = new HashMap<>(Map.of(
        "flows", flows.toString(),
        "bootstrap-servers", broker.bootstrapServers(),
        "otlp-http-port", "0",
        "otlp-grpc-port", "-1",
        "http-port", "0",
        "verdicts-dir", dir.resolve("verdicts").toString()));
    SidecarConfig config = SidecarConfig.from(null, Map.of(), flags);

    Manifest expected;
    try (LivePlayback filler = new LivePlayback(broker.bootstrapServers(), write(generator, recording, Instant.now()))) {
      filler.fill();
    }
    try (Sidecar sidecar = Sidecar.start(config, new PrintStream(console, true, StandardCharsets.UTF_8))) {
      awaitReady(sidecar.opsPort());
      expected = generator.start(Instant.now().plusSeconds(1)).build().write(clean(recording));
      try (LivePlayback player = new LivePlayback(broker.bootstrapServers(), recording)) {
        player.play(null, sidecar.otlpHttpEndpoint());
      }
      List<JsonNode> verdicts = awaitVerdicts(SidecarConfig.DEFAULT_VERDICTS_TOPIC, expected);

      assertThat(latestByOrder(verdicts)).isEqualTo(expectedByOrder(expected));
      Map<String, Double> metrics = scrape(sidecar.opsPort());
      Map<String, Long> firstDecisions = new TreeMap<>();
      Map<String, Long> kinds = new TreeMap<>();
      for (JsonNode v : verdicts) {
        if (v.path("revision").asInt() == 0) {
          firstDecisions.merge(v.path("verdict").path("status").asString(), 1L, Long::sum);
          v.path("verdict").path("violations").forEach(x -> kinds.merge(x.path("kind").asString(), 1L, Long::sum));
        }
      }
      firstDecisions.forEach((status, n) -> assertThat(metrics)
          .containsEntry("flowtrace_flows_verified_total{flow=\"order-creation\",status=\"" + status + "\"}", (double) n));
      kinds.forEach((kind, n) -> assertThat(metrics)
          .containsEntry("flowtrace_violations_total{flow=\"order-creation\",kind=\"" + kind + "\"}", (double) n));
      assertThat(metrics.get("flowtrace_verdict_latency_seconds_count")).isPositive();
      assertThat(metrics).containsEntry("flowtrace_instances_in_flight", 0.0);
      System.out.printf("sidecar verdict latency (data-driven decisions): %s%n", latencySummary(metrics));

      sidecar.close();
      String printed = console.toString(StandardCharsets.UTF_8);
      for (Manifest.Flow f : expected.flows()) {
        if (f.status() == Manifest.Status.FAILED) {
          assertThat(printed).contains("orderId=" + f.orderId());
        }
      }
      assertThat(jsonLines(dir.resolve("verdicts"))).hasSameSizeAs(verdicts);
    }
  }

  /**
   * Field conditions live: a third of the traces head-sampled out and two hosts' clocks tens of
   * milliseconds off. Sampled-out orders are decided from their records without waiting for spans
   * that never come, get no false alarm, and their record-visible defects are still found.
   */
  @Test
  void underSamplingAndSkewedClocksTheSidecarRaisesNoFalseAlarm() throws Exception {
    SyntheticOrderFlows.Builder generator = generator(40, Duration.ofMillis(150)).sampleRatio(0.3)
        .clockSkew("inventory-service", Duration.ofMillis(40)).clockSkew("notification-service", Duration.ofMillis(-30));
    Path recording = dir.resolve("recording");
    SidecarConfig config = SidecarConfig.from(null, Map.of(), Map.of(
        "flows", flows.toString(),
        "bootstrap-servers", broker.bootstrapServers(),
        "otlp-http-port", "0",
        "otlp-grpc-port", "-1",
        "http-port", "0",
        "console", "false"));
    try (LivePlayback filler = new LivePlayback(broker.bootstrapServers(), write(generator, recording, Instant.now()))) {
      filler.fill();
    }
    try (Sidecar sidecar = Sidecar.start(config)) {
      awaitReady(sidecar.opsPort());
      Manifest manifest = generator.start(Instant.now().plusSeconds(1)).build().write(clean(recording));
      Map<String, String> want = new TreeMap<>();
      for (Manifest.Flow f : manifest.flows()) {
        want.put(f.orderId(), FieldConditionsReplayTest.expectedUnderSampling(f));
      }
      try (LivePlayback player = new LivePlayback(broker.bootstrapServers(), recording)) {
        player.play(null, sidecar.otlpHttpEndpoint());
      }
      List<List<JsonNode>> last = new ArrayList<>(List.of(List.of()));
      try {
        io.flowtrace.kafka.testkit.Await.until(TIMEOUT, () -> {
          last.set(0, readVerdicts(SidecarConfig.DEFAULT_VERDICTS_TOPIC));
          return latestByOrder(last.get(0)).equals(want);
        }, () -> "verdicts as sampling allows");
      } catch (AssertionError e) {
        assertThat(latestByOrder(last.get(0))).isEqualTo(want);
      }
      Map<String, Double> metrics = scrape(sidecar.opsPort());
      assertThat(metrics.get("flowtrace_flows_verification_total{flow=\"order-creation\",verification=\"partial\"}"))
          .as("partly verified first decisions").isPositive();
      assertThat(manifest.flows().stream().filter(f -> !f.mainSampled()).count()).isPositive();
    }
  }

  /**
   * Overload at small scale: 2,000 flows offered in a burst to a sidecar whose receivers queue at
   * most 100 spans. The receivers answer 429/503 with
   * {@code Retry-After} (the player retries as exporters do), the queue never holds more than its
   * capacity, every span the receivers acknowledged and every record reaches the engine, the backlog
   * drains, and every verdict is what the manifest says — spans that waited are not judged missing,
   * and no event comes after its instance was final.
   */
  @Test
  void overloadedItPushesBackWithinItsBoundsLosesNothingAcknowledgedAndDrains() throws Exception {
    SyntheticOrderFlows.Builder generator = generator(2000, Duration.ofNanos(100_000));
    Path recording = dir.resolve("recording");
    int queueCapacity = 100;
    SidecarConfig config = SidecarConfig.from(null, Map.of(), Map.of(
        "flows", flows.toString(),
        "bootstrap-servers", broker.bootstrapServers(),
        "otlp-http-port", "0",
        "otlp-grpc-port", "-1",
        "http-port", "0",
        "queue-capacity", Integer.toString(queueCapacity),
        "console", "false"));
    try (LivePlayback filler = new LivePlayback(broker.bootstrapServers(), write(generator, recording, Instant.now()))) {
      filler.fill();
    }
    try (Sidecar sidecar = Sidecar.start(config)) {
      awaitReady(sidecar.opsPort());
      Manifest expected = generator.start(Instant.now().plusSeconds(1)).build().write(clean(recording));
      long[] peakQueued = new long[1];
      long[] peakRetained = new long[1];
      Thread sampler = new Thread(() -> {
        while (!Thread.currentThread().isInterrupted()) {
          peakQueued[0] = Math.max(peakQueued[0], sidecar.backlog().otlpQueued());
          peakRetained[0] = Math.max(peakRetained[0], sidecar.engineStats().retainedEvents());
          java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
      }, "backlog-sampler");
      sampler.setDaemon(true);
      sampler.start();
      long spans;
      long records;
      int retried;
      try (LivePlayback player = new LivePlayback(broker.bootstrapServers(), recording)) {
        player.play(null, sidecar.otlpHttpEndpoint());
        spans = player.spans();
        records = player.records();
        retried = player.retried();
      }
      io.flowtrace.kafka.testkit.Await.until(TIMEOUT, () -> sidecar.engineStats().spans() == spans
          && sidecar.engineStats().records() == records && sidecar.backlog().otlpQueued() == 0
          && sidecar.backlog().inboxBatches() == 0, () -> "the engine took " + sidecar.engineStats().spans() + " of "
          + spans + " spans and " + sidecar.engineStats().records() + " of " + records + " records; " + sidecar.backlog());
      List<JsonNode> verdicts = awaitVerdicts(SidecarConfig.DEFAULT_VERDICTS_TOPIC, expected);
      sampler.interrupt();

      assertThat(latestByOrder(verdicts)).isEqualTo(expectedByOrder(expected));
      assertThat(retried).as("exports answered 429/503 and sent again after Retry-After").isPositive();
      assertThat(peakQueued[0]).as("spans queued at the receivers").isLessThanOrEqualTo(queueCapacity);
      assertThat(sidecar.engineStats().lateDropped()).as("events after their instance was final").isZero();
      System.out.printf("overload: %,d exports retried, %,d verdicts amended, peak %,d spans queued, %,d events"
              + " retained%n", retried, sidecar.engineStats().verdictsAmended(), peakQueued[0], peakRetained[0]);
    }
  }

  @Test
  void aSidecarStartedOnAnHourOldBacklogJudgesItInEventTimeAsReplayWould() throws Exception {
    // An outage: the flows happened an hour ago, with every defect planted, and sit in Kafka unread.
    SyntheticOrderFlows.Builder generator = generator(30, Duration.ofMillis(200));
    Path recording = dir.resolve("recording");
    Instant anHourAgo = Instant.now().minus(Duration.ofHours(1));
    Manifest expected = generator.start(anHourAgo).build().write(clean(recording));
    try (LivePlayback backlog = new LivePlayback(broker.bootstrapServers(), recording)) {
      backlog.fill(anHourAgo.minusSeconds(60));
      backlog.play(SPANS_TOPIC, null);
    }
    SidecarConfig config = SidecarConfig.from(null, Map.of(), Map.of(
        "flows", flows.toString(),
        "bootstrap-servers", broker.bootstrapServers(),
        "start-from", "earliest",
        "spans-topic", SPANS_TOPIC,
        "otlp-http-port", "-1",
        "otlp-grpc-port", "-1",
        // No second chance: a verdict decided before the backlog's later events were read stays wrong.
        "amend-window", "1ms",
        "console", "false"));

    try (Sidecar sidecar = Sidecar.start(config)) {
      List<JsonNode> verdicts = awaitVerdicts(SidecarConfig.DEFAULT_VERDICTS_TOPIC, expected);

      assertThat(latestByOrder(verdicts)).isEqualTo(expectedByOrder(expected));
      assertThat(sidecar.engineStats().lateDropped()).as("events dropped as late").isZero();
      assertThat(verdicts).as("each decided once, with all its events read: none amended")
          .allSatisfy(v -> assertThat(v.path("revision").asInt()).as(v.path("instanceKey").asString()).isZero());
    }
  }

  @Test
  void aSidecarKilledMidStreamRestartsWithoutLosingOrContradictingVerdicts() throws Exception {
    SyntheticOrderFlows.Builder generator = generator(40, Duration.ofMillis(150));
    Path recording = dir.resolve("recording");
    try (LivePlayback filler = new LivePlayback(broker.bootstrapServers(), write(generator, recording, Instant.now()))) {
      filler.fill();
    }
    Process first = forkSidecar("first");
    Manifest expected = generator.start(Instant.now().plusSeconds(1)).build().write(clean(recording));
    try (LivePlayback player = new LivePlayback(broker.bootstrapServers(), recording)) {
      Thread playing = player.playInBackground(SPANS_TOPIC, null);
      io.flowtrace.kafka.testkit.Await.until(TIMEOUT,
          () -> countVerdicts(SidecarConfig.DEFAULT_VERDICTS_TOPIC) >= 8, () -> "8 verdicts before the kill");
      first.destroyForcibly().waitFor(10, TimeUnit.SECONDS); // SIGKILL: no shutdown hook, no final commit
      int beforeKill = countVerdicts(SidecarConfig.DEFAULT_VERDICTS_TOPIC);
      forkSidecar("second");
      player.awaitPlayed(playing);
      List<JsonNode> verdicts = awaitVerdicts(SidecarConfig.DEFAULT_VERDICTS_TOPIC, expected);

      assertThat(beforeKill).isLessThan(expected.flows().size());
      assertThat(latestByOrder(verdicts)).isEqualTo(expectedByOrder(expected));
      Map<String, Set<String>> outcomesByKey = new TreeMap<>();
      for (JsonNode v : verdicts) {
        if (v.path("revision").asInt() == 0) {
          outcomesByKey.computeIfAbsent(v.path("instanceKey").asString(), k -> new TreeSet<>()).add(outcome(v));
        }
      }
      assertThat(outcomesByKey).allSatisfy((key, outcomes) -> assertThat(outcomes).as(key).hasSize(1));
      long duplicates = verdicts.stream().filter(v -> v.path("revision").asInt() == 0).count() - outcomesByKey.size();
      System.out.printf("kill -9 after %d verdicts: %d instances, %d first decisions re-sent (same key, same outcome)%n",
          beforeKill, outcomesByKey.size(), duplicates);
    }
  }

  @Test
  void twoSidecarsInOneGroupShareTheWorkAndVerifyEveryFlowExactlyOnce() throws Exception {
    SyntheticOrderFlows.Builder generator = generator(40, Duration.ofMillis(150));
    Path recording = dir.resolve("recording");
    try (LivePlayback filler = new LivePlayback(broker.bootstrapServers(), write(generator, recording, Instant.now()))) {
      filler.fill();
    }
    Map<String, String> flags = new HashMap<>(Map.of(
        "flows", flows.toString(),
        "bootstrap-servers", broker.bootstrapServers(),
        "spans-topic", SPANS_TOPIC,
        "otlp-http-port", "-1",
        "otlp-grpc-port", "-1",
        "http-port", "0",
        "console", "false",
        "cluster", "true",
        "repartition-partitions", "6"));
    SidecarConfig config = SidecarConfig.from(null, Map.of(), flags);
    try (Sidecar one = Sidecar.start(config); Sidecar two = Sidecar.start(config)) {
      io.flowtrace.kafka.testkit.Await.until(TIMEOUT, () -> one.ownedPartitions().size() == 3
          && two.ownedPartitions().size() == 3, () -> one.ownedPartitions() + " / " + two.ownedPartitions());
      awaitReady(one.opsPort());
      awaitReady(two.opsPort());
      Manifest expected = generator.start(Instant.now().plusSeconds(1)).build().write(clean(recording));
      try (LivePlayback player = new LivePlayback(broker.bootstrapServers(), recording)) {
        player.play(SPANS_TOPIC, null);
      }
      List<JsonNode> verdicts = awaitVerdicts(SidecarConfig.DEFAULT_VERDICTS_TOPIC, expected);

      assertThat(latestByOrder(verdicts)).isEqualTo(expectedByOrder(expected));
      Map<String, Long> firstDecisions = new TreeMap<>();
      verdicts.stream().filter(v -> v.path("revision").asInt() == 0)
          .forEach(v -> firstDecisions.merge(v.path("instanceKey").asString(), 1L, Long::sum));
      assertThat(firstDecisions).hasSize(expected.flows().size()).allSatisfy((key, n) -> assertThat(n).as(key).isEqualTo(1L));
      double byOne = verifiedTotal(scrape(one.opsPort()));
      double byTwo = verifiedTotal(scrape(two.opsPort()));
      assertThat(byOne).isPositive();
      assertThat(byTwo).isPositive();
      assertThat(byOne + byTwo).isEqualTo(expected.flows().size());
      System.out.printf("two sidecars: %.0f + %.0f instances verified%n", byOne, byTwo);
    }
  }

  @Test
  void theSidecarBenchPlaysFlowsLiveAndPrintsLatencyAndRates() throws Exception {
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    PrintStream original = System.out;
    int exit;
    try {
      System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
      exit = FlowTraceCli.run("bench-sidecar", "--bootstrap-servers", broker.bootstrapServers(), "--flows",
          flows.toString(), "--count", "300", "--rate", "100");
    } finally {
      System.setOut(original);
    }
    String out = printed.toString(StandardCharsets.UTF_8);
    System.out.print(out);
    assertThat(exit).isZero();
    assertThat(out).contains("bench-sidecar: 300 flows at 100 flows/s", "decided 300 of 300 flows")
        .containsPattern("verdict latency after the last needed event: [0-9,]+ decisions, p50 [0-9.]+ ms")
        .containsPattern("peak heap used [0-9,]+ MiB");
  }

  @Test
  void aSidecarJoiningMidStreamTakesOverPartitionsWithoutAWrongVerdict() throws Exception {
    SyntheticOrderFlows.Builder generator = generator(40, Duration.ofMillis(150));
    Path recording = dir.resolve("recording");
    try (LivePlayback filler = new LivePlayback(broker.bootstrapServers(), write(generator, recording, Instant.now()))) {
      filler.fill();
    }
    SidecarConfig config = SidecarConfig.from(null, Map.of(), Map.of(
        "flows", flows.toString(),
        "bootstrap-servers", broker.bootstrapServers(),
        "spans-topic", SPANS_TOPIC,
        "otlp-http-port", "-1",
        "otlp-grpc-port", "-1",
        "http-port", "0",
        "console", "false",
        "cluster", "true",
        "repartition-partitions", "6"));
    try (Sidecar one = Sidecar.start(config)) {
      awaitReady(one.opsPort());
      io.flowtrace.kafka.testkit.Await.until(TIMEOUT, () -> one.ownedPartitions().size() == 6, () -> one.ownedPartitions().toString());
      Manifest expected = generator.start(Instant.now().plusSeconds(1)).build().write(clean(recording));
      try (LivePlayback player = new LivePlayback(broker.bootstrapServers(), recording)) {
        Thread playing = player.playInBackground(SPANS_TOPIC, null);
        io.flowtrace.kafka.testkit.Await.until(TIMEOUT, () -> one.engineStats().openInstances() >= 5,
            () -> "open instances " + one.engineStats().openInstances());
        try (Sidecar two = Sidecar.start(config)) {
          io.flowtrace.kafka.testkit.Await.until(TIMEOUT, () -> one.ownedPartitions().size() == 3
              && two.ownedPartitions().size() == 3, () -> one.ownedPartitions() + " / " + two.ownedPartitions());
          player.awaitPlayed(playing);
          List<JsonNode> verdicts = awaitVerdicts(SidecarConfig.DEFAULT_VERDICTS_TOPIC, expected);

          assertThat(latestByOrder(verdicts)).isEqualTo(expectedByOrder(expected));
          Map<String, Set<String>> outcomesByKey = new TreeMap<>();
          verdicts.stream().filter(v -> v.path("revision").asInt() == 0).forEach(v -> outcomesByKey
              .computeIfAbsent(v.path("instanceKey").asString(), k -> new TreeSet<>()).add(outcome(v)));
          assertThat(outcomesByKey).hasSize(expected.flows().size())
              .allSatisfy((key, outcomes) -> assertThat(outcomes).as(key).hasSize(1));
          System.out.printf("a sidecar joined mid-stream: %d open instances handed over, %d first decisions re-sent%n",
              one.engineStats().instancesDiscarded(),
              verdicts.stream().filter(v -> v.path("revision").asInt() == 0).count() - outcomesByKey.size());
        }
      }
    }
  }

  private static double verifiedTotal(Map<String, Double> metrics) {
    return metrics.entrySet().stream().filter(e -> e.getKey().startsWith("flowtrace_flows_verified_total{"))
        .mapToDouble(Map.Entry::getValue).sum();
  }

  // ---- fixture ----

  private static SyntheticOrderFlows.Builder generator(int flows, Duration interArrival) {
    SyntheticOrderFlows.Builder b = SyntheticOrderFlows.builder().seed(4242).flows(flows).interArrival(interArrival);
    for (int i = 0; i < PLANTED.size(); i++) {
      b.plant(PLANTED.get(i), 1 + 2 * i);
    }
    return b;
  }

  private static Path write(SyntheticOrderFlows.Builder generator, Path recording, Instant start) throws IOException {
    generator.start(start).build().write(clean(recording));
    return recording;
  }

  private static Path clean(Path recording) throws IOException {
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

  private static void copyWithDeadline(Path from, Path to, String deadline) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path f : files.toList()) {
        Path target = to.resolve(from.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(target);
        } else if (f.getFileName().toString().endsWith(".flow.yaml")) {
          Files.writeString(target, Files.readString(f).replaceFirst("(?m)^deadline: .*$", "deadline: " + deadline));
        } else {
          Files.copy(f, target);
        }
      }
    }
  }

  private Process forkSidecar(String name) throws IOException {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Files.createDirectories(LOGS);
    Path log = LOGS.resolve("sidecar-" + name + ".log");
    Process p = new ProcessBuilder(java.toString(), "-Xmx512m", "-Dflowtrace.statsIntervalMillis=2000", "-jar", CLI_JAR.toString(), "sidecar",
        "--flows", flows.toString(),
        "--bootstrap-servers", broker.bootstrapServers(),
        "--spans-topic", SPANS_TOPIC,
        "--otlp-http-port", "-1", "--otlp-grpc-port", "-1",
        "--commit-interval", "500ms",
        "--kafka-property", "group.instance.id=flowtrace-sidecar-1",
        "--kafka-property", "session.timeout.ms=10000",
        "--http-port", "0",
        "--console", "false")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    forked.add(p);
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
    return p;
  }

  private static void awaitReady(int opsPort) {
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

  private static Map<String, Double> scrape(int opsPort) throws IOException, InterruptedException {
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

  private static String latencySummary(Map<String, Double> metrics) {
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

  private List<JsonNode> readVerdicts(String topic) {
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
          out.add(JSON.readTree(r.value()));
        }
      }
    }
    return out;
  }

  private int countVerdicts(String topic) {
    return readVerdicts(topic).size();
  }

  /** Waits until the latest verdict of every expected flow is in the topic and says what the manifest says. */
  private List<JsonNode> awaitVerdicts(String topic, Manifest expected) {
    Map<String, String> want = expectedByOrder(expected);
    List<List<JsonNode>> last = new ArrayList<>(List.of(List.of()));
    try {
      io.flowtrace.kafka.testkit.Await.until(TIMEOUT, () -> {
        List<JsonNode> verdicts = readVerdicts(topic);
        last.set(0, verdicts);
        return latestByOrder(verdicts).equals(want);
      }, () -> "verdicts as the manifest says");
    } catch (AssertionError e) {
      assertThat(latestByOrder(last.get(0))).isEqualTo(want);
    }
    return last.get(0);
  }

  private static Map<String, String> expectedByOrder(Manifest m) {
    Map<String, String> out = new TreeMap<>();
    for (Manifest.Flow f : m.flows()) {
      TreeSet<String> v = new TreeSet<>();
      f.violations().forEach(x -> v.add(x.kind() + "@" + x.stage()));
      out.put(f.orderId(), f.status() + " " + v);
    }
    return out;
  }

  private static Map<String, String> latestByOrder(List<JsonNode> verdicts) {
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

  private static String outcome(JsonNode v) {
    TreeSet<String> kinds = new TreeSet<>();
    v.path("verdict").path("violations").forEach(x -> kinds.add(x.path("kind").asString() + "@" + x.path("stage").asString()));
    return v.path("verdict").path("status").asString() + " " + kinds;
  }

  private static List<String> jsonLines(Path verdictsDir) throws IOException {
    List<String> lines = new ArrayList<>();
    try (Stream<Path> files = Files.list(verdictsDir)) {
      for (Path f : files.sorted().toList()) {
        lines.addAll(Files.readAllLines(f).stream().filter(l -> !l.isBlank()).toList());
      }
    }
    return lines;
  }
}
