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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code flowtrace sidecar} on a real broker, fed in real time: a generated recording (every kind
 * of defect planted) is played into Kafka and OTLP as the system would produce it, and the verdicts
 * the sidecar writes to {@code flowtrace.verdicts} are compared with the generator's manifest.
 * The flows' deadline is cut to 10 s (a copy of {@code flows/}) so a run takes seconds, not minutes.
 */
class SidecarIT extends LiveSidecarTestBase {

  @Test
  void verifiesLiveFlowsAsTheyHappenAndItsMetricsMatchItsVerdicts() throws Exception {
    SyntheticOrderFlows.Builder generator = generator(30, Duration.ofMillis(200));
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
    Path recording = filledRecording(generator);
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
    SidecarConfig config = SidecarConfig.from(null, Map.of(), Map.of(
        "flows", flows.toString(),
        "bootstrap-servers", broker.bootstrapServers(),
        "otlp-http-port", "0",
        "otlp-grpc-port", "-1",
        "http-port", "0",
        "console", "false"));
    Path recording = filledRecording(generator);
    try (Sidecar sidecar = Sidecar.start(config)) {
      awaitReady(sidecar.opsPort());
      Manifest manifest = generator.start(Instant.now().plusSeconds(1)).build().write(clean(recording));
      Map<String, String> want = new TreeMap<>();
      for (Manifest.Flow f : manifest.flows()) {
        want.put(f.orderId(), f.defectObservable() ? expected(f) : "PASSED []");
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
   * Overload at small scale: 4,000 flows offered in a burst to a sidecar whose receivers queue at
   * most 100 spans (with 2,000 the engine sometimes kept up and nothing was pushed back). The receivers answer 429/503 with
   * {@code Retry-After} (the player retries as exporters do), the queue never holds more than its
   * capacity, every span the receivers acknowledged and every record reaches the engine, the backlog
   * drains, and every verdict is what the manifest says — spans that waited are not judged missing,
   * and no event comes after its instance was final.
   */
  @Test
  void overloadedItPushesBackWithinItsBoundsLosesNothingAcknowledgedAndDrains() throws Exception {
    SyntheticOrderFlows.Builder generator = generator(4000, Duration.ofNanos(50_000));
    int queueCapacity = 100;
    SidecarConfig config = SidecarConfig.from(null, Map.of(), Map.of(
        "flows", flows.toString(),
        "bootstrap-servers", broker.bootstrapServers(),
        "otlp-http-port", "0",
        "otlp-grpc-port", "-1",
        "http-port", "0",
        "queue-capacity", Integer.toString(queueCapacity),
        "console", "false"));
    Path recording = filledRecording(generator);
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

  /**
   * In a cluster the backlog reaches the engine through the router and the repartition topic, which
   * the router fills as it goes: the engine must not judge past what the router has routed, from
   * before the router owns its partitions on (its first run decided thousands of a 6,000-flow backlog
   * at their deadline with stages missing).
   */
  @ParameterizedTest(name = "cluster: {0}")
  @ValueSource(booleans = {false, true})
  void aSidecarStartedOnAnHourOldBacklogJudgesItInEventTimeAsReplayWould(boolean cluster) throws Exception {
    // An outage: the flows happened an hour ago, with every defect planted, and sit in Kafka unread.
    SyntheticOrderFlows.Builder generator = generator(cluster ? 300 : 30, Duration.ofMillis(cluster ? 20 : 200));
    Manifest expected = backlog(generator, dir.resolve("recording"));
    Map<String, String> settings = new HashMap<>(Map.of(
        "flows", flows.toString(),
        "bootstrap-servers", broker.bootstrapServers(),
        "start-from", "earliest",
        "spans-topic", SPANS_TOPIC,
        "otlp-http-port", "-1",
        "otlp-grpc-port", "-1",
        // No second chance: a verdict decided before the backlog's later events were read stays wrong.
        "amend-window", "1ms",
        "console", "false"));
    if (cluster) {
      settings.put("cluster", "true");
      settings.put("repartition-partitions", "4");
      settings.put("group-id", "backlog-cluster");
    }
    SidecarConfig config = SidecarConfig.from(null, Map.of(), settings);

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
    Path recording = filledRecording(generator);
    Process first = forkSidecar("first").process();
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
    Path recording = filledRecording(generator);
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
    String out = benchSidecar("--count", "300", "--rate", "100");

    assertThat(out).contains("bench-sidecar: 300 flows at 100 flows/s", "decided 300 of 300 flows")
        .containsPattern("verdict latency after the last needed event: [0-9,]+ decisions, p50 [0-9.]+ ms")
        .containsPattern("p99 \\(decisions\\) by 10 s of playback: ([0-9]+ ms|-) \\([0-9,]+\\)")
        .containsPattern("peak heap used [0-9,]+ MiB");
  }

  @Test
  void theSidecarBenchDrainsABacklogAndPrintsItsRateAndCpu() throws Exception {
    String out = benchSidecar("--count", "300", "--rate", "50", "--backlog");

    assertThat(out).contains("bench-sidecar --backlog: 300 flows (50 flows/s when they happened)")
        .containsPattern("decided 300 of 300 flows in [0-9.]+ s from the sidecar's start: [0-9,]+ flows/s")
        .containsPattern("CPU while draining: the sidecar [0-9.]+ s")
        .contains("0 amendments, 0 late events, 0 evicted");
  }

  /** Runs {@code flowtrace bench-sidecar} on the test's broker and flows; what it printed, once it exited 0. */
  private String benchSidecar(String... args) {
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    PrintStream original = System.out;
    int exit;
    try {
      System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
      List<String> all = new ArrayList<>(List.of("bench-sidecar", "--bootstrap-servers", broker.bootstrapServers(),
          "--flows", flows.toString()));
      all.addAll(List.of(args));
      exit = io.flowtrace.cli.FlowTraceCli.run(all.toArray(String[]::new));
    } finally {
      System.setOut(original);
    }
    String out = printed.toString(StandardCharsets.UTF_8);
    System.out.print(out);
    assertThat(exit).as(out).isZero();
    return out;
  }

  @Test
  void aSidecarJoiningMidStreamTakesOverPartitionsWithoutAWrongVerdict() throws Exception {
    SyntheticOrderFlows.Builder generator = generator(40, Duration.ofMillis(150));
    Path recording = filledRecording(generator);
    // 10 s deadlines (the base's): an instance rebuilt by the new owner is already past its deadline
    // when the partition's tail is read; its decision waits until the tail has been read (issue 16, item 3).
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
}
