package io.flowtrace.faults;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.cli.synth.LivePlayback;
import io.flowtrace.cli.synth.Manifest;
import io.flowtrace.cli.synth.SyntheticOrderFlows;
import io.flowtrace.kafka.testkit.Await;
import io.flowtrace.sidecar.SidecarConfig;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * A flow topic changes under a running sidecar (forked, as deployed): partitions are added to it,
 * or it is deleted and created again, while flows are produced. The sidecar notices within its
 * metadata refresh, reads what landed on the new partitions (or the new topic) from their first
 * offset, and every flow produced after the change gets the verdict the generator's manifest says,
 * decided once and never contradicted. Flows open when their topic was deleted get a verdict too,
 * decided once (what the sidecar had read of them before is all they get).
 */
class SidecarTopicChangesIT extends LiveSidecarTestBase {

  /** The sidecar's documented bound on noticing a partition or topic change, with room for a busy machine. */
  private static final Duration NOTICED_WITHIN = Duration.ofSeconds(25);
  private static final String DELETED = "orders.created";

  @Test
  void partitionsAddedToTheFlowTopicsAreReadFromTheirFirstOffsetAndTheirFlowsVerifiedOnce() throws Exception {
    // The flows' own 30 s deadline: what lands on an added partition is read only once the sidecar
    // has seen it (a metadata refresh and a rebalance, ~8 s), and with 10 s deadlines a flow begun
    // there could pass its deadline before its spans on an added partition were read.
    copyWithDeadline(FLOWS, flows, "30s");
    ForkedSidecar sidecar = forkSidecar("partitions-added");
    Manifest before = play(generator(24, Duration.ofMillis(150)).firstOffsets(Map.of()), null, null, 0).manifest();

    List<String> topics = orderTopics();
    topics.forEach(t -> broker.addPartitions(t, 6));
    long added = System.nanoTime();
    Played after = play(generator(24, Duration.ofMillis(150)).seed(4343).partitions(6).firstOffsets(endOffsets(topics, 6)),
        sidecar.log(), Pattern.compile("event=partitions_assigned partitions=\\[[^\\]]*"
            + Pattern.quote(topics.get(0)) + "-5"), added);
    long onAdded = recordsOnPartitions(topics, 3, 6);
    assertThat(onAdded).as("records on the added partitions").isPositive();
    long noticedMillis = after.noticedMillis();

    List<JsonNode> verdicts = awaitVerdicts(SidecarConfig.DEFAULT_VERDICTS_TOPIC, before, after.manifest());
    Outcome o = new Outcome(List.of(before, after.manifest()), verdicts, java.util.Set.of());
    System.out.printf("partitions added 3 -> 6 to %d topics: %d flows, %d verdicts, %d first decisions re-sent,"
        + " %d contradicted, added partitions assigned %d ms after they were created; %d records on them%n",
        topics.size(), o.flows(), verdicts.size(), o.resent(), o.contradicted().size(), noticedMillis,
        onAdded);
    assertThat(sidecar.process().isAlive()).as("the sidecar kept running (see %s)", sidecar.log()).isTrue();
    assertThat(Duration.ofMillis(noticedMillis)).as("time until the added partitions were read").isLessThan(NOTICED_WITHIN);
    o.assertRightOnceAndNeverContradicted();
  }

