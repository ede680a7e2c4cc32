package io.flowtrace.sidecar;

import static java.util.Objects.requireNonNull;

import io.flowtrace.sidecar.internal.Batch;
import io.flowtrace.sidecar.internal.CommitTracker;
import io.flowtrace.sidecar.internal.InputClock;
import io.flowtrace.sidecar.internal.KafkaInput;
import io.flowtrace.sidecar.internal.LiveVerdicts;
import io.flowtrace.sidecar.internal.BroadcastReader;
import io.flowtrace.sidecar.internal.Outbox;
import io.flowtrace.sidecar.internal.RepartitionPurge;
import io.flowtrace.sidecar.internal.OpsServer;
import io.flowtrace.sidecar.internal.ReceiverLag;
import io.flowtrace.sidecar.internal.Router;
import io.flowtrace.sidecar.internal.RoutingProgress;
import io.flowtrace.sidecar.internal.SidecarMetrics;
import io.flowtrace.sidecar.internal.VerdictHistory;
import io.flowtrace.sidecar.output.ConsoleVerdictSink;
import io.flowtrace.sidecar.output.JsonLinesVerdictSink;
import io.flowtrace.sidecar.output.KafkaVerdictSink;
import io.flowtrace.sidecar.output.VerdictSink;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.receiver.BoundedTelemetryQueue;
import io.flowtrace.tracer.receiver.DropReason;
import io.flowtrace.tracer.receiver.OtlpGrpcReceiver;
import io.flowtrace.tracer.receiver.OtlpHttpReceiver;
import io.flowtrace.tracer.receiver.TelemetrySink;
import io.flowtrace.tracer.tap.PartitionedConsumer;
import io.flowtrace.verifier.assembly.FlowEngine;
import io.flowtrace.verifier.assembly.LiveHooks;
import io.flowtrace.verifier.assembly.Prepared;
import io.flowtrace.verifier.report.LateEvent;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictListener;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecException;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.io.Closeable;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Continuous verification of live flows: spans (OTLP receivers, or the Collector's spans topic)
 * and records (the flows' topics) feed one {@link FlowEngine} on one thread; each instance is
 * verified the moment its terminal stage and everything its rules need have arrived, or when its
 * deadline passes; verdicts go to every configured {@link VerdictSink}.
 *
 * <p><b>Restart safety.</b> Kafka input is read in the sidecar's own consumer group with offsets
 * committed only once the messages are old enough that their instances are decided <em>and</em>
 * the verdict outputs were flushed (see {@link CommitTracker}). After a crash the uncommitted tail
 * is read again; instances whose verdicts were already written are recognised from the verdicts
 * topic (or files) and not decided twice. Spans received over OTLP are not re-readable: for crash
 * safety send spans through the Collector's Kafka exporter ({@code spans-topic}).
 *
 * <p><b>Shutdown</b> ({@link #close()}): inputs stop, what was received is processed; with only
 * durable (Kafka) inputs the instances in flight are left to the next run (their offsets are not
 * committed), otherwise they are decided now ({@code INCOMPLETE} unless complete) so nothing
 * received is lost, and their records are left to the next run all the same, which amends those
 * verdicts by what came after ({@link LiveHooks#readAgainFrom}).
 */
public final class Sidecar implements Closeable {

  private static final Logger LOG = LoggerFactory.getLogger(Sidecar.class);
  private static final int INBOX_BATCHES = 256;
  /** Verdicts kept for a failing output, to be written again when it works (see {@link Outbox}). */
  static final int OUTBOX_CAPACITY = 100_000;
  private static final long METRICS_INTERVAL_MILLIS = 100;
  private static final long SLOW_LOOP_NANOS = TimeUnit.MILLISECONDS.toNanos(Long.getLong("flowtrace.slowLoopMillis", 250));
  private static final long STATS_INTERVAL_MILLIS = Long.getLong("flowtrace.statsIntervalMillis", 30_000);

  private final SidecarConfig config;
  private final FlowEngine engine;
  private final List<Outbox> outputs;
  private final SidecarMetrics metrics = new SidecarMetrics();
  private final BlockingQueue<Batch> inbox = new ArrayBlockingQueue<>(INBOX_BATCHES);
  private final CommitTracker tracker;
  private final ConcurrentLinkedQueue<Collection<TopicPartition>> revocations = new ConcurrentLinkedQueue<>();
  private final Thread engineThread;
  private final CountDownLatch engineDone = new CountDownLatch(1);
  private final InputClock clock = new InputClock();
  /** In a cluster: how far the routers have routed their inputs (their progress marks). */
  private final RoutingProgress routingProgress = new RoutingProgress();
  /** How far the engine is behind the OTLP receivers (null in a cluster, where they feed the router). */
  private final ReceiverLag receiverLag;
  private volatile long lastWatermark = InputClock.UNKNOWN;
  private final Set<TopicPartition> revokedForMetrics = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** Kafka input topic → what reads it ({@code flow/stage(event)}, ...), for what is said about a missing one. */
  private final Map<String, String> inputTopics;
  /** Input topics that do not exist now (sorted, for a stable {@code /readyz} text). */
  private final Set<String> missingTopics = new java.util.concurrent.ConcurrentSkipListSet<>();
  private volatile BoundedTelemetryQueue queue;
  private OtlpHttpReceiver http;
  private OtlpGrpcReceiver grpc;
  private volatile KafkaInput kafka;
  private Router router;
  /** The cluster's repartition topic (cluster mode). */
  private final String repartitionTopic;
  private volatile RepartitionPurge purge;
  private BroadcastReader broadcast;
  private OpsServer ops;
  /** What the live page on the ops endpoint shows. */
  private final LiveVerdicts live;
  private volatile boolean stopping;
  /** At a stop with an OTLP receiver: where the records of instances still in flight begin (see {@link #close()}). */
  private volatile Map<LiveHooks.RecordPartition, Long> readAgainFrom = Map.of();
  /** Every input has stopped adding to the inbox: the engine ends once it is empty. */
  private volatile boolean inputsStopped;
  private volatile boolean seeded;
  private Duration seedWindow = Duration.ZERO;
  /** Repartition partitions taken over and still being read up to their end (engine thread). */
  private final Set<Integer> catchingUp = new java.util.HashSet<>();
  private final Map<Integer, Long> catchingUpSince = new HashMap<>();
  /** The end offset of what the engine processed, per partition (engine thread). */
  private final Map<TopicPartition, Long> processedEnd = new HashMap<>();
  /** Work the input threads hand to the engine thread, run before its next batch. */
  private final java.util.Queue<Runnable> engineTasks = new java.util.concurrent.ConcurrentLinkedQueue<>();
  /** What holds the start up, for {@code /healthz} and {@code /readyz}; null when nothing does. */
  private volatile String startupProblem;
  private volatile long heartbeatMillis = System.currentTimeMillis();
  private volatile Throwable engineFailure;
  /** Events that came after their instance was final (engine thread). */
  private long lateEvents;
  private boolean closed;

  private Sidecar(SidecarConfig config, List<FlowSpec> flows, List<VerdictSink> sinks) {
    this.config = config;
    this.repartitionTopic = Router.Topics.of(config.groupId()).repartition();
    this.outputs = sinks.stream().map(sink -> new Outbox(sink, OUTBOX_CAPACITY, metrics)).toList();
    this.live = new LiveVerdicts(flows, LiveVerdicts.DEFAULT_CAPACITY);
    VerdictListener listener = new VerdictListener() {
      @Override
      public void decided(Verdict v) {
        emit(v);
        live.add(null, v);
      }

      @Override
      public void amended(Verdict previous, Verdict current) {
        emit(current);
        live.add(previous, current);
      }

      @Override
      public void finalized(Verdict v) {
        metrics.finalized(v);
      }

      @Override
      public void late(LateEvent event) {
        lateEvent(event);
      }
    };
    // Started on live traffic (a new group from the latest offsets, a backlog cut by retention, an
    // exporter that sent before any receiver listened), its first instances may lack what came before.
    FlowEngine.Builder builder = FlowEngine.builder(flows).inputMayBeginMidFlow();
    if (config.spans() != null) {
      builder.spans(config.spans());
    }
    this.engine = builder
        .listener(listener)
        .completionGrace(config.completionGrace())
        .amendWindow(config.amendWindow())
        .maxOpenInstances(config.maxOpenInstances())
        .maxRetainedEvents(config.effectiveMaxRetainedEvents())
        .maxEventsPerInstance(config.maxEventsPerInstance())
        .maxPayloadBytes(config.maxPayloadBytes())
        .verificationThreads(config.verificationThreads())
        .decisionLatency(metrics::latencyNanos)
        .expectSpans(config.spansTopic() != null || config.otlpHttpPort() >= 0 || config.otlpGrpcPort() >= 0)
        // Spans over OTLP are not read again: a record read again after a restart (from the
        // committed offsets, or a backlog) had its spans exported before any receiver of this run
        // listened, to the earlier run or to nobody.
        .restartedAt(config.durableInputsOnly() ? java.time.Instant.MIN : java.time.Instant.now())
        .build();
    engine.live().holdDecisions(catchingUp::contains);
    metrics.startAtZero(flows.stream().map(FlowSpec::name).toList(), config.cluster());
    long maxDeadline = flows.stream().mapToLong(f -> f.deadline().toMillis()).max().orElse(0);
    this.tracker = new CommitTracker(holdMillis(config, maxDeadline));
    this.inputTopics = config.bootstrapServers() == null ? Map.of() : inputTopics(flows, config.spansTopic());
    this.engineThread = new Thread(this::runEngine, "flowtrace-engine");
    this.receiverLag = config.cluster() ? null : new ReceiverLag(config.completionGrace().toNanos());
  }

  /** How long a consumed message is held before its offset may be committed. */
  static long holdMillis(SidecarConfig config, long maxDeadlineMillis) {
    return maxDeadlineMillis + config.completionGrace().toMillis() + config.lateness().toMillis() + 1000;
  }

  /**
   * Loads the flows, opens the outputs, seeds recently written verdicts, binds the receivers and
   * the ops endpoint and starts consuming. Undoes what it did if a step fails.
   */
  public static Sidecar start(SidecarConfig config) throws IOException, FlowSpecException {
    return start(config, System.out);
  }

  /** As {@link #start(SidecarConfig)}, printing console verdict lines to {@code console}. */
  public static Sidecar start(SidecarConfig config, PrintStream console) throws IOException, FlowSpecException {
    return start(config, console, List.of());
  }

  /** As {@link #start(SidecarConfig, PrintStream)}, writing verdicts to {@code extraSinks} too. */
  static Sidecar start(SidecarConfig config, PrintStream console, List<VerdictSink> extraSinks)
      throws IOException, FlowSpecException {
    requireNonNull(config, "config");
    List<FlowSpec> flows = new FlowSpecLoader(config.schemaRegistry() == null ? null
        : io.flowtrace.verifier.schema.SchemaRegistryClient.create(config.schemaRegistry())).load(config.flows());
    List<VerdictSink> sinks = new ArrayList<>(extraSinks);
    Sidecar sidecar = null;
    try {
      if (config.console()) {
        sinks.add(new ConsoleVerdictSink(console));
      }
      if (config.verdictsDir() != null) {
        sinks.add(new JsonLinesVerdictSink(config.verdictsDir(), config.verdictsFileBytes()));
      }
      if (config.hasVerdictsTopic()) {
        sinks.add(new KafkaVerdictSink(kafkaProperties(config), config.verdictsTopic()));
      }
      sidecar = new Sidecar(config, flows, sinks);
      sidecar.startParts(flows);
      return sidecar;
    } catch (IOException | RuntimeException e) {
      if (sidecar != null) {
        sidecar.close();
      } else {
        for (VerdictSink s : sinks) {
          closeQuietly(s);
        }
      }
      throw e;
    }
  }

  private void startParts(List<FlowSpec> flows) throws IOException {
    if (config.httpPort() >= 0) {
      ops = new OpsServer(config.httpHost(), config.httpPort(), metrics, this::health, this::readiness, live);
    }
    seed(flows);
    inputTopics.keySet().forEach(t -> metrics.topicMissing(t, false));
    engineThread.start();
    BlockingQueue<Batch> received = inbox;
    if (config.cluster()) {
      received = new ArrayBlockingQueue<>(INBOX_BATCHES);
      Router.Topics topics = Router.Topics.of(config.groupId());
      KafkaInput routerInput = new KafkaInput(kafkaProperties(config), config.groupId() + ".router",
          config.startFrom(), flowTopics(flows), config.spansTopic(), config.spansEncoding(), null, received,
          new InputListener());
      router = new Router(kafkaProperties(config), engine, topics, config.repartitionPartitions(),
          2 * holdMillis(config, maxDeadlineMillis(flows)), received, routerInput, metrics);
      purge = new RepartitionPurge(kafkaProperties(config), Duration.ofSeconds(30));
      broadcast = new BroadcastReader(kafkaProperties(config), topics.broadcast(),
          holdMillis(config, maxDeadlineMillis(flows)) + config.amendWindow().toMillis(), inbox, routingProgress, metrics);
      kafka = new KafkaInput(kafkaProperties(config), config.groupId(), "earliest", List.of(topics.repartition()),
          null, config.spansEncoding(), topics.repartition(), inbox, new InputListener(true));
      broadcast.start();
      kafka.start();
      router.start();
    } else if (config.bootstrapServers() != null) {
      kafka = new KafkaInput(kafkaProperties(config), config.groupId(), config.startFrom(), flowTopics(flows),
          config.spansTopic(), config.spansEncoding(), null, inbox, new InputListener());
      kafka.handOverUpTo(receiverLag::kafkaUpTo);
      kafka.start();
    }
    if (config.otlpHttpPort() >= 0 || config.otlpGrpcPort() >= 0) {
      queue = BoundedTelemetryQueue.builder(new InboxSink(received)).capacity(config.effectiveQueueCapacity())
          .threadName("flowtrace-otlp-queue").build();
      if (config.otlpHttpPort() >= 0) {
        http = OtlpHttpReceiver.builder(queue).host(config.otlpHost()).port(config.otlpHttpPort()).start();
      }
      if (config.otlpGrpcPort() >= 0) {
        grpc = OtlpGrpcReceiver.builder(queue).host(config.otlpHost()).port(config.otlpGrpcPort()).start();
      }
      if (!config.durableInputsOnly()) {
        // spans are received from now, not from when the engine was built: reading back verdicts
        // and starting the inputs took seconds in which exporters found nobody listening
        engine.live().receivingSpansSince(java.time.Instant.now());
      }
    }
    LOG.info("event=started flows={} otlp_http={} otlp_grpc={} kafka={} spans_topic={} ops={}",
        flows.stream().map(FlowSpec::name).toList(), http == null ? "-" : http.endpoint(),
        grpc == null ? "-" : grpc.port(), config.bootstrapServers(), config.spansTopic(),
        ops == null ? "-" : config.httpHost() + ":" + ops.port());
  }

  /**
   * Each Kafka input topic with what reads it: {@code flow/stage(event)} for every event on it,
   * comma-separated, and {@code *(spans-topic)} for the spans topic (every flow reads it).
   */
  static Map<String, String> inputTopics(List<FlowSpec> flows, String spansTopic) {
    Map<String, List<String>> readers = new java.util.LinkedHashMap<>();
    for (FlowSpec f : flows) {
      f.eventsByTopic().forEach((topic, events) -> events.forEach(e ->
          readers.computeIfAbsent(topic, t -> new ArrayList<>()).add(f.name() + "/" + e.stageId() + "(" + e.id() + ")")));
    }
    if (spansTopic != null) {
      readers.computeIfAbsent(spansTopic, t -> new ArrayList<>()).add("*(spans-topic)");
    }
    Map<String, String> described = new java.util.LinkedHashMap<>();
    readers.forEach((topic, r) -> described.put(topic, String.join(",", r)));
    return described;
  }

  private static Set<String> flowTopics(List<FlowSpec> flows) {
    Set<String> topics = new LinkedHashSet<>();
    flows.forEach(f -> topics.addAll(f.eventsByTopic().keySet()));
    return topics;
  }

  private static long maxDeadlineMillis(List<FlowSpec> flows) {
    return flows.stream().mapToLong(f -> f.deadline().toMillis()).max().orElse(0);
  }

  /** Remembers instances the verdict outputs already hold from the last few minutes. */
  private void seed(List<FlowSpec> flows) throws IOException {
    seedWindow = Duration.ofMillis(2 * holdMillis(config, maxDeadlineMillis(flows))
        + config.commitInterval().toMillis() + config.amendWindow().toMillis());
    List<VerdictHistory.Decided> decided;
    if (config.hasVerdictsTopic() && config.verdictsDir() != null && !config.cluster()) {
      VerdictHistory.TopicRead read = verdictsFromTopic(seedWindow);
      List<VerdictHistory.Decided> topic = read.verdicts();
      List<VerdictHistory.Decided> files = VerdictHistory.fromDirectory(config.verdictsDir(), seedWindow);
      copyToOutput(VerdictHistory.missing(topic, files), JsonLinesVerdictSink.class);
      copyToOutput(VerdictHistory.missing(files, topic, read.whole()), KafkaVerdictSink.class);
      List<VerdictHistory.Decided> both = new ArrayList<>(files);
      both.addAll(topic);
      decided = VerdictHistory.latest(both);
    } else {
      decided = earlierVerdicts();
    }
    for (VerdictHistory.Decided d : decided) {
      engine.live().markDecided(d.flow(), d.keys(), d.traceIds(), d.revision(), d.status(), d.violations());
    }
    if (!decided.isEmpty()) {
      LOG.info("event=seeded verdicts={} window={}", decided.size(), seedWindow);
    }
    seeded = true;
  }

  /**
   * Writes to the output of that kind the verdicts another output holds and it lacks: a run that
   * stopped between writing a verdict to one and to the other (a {@code kill -9} before the files
   * were flushed) must not leave one output without it, since this run will not decide it again.
   */
  private void copyToOutput(List<VerdictHistory.Decided> lacking, Class<? extends VerdictSink> kind) {
    if (lacking.isEmpty()) {
      return;
    }
    for (Outbox o : outputs) {
      if (!kind.isInstance(o.sink())) {
        continue;
      }
      try {
        for (VerdictHistory.Decided d : lacking) {
          o.sink().copy(d.instanceKey(), d.revision(), d.json());
        }
        o.sink().flush();
        LOG.info("event=verdicts_copied to={} count={} detail=\"verdicts the other output holds from the last run"
            + " and this one lacked\"", o.name(), lacking.size());
      } catch (IOException | RuntimeException e) {
        LOG.warn("event=verdicts_copy_failed to={} count={} error=\"{}\"", o.name(), lacking.size(), e.toString());
      }
    }
  }

  /**
   * The verdicts the outputs hold from the seed window. Messages not yet committed when the last
   * run stopped (or the last owner gave up a partition) were read at most this long before its last
   * verdict: their instances' verdicts are in this window.
   */
  private List<VerdictHistory.Decided> earlierVerdicts() throws IOException {
    if (config.hasVerdictsTopic()) {
      return VerdictHistory.latest(verdictsFromTopic(seedWindow).verdicts());
    } else if (config.verdictsDir() != null) {
      return VerdictHistory.latest(VerdictHistory.fromDirectory(config.verdictsDir(), seedWindow));
    }
    return List.of();
  }

  /**
   * In a cluster, partitions taken over from another sidecar: the verdicts it wrote (it flushed its
   * outputs before letting them go) are read back before any of their records is, so the instances
   * it decided are not decided again here. On the input's thread; the engine applies them first.
   */
  private void reseed(Collection<TopicPartition> partitions) {
    if (!seeded || stopping) {
      return;
    }
    try {
      List<VerdictHistory.Decided> decided = earlierVerdicts();
      engineTasks.add(() -> {
        for (VerdictHistory.Decided d : decided) {
          engine.live().markDecided(d.flow(), d.keys(), d.traceIds(), d.revision(), d.status(), d.violations());
        }
      });
      LOG.info("event=reseeded partitions={} verdicts={} window={}", partitions, decided.size(), seedWindow);
    } catch (IOException | RuntimeException e) {
      LOG.warn("event=reseed_failed partitions={} error=\"{}\" detail=\"instances the previous owner decided may be"
          + " decided again\"", partitions, e.toString());
    }
  }

  /**
   * The verdicts topic's recent verdicts, waiting for the broker as long as it takes: a sidecar
   * started while Kafka is down says so (log, {@code /readyz}) and retries with backoff, rather
   * than exiting on the first metadata timeout.
   */
  private VerdictHistory.TopicRead verdictsFromTopic(Duration window) throws IOException {
    long since = System.currentTimeMillis();
    long backoffMillis = 1_000;
    for (int attempt = 1; ; attempt++) {
      try {
        VerdictHistory.TopicRead read = VerdictHistory.fromTopic(kafkaProperties(config), config.verdictsTopic(), window);
        if (attempt > 1) {
          LOG.info("event=kafka_reachable bootstrap={} after_ms={}", config.bootstrapServers(),
              System.currentTimeMillis() - since);
        }
        return read;
      } catch (org.apache.kafka.common.errors.TimeoutException e) {
        if (stopping) {
          throw new IOException("stopped while waiting for Kafka at " + config.bootstrapServers(), e);
        }
        long waited = System.currentTimeMillis() - since;
        startupProblem = "Kafka unreachable at " + config.bootstrapServers() + " for " + waited / 1000
            + " s (" + e.getMessage() + "); retrying";
        LOG.warn("event=kafka_unreachable bootstrap={} attempt={} waited_ms={} retry_in_ms={} detail=\"cannot read"
            + " earlier verdicts from {}: {}\"", config.bootstrapServers(), attempt, waited, backoffMillis,
            config.verdictsTopic(), e.getMessage());
        try {
          Thread.sleep(backoffMillis);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while waiting for Kafka at " + config.bootstrapServers(), ie);
        }
        backoffMillis = Math.min(2 * backoffMillis, 30_000);
      }
    }
  }

  static Map<String, Object> kafkaProperties(SidecarConfig config) {
    Map<String, Object> p = new HashMap<>(config.kafka());
    p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
    return p;
  }

  // ---------------------------------------------------------------------------------------------
  // The engine thread

  /**
   * What stopped the engine thread (an error it could not go on from, such as running out of heap)
   * or the Kafka input's poll thread (an error of kafka-clients that persisted), or {@code null}
   * while both run or after they stopped as asked. The sidecar verifies nothing more then; {@code
   * /healthz} fails, and {@code flowtrace sidecar} exits for a supervisor to restart it.
   */
  public Throwable failure() {
    if (engineFailure != null) {
      return engineFailure;
    }
    KafkaInput input = kafka;
    return input == null ? null : input.failure();
  }

  private void runEngine() {
    long lastCommit = System.currentTimeMillis();
    long lastStats = lastCommit;
    long lastMetrics = lastCommit;
    long maxBatchWaitNanos = 0;
    long maxLoopNanos = 0;
    boolean dirty = false;
    try {
      while (!inputsStopped || !inbox.isEmpty()) {
        // a verdict whose checks run on a verification thread goes out at the next loop: soon
        Batch b = inbox.poll(engine.live().verifying() ? 1 : 10, TimeUnit.MILLISECONDS);
        long loopStart = System.nanoTime();
        Runnable task;
        while ((task = engineTasks.poll()) != null) {
          task.run(); // queued before the batch was
        }
        if (b != null) {
          // One batch, then decide: an instance completed by this batch is not held up by the next ones.
          process(b);
          dirty = true;
        }
        long processed = System.nanoTime();
        Collection<TopicPartition> revoked;
        while ((revoked = revocations.poll()) != null) {
          tracker.revoked(revoked);
          clock.revoked(revoked);
        }
        long now = System.currentTimeMillis();
        // Not before the Kafka input (made after this thread starts) owns its partitions: until then
        // it cannot say how far behind they are.
        KafkaInput input = kafka;
        long nowNanos = epochNanosNow();
        long receiversHeldAt = receiverHold(nowNanos);
        long watermark = config.bootstrapServers() != null && (input == null || !input.ready()) ? InputClock.UNKNOWN
            : clock.watermark(input == null ? nowNanos : input.vouchedUpToNanos(nowNanos),
                input == null ? Map.of() : input.progress(), receiversHeldAt);
        if (config.cluster() && watermark != InputClock.UNKNOWN) {
          // not past what every router has routed: a router that died holds its records until its partitions move
          long routedUpTo = routingProgress.routedUpToNanos(now, (partition, offset) -> {
            TopicPartition tp = new TopicPartition(repartitionTopic, partition);
            long start = input.startOffset(tp);
            return start < 0 || Math.max(start, clock.processedEnd(tp)) >= offset; // not ours, or read that far
          });
          watermark = routedUpTo == Long.MIN_VALUE ? InputClock.UNKNOWN : Math.min(watermark, routedUpTo);
        }
        lastWatermark = watermark;
        if (!catchingUp.isEmpty() && input != null) {
          caughtUp(input);
        }
        if (watermark != InputClock.UNKNOWN) {
          engine.advanceTo(watermark - config.lateness().toNanos());
        }
        long advanced = System.nanoTime();
        maxLoopNanos = Math.max(maxLoopNanos, advanced - loopStart);
        if (b != null) {
          maxBatchWaitNanos = Math.max(maxBatchWaitNanos, loopStart - b.arrivalNanos());
        }
        if (advanced - loopStart > SLOW_LOOP_NANOS) {
          LOG.warn("event=slow_loop batch_items={} batch_age_ms={} process_ms={} advance_ms={} inbox={}",
              b == null ? 0 : b.items().size(), b == null ? 0 : (loopStart - b.arrivalNanos()) / 1_000_000,
              (processed - loopStart) / 1_000_000, (advanced - processed) / 1_000_000, inbox.size());
        }
        if (b == null || now - lastMetrics >= METRICS_INTERVAL_MILLIS) {
          // When idle (every poll timeout) or every 100 ms under load, not after every batch.
          lastMetrics = now;
          publishMetrics();
        }
        heartbeatMillis = now;
        if (now - lastStats >= STATS_INTERVAL_MILLIS) {
          FlowEngine.EngineStats s = engine.stats();
          lastStats = now;
          LOG.info("event=stats spans={} records={} open_instances={} amendable={} decided={} amended={} late_dropped={} "
              + "evicted={} retained_events={} amend_windows_cut={} inbox={} max_batch_wait_ms={} max_loop_ms={} "
              + "watermark_behind_ms={}",
              s.spans(), s.records(), s.openInstances(), s.decidedInFlight(), s.verdictsDecided(), s.verdictsAmended(),
              s.lateDropped(), s.instancesEvicted(), s.retainedEvents(), s.amendWindowsCut(), inbox.size(), maxBatchWaitNanos / 1_000_000, maxLoopNanos / 1_000_000,
              watermark == InputClock.UNKNOWN ? -1 : now - watermark / 1_000_000);
          maxBatchWaitNanos = 0;
          maxLoopNanos = 0;
          if (config.cluster()) {
            String held = routingProgress.holding(now, 2_000);
            if (held != null) {
              LOG.info("event=routing_behind {}", held);
            }
          }
        }
        if (dirty && now - lastCommit >= config.commitInterval().toMillis()) {
          if (flushOutputs()) {
            // Held by the watermark too: while a backlog is worked off, its instances are decided
            // in event time, so its offsets wait until the input has caught up.
            Map<TopicPartition, Long> safe = tracker.releasable(decidedUpToMillis(now, watermark));
            if (kafka != null && !safe.isEmpty()) {
              kafka.commit(safe);
              metrics.committed();
              RepartitionPurge p = purge;
              if (p != null) {
                p.committed(safe, now);
              }
            }
          }
          lastCommit = now;
        }
      }
      long inFlight = engine.stats().openInstances();
      long decidedBefore = engine.stats().verdictsDecided();
      if (!config.durableInputsOnly()) {
        readAgainFrom = engine.live().readAgainFrom(); // before the finish decides those instances
        engine.live().stopping();
        engine.finish();
      }
      // in_flight: open when the stop came; the finish judged them on what had arrived ("input ended")
      LOG.info("event=engine_stopped in_flight={} decided_at_stop={} open_instances={} decided={}", inFlight,
          engine.stats().verdictsDecided() - decidedBefore, engine.stats().openInstances(),
          engine.stats().verdictsDecided());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      engineFailure = e;
      LOG.error("event=engine_failed error=\"{}\"", e.toString(), e);
    } finally {
      engineDone.countDown();
    }
  }

  /**
   * Lets go of partitions taken over once the engine has processed them up to where the input
   * found their end (lag 0): from then on their rebuilt instances are decided as any other.
   */
  private void caughtUp(KafkaInput input) {
    Map<TopicPartition, KafkaInput.Progress> progress = input.progress();
    for (TopicPartition tp : progress.keySet()) {
      if (!catchingUp.contains(tp.partition())) {
        continue;
      }
      KafkaInput.Progress p = progress.get(tp);
      long waited = System.currentTimeMillis() - catchingUpSince.get(tp.partition());
      boolean caughtUp = p != null && p.lag() == 0 && processedEnd.getOrDefault(tp, -1L) >= p.readEnd();
      if (caughtUp || waited > 2 * tracker.holdMillis()) {
        catchingUp.remove(tp.partition());
        catchingUpSince.remove(tp.partition());
        LOG.info("event=partition_caught_up partition={} after_ms={} lag={} detail=\"{}\"", tp, waited,
            p == null ? -1 : p.lag(), caughtUp ? "its rebuilt instances are decided from now on"
                : "still behind after twice the hold; its instances are decided from now on all the same");
      }
    }
  }

  /** Where the OTLP receivers hold the watermark ({@link ReceiverLag#heldAt}); engine thread. */
  private long receiverHold(long nowNanos) {
    BoundedTelemetryQueue q = queue;
    if (receiverLag == null || q == null) {
      return ReceiverLag.NOT_BEHIND;
    }
    return receiverLag.heldAt(nowNanos, q.oldestPendingEpochNanos(), q.refusedRequests(DropReason.OVERLOADED));
  }

  /** Engine counters, receiver drops and input lag into the metrics; on the engine thread. */
  private void publishMetrics() {
    FlowEngine.EngineStats s = engine.stats();
    metrics.engine(s.openInstances(), s.decidedInFlight(), s.indexedSpans());
    metrics.evictedTotal("maxOpenInstances", s.instancesEvicted());
    metrics.amendWindowsCut(s.amendWindowsCut());
    metrics.droppedTotal("over_max_events_per_instance", s.eventsDropped());
    metrics.droppedTotal("payload_over_max_bytes", s.payloadsTooLarge());
    metrics.droppedTotal("no_instance", s.eventsUnplaced());
    metrics.droppedTotal("late_for_finalized_instance", s.lateDropped());
    metrics.inbox(inbox.size());
    foldReceiverDrops();
    if (kafka != null) {
      metrics.lag(kafka.lag(), Set.copyOf(revokedForMetrics));
      revokedForMetrics.clear();
    }
  }

  private void process(Batch b) {
    if (b.isRevocation()) {
      Set<Integer> gone = new java.util.HashSet<>();
      b.revoked().forEach(tp -> gone.add(tp.partition()));
      int dropped = engine.live().discardOpen(gone::contains);
      catchingUp.removeAll(gone);
      b.revoked().forEach(processedEnd::remove);
      flushOutputs(); // the new owner reads back what was decided here before it reads the partitions
      tracker.revoked(b.revoked());
      clock.revoked(b.revoked());
      LOG.info("event=partitions_handed_over partitions={} open_instances_dropped={}", b.revoked(), dropped);
      b.done().countDown();
      return;
    }
    if (receiverLag != null) {
      receiverLag.processed(b);
    }
    engine.live().arrival(b.arrivalNanos());
    engine.live().source(b.source());
    for (Telemetry t : b.items()) {
      Prepared p;
      try {
        p = engine.prepare(t);
      } catch (RuntimeException e) {
        LOG.warn("event=skip item=\"{}\" reason=\"{}\"", describe(t), e.toString());
        metrics.dropped("unpreparable", 1);
        continue;
      }
      if (p != null) {
        engine.accept(p);
      } else {
        metrics.dropped("not_in_any_flow", 1);
      }
    }
    if (!b.endOffsets().isEmpty()) {
      tracker.consumed(b.endOffsets(), b.arrivalMillis());
      clock.processed(b);
      b.endOffsets().forEach((tp, o) -> processedEnd.merge(tp, o, Math::max));
    }
  }

  private static String describe(Telemetry t) {
    return t instanceof Telemetry.RecordEvent r ? r.record().coordinates()
        : ((Telemetry.SpanEvent) t).span().traceId() + "/" + ((Telemetry.SpanEvent) t).span().spanId();
  }

  private void emit(Verdict v) {
    metrics.decided(v);
    for (Outbox o : outputs) {
      o.verdict(v);
    }
  }

  /**
   * An event came after its instance's verdict was final: counted, logged with where it is (every
   * one for the first 100, then one in 1000, the count always in the metric) and published as a
   * note beside the instance's verdicts.
   */
  private void lateEvent(LateEvent e) {
    if (e.finalizedEpochNanos() == Long.MIN_VALUE) {
      // Decided by an earlier run or the partition's previous owner (read back from the outputs):
      // almost always a record or span of the uncommitted tail, read again — not news.
      metrics.dropped("decided_before_this_owner", 1);
      return;
    }
    metrics.late(e.flow());
    long n = ++lateEvents;
    if (n <= 100 || n % 1000 == 0) {
      LOG.warn("event=late_event flow={} instance=\"{}\" event_id={} at={} detail=\"came after the instance's verdict "
          + "was final (amend-window); not verified\" late_events_total={}", e.flow(), e.instanceKey(), e.event(),
          e.where(), n);
    }
    for (Outbox o : outputs) {
      o.late(e);
    }
  }

  /**
   * Flushes every output; false (offsets must not be committed) once any output has failed. A
   * verdict that did not reach an output can only be made again by reading its messages again, so
   * after a failure nothing more is committed and {@link #health()} asks for a restart, which
   * resumes from the last offset committed while every output was whole.
   */
  private boolean flushOutputs() {
    boolean durable = true;
    long now = System.currentTimeMillis();
    for (Outbox o : outputs) {
      durable &= o.flush(now);
    }
    return durable;
  }

  /** The outputs that fail now, with why and how many verdicts wait; empty when none does. */
  private String failingOutputs() {
    return outputs.stream().filter(o -> o.failure() != null)
        .map(o -> o.failure() + " (" + o.waiting() + " waiting)").collect(java.util.stream.Collectors.joining("; "));
  }

  /** The wall-clock time up to which offsets may be released: not past the watermark. */
  private static long decidedUpToMillis(long nowMillis, long watermarkNanos) {
    return watermarkNanos == InputClock.UNKNOWN ? Long.MIN_VALUE : Math.min(nowMillis, watermarkNanos / 1_000_000);
  }

  private static long epochNanosNow() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }

  // ---------------------------------------------------------------------------------------------
  // Inputs

  /** OTLP receivers' queue drains here: spans become one batch for the engine (or the router). */
  private final class InboxSink implements TelemetrySink {
    private final BlockingQueue<Batch> target;

    InboxSink(BlockingQueue<Batch> target) {
      this.target = target;
    }

    @Override
    public void accept(Telemetry telemetry) {
      acceptAll(List.of(telemetry));
    }

    @Override
    public void acceptAll(List<? extends Telemetry> batch) {
      acceptAll(batch, epochNanosNow());
    }

    @Override
    public void acceptAll(List<? extends Telemetry> batch, long receivedEpochNanos) {
      metrics.spans("otlp", batch.size());
      Batch b = Batch.of(batch, Map.of());
      boolean toEngine = target == inbox && receiverLag != null;
      if (toEngine) {
        receiverLag.handedOver(b, receivedEpochNanos);
      }
      try {
        target.put(b);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        if (toEngine) {
          receiverLag.withdrawn(b);
        }
        metrics.dropped("interrupted", batch.size());
      }
    }
  }

  private final class InputListener implements KafkaInput.Listener {
    private final boolean ownsRoutedPartitions;

    InputListener() {
      this(false);
    }

    /** @param ownsRoutedPartitions the input is the cluster's repartition topic: instances live by partition */
    InputListener(boolean ownsRoutedPartitions) {
      this.ownsRoutedPartitions = ownsRoutedPartitions;
    }

    @Override
    public void records(int count) {
      metrics.records(count);
    }

    @Override
    public void spans(int count) {
      metrics.spans("kafka", count);
    }

    @Override
    public void dropped(String reason, long count) {
      metrics.dropped(reason, count);
    }

    @Override
    public void topicMissing(String topic) {
      missingTopics.add(topic);
      metrics.topicMissing(topic, true);
      LOG.warn("event=topic_missing topic={} flows={} detail=\"the topic does not exist; verifying the rest; it is "
          + "picked up when it appears\"", topic, inputTopics.getOrDefault(topic, "-"));
    }

    @Override
    public void topicAppeared(String topic) {
      missingTopics.remove(topic);
      metrics.topicMissing(topic, false);
      LOG.info("event=topic_appeared topic={} flows={} detail=\"reading it from its earliest offset\"", topic,
          inputTopics.getOrDefault(topic, "-"));
    }

    @Override
    public void assigned(Collection<TopicPartition> partitions) {
      if (ownsRoutedPartitions) {
        // Also the first assignment: the previous owner flushed its verdicts in its revocation,
        // after this sidecar's start-up seed, and the committed tail is read again from here.
        reseed(partitions);
        List<TopicPartition> taken = List.copyOf(partitions);
        long at = System.currentTimeMillis();
        engineTasks.add(() -> taken.forEach(tp -> {
          catchingUp.add(tp.partition());
          catchingUpSince.put(tp.partition(), at);
        }));
      }
    }

    @Override
    public void revoked(Collection<TopicPartition> partitions) {
      revokedForMetrics.addAll(partitions);
      if (!ownsRoutedPartitions) {
        revocations.add(List.copyOf(partitions));
        return;
      }
      // In a cluster another sidecar now assembles these partitions' instances: the engine drops
      // what it holds of them, after everything already read from them (the inbox is in order).
      if (inputsStopped) {
        return; // shutting down: the engine has decided or dropped everything already
      }
      Batch word = Batch.revocation(partitions);
      try {
        if (!inbox.offer(word, 30, TimeUnit.SECONDS) || !word.done().await(30, TimeUnit.SECONDS)) {
          LOG.warn("event=revocation_slow partitions={}", partitions);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Operations

  /** The metrics (also served on {@code /metrics}). */
  SidecarMetrics metrics() {
    return metrics;
  }

  /** How many decisions taken by data have had their latency measured so far. */
  public long decisionsMeasured() {
    return metrics.latencySamples().count();
  }

  /**
   * The {@code q}-quantile (0..1) of the latency from an instance's last needed event arriving to
   * its verdict, in nanoseconds, over the most recent decisions measured after the first {@code
   * from} (a {@link #decisionsMeasured()} taken earlier, e.g. at the end of a warm-up); -1 when
   * there are none.
   */
  public long decisionLatencyNanos(double q, long from) {
    return metrics.latencySamples().quantile(q, from);
  }

  /**
   * As {@link #decisionLatencyNanos(double, long)}, over the decisions measured after the first
   * {@code from} and before the first {@code to} (both {@link #decisionsMeasured()} taken earlier).
   */
  public long decisionLatencyNanos(double q, long from, long to) {
    return metrics.latencySamples().quantile(q, from, to);
  }

  /** The OTLP/HTTP endpoint, or {@code null} when that receiver is off. */
  public URI otlpHttpEndpoint() {
    return http == null ? null : http.endpoint();
  }

  /** The OTLP/gRPC port, or -1 when that receiver is off. */
  public int otlpGrpcPort() {
    return grpc == null ? -1 : grpc.port();
  }

  /** The port of {@code /metrics}, {@code /healthz}, {@code /readyz}, or -1 when off. */
  public int opsPort() {
    return ops == null ? -1 : ops.port();
  }

  /** Live: the engine thread runs and loops, and the Kafka input polls. */
  OpsServer.Status health() {
    if (!seeded && engineFailure == null) {
      // Starting: alive, and a restart would not help (e.g. waiting for the broker).
      return new OpsServer.Status(true, "starting: " + (startupProblem == null ? "reading earlier verdicts" : startupProblem));
    }
    if (engineFailure != null) {
      return new OpsServer.Status(false, "engine failed: " + engineFailure);
    }
    for (Outbox o : outputs) {
      if (o.gaveUp()) {
        return new OpsServer.Status(false, "verdict output failed (" + o.failure() + ") and more than "
            + OUTBOX_CAPACITY + " verdicts waited for it; offsets are no longer committed: restart to verify again"
            + " from the last safe offset");
      }
    }
    if (!engineThread.isAlive()) {
      return new OpsServer.Status(false, "engine stopped");
    }
    long since = System.currentTimeMillis() - heartbeatMillis;
    long unreachable = kafka == null ? 0 : kafka.unreachableForMillis();
    if (since > 10_000 && unreachable < PartitionedConsumer.UNREACHABLE_AFTER_MILLIS) {
      return new OpsServer.Status(false, "engine loop stalled for " + since + " ms");
    }
    if (since > 10_000) {
      // A restart would not help: the loop waits to hand verdicts to the broker that is down.
      return new OpsServer.Status(true, "engine loop waiting " + since + " ms for Kafka, unreachable for "
          + unreachable / 1000 + " s");
    }
    if (kafka != null && !kafka.healthy()) {
      return new OpsServer.Status(false, kafka.failure() == null ? "kafka input not polling"
          : "kafka input stopped: " + kafka.failure());
    }
    if (router != null && !router.healthy()) {
      return new OpsServer.Status(false, "router stopped");
    }
    if (broadcast != null && !broadcast.healthy()) {
      return new OpsServer.Status(false, "correlation-span reader stopped");
    }
    return new OpsServer.Status(true, "engine loop " + since + " ms ago");
  }

  /**
   * Why the sidecar is not ready to verify (as {@code /readyz} says it: starting, partitions not
   * yet assigned, a receiver down…), or empty when it is ready.
   */
  public java.util.Optional<String> notReady() {
    OpsServer.Status s = readiness();
    return s.ok() ? java.util.Optional.empty() : java.util.Optional.of(s.detail());
  }

  /**
   * Ready: seeded from earlier verdicts, receivers bound, Kafka partitions assigned. An input topic
   * that does not exist leaves it ready but says "degraded" and names the topic: the other topics
   * and the spans are verified, and the topic is read once it appears.
   */
  OpsServer.Status readiness() {
    OpsServer.Status h = health();
    if (!h.ok() || !seeded) {
      return new OpsServer.Status(false, h.ok() ? h.detail().replaceFirst("^starting: ", "") : h.detail());
    }
    long unreachable = kafka == null ? 0 : kafka.unreachableForMillis();
    if (unreachable >= PartitionedConsumer.UNREACHABLE_AFTER_MILLIS) {
      String what = "Kafka unreachable for " + unreachable / 1000 + " s at " + config.bootstrapServers() + "; retrying";
      if (!kafka.ready()) {
        return new OpsServer.Status(false, what);
      }
      // Ready all the same: spans are still received, and every record is read once the broker is back.
      return new OpsServer.Status(true, "degraded: " + what + "; spans are still received and records will be"
          + " read from the last committed offsets");
    }
    if (kafka != null && !kafka.ready() || router != null && !router.ready()) {
      return new OpsServer.Status(false, "waiting for Kafka partition assignment");
    }
    if (stopping) {
      return new OpsServer.Status(false, "shutting down");
    }
    int partitions = (kafka == null ? Set.of() : kafka.assignment()).size();
    String verifying = "verifying " + partitions + (partitions == 1 ? " partition" : " partitions");
    String failing = failingOutputs();
    if (!failing.isEmpty()) {
      // Ready all the same: verdicts are kept and written again when the output works.
      verifying += "; degraded: verdict output failing: " + failing + "; retrying, offsets not committed meanwhile";
    }
    List<String> missing = List.copyOf(missingTopics); // sorted
    if (missing.isEmpty()) {
      return new OpsServer.Status(true, verifying);
    }
    // Ready all the same: the other topics (and spans) are verified, and waiting would not help.
    List<String> named = missing.stream().map(t -> t + " (" + inputTopics.getOrDefault(t, "-") + ")").toList();
    return new OpsServer.Status(true, verifying + "; degraded: " + (named.size() == 1 ? "topic " : "topics ")
        + String.join(", ", named) + (named.size() == 1 ? " does" : " do") + " not exist; verifying the rest, "
        + (named.size() == 1 ? "it is" : "each is") + " picked up when it appears");
  }

  /** The Kafka input topics that do not exist now (each is read once it appears). */
  public Set<String> missingTopics() {
    return Set.copyOf(missingTopics);
  }

  /** The input partitions this sidecar's engine owns now (in a cluster: of the repartition topic). */
  public Set<TopicPartition> ownedPartitions() {
    return kafka == null ? Set.of() : kafka.assignment();
  }

  /** Counters of the engine (a snapshot taken on the engine thread's last loop may lag slightly). */
  public FlowEngine.EngineStats engineStats() {
    return engine.stats();
  }

  /**
   * What waits for the engine now: spans in the OTLP receivers' queue (and its capacity), batches
   * in the engine's inbox, and records left unread in the Kafka input's partitions (on the broker,
   * not in this process).
   *
   * @param otlpQueued spans the receivers acknowledged that the engine has not taken yet
   * @param otlpCapacity the most spans the receivers queue before answering 429/503 (0: no receiver)
   * @param inboxBatches batches handed to the engine thread and not yet processed
   * @param kafkaLag records behind the end of the partitions the Kafka input owns, as last measured
   */
  public record Backlog(int otlpQueued, int otlpCapacity, int inboxBatches, long kafkaLag) {}

  /** The backlog now (thread-safe). */
  public Backlog backlog() {
    BoundedTelemetryQueue q = queue;
    KafkaInput k = kafka;
    long lag = k == null ? 0 : k.lag().values().stream().mapToLong(Long::longValue).filter(l -> l > 0).sum();
    return new Backlog(q == null ? 0 : q.queued(), q == null ? 0 : q.capacity(), inbox.size(), lag);
  }

  /**
   * Stops gracefully: receivers stop and hand over what they acknowledged, Kafka polling stops,
   * the engine processes everything received, in-flight instances are decided (or left to the next
   * run when every input is durable), outputs are flushed and safe offsets committed. Idempotent.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    stopping = true;
    LOG.info("event=stopping");
    closeQuietly(http);
    closeQuietly(grpc);
    if (queue != null) {
      queue.close();
    }
    if (router != null) {
      router.close();
    }
    if (broadcast != null) {
      broadcast.close();
    }
    if (kafka != null) {
      kafka.stopPolling();
      kafka.awaitStopped(Duration.ofSeconds(15));
    }
    // Only now: until every input has handed over what it read, the engine must keep draining.
    inputsStopped = true;
    if (engineThread.isAlive()) {
      try {
        engineDone.await(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    boolean engineEnded = engineDone.getCount() == 0 || !engineThread.isAlive();
    boolean flushed = flushOutputs();
    Map<TopicPartition, Long> last = Map.of();
    if (flushed && engineEnded && engineFailure == null) {
      last = config.durableInputsOnly()
          ? tracker.releasable(decidedUpToMillis(System.currentTimeMillis(), lastWatermark)) : belowInFlight(tracker.all());
    } else if (!engineEnded) {
      LOG.warn("event=engine_drain_timeout detail=\"the engine did not finish within 60 s; no final commit\"");
    }
    if (kafka != null) {
      kafka.close(last);
    }
    for (Outbox o : outputs) {
      try {
        o.close();
      } catch (IOException | RuntimeException e) {
        LOG.warn("event=close_failed what={} error=\"{}\"", o.name(), e.toString());
      }
    }
    closeQuietly(purge);
    closeQuietly(ops);
    LOG.info("event=stopped final_commit_partitions={}", last.size()); // those that moved since the last periodic commit
  }

  /**
   * The offsets to commit at a stop that decided the instances in flight on part of their data
   * (spans over OTLP are not read again): each partition's not past the first record of such an
   * instance, so the next run reads their records again and amends those verdicts by what came later.
   */
  private Map<TopicPartition, Long> belowInFlight(Map<TopicPartition, Long> consumed) {
    Map<TopicPartition, Long> commit = new HashMap<>(consumed);
    readAgainFrom.forEach((p, offset) -> commit.computeIfPresent(new TopicPartition(p.topic(), p.partition()),
        (tp, end) -> Math.min(end, offset)));
    if (!readAgainFrom.isEmpty()) {
      LOG.info("event=in_flight_read_again partitions={} detail=\"instances in flight were decided at the stop on what"
          + " had come; their records are read again by the next run, which amends those verdicts\"", readAgainFrom.size());
    }
    return commit;
  }

  private static void closeQuietly(Closeable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (IOException | RuntimeException e) {
      LOG.warn("event=close_failed what={} error=\"{}\"", c.getClass().getSimpleName(), e.toString());
    }
  }

  /** Receiver counters folded into the dropped metric. */
  private void foldReceiverDrops() {
    if (queue != null) {
      for (DropReason r : DropReason.values()) {
        metrics.droppedTotal("otlp_" + r.name().toLowerCase(java.util.Locale.ROOT), queue.dropped(r));
        metrics.refusedTotal(r.name().toLowerCase(java.util.Locale.ROOT), queue.refusedRequests(r));
      }
    }
  }
}
