package io.flowtrace.junit.internal;

import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.receiver.BoundedTelemetryQueue;
import io.flowtrace.tracer.receiver.FlowTraceSpanExporter;
import io.flowtrace.tracer.receiver.OtlpHttpReceiver;
import io.flowtrace.tracer.tap.KafkaTap;
import io.flowtrace.tracer.tap.StartPosition;
import io.flowtrace.verifier.assembly.FlowEngine;
import io.flowtrace.verifier.spec.FlowSpec;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running part of the extension for one test class: the OTLP/HTTP receiver and the in-JVM
 * exporter (both into a bounded queue; users get views of the exporter that survive their
 * shutdowns, and {@link OwnedOpenTelemetry} SDKs on it), the Kafka tap, and one engine thread that
 * counts what arrives, feeds a live {@link FlowEngine} and moves its event time with the wall clock
 * (less the allowed lateness). Verdicts and snapshots go to the current {@link TestWindow}, replaced
 * before each test. Waiters are woken on every engine tick. Closing stops everything; idempotent.
 * Internal: not API.
 */
public final class LiveSession implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(LiveSession.class);
  private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
  private static final long MAX_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  private final SessionConfig config;
  private final List<FlowSpec> specs;
  private final List<String> topics;
  private final LinkedBlockingQueue<Telemetry> inbox = new LinkedBlockingQueue<>();
  private final BoundedTelemetryQueue queue;
  private final FlowTraceSpanExporter exporter;
  private final ExporterView exporterView;
  private final Map<String, OwnedOpenTelemetry> openTelemetries = new ConcurrentHashMap<>();
  private final Tally tally = new Tally();
  private boolean registeredGlobal;
  private final OtlpHttpReceiver receiver;
  /** Engine thread only after construction; a fresh one for every test (see {@link #beginTest}). */
  private FlowEngine engine;
  private volatile long generation;
  private long engineGeneration;
  private final Thread engineThread;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private volatile TestWindow window;
  private volatile KafkaTap tap;
  private volatile String bootstrapServers;
  private volatile Redeliverer redeliverer;
  private volatile boolean running = true;
  private boolean closed;
  private boolean engineFailureLogged;

  private LiveSession(SessionConfig config, List<FlowSpec> specs) throws IOException {
    this.config = config;
    this.specs = List.copyOf(specs);
    Set<String> t = new LinkedHashSet<>();
    specs.forEach(s -> t.addAll(s.eventsByTopic().keySet()));
    this.topics = List.copyOf(t);
    this.window = new TestWindow(nowEpochNanos(), config.lateness().toNanos(), this::signal);
    this.queue = BoundedTelemetryQueue.builder(inbox::add).threadName("flowtrace-junit-queue").build();
    this.exporter = FlowTraceSpanExporter.create(queue);
    this.exporterView = new ExporterView(exporter);
    OtlpHttpReceiver r = null;
    try {
      if (config.otlpReceiver()) {
        r = OtlpHttpReceiver.builder(queue).port(config.otlpPort()).start();
      }
    } catch (IOException | RuntimeException e) {
      queue.close();
      throw e;
    }
    this.receiver = r;
    this.engine = Engines.create(specs, () -> window, config.completionGrace(), config.amendWindow());
    this.engineThread = new Thread(this::run, "flowtrace-junit-engine");
    this.engineThread.setDaemon(true);
    this.engineThread.start();
    if (config.registerGlobal()) {
      // As OpenTelemetryExtension does: whatever was global before (an agent's, another class's) is replaced.
      GlobalOpenTelemetry.resetForTest();
      GlobalOpenTelemetry.set(openTelemetry(config.serviceName()));
      registeredGlobal = true;
    }
  }

  /** Loads the flows and starts the receiver and the engine thread (the tap comes with {@link #beginTest}). */
  public static LiveSession start(SessionConfig config) {
    List<FlowSpec> specs = FlowSpecs.load(config.flows(), config.schemaRegistry() == null ? null
        : io.flowtrace.verifier.schema.SchemaRegistryClient.create(config.schemaRegistry()));
    try {
      return new LiveSession(config, specs);
    } catch (IOException e) {
      throw new UncheckedIOException("flowtrace: cannot start the OTLP/HTTP receiver on port "
          + config.otlpPort(), e);
    }
  }

  /** The wall clock in epoch nanoseconds. */
  public static long nowEpochNanos() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }

  /** Opens a new window (forgetting the last test's verdicts) and attaches Kafka if it can now. */
  public void beginTest() {
    ensureOpen();
    if (tap == null && config.bootstrapServers() != null) {
      String servers = config.bootstrapServers().get();
      if (servers != null && !servers.isBlank()) {
        attachKafka(servers);
      }
    }
    window = new TestWindow(nowEpochNanos(), config.lateness().toNanos(), this::signal);
    // After the window (the engine thread reads them in the other order): the engine thread starts
    // a fresh engine, so a key this test uses again does not join the last test's instance.
    generation++;
  }

  /**
   * Taps the flows' topics on this cluster (replacing a tap on another one), from now less the
   * allowed lateness, and waits until every topic is assigned.
   *
   * @throws IllegalStateException when the topics that exist are not assigned within the timeout
   *     (a topic that does not exist yet is warned about and read once it appears)
   */
  public synchronized void attachKafka(String servers) {
    ensureOpen();
    if (servers.equals(bootstrapServers) && tap != null) {
      return;
    }
    if (topics.isEmpty()) {
      bootstrapServers = servers;
      return;
    }
    closeTap();
    KafkaTap started = KafkaTap.builder()
        .bootstrapServers(servers)
        .topics(topics)
        .startPosition(StartPosition.at(Instant.now().minus(config.lateness())))
        .sink(inbox::add)
        .start();
    try {
      if (!started.awaitExistingTopicsAssigned(config.timeout())) {
        started.close();
        throw new IllegalStateException("flowtrace: the Kafka tap on " + servers + " got no partitions of "
            + topics + " within " + config.timeout() + " (is the broker up?)");
      }
      Set<String> missing = started.missingTopics();
      if (!missing.isEmpty()) {
        LOG.warn("flowtrace: {} {} of the flows {} not exist on {}; records are read from {} once {} created",
            missing.size() == 1 ? "topic" : "topics", String.join(", ", new java.util.TreeSet<>(missing)),
            missing.size() == 1 ? "does" : "do", servers, missing.size() == 1 ? "it" : "them",
            missing.size() == 1 ? "it is" : "they are");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      started.close();
      throw new IllegalStateException("flowtrace: interrupted while attaching the Kafka tap", e);
    }
    tap = started;
    bootstrapServers = servers;
  }

  public SessionConfig config() {
    return config;
  }

  public List<FlowSpec> specs() {
    return specs;
  }

  /** The spec of a flow by name. */
  public FlowSpec spec(String flow) {
    for (FlowSpec s : specs) {
      if (s.name().equals(flow)) {
        return s;
      }
    }
    List<String> names = specs.stream().map(FlowSpec::name).toList();
    throw new IllegalArgumentException("flowtrace: no flow named '" + flow + "'; the loaded flows are " + names
        + " (from " + config.flows() + ")");
  }

  /** What the current test saw. */
  public TestWindow window() {
    return window;
  }

  /** The Kafka cluster tapped, or {@code null}. */
  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** The OTLP/HTTP base URL ({@code http://127.0.0.1:PORT}); spans go to {@code /v1/traces} below it. */
  public String otlpEndpoint() {
    if (receiver == null) {
      throw new IllegalStateException("flowtrace: the OTLP/HTTP receiver is switched off (otlpReceiver(false))");
    }
    String url = receiver.endpoint().toString();
    return url.substring(0, url.length() - OtlpHttpReceiver.PATH.length());
  }

  /**
   * An SDK exporter into this session, for systems running in the test's JVM; its {@code shutdown()}
   * only flushes (see {@link ExporterView}).
   */
  public SpanExporter spanExporter() {
    return exporterView;
  }

  /** How many times users shut {@link #spanExporter()} down. */
  public int exporterShutdowns() {
    return exporterView.shutdowns();
  }

  /** The session's {@link OpenTelemetry} for this service (made on first use, closed with the session). */
  public OpenTelemetry openTelemetry(String service) {
    ensureOpen();
    return openTelemetries.computeIfAbsent(service, s -> new OwnedOpenTelemetry(s, new ExporterView(exporter)));
  }

  /** The services {@link #openTelemetry} was asked for, in name order. */
  public List<String> openTelemetryServices() {
    return openTelemetries.keySet().stream().sorted().toList();
  }

  /** Spans by service and records by topic that reached the session since it started. */
  public Tally tally() {
    return tally;
  }

  /** The flows' topics, which the tap reads. */
  public List<String> topics() {
    return topics;
  }

  /** The OTLP/HTTP receiver's URL for spans ({@code …/v1/traces}), or {@code null} when it is off. */
  public String otlpTracesUrl() {
    return receiver == null ? null : receiver.endpoint().toString();
  }

  /** Sends captured requests and records again (made on first use). */
  public Redeliverer redeliverer() {
    Redeliverer r = redeliverer;
    if (r == null) {
      synchronized (this) {
        if (redeliverer == null) {
          redeliverer = new Redeliverer(() -> bootstrapServers);
        }
        r = redeliverer;
      }
    }
    return r;
  }

  /**
   * Waits until the condition holds (re-checked on every engine tick) or {@code deadlineNanoTime}
   * ({@link System#nanoTime()}) passes; returns whether it held.
   */
  public boolean await(BooleanSupplier condition, long deadlineNanoTime) {
    while (!condition.getAsBoolean()) {
      long left = deadlineNanoTime - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      lock.lock();
      try {
        changed.awaitNanos(Math.min(left, MAX_WAIT_NANOS));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("flowtrace: interrupted while waiting for flows", e);
      } finally {
        lock.unlock();
      }
    }
    return true;
  }

  private void signal() {
    lock.lock();
    try {
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void run() {
    long lateness = config.lateness().toNanos();
    List<Telemetry> batch = new ArrayList<>();
    while (running) {
      try {
        Telemetry first = inbox.poll(TICK_NANOS, TimeUnit.NANOSECONDS);
        long g = generation;
        TestWindow w = window;
        if (g != engineGeneration) {
          engine = Engines.create(specs, () -> window, config.completionGrace(), config.amendWindow());
          engineGeneration = g;
        }
        if (first != null) {
          batch.add(first);
          inbox.drainTo(batch);
          for (Telemetry t : batch) {
            feed(t, w);
          }
          batch.clear();
        }
        engine.advanceTo(nowEpochNanos() - lateness);
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        if (!engineFailureLogged) {
          engineFailureLogged = true;
          LOG.warn("flowtrace: the engine failed on telemetry; going on (further failures are not logged)", e);
        }
      }
      signal();
    }
  }

  private void feed(Telemetry t, TestWindow w) {
    tally.count(t);
    if (t.arrivalEpochNanos() < w.telemetryFromEpochNanos()) {
      return; // a straggler of an earlier test: it must not open or join an instance of this one
    }
    w.tally().count(t);
    Telemetry kept = engine.filter(t);
    if (kept != null) {
      w.offer(kept);
      engine.accept(kept);
    }
  }

  private void ensureOpen() {
    if (!running) {
      throw new IllegalStateException("flowtrace: the FlowTraceExtension has been closed (outside its test class?)");
    }
  }

  private void closeTap() {
    KafkaTap t = tap;
    tap = null;
    if (t != null) {
      t.close();
    }
  }

  /** Stops the receiver, delivers what it took, stops the tap and the engine thread. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      for (OwnedOpenTelemetry o : openTelemetries.values()) {
        o.close();
      }
      if (registeredGlobal) {
        GlobalOpenTelemetry.resetForTest();
      }
      if (receiver != null) {
        receiver.close();
      }
      exporter.shutdown();
      queue.close();
      closeTap();
      if (redeliverer != null) {
        redeliverer.close();
      }
    } finally {
      running = false;
      engineThread.interrupt();
      try {
        engineThread.join(TimeUnit.SECONDS.toMillis(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
