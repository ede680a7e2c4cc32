package io.flowtrace.sidecar.internal;

import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.spill.TelemetryCodec;
import io.flowtrace.verifier.assembly.FlowEngine;
import io.flowtrace.verifier.assembly.LiveHooks;
import io.flowtrace.verifier.assembly.Prepared;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first stage of a sidecar cluster: sends every span and record to the one sidecar that
 * assembles its instance. Each instance has a <em>root</em> — the trace it started in — and
 * everything is keyed by its root on the repartition topic, whose partitions the sidecars share
 * through their consumer group (the second stage, an ordinary sidecar engine).
 *
 * <p>The root of an item is found through aliases shared by every router on a compacted topic:
 * each instance key ({@code flow|orderId=…}) and each trace maps to the root it was first seen
 * with. An item takes the root of its keys, else of its traces, else its own trace starts a root.
 * An event that joins its instance by key alone (a webhook in a new trace, a record without trace
 * context) waits briefly for its key's alias when it has none yet. Spans that are no event
 * (producer and consumer spans, which correlate records with traces) go to every sidecar on the
 * broadcast topic instead.
 *
 * <p>Input offsets are committed after the routed items were acknowledged by the broker
 * (at least once; the engine ignores an item it already has).
 */
public final class Router implements Closeable {

  private static final Logger LOG = LoggerFactory.getLogger(Router.class);
  private static final long ALIAS_WAIT_MILLIS = 1500;

  /** The topics of a cluster whose consumer group is {@code group}. */
  public record Topics(String repartition, String routes, String broadcast) {
    public static Topics of(String group) {
      return new Topics(group + ".repartition", group + ".routes", group + ".spans");
    }
  }

