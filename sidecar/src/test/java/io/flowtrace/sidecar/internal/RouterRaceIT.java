package io.flowtrace.sidecar.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.kafka.testkit.Await;
import io.flowtrace.kafka.testkit.KafkaBroker;
import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.spill.TelemetryCodec;
import io.flowtrace.verifier.assembly.FlowEngine;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two routers of a cluster, on a real broker, reading the opening record of the same instances at
 * the same moment — a client's retried request that reached two partitions, each in its own trace.
 * Each router's first view of every order is its own, so routers that adopted what they saw first
 * would root one order in two places, and two sidecars would judge it in halves.
 */
class RouterRaceIT {

  private static final String SPEC = String.join("\n",
      "flow: race",
      "keys: [orderId]",
      "deadline: 10s",
      "stages:",
      "  - id: placed",
      "    events:",
      "      - id: placed_msg",
      "        topic: race.placed",
      "  - id: done",
      "    after: placed",
      "    terminal: true",
      "    events:",
      "      - id: done_msg",
      "        topic: race.done",
      "");

  private static KafkaBroker broker;

  @BeforeAll
  static void startBroker() {
    broker = KafkaBroker.start();
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  void twoRoutersMeetingOneOrderAtOnceRouteItToOneRoot(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("race.flow.yaml"), SPEC);
    FlowEngine engine = FlowEngine.builder(new FlowSpecLoader().load(dir)).build();
    String group = "race-" + UUID.randomUUID();
    Router.Topics topics = Router.Topics.of(group);
    String idle = group + ".idle";
    broker.createTopic(idle, 1);
    Map<String, Object> kafka = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    SidecarMetrics metrics = new SidecarMetrics();
    BlockingQueue<Batch> inboxA = new ArrayBlockingQueue<>(1024);
    BlockingQueue<Batch> inboxB = new ArrayBlockingQueue<>(1024);
    int orders = 400;
    Router a = new Router(kafka, engine, topics, 4, 600_000, inboxA, input(kafka, group + ".a", idle, inboxA), metrics);
    Router b = new Router(kafka, engine, topics, 4, 600_000, inboxB, input(kafka, group + ".b", idle, inboxB), metrics);
    try {
      long now = System.currentTimeMillis();
      for (int from = 0; from < orders; from += 50) {
        List<Telemetry> toA = new ArrayList<>();
        List<Telemetry> toB = new ArrayList<>();
        for (int i = from; i < from + 50; i++) {
          toA.add(placed(i, 0, now));
          toB.add(placed(i, 1, now));
        }
        inboxA.put(Batch.of(toA, Map.of()));
        inboxB.put(Batch.of(toB, Map.of()));
      }
      a.start(); // both read their whole inbox in their first round, before either can have read the other's claims
      b.start();

      Map<String, Set<String>> rootsByOrder = readRepartition(topics.repartition(), 2 * orders);

      assertThat(rootsByOrder).hasSize(orders);
      List<String> split = rootsByOrder.entrySet().stream().filter(e -> e.getValue().size() > 1)
          .map(e -> e.getKey() + " " + e.getValue()).toList();
      assertThat(split.size()).as("orders routed to two roots, to be judged in halves, e.g. %s",
          split.stream().limit(3).toList()).isZero();
      System.out.printf("router race: %d orders opened on two routers at once, each routed to one root;"
          + " %.0f claims lost and adopted%n", orders, lostClaims(metrics));
      org.junit.jupiter.api.Assumptions.assumeTrue(lostClaims(metrics) > 0,
          "the routers did not race this time: one read the other's claims before writing its own");
    } finally {
      a.close();
      b.close();
    }
  }

  private static double lostClaims(SidecarMetrics metrics) {
    return metrics.registry().scrape().stream()
        .filter(m -> m.getMetadata().getName().equals("flowtrace_router_aliases"))
        .flatMap(m -> m.getDataPoints().stream())
        .filter(d -> "lost".equals(d.getLabels().get("outcome")))
        .mapToDouble(d -> ((io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot) d).getValue())
        .sum();
  }

  /** The opening record of order {@code i} as one of two deliveries, each in a trace of its own. */
  private static Telemetry placed(int i, int delivery, long now) {
    String trace = String.format("%030x%02x", i + 1, delivery + 1);
    String json = "{\"orderId\":\"o-" + i + "\"}";
    return Telemetry.of(new KafkaRecord("race.placed", delivery, i, now + i,
        "o-" + i, List.of(RecordHeader.ofString(KafkaRecord.TRACEPARENT, "00-" + trace + "-00000000000000a1-01")),
        json.getBytes(StandardCharsets.UTF_8)));
  }

  private static KafkaInput input(Map<String, Object> kafka, String groupId, String topic, BlockingQueue<Batch> inbox) {
    return new KafkaInput(kafka, groupId, "earliest", List.of(topic), null, "otlp_proto", null, inbox,
        new KafkaInput.Listener() {});
  }

  /** The roots each order's records were routed under, once {@code expected} records were routed. */
  private static Map<String, Set<String>> readRepartition(String topic, int expected) throws Exception {
    Map<String, Object> c = new HashMap<>();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    c.put(ConsumerConfig.GROUP_ID_CONFIG, "race-reader-" + UUID.randomUUID());
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    Map<String, Set<String>> roots = new TreeMap<>();
    int[] read = {0};
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(),
        new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(topic));
      Await.until(Duration.ofSeconds(60), () -> {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          Telemetry t;
          try {
            t = TelemetryCodec.read(r.value());
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
          String order = ((Telemetry.RecordEvent) t).record().key();
          roots.computeIfAbsent(order, k -> new TreeSet<>()).add(r.key());
          read[0]++;
        }
        return read[0] >= expected;
      }, () -> read[0] + " of " + expected + " records routed");
    }
    return roots;
  }
}