  @Test
  void aFlowTopicDeletedAndCreatedAgainIsReadFromItsBeginningAndNoFlowOnItIsLost() throws Exception {
    SyntheticOrderFlows.Builder first = generator(24, Duration.ofMillis(150));
    Path recording = filledRecording(first);
    copyWithDeadline(FLOWS, flows, "30s"); // as above: the re-created topic is read up to a refresh late
    ForkedSidecar sidecar = forkSidecar("topic-recreated");
    Manifest before = first.start(Instant.now().plusSeconds(1)).build().write(clean(recording));
    try (LivePlayback player = new LivePlayback(broker.bootstrapServers(), recording)) {
      player.play(SPANS_TOPIC, null);
    }

    broker.deleteTopic(DELETED); // its flows still open: what the sidecar read of it is all they get
    long deleted = System.nanoTime();
    broker.createTopic(DELETED, 3); // at once, as an operator re-creating a topic would
    long recreatedMillis = (System.nanoTime() - deleted) / 1_000_000;
    Map<TopicPartition, Long> ends = endOffsets(orderTopics(), 3);
    ends.keySet().removeIf(tp -> tp.topic().equals(DELETED));
    // Not 4343: on 3 partitions its flow 9's duplicate webhook arrives after that flow's first verdict,
    // which is then amended, topic change or not.
    Played after = play(generator(24, Duration.ofMillis(150)).seed(4545).firstOffsets(ends), sidecar.log(),
        Pattern.compile("event=partition_restarted topic=" + Pattern.quote(DELETED)), deleted);
    long noticedMillis = after.noticedMillis();

    Map<String, String> want = expectedByOrder(after.manifest());
    Map<String, String> earlier = expectedByOrder(before);
    List<List<JsonNode>> last = new ArrayList<>(List.of(List.of()));
    Await.until(TIMEOUT, () -> {
      last.set(0, readVerdicts(SidecarConfig.DEFAULT_VERDICTS_TOPIC));
      Map<String, String> got = latestByOrder(last.get(0));
      return got.keySet().containsAll(earlier.keySet()) && got.entrySet().containsAll(want.entrySet());
    }, () -> "a verdict for every flow, those after the change as the manifest says: " + latestByOrder(last.get(0)));
    List<JsonNode> verdicts = last.get(0);
    Outcome o = new Outcome(List.of(before, after.manifest()), verdicts, java.util.Set.of());
    Map<String, String> got = latestByOrder(verdicts);
    long beforeAsManifest = earlier.entrySet().stream().filter(e -> e.getValue().equals(got.get(e.getKey()))).count();
    System.out.printf("topic %s deleted and created again %d ms later: %d flows, %d verdicts, %d first decisions"
        + " re-sent, %d contradicted, the sidecar said so %d ms after the deletion; %d records on the new topic;"
        + " flows begun before the change as the manifest says: %d of %d%n", DELETED, recreatedMillis, o.flows(),
        verdicts.size(), o.resent(), o.contradicted().size(), noticedMillis, recordsOnPartitions(List.of(DELETED), 0, 3),
        beforeAsManifest, earlier.size());
    assertThat(sidecar.process().isAlive()).as("the sidecar kept running (see %s)", sidecar.log()).isTrue();
    assertThat(Duration.ofMillis(noticedMillis)).as("time until the sidecar said the topic was re-created")
        .isLessThan(NOTICED_WITHIN);
    assertThat(got).as("flows produced after the change").containsAllEntriesOf(want);
    o.assertDecidedOnce();
    assertThat(o.contradicted()).as("verdicts of flows produced after the change contradicted later")
        .noneMatch(c -> want.keySet().stream().anyMatch(c::contains));
  }

  // ---- helpers ----

  /** What was played, and when the sidecar's log said what the test waited for (ms after the change). */
  private record Played(Manifest manifest, long noticedMillis) {}

  /**
   * Writes the generator's flows starting a second from now and plays them; meanwhile, unless
   * {@code noticed} is null, waits for a line of the sidecar's log matching it.
   */
  private Played play(SyntheticOrderFlows.Builder generator, Path log, Pattern noticed, long changedNanos)
      throws Exception {
    Path recording = dir.resolve("recording");
    Manifest manifest = generator.start(Instant.now().plusSeconds(1)).build().write(clean(recording));
    long noticedMillis = -1;
    try (LivePlayback player = new LivePlayback(broker.bootstrapServers(), recording)) {
      Thread playing = player.playInBackground(SPANS_TOPIC, null);
      if (noticed != null) {
        noticedMillis = awaitLog(log, noticed, changedNanos);
      }
      player.awaitPlayed(playing, TIMEOUT);
    }
    return new Played(manifest, noticedMillis);
  }

  private List<String> orderTopics() throws Exception {
    for (FlowSpec flow : new FlowSpecLoader().load(flows)) {
      if (flow.name().equals(SyntheticOrderFlows.FLOW_NAME)) {
        return List.copyOf(new java.util.TreeSet<>(flow.eventsByTopic().keySet()));
      }
    }
    throw new IllegalStateException("no flow " + SyntheticOrderFlows.FLOW_NAME + " in " + flows);
  }

  private Map<TopicPartition, Long> endOffsets(List<String> topics, int partitions) {
    List<TopicPartition> tps = new ArrayList<>();
    topics.forEach(t -> {
      for (int p = 0; p < partitions; p++) {
        tps.add(new TopicPartition(t, p));
      }
    });
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()), new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      return new java.util.HashMap<>(c.endOffsets(tps));
    }
  }

  /** Records in partitions {@code from} up to {@code partitions} of {@code topics}. */
  private long recordsOnPartitions(List<String> topics, int from, int partitions) {
    return endOffsets(topics, partitions).entrySet().stream().filter(e -> e.getKey().partition() >= from)
        .mapToLong(Map.Entry::getValue).sum();
  }

  /** Waits until the log has a line matching {@code pattern}; returns the milliseconds since {@code sinceNanos}. */
  private static long awaitLog(Path log, Pattern pattern, long sinceNanos) {
    Await.until(TIMEOUT, () -> {
      try {
        Matcher m = pattern.matcher(Files.readString(log));
        return m.find();
      } catch (IOException e) {
        return false;
      }
    }, () -> "a line matching " + pattern + " in " + log);
    return (System.nanoTime() - sinceNanos) / 1_000_000;
  }

  private List<JsonNode> awaitVerdicts(String topic, Manifest before, Manifest after) {
    return awaitVerdicts(topic, expectedByOrder(List.of(before, after)));
  }
}