  private final FlowEngine engine;
  private final Topics topics;
  private final KafkaProducer<String, byte[]> producer;
  private final KafkaConsumer<String, String> routesConsumer;
  private final BlockingQueue<Batch> inbox;
  private final Map<String, String> aliases = new LinkedHashMap<>(1 << 16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
      return size() > 1_000_000;
    }
  };
  private final Thread thread;
  private final AtomicBoolean closing = new AtomicBoolean();
  private final java.util.concurrent.atomic.AtomicReference<Exception> failure =
      new java.util.concurrent.atomic.AtomicReference<>();
  private final SidecarMetrics metrics;
  private final KafkaInput input;

  /**
   * @param inputs the Kafka input of the router (group {@code <group>.router}), handing batches to {@code inbox}
   * @param inbox where the Kafka input and the OTLP receivers put what arrives
   */
  public Router(Map<String, Object> kafka, FlowEngine engine, Topics topics, int partitions, long routesLookbackMillis,
      BlockingQueue<Batch> inbox, KafkaInput inputs, SidecarMetrics metrics) {
    this.engine = engine;
    this.topics = topics;
    this.inbox = inbox;
    this.input = inputs;
    this.metrics = metrics;
    createTopics(kafka, topics, partitions);
    Map<String, Object> p = new HashMap<>(kafka);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 2);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "flowtrace-router");
    this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    Map<String, Object> c = new HashMap<>(kafka);
    c.remove(ConsumerConfig.GROUP_ID_CONFIG);
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.CLIENT_ID_CONFIG, "flowtrace-routes");
    this.routesConsumer = new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer());
    List<TopicPartition> tps = partitionsOf(routesConsumer, topics.routes());
    routesConsumer.assign(tps);
    Map<TopicPartition, Long> since = new HashMap<>();
    tps.forEach(tp -> since.put(tp, System.currentTimeMillis() - routesLookbackMillis));
    Map<TopicPartition, OffsetAndTimestamp> starts = routesConsumer.offsetsForTimes(since);
    for (TopicPartition tp : tps) {
      OffsetAndTimestamp at = starts.get(tp);
      if (at == null) {
        routesConsumer.seekToEnd(List.of(tp));
      } else {
        routesConsumer.seek(tp, at.offset());
      }
    }
    this.thread = new Thread(this::run, "flowtrace-router");
    this.thread.setDaemon(true);
  }

  /**
   * The partitions of a topic just created: right after creation a broker's metadata may not list
   * them yet, and a consumer assigned no partition fails its first poll. Waits up to 30 s.
   */
  static List<TopicPartition> partitionsOf(org.apache.kafka.clients.consumer.Consumer<?, ?> consumer, String topic) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      List<org.apache.kafka.common.PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(10));
      if (infos != null && !infos.isEmpty()) {
        return infos.stream().map(i -> new TopicPartition(topic, i.partition())).toList();
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("topic " + topic + " has no partitions 30 s after it was created");
      }
      java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
    }
  }

  private static void createTopics(Map<String, Object> kafka, Topics topics, int partitions) {
    try (Admin admin = Admin.create(kafka)) {
      List<NewTopic> wanted = List.of(
          new NewTopic(topics.repartition(), partitions, (short) -1),
          new NewTopic(topics.broadcast(), 1, (short) -1),
          new NewTopic(topics.routes(), 1, (short) -1).configs(Map.of(
              TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)));
      for (NewTopic t : wanted) {
        try {
          admin.createTopics(List.of(t)).all().get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw new IllegalStateException("cannot create topic " + t.name() + ": " + e.getCause(), e.getCause());
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating the cluster's topics", e);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("timed out creating the cluster's topics", e);
    }
  }

  public void start() {
    input.start();
    thread.start();
  }

  public boolean ready() {
    return input.ready();
  }

  public boolean healthy() {
    return thread.isAlive() && input.healthy();
  }

  private void run() {
    try {
      while (!closing.get() || !inbox.isEmpty()) {
        readRoutes(Duration.ZERO);
        Batch b = inbox.poll(20, TimeUnit.MILLISECONDS);
        if (b == null) {
          continue;
        }
        List<Batch> batches = new ArrayList<>();
        batches.add(b);
        inbox.drainTo(batches, 63);
        Map<TopicPartition, Long> done = new HashMap<>();
        for (Batch batch : batches) {
          route(batch.items());
          batch.endOffsets().forEach((tp, o) -> done.merge(tp, o, Math::max));
        }
        producer.flush();
        if (failure.get() != null) {
          throw new IllegalStateException("routing to Kafka failed; input offsets stay uncommitted: " + failure.get(),
              failure.get());
        }
        if (!done.isEmpty()) {
          input.commit(done);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      LOG.error("event=router_failed error=\"{}\"", e.toString(), e);
    }
  }

  private void route(List<Telemetry> items) {
    List<Prepared> events = new ArrayList<>();
    List<LiveHooks.Routing> routings = new ArrayList<>();
    for (Telemetry t : items) {
      Prepared p;
      try {
        p = engine.prepare(t);
      } catch (RuntimeException e) {
        metrics.dropped("unpreparable", 1);
        continue;
      }
      if (p == null) {
        metrics.dropped("not_in_any_flow", 1);
        continue;
      }
      LiveHooks.Routing r = engine.live().routing(p);
      if (!r.event()) {
        send(topics.broadcast(), r.traces().isEmpty() ? null : r.traces().get(0), t);
      } else {
        events.add(p);
        routings.add(r);
      }
    }
    for (int i = 0; i < events.size(); i++) {
      LiveHooks.Routing r = routings.get(i);
      String root = rootOf(r);
      if (root == null && r.joinsByKey() && !r.keys().isEmpty()) {
        root = awaitAlias(r);
      }
      if (root == null) {
        root = !r.traces().isEmpty() ? r.traces().get(0) : r.keys().iterator().next();
      }
      learn(r, root);
      send(topics.repartition(), root, events.get(i).telemetry());
    }
  }

  private String rootOf(LiveHooks.Routing r) {
    for (String k : r.keys()) {
      String root = aliases.get(k);
      if (root != null) {
        return root;
      }
    }
    for (String t : r.traces()) {
      String root = aliases.get("trace|" + t);
      if (root != null) {
        return root;
      }
    }
    return null;
  }

  private String awaitAlias(LiveHooks.Routing r) {
    long deadline = System.currentTimeMillis() + ALIAS_WAIT_MILLIS;
    while (System.currentTimeMillis() < deadline) {
      readRoutes(Duration.ofMillis(50));
      String root = rootOf(r);
      if (root != null) {
        return root;
      }
    }
    metrics.dropped("routed_without_alias", 1);
    LOG.debug("event=no_alias keys={} traces={}", r.keys(), r.traces());
    return null;
  }

  private void learn(LiveHooks.Routing r, String root) {
    for (String k : r.keys()) {
      alias(k, root);
    }
    for (String t : r.traces()) {
      alias("trace|" + t, root);
    }
  }

  private void alias(String name, String root) {
    if (aliases.putIfAbsent(name, root) == null) {
      producer.send(new ProducerRecord<>(topics.routes(), name, root.getBytes(StandardCharsets.UTF_8)), this::sent);
    }
  }

  private void sent(org.apache.kafka.clients.producer.RecordMetadata metadata, Exception e) {
    if (e != null) {
      failure.compareAndSet(null, e);
    }
  }

  private void readRoutes(Duration wait) {
    ConsumerRecords<String, String> polled;
    try {
      polled = routesConsumer.poll(wait);
    } catch (KafkaException e) {
      if (!KafkaInput.skipUnreadable(routesConsumer, e, LOG, metrics::dropped)) {
        LOG.warn("event=routes_poll_failed error=\"{}\"", e.toString());
      }
      return;
    }
    for (ConsumerRecord<String, String> r : polled) {
      if (r.key() != null && r.value() != null) {
        aliases.putIfAbsent(r.key(), r.value());
      }
    }
  }

  private void send(String topic, String key, Telemetry t) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(512);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      TelemetryCodec.write(t, out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    producer.send(new ProducerRecord<>(topic, key, bytes.toByteArray()), this::sent);
  }

  @Override
  public void close() {
    input.stopPolling();
    input.awaitStopped(Duration.ofSeconds(15)); // what it read is in the inbox, routed below
    closing.set(true);
    try {
      thread.join(30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    input.close(Map.of());
    producer.close(Duration.ofSeconds(10));
    if (thread.isAlive()) {
      LOG.warn("event=router_close_timeout detail=\"the router thread did not stop; its routes consumer is left open\"");
    } else {
      routesConsumer.close(Duration.ofSeconds(5));
    }
  }
}
