package io.flowtrace.faults;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.cli.synth.LivePlayback;
import io.flowtrace.cli.synth.Manifest;
import io.flowtrace.cli.synth.SyntheticOrderFlows;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What adding a sidecar to a cluster buys on one machine, measured, not asserted beyond
 * correctness: one and then two forked sidecars ({@code -Xmx512m} each, sharing the machine's cores
 * with the broker and this JVM's player) work off a backlog of reference flows written an hour ago
 * (throughput: flows verified per second from the first sidecar's start to the last verdict), then
 * verify live traffic at a steady rate (each node's heap after collection and the correlation spans
 * it holds). Every flow must get its manifest's verdict in both.
 *
 * <p>Its first run (2026-12-03) found a defect before any figure: one cluster sidecar started with
 * {@code --start-from earliest} on an hour-old backlog decided thousands of instances at their
 * deadline with stages missing. Its router marked progress before it owned any partition (so "routed
 * up to now"), and an engine took a mark as soon as it read it, before reading what the router had
 * routed. Marks now name the repartition offsets written and count once read up to
 * (the sidecar's {@code RoutingProgress}); {@code SidecarIT}'s backlog test runs in
 * cluster mode too, in the suite.
 *
 * <p>Opt-in ({@code -Dflowtrace.scale.it=true}); {@code -Dflowtrace.scale.flows} (default 6,000) the
 * backlog, {@code -Dflowtrace.scale.live} (default 1,200) the live flows at 30 flows/s.
 */
@EnabledIfSystemProperty(named = "flowtrace.scale.it", matches = "true")
class SidecarScaleIT extends LiveSidecarTestBase {

  @ParameterizedTest(name = "{0} sidecar(s)")
  @ValueSource(ints = {1, 2})
  void aBacklogAndLiveTrafficVerifiedByNSidecars(int nodes) throws Exception {
    int backlogFlows = Integer.getInteger("flowtrace.scale.flows", 6000);
    int liveFlows = Integer.getInteger("flowtrace.scale.live", 1200);
    copyWithDeadline(FLOWS, flows, "30s");

    SyntheticOrderFlows.Builder old = generator(backlogFlows, Duration.ofMillis(20));
    Manifest backlog = backlog(old, dir.resolve("backlog"));
    SyntheticOrderFlows.Builder live = generator(liveFlows, Duration.ofMillis(33)).firstOffsets(endOffsets());
    Path liveRecording = dir.resolve("live");

    String[] cluster = {"--cluster", "true", "--repartition-partitions", "6", "--start-from", "earliest",
        "--kafka-property", "session.timeout.ms=6000"};
    long t0 = System.nanoTime();
    List<ForkedSidecar> sidecars = new ArrayList<>();
    for (int i = 0; i < nodes; i++) {
      sidecars.add(forkSidecar("scale-" + nodes + "-" + i, null, cluster));
    }
    double started = (System.nanoTime() - t0) / 1e9;
    Map<Integer, double[]> peaks = new ConcurrentHashMap<>(); // node → heap, live heap after GC, spans held
    AtomicBoolean sampling = new AtomicBoolean(true);
    Thread sampler = new Thread(() -> {
      while (sampling.get()) {
        for (int i = 0; i < sidecars.size(); i++) {
          try {
            Map<String, Double> m = scrape(sidecars.get(i).opsPort());
            double[] p = peaks.computeIfAbsent(i, k -> new double[3]);
            p[0] = Math.max(p[0], m.getOrDefault("jvm_memory_used_bytes{area=\"heap\"}", 0.0));
            p[1] = Math.max(p[1], m.getOrDefault("jvm_memory_pool_collection_used_bytes{pool=\"G1 Old Gen\"}", 0.0));
            p[2] = Math.max(p[2], m.getOrDefault("flowtrace_correlation_spans_held", 0.0));
          } catch (Exception e) {
            // a scrape during start-up; the next one counts
          }
        }
        try {
          Thread.sleep(500);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "scale-sampler");
    sampler.start();

    awaitVerdicts(io.flowtrace.sidecar.SidecarConfig.DEFAULT_VERDICTS_TOPIC, backlog);
    double backlogSeconds = (System.nanoTime() - t0) / 1e9;
    double[] cpuAfterBacklog = cpu(sidecars);
    Map<Integer, double[]> backlogPeaks = copy(peaks);
    peaks.clear();

    Manifest expected = live.start(Instant.now().plusSeconds(1)).build().write(clean(liveRecording));
    try (LivePlayback player = new LivePlayback(broker.bootstrapServers(), liveRecording)) {
      player.play(SPANS_TOPIC, null);
    }
    awaitVerdicts(io.flowtrace.sidecar.SidecarConfig.DEFAULT_VERDICTS_TOPIC,
        expectedByOrder(List.of(backlog, expected)));
    sampling.set(false);
    sampler.join();
    double[] cpuAfterLive = cpu(sidecars);

    System.out.printf("scale: %d sidecar(s), %d cores: backlog of %,d flows verified %.1f s after the first JVM was"
            + " launched (%.0f flows/s), %.1f s after all were ready (%.0f flows/s)%n",
        nodes, Runtime.getRuntime().availableProcessors(), backlogFlows, backlogSeconds, backlogFlows / backlogSeconds,
        backlogSeconds - started, backlogFlows / (backlogSeconds - started));
    for (int i = 0; i < nodes; i++) {
      double[] b = backlogPeaks.getOrDefault(i, new double[3]);
      double[] l = peaks.getOrDefault(i, new double[3]);
      Map<String, Double> m = scrape(sidecars.get(i).opsPort());
      System.out.printf("scale:   node %d: backlog heap peak %.0f MiB (after GC %.0f MiB), CPU %.1f s; live (%,d flows at"
              + " 30/s) heap peak %.0f MiB (after GC %.0f MiB), spans held at most %.0f, CPU %.1f s;"
              + " correlation spans routed to owner %.0f, to all %.0f%n",
          i, b[0] / (1 << 20), b[1] / (1 << 20), cpuAfterBacklog[i], liveFlows, l[0] / (1 << 20), l[1] / (1 << 20), l[2],
          cpuAfterLive[i] - cpuAfterBacklog[i], m.getOrDefault("flowtrace_router_correlation_spans_total{to=\"owner\"}", 0.0),
          m.getOrDefault("flowtrace_router_correlation_spans_total{to=\"all\"}", 0.0));
    }
    assertThat(sidecars).allSatisfy(s -> assertThat(s.process().isAlive()).isTrue());
  }

  private Map<TopicPartition, Long> endOffsets() throws Exception {
    List<TopicPartition> tps = new ArrayList<>();
    for (FlowSpec flow : new FlowSpecLoader().load(flows)) {
      for (String topic : flow.eventsByTopic().keySet()) {
        for (int p = 0; p < 3; p++) {
          tps.add(new TopicPartition(topic, p));
        }
      }
    }
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()), new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      return new java.util.HashMap<>(c.endOffsets(tps));
    }
  }

  private static double[] cpu(List<ForkedSidecar> sidecars) throws Exception {
    double[] out = new double[sidecars.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = scrape(sidecars.get(i).opsPort()).getOrDefault("process_cpu_seconds_total", 0.0);
    }
    return out;
  }

  private static Map<Integer, double[]> copy(Map<Integer, double[]> peaks) {
    Map<Integer, double[]> out = new java.util.HashMap<>();
    peaks.forEach((k, v) -> out.put(k, v.clone()));
    return out;
  }
}
