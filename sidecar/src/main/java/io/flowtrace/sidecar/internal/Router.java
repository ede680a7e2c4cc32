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
 * <p>The root of an item is found through aliases shared by every router on a compacted topic
 * ({@link Aliases}): each instance key ({@code flow|orderId=…}) and each trace maps to the root the
 * first entry for it in the log names — a router claims by writing and routes once it has read its
 * claim back, so two routers that meet one key at once adopt one root. An event takes the root of
 * its keys (two roots of one instance's keys are merged into one), else of its traces. Only an event
 * of an entry stage starts a root (its own trace, else its first key): any other event belongs to
 * an instance begun before it, so when none of its keys and traces has an alias yet it is
 * <em>parked</em> — without blocking the router — until one appears (written by this router or
 * read from another), and starts a root of its own only after the routers' session timeout and
 * 10 s more (at least {@value #PARK_MILLIS} ms; system property {@value #PARK_PROPERTY}) — the
 * records that open its instance may sit in the partitions of a router that died, until the group
 * hands them on — and only once this router has caught up with its input since
 * ({@value #MAX_PARK_MILLIS} ms at most, or the park time if longer). Read out of order (a backlog after a
 * handover, a restart or an outage, where a confirmation may be read before its order), an event
 * routed at once by its own trace would start a second root for the same instance, and the
 * instance would be judged twice, in halves. Spans that are no event (producer and consumer
 * spans, which correlate records with traces) go to the root of their trace once an event of it
 * was routed — so each sidecar holds the spans of its own instances only — and, before that (a span
 * exported ahead of its records), to every sidecar on the broadcast topic.
 *
 * <p>Four times a second it tells every sidecar, on the broadcast topic, how far it has routed the
 * input partitions it owns ({@link RoutingProgress}): engines decide no deadline or grace past the
 * least of those, so a router that dies with records unread holds them until its partitions move.
 *
 * <p>Input offsets are committed after the routed items were acknowledged by the broker, and
 * never past a batch with a parked item (at least once; the engine ignores an item it already has).
 */
public final class Router implements Closeable {

  private static final Logger LOG = LoggerFactory.getLogger(Router.class);
  /** The least time an event that cannot open an instance waits for an alias before its own trace roots it. */
  public static final long PARK_MILLIS = 5000;
  /** System property: milliseconds an event waits for its alias (default: the session timeout + 10 s). */
  public static final String PARK_PROPERTY = "flowtrace.router.parkMillis";
  /** Parked events beyond this many are routed by their own trace, oldest first. */
  private static final int MAX_PARKED = 100_000;
  /** How often a router tells the engines how far it has routed its input ({@link RoutingProgress}). */
  static final long MARK_MILLIS = 250;
  /** How long a parked event holds the progress marks back (it waits for a claim to be read back, in ms). */
  private static final long READ_BACK_HOLD_MILLIS = 2000;
  /** Header of a claim on the routes topic: the router that wrote it. */
  static final String ROUTER_HEADER = "flowtrace.router";
  /** How long an event waits for its alias at most, even while this router is behind its input. */
  public static final long MAX_PARK_MILLIS = 60_000;

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
  private final Aliases aliases = new Aliases(this::claim);
  private final Thread thread;
  private final AtomicBoolean closing = new AtomicBoolean();
  private final java.util.concurrent.atomic.AtomicReference<Exception> failure =
      new java.util.concurrent.atomic.AtomicReference<>();
  private final SidecarMetrics metrics;
  private final KafkaInput input;
  /** Batches routed or routing, oldest first: their offsets are committed once none has a parked event. */
  private final java.util.ArrayDeque<Pending> pending = new java.util.ArrayDeque<>();
  private final java.util.ArrayDeque<Parked> parked = new java.util.ArrayDeque<>();
  private boolean unflushed;
  private final long parkMillis;
  /** When this router last had nothing left to read: its inbox empty and no lag on its partitions. */
  private long caughtUpMillis = Long.MIN_VALUE;
  /** How far this router has routed each partition it owns, in event time; sent as progress marks. */
  private final InputClock routed = new InputClock();
  /** Per repartition partition, the offset after the last item routed there that the broker acknowledged. */
  private final Map<Integer, Long> written = new java.util.concurrent.ConcurrentHashMap<>();
  private final byte[] id = java.util.UUID.randomUUID().toString().getBytes(StandardCharsets.UTF_8);
  private long lastMarkMillis;
  private long mergesLogged;

  /** A batch's offsets and how many of its events are still parked. */
  private static final class Pending {
    final Map<TopicPartition, Long> endOffsets;
    int parked;

    Pending(Map<TopicPartition, Long> endOffsets) {
      this.endOffsets = endOffsets;
    }
  }

  private static final class Parked {
    final Telemetry telemetry;
    final byte[] encoded;
    final LiveHooks.Routing routing;
    final long sinceMillis;
    final Pending batch;
    /** Waited out its park time: it starts a root of its own. */
    boolean startsOwn;

    Parked(Telemetry telemetry, byte[] encoded, LiveHooks.Routing routing, long sinceMillis, Pending batch) {
      this.telemetry = telemetry;
      this.encoded = encoded;
      this.routing = routing;
      this.sinceMillis = sinceMillis;
      this.batch = batch;
    }
  }

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
    this.parkMillis = Long.getLong(PARK_PROPERTY, parkMillis(kafka));
    // Aliases and correlation spans are read back at most a lookback ago; kept well past that.
    createTopics(kafka, topics, partitions, Math.max(TimeUnit.HOURS.toMillis(1), 10 * routesLookbackMillis));
    Map<String, Object> p = new HashMap<>(kafka);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 2);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "flowtrace-router");
    p.merge(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, MAX_ROUTED_BYTES + 64 * 1024,
        (mine, fixed) -> Math.max(Integer.parseInt(mine.toString()), (Integer) fixed));
    this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    Map<String, Object> c = new HashMap<>(kafka);
    c.remove(ConsumerConfig.GROUP_ID_CONFIG);
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.CLIENT_ID_CONFIG, "flowtrace-routes");
    c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 10_000); // claims are read back as fast as a backlog writes them
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
        routesConsumer.position(tp, Duration.ofSeconds(30)); // now, so no claim written later is skipped
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

  /**
   * The largest routed item, encoded: the internal topics accept it ({@code max.message.bytes}) and
   * the router's producer sends it. An input record is at most the broker's message size (1 MiB by
   * default) and grows by a few hundred bytes when wrapped; a larger item is not routed (logged).
   */
  public static final int MAX_ROUTED_BYTES = 8 * 1024 * 1024;

  /**
   * Creates the cluster's topics unless they exist: the repartition topic kept a day (its records
   * are deleted up to the committed offsets as they are consumed, see {@link #purgeable}), the
   * routes topic compacted and kept {@code keepMillis}, the broadcast topic kept {@code keepMillis}.
   */
  private static void createTopics(Map<String, Object> kafka, Topics topics, int partitions, long keepMillis) {
    String keep = Long.toString(keepMillis);
    String maxBytes = Integer.toString(MAX_ROUTED_BYTES + 64 * 1024);
    try (Admin admin = Admin.create(kafka)) {
      List<NewTopic> wanted = List.of(
          new NewTopic(topics.repartition(), partitions, (short) -1).configs(Map.of(
              TopicConfig.RETENTION_MS_CONFIG, Long.toString(TimeUnit.DAYS.toMillis(1)),
              TopicConfig.MAX_MESSAGE_BYTES_CONFIG, maxBytes)),
          new NewTopic(topics.broadcast(), 1, (short) -1).configs(Map.of(
              TopicConfig.RETENTION_MS_CONFIG, keep,
              TopicConfig.MAX_MESSAGE_BYTES_CONFIG, maxBytes)),
          new NewTopic(topics.routes(), 1, (short) -1).configs(Map.of(
              TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT + "," + TopicConfig.CLEANUP_POLICY_DELETE,
              TopicConfig.RETENTION_MS_CONFIG, keep)));
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
      long closingSince = 0;
      while (true) {
        if (closing.get()) {
          closingSince = closingSince == 0 ? System.nanoTime() | 1 : closingSince;
          // claims read back in time are routed, not left to be read again
          if (inbox.isEmpty() && (!aliases.awaitingReadBack()
              || System.nanoTime() - closingSince > TimeUnit.SECONDS.toNanos(2))) {
            break;
          }
        }
        boolean readingBack = aliases.awaitingReadBack();
        readRoutes(readingBack && inbox.isEmpty() ? Duration.ofMillis(10) : Duration.ZERO);
        Batch b = inbox.poll(readingBack ? 1 : 20, TimeUnit.MILLISECONDS);
        List<Batch> batches = new ArrayList<>();
        if (b != null) {
          batches.add(b);
          inbox.drainTo(batches, 63);
        }
        for (Batch batch : batches) {
          Pending p = new Pending(batch.endOffsets());
          pending.addLast(p);
          route(batch.items(), p);
          routed.processed(batch); // parked events aside: no instance of theirs was routed for an engine to decide
        }
        long now = System.currentTimeMillis();
        if (caughtUp()) {
          caughtUpMillis = now;
        }
        unpark(now);
        metrics.aliasesTotal("lost", aliases.lost());
        if (aliases.merges() > mergesLogged) {
          LOG.info("event=roots_merged total={} detail=\"keys of one instance were found rooted apart; the later "
              + "events of both go to the smaller root\"", aliases.merges());
          mergesLogged = aliases.merges();
        }
        metrics.aliasesTotal("merged", aliases.merges());
        if (unflushed) {
          producer.flush();
          unflushed = false;
        }
        if (now - lastMarkMillis >= MARK_MILLIS) {
          lastMarkMillis = now;
          mark(now); // after the flush: what it vouches for has been acknowledged
        }
        if (failure.get() != null) {
          throw new IllegalStateException("routing to Kafka failed; input offsets stay uncommitted: " + failure.get(),
              failure.get());
        }
        Map<TopicPartition, Long> done = routedPrefix();
        if (!done.isEmpty()) {
          input.commit(done);
        }
      }
      if (!parked.isEmpty()) {
        // Not routed and not committed: read again, and routed then, after a restart.
        LOG.info("event=router_stopped parked={} detail=\"events still waiting for an alias are left uncommitted\"",
            parked.size());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      LOG.error("event=router_failed error=\"{}\"", e.toString(), e);
    }
  }

  /** The offsets of the oldest batches none of whose events is parked any more (removed). */
  private Map<TopicPartition, Long> routedPrefix() {
    Map<TopicPartition, Long> done = new HashMap<>();
    while (!pending.isEmpty() && pending.peekFirst().parked == 0) {
      pending.pollFirst().endOffsets.forEach((tp, o) -> done.merge(tp, o, Math::max));
    }
    return done;
  }

  private void route(List<Telemetry> items, Pending batch) {
    long now = System.currentTimeMillis();
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
      byte[] encoded = encode(t);
      if (encoded.length > MAX_ROUTED_BYTES) {
        tooLarge(describe(t), encoded.length, null); // skipped at once: neither parked nor routed
        continue;
      }
      LiveHooks.Routing r = engine.live().routing(p);
      if (!r.event()) {
        String root = aliases.rootOf(r);
        if (root != null) {
          send(topics.repartition(), root, t, encoded);
          metrics.correlationSpan("owner");
        } else {
          send(topics.broadcast(), r.traces().isEmpty() ? null : r.traces().get(0), t, encoded);
          metrics.correlationSpan("all");
        }
        continue;
      }
      String root = aliases.place(r, r.opens(), false);
      if (root == null) {
        parked.addLast(new Parked(t, encoded, r, now, batch));
        batch.parked++;
        continue;
      }
      send(topics.repartition(), root, t, encoded);
    }
  }

  /**
   * Sends a progress mark to every sidecar (on the broadcast topic): the input partitions this
   * router owns, the event time up to which it has routed them (0 while it owns a partition it
   * is behind on and has routed nothing of) and where in the repartition topic what it routed ends,
   * so that engines hold their deadlines while it is behind — or dead, until its partitions' next
   * owner reports them — and until they have read what it routed ({@link RoutingProgress}).
   */
  private void mark(long nowMillis) {
    if (!input.ready()) {
      return; // no partition assigned yet: it cannot say how far behind they are
    }
    long upTo = routed.heldAt(input.vouchedUpToNanos(nowMillis * 1_000_000L), input.progress());
    upTo = Math.min(upTo, readingBackFrom(nowMillis));
    byte[] value = RoutingProgress.encode(upTo == InputClock.UNKNOWN ? 0 : upTo, input.assignment(), Map.copyOf(written));
    ProducerRecord<String, byte[]> mark = new ProducerRecord<>(topics.broadcast(), null, value);
    mark.headers().add(RoutingProgress.HEADER, id);
    producer.send(mark, this::sent);
    unflushed = true;
  }

  /**
   * Before the event time of the oldest event parked lately — most wait only for a claim to be read
   * back, and their instance may already be routed — so engines decide nothing they will still get.
   * An event parked longer waits for another router's alias and holds nobody back ({@link Long#MAX_VALUE}: none).
   */
  private long readingBackFrom(long nowMillis) {
    long from = Long.MAX_VALUE;
    for (Parked p : parked) {
      if (nowMillis - p.sinceMillis <= READ_BACK_HOLD_MILLIS) {
        from = Math.min(from, p.telemetry.arrivalEpochNanos() - 1);
      }
    }
    return from;
  }

  /**
   * Routes parked events whose root is known now: their claims were read back, or an event of
   * their instance was routed. One that waited long enough starts a root of its own.
   */
  private void unpark(long now) {
    if (parked.isEmpty()) {
      return;
    }
    int before = parked.size();
    for (int n = 0; n < before; n++) {
      Parked p = parked.pollFirst();
      long waited = now - p.sinceMillis;
      boolean force = parked.size() >= MAX_PARKED || waited >= 2 * Math.max(parkMillis, MAX_PARK_MILLIS);
      String root = aliases.place(p.routing, p.routing.opens() || p.startsOwn, force);
      if (root == null && !p.startsOwn && !p.routing.opens() && !waits(p, now)) {
        p.startsOwn = true;
        metrics.dropped("routed_without_alias", 1);
        LOG.debug("event=no_alias keys={} traces={} waited_ms={} detail=\"rooted by its own trace: no event that "
            + "opens its instance was routed\"", p.routing.keys(), p.routing.traces(), waited);
        root = aliases.place(p.routing, true, false);
      }
      if (root == null) {
        parked.addLast(p);
        continue;
      }
      send(topics.repartition(), root, p.telemetry, p.encoded);
      p.batch.parked--;
    }
  }

  /**
   * Whether this router has read and routed everything its partitions held when last measured:
   * nothing waits in its inbox, and every partition it owns — a partition just taken over too —
   * has been read and has no lag.
   */
  private boolean caughtUp() {
    if (!inbox.isEmpty()) {
      return false;
    }
    Map<TopicPartition, KafkaInput.Progress> progress = input.progress();
    for (TopicPartition tp : input.assignment()) {
      KafkaInput.Progress p = progress.get(tp);
      if (p == null || p.lag() != 0) { // -1: not measured yet
        return false;
      }
    }
    return true;
  }

  /** The session timeout of the routers' group (Kafka's default when not set) and 10 s for the handover. */
  static long parkMillis(Map<String, Object> kafka) {
    Object session = kafka.get(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG);
    long sessionMillis = 45_000;
    try {
      sessionMillis = session == null ? sessionMillis : Long.parseLong(session.toString().strip());
    } catch (NumberFormatException e) {
      // the consumer refuses it with Kafka's own message
    }
    return Math.max(PARK_MILLIS, sessionMillis + 10_000);
  }

  /**
   * Whether a parked event waits on for its alias: for the park time, and beyond it while this
   * router has not caught up with its input since the event was parked — a router reading a backlog
   * (a handover, an outage) or falling behind may not have read the event that opens its instance
   * yet, and other routers are likely behind too. At most {@value #MAX_PARK_MILLIS} ms.
   */
  private boolean waits(Parked p, long now) {
    long waited = now - p.sinceMillis;
    return waited < parkMillis || caughtUpMillis < p.sinceMillis && waited < Math.max(parkMillis, MAX_PARK_MILLIS);
  }

  /** Writes a claim on the routes topic, marked as this router's so that it knows it when read back. */
  private void claim(String name, String root) {
    ProducerRecord<String, byte[]> claim = new ProducerRecord<>(topics.routes(), name, root.getBytes(StandardCharsets.UTF_8));
    claim.headers().add(ROUTER_HEADER, id);
    producer.send(claim, this::sent);
    unflushed = true;
  }

  private void sent(org.apache.kafka.clients.producer.RecordMetadata metadata, Exception e) {
    if (e != null) {
      failure.compareAndSet(null, e);
    } else if (metadata != null && metadata.hasOffset() && metadata.topic().equals(topics.repartition())) {
      written.put(metadata.partition(), metadata.offset() + 1); // in order within a partition; lower after a re-creation
    }
  }

  /** Reads what the routes topic holds, waiting up to {@code wait} for the first entries, then what was fetched. */
  private void readRoutes(Duration wait) {
    for (int polls = 0; polls < 20; polls++) {
      ConsumerRecords<String, String> polled;
      try {
        polled = routesConsumer.poll(polls == 0 ? wait : Duration.ZERO);
      } catch (KafkaException e) {
        if (!KafkaInput.skipUnreadable(routesConsumer, e, LOG, metrics::dropped)) {
          LOG.warn("event=routes_poll_failed error=\"{}\"", e.toString());
        }
        return;
      }
      if (polled.isEmpty()) {
        return;
      }
      for (ConsumerRecord<String, String> r : polled) {
        if (r.key() != null && r.value() != null) {
          org.apache.kafka.common.header.Header writer = r.headers().lastHeader(ROUTER_HEADER);
          aliases.read(r.key(), r.value(), writer != null && java.util.Arrays.equals(writer.value(), id));
        }
      }
    }
  }

  /** The item as the internal topics carry it. */
  private static byte[] encode(Telemetry t) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(512);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      TelemetryCodec.write(t, out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  private void send(String topic, String key, Telemetry t, byte[] encoded) {
    producer.send(new ProducerRecord<>(topic, key, encoded), (metadata, e) -> {
      if (e instanceof org.apache.kafka.common.errors.RecordTooLargeException) {
        tooLarge(describe(t), encoded.length, e);
      } else {
        sent(metadata, e);
      }
    });
    unflushed = true;
  }

  /** An item too large for the internal topics: said with where it came from, skipped, counted. */
  private void tooLarge(String item, int bytes, Exception e) {
    metrics.dropped("too_large_to_route", 1);
    LOG.warn("event=skip item=\"{}\" bytes={} limit={} reason=\"too large to route to the sidecar that assembles "
        + "its instance{}\"", item, bytes, MAX_ROUTED_BYTES, e == null ? "" : ": " + e.getMessage());
  }

  private static String describe(Telemetry t) {
    return t instanceof Telemetry.RecordEvent r ? r.record().coordinates()
        : "span " + ((Telemetry.SpanEvent) t).span().traceId() + "/" + ((Telemetry.SpanEvent) t).span().spanId();
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
