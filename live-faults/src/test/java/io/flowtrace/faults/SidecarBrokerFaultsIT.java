package io.flowtrace.faults;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.cli.synth.LivePlayback;
import io.flowtrace.cli.synth.Manifest;
import io.flowtrace.cli.synth.SyntheticOrderFlows;
import io.flowtrace.kafka.testkit.Await;
import io.flowtrace.sidecar.SidecarConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The broker goes away under a running sidecar — stopped as an operator would, or killed and kept
 * down past the consumer's session timeout — while flows are being produced. The sidecar (forked,
 * as deployed) rides it out: every flow gets the verdict the generator's manifest says, no instance
 * is decided twice, no published verdict is contradicted later, and {@code /readyz} says what is
 * happening meanwhile.
 */
class SidecarBrokerFaultsIT extends LiveSidecarTestBase {

  /** Longer than the forked sidecar's {@code session.timeout.ms} (10 s): the group forgets it. */
  private static final Duration LONG_OUTAGE = Duration.ofSeconds(15);

  @Test
  void aBrokerRestartedWithSigtermMidStreamLosesAndRepeatsNoVerdict() throws Exception {
    Outcome o = playThroughOutage("sigterm", broker -> broker.stop(), Duration.ZERO);
    o.assertRightOnceWithoutFalseAlarms();
  }

  @Test
  void aBrokerKilledAndDownPastTheSessionTimeoutLosesAndRepeatsNoVerdict() throws Exception {
    Outcome o = playThroughOutage("kill", broker -> broker.kill(), LONG_OUTAGE);
    o.assertRightOnceWithoutFalseAlarms();
    assertThat(o.readyDuringOutage).as("/readyz while the broker was down")
        .anySatisfy(text -> assertThat(text).contains("Kafka unreachable"));
  }

  @Test
  void aSidecarStartedWhileTheBrokerIsDownSaysSoRetriesAndVerifiesOnceItComes() throws Exception {
    SyntheticOrderFlows.Builder generator = generator(30, Duration.ofMillis(150));
    Path recording = filledRecording(generator);
    broker.stop();
    int opsPort;
    try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      opsPort = free.getLocalPort();
    }
    Path log = LOGS.resolve("sidecar-no-broker.log");
    Process sidecar = launchSidecar(log, opsPort);
    Await.until(TIMEOUT, () -> probe(opsPort, "/readyz").startsWith("503 not ok: Kafka unreachable at " + broker.bootstrapServers()),
        () -> "/readyz with the broker down: " + probe(opsPort, "/readyz"));
    String health = probe(opsPort, "/healthz");
    Await.until(TIMEOUT, () -> logSays(log, "event=kafka_unreachable"),
        () -> "the sidecar's log says the broker is unreachable: " + log);

    broker.restart();
    long restarted = System.nanoTime();
    awaitReady(opsPort);
    long readyMillis = (System.nanoTime() - restarted) / 1_000_000;
    Manifest expected = generator.start(Instant.now().plusSeconds(1)).build().write(clean(recording));
    try (LivePlayback player = new LivePlayback(broker.bootstrapServers(), recording)) {
      player.play(SPANS_TOPIC, null);
    }
    List<JsonNode> verdicts = awaitVerdicts(SidecarConfig.DEFAULT_VERDICTS_TOPIC, expected);

    assertThat(health).as("/healthz while waiting: alive, a restart would not help").startsWith("200 ok: starting:");
    assertThat(sidecar.isAlive()).as("still running (see %s)", log).isTrue();
    Outcome o = new Outcome(expected, verdicts, Set.of());
    System.out.printf("sidecar started with the broker down: ready %d ms after the broker came back; %d verdicts,"
        + " %d contradicted later; %s%n", readyMillis, verdicts.size(), o.contradicted().size(), health);
    o.contradicted().forEach(c -> System.out.println("  contradicted: " + c));
    // Not yet never-contradicted: the generator's exporter holds a service's spans until its next span
    // ends, so spans can come 10+ s late; exporting on the 5 s schedule exposed a cluster handover hole
    // (issue 16) in SidecarIT's join test, so that fix waits for it.
    o.assertRightAndDecidedOnce();
  }

  private interface Fault {
    void apply(io.flowtrace.kafka.testkit.KafkaBroker broker);
  }

  private Outcome playThroughOutage(String name, Fault fault, Duration down) throws Exception {
    SyntheticOrderFlows.Builder generator = generator(60, Duration.ofMillis(150));
    Path recording = filledRecording(generator);
    ForkedSidecar sidecar = forkSidecar(name);
    Manifest expected = generator.start(Instant.now().plusSeconds(1)).build().write(clean(recording));
    Set<String> readyTexts = new CopyOnWriteArraySet<>(); // read by the test thread as the sampler adds
    long recoveredMillis;
    try (LivePlayback player = new LivePlayback(broker.bootstrapServers(), recording)) {
      Thread playing = player.playInBackground(SPANS_TOPIC, null);
      Await.until(TIMEOUT, () -> player.played() >= player.size() / 3,
          () -> "a third of the flows played: " + player.played() + " of " + player.size());

      ScheduledExecutorService watcher = Executors.newSingleThreadScheduledExecutor();
      watcher.scheduleWithFixedDelay(() -> readyTexts.add(probe(sidecar.opsPort(), "/readyz")), 0, 250,
          TimeUnit.MILLISECONDS);
      long t0 = System.nanoTime();
      fault.apply(broker);
      long left = down.toNanos() - (System.nanoTime() - t0);
      if (left > 0) {
        Thread.sleep(left / 1_000_000); // the outage itself, not a wait for a condition
      }
      if (!down.isZero()) {
        Await.until(TIMEOUT, () -> readyTexts.stream().anyMatch(t -> t.contains("Kafka unreachable")),
            () -> "/readyz during the outage said " + readyTexts);
      }
      broker.restart();
      long restarted = System.nanoTime();
      Await.until(TIMEOUT, () -> probe(sidecar.opsPort(), "/readyz").startsWith("200 ok: verifying"),
          () -> "/readyz after the restart: " + probe(sidecar.opsPort(), "/readyz"));
      recoveredMillis = (System.nanoTime() - restarted) / 1_000_000;
      watcher.shutdownNow();
      watcher.awaitTermination(10, TimeUnit.SECONDS);
      player.awaitPlayed(playing, TIMEOUT.multipliedBy(2));
    }
    List<JsonNode> verdicts = awaitVerdicts(SidecarConfig.DEFAULT_VERDICTS_TOPIC, expected);
    assertThat(sidecar.process().isAlive()).as("the sidecar kept running (see %s)", sidecar.log()).isTrue();
    Outcome o = new Outcome(expected, verdicts, readyTexts);
    System.out.printf("broker %s mid-stream: %d flows, %d verdicts, %d first decisions re-sent, %d contradicted,"
        + " ready again %d ms after the broker; /readyz meanwhile: %s%n", name, expected.flows().size(),
        verdicts.size(), o.resent(), o.contradicted().size(), recoveredMillis, readyTexts);
    return o;
  }

  private static String probe(int port, String path) {
    try {
      HttpResponse<String> r = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString());
      return r.statusCode() + " " + r.body().strip();
    } catch (IOException e) {
      return "unanswered: " + e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  private static boolean logSays(Path log, String text) {
    try {
      return java.nio.file.Files.readString(log).contains(text);
    } catch (IOException e) {
      return false;
    }
  }

}
