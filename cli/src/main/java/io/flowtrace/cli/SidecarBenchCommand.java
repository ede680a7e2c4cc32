package io.flowtrace.cli;

import io.flowtrace.cli.synth.LivePlayback;
import io.flowtrace.cli.synth.SyntheticOrderFlows;
import io.flowtrace.sidecar.Sidecar;
import io.flowtrace.sidecar.SidecarConfig;
import io.flowtrace.verifier.assembly.FlowEngine;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code flowtrace bench-sidecar}: the sidecar on live traffic, measured. */
@Command(name = "bench-sidecar",
    header = "Measures a sidecar's verdict latency and capacity on a real broker.",
    mixinStandardHelpOptions = true,
    description = {"Plays synthetic reference flows in real time at --rate flows/s into a Kafka cluster (records)",
        "and an in-process sidecar's OTLP/HTTP receiver (spans), and prints the verdict latency of",
        "data-driven decisions (p50/p99/max after the last event an instance needed), spans and records",
        "ingested per second, whether the sidecar kept up, and peak heap.",
        "Needs a broker whose flow topics are new or empty, e.g. `bin/demo-broker --port 9092`."})
final class SidecarBenchCommand implements Callable<Integer> {

  /** The span of playback each p99 of the per-window line covers. */
  private static final long WINDOW_NANOS = TimeUnit.SECONDS.toNanos(10);

  @Option(names = "--bootstrap-servers", required = true, paramLabel = "HOST:PORT", description = "The Kafka cluster.")
  String bootstrapServers;

  @Option(names = "--flows", defaultValue = "flows", paramLabel = "DIR", description = "Flow specs (default ${DEFAULT-VALUE}).")
  Path flowsDir;

  @Option(names = "--count", defaultValue = "3000", description = "Flows to play (default ${DEFAULT-VALUE}).")
  int count;

  @Option(names = "--rate", defaultValue = "200", description = "Flows started per second (default ${DEFAULT-VALUE}).")
  double rate;

  @Option(names = "--warmup", defaultValue = "5s", paramLabel = "DURATION",
      description = "Latency is also reported without the decisions of the first DURATION of playback (JIT warm-up; default ${DEFAULT-VALUE}).")
  String warmup;

  @Option(names = "--recreate-topics", description = "Delete and recreate the flows' topics first (a demo broker only!).")
  boolean recreateTopics;

  @Option(names = "--work-dir", paramLabel = "DIR", description = "Where to generate the recording (default: a temp dir).")
  Path workDir;

  @Option(names = "--backlog",
      description = {"Measure capacity instead of latency: produce every flow first (records to the flow topics, spans",
          "to the spans topic " + BACKLOG_SPANS_TOPIC + ", as the Collector's Kafka exporter writes them; --rate sets",
          "how densely they happened), then start the sidecar from the earliest offsets and time how fast it",
          "drains them, with the CPU it and the rest of the machine (the broker) took."})
  boolean backlog;

  /** Where {@code --backlog} puts the spans. */
  static final String BACKLOG_SPANS_TOPIC = "flowtrace-bench-spans";

  @Option(names = "--sidecar", paramLabel = "SETTING=VALUE",
      description = "A sidecar setting (repeatable), named as `flowtrace sidecar`'s long options, e.g. queue-capacity=20000.")
  Map<String, String> sidecarSettings = new java.util.LinkedHashMap<>();

  @Override
  public Integer call() throws Exception {
    PrintStream out = System.out;
    List<FlowSpec> flows = new FlowSpecLoader().load(flowsDir);
    Set<String> topics = new LinkedHashSet<>();
    flows.forEach(f -> topics.addAll(f.eventsByTopic().keySet()));
    if (backlog) {
      topics.add(BACKLOG_SPANS_TOPIC);
    }
    createTopics(topics);
    Path dir = workDir != null ? workDir : Files.createTempDirectory("flowtrace-bench-sidecar");
    Files.createDirectories(dir);
    SyntheticOrderFlows.Builder generator = SyntheticOrderFlows.correct(count)
        .interArrival(Duration.ofNanos((long) (1e9 / rate)));
    clear(dir);
    if (backlog) {
      try {
        return drainBacklog(out, generator, dir);
      } finally {
        if (workDir == null) {
          clear(dir);
          Files.deleteIfExists(dir);
        }
      }
    }
    long preparing = System.nanoTime();
    generator.start(Instant.now()).build().write(dir);
    try (LivePlayback filler = new LivePlayback(bootstrapServers, dir)) {
      filler.fill();
    }
    SidecarConfig config = sidecarConfig(Map.of("otlp-http-port", "0"));
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    AtomicLong peakHeap = new AtomicLong();
    Peaks peaks = new Peaks();
    AtomicReference<Sidecar> measured = new AtomicReference<>();
    Thread sampler = new Thread(() -> {
      long lastSidecar = 0;
      while (!Thread.currentThread().isInterrupted()) {
        peakHeap.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
        Sidecar s = measured.get();
        if (s != null && System.nanoTime() - lastSidecar > TimeUnit.MILLISECONDS.toNanos(200)) {
          lastSidecar = System.nanoTime();
          peaks.sample(s);
        }
        peaks.sampleHeap();
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
      }
    }, "heap-sampler");
    sampler.setDaemon(true);
    sampler.start();
    try (Sidecar sidecar = Sidecar.start(config, System.out)) {
      measured.set(sidecar);
      awaitAssigned(sidecar);
      clear(dir);
      // The flows must start after the recording is written and loaded, which takes as long as the
      // filler's did (a minute for 21,000 flows on a busy machine): started earlier, the playback would
      // begin with a burst of flows already past their deadline, decided at once and then amended.
      Duration lead = Duration.ofNanos((System.nanoTime() - preparing) * 3 / 2).plusSeconds(2);
      Instant start = Instant.now().plus(lead);
      generator.start(start).build().write(dir);
      LivePlayback player = new LivePlayback(bootstrapServers, dir);
      out.printf("bench-sidecar: %s at %.0f flows/s: %s, %s%n", Plural.grouped(count, "flow"), rate,
          Plural.grouped(player.spans(), "span"), Plural.grouped(player.records(), "record"));
      long playStart = System.nanoTime() + Duration.between(Instant.now(), start).toNanos();
      if (playStart < System.nanoTime()) {
        out.printf("  (the recording took longer to load than the lead of %s: the first flows start late)%n", lead);
      }
      long warmupNanos = FlowSpecLoader.parseDuration(warmup).toNanos();
      AtomicLong warmupMark = new AtomicLong(-1);
      List<Long> windowMarks = new java.util.concurrent.CopyOnWriteArrayList<>();
      Thread marker = new Thread(() -> {
        long warmAt = playStart + warmupNanos;
        for (long next = playStart; !Thread.currentThread().isInterrupted(); ) {
          LockSupport.parkNanos((warmupMark.get() < 0 ? Math.min(next, warmAt) : next) - System.nanoTime());
          long now = System.nanoTime();
          if (warmupMark.get() < 0 && now >= warmAt) {
            warmupMark.set(sidecar.decisionsMeasured());
          }
          if (now >= next) {
            windowMarks.add(sidecar.decisionsMeasured());
            next += WINDOW_NANOS;
          }
        }
}, "latency-marks");
      marker.setDaemon(true);
      marker.start();
      try (player) {
        player.play(null, sidecar.otlpHttpEndpoint());
      }
      double playSeconds = (System.nanoTime() - playStart) / 1e9;
      FlowEngine.EngineStats atEnd = sidecar.engineStats();
      long seenAtEnd = atEnd.spans() + atEnd.records();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
      long offered = player.spans() + player.records();
      while ((sidecar.engineStats().verdictsDecided() < count
              || sidecar.engineStats().spans() + sidecar.engineStats().records() < offered
              || sidecar.backlog().otlpQueued() > 0 || sidecar.backlog().inboxBatches() > 0)
          && System.nanoTime() < deadline && sidecar.failure() == null) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
      }
      if (sidecar.failure() != null) {
        return failed(out, sidecar);
      }
      double drainSeconds = (System.nanoTime() - playStart) / 1e9 - playSeconds;
      FlowEngine.EngineStats s = sidecar.engineStats();
      out.printf("  played in %.1f s: offered %,.0f spans/s + %,.0f records/s; the engine had taken %.1f %% of them"
              + " when the playback ended%n", playSeconds, player.spans() / playSeconds, player.records() / playSeconds,
          100.0 * seenAtEnd / (player.spans() + player.records()));
      out.printf("  decided %,d of %s (%,d decided by their data, the rest by a timer), %.1f s after the playback ended%n",
          s.verdictsDecided(), Plural.grouped(count, "flow"), sidecar.decisionsMeasured(), drainSeconds);
      out.printf("  back-pressure: %,d OTLP exports answered 429/503 and sent again; %,d amendment windows cut short"
              + " (max-retained-events %,d); %,d late events%n", player.retried(), s.amendWindowsCut(),
          config.effectiveMaxRetainedEvents(), s.lateDropped());
      marker.interrupt();
      printLatency(out, "verdict latency after the last needed event", sidecar, 0);
      if (warmupMark.get() >= 0) {
        printLatency(out, "  the same after the first " + warmup + " (warm-up)", sidecar, warmupMark.get());
      }
      printWindows(out, sidecar, windowMarks);
      out.printf("  peak heap used %,d MiB (max %,d MiB); in use after a collection, at most %,d MiB (sidecar and"
              + " load generator together; an upper bound of what is live: it counts old garbage not yet collected)%n", peakHeap.get() >> 20, memory.getHeapMemoryUsage().getMax() >> 20,
          peaks.liveAfterGc >> 20);
      out.printf("  the sidecar's own backlog at its peak: %,d open instances, %,d retained events (cap %,d), %,d spans"
              + " queued at the receivers (capacity %,d), %,d inbox batches, %,d records of Kafka lag (on the broker)%n",
          peaks.open, peaks.retained, config.effectiveMaxRetainedEvents(), peaks.otlpQueued,
          sidecar.backlog().otlpCapacity(), peaks.inbox, peaks.kafkaLag);
      boolean keptUp = seenAtEnd >= 0.99 * offered && s.verdictsDecided() >= count; // had taken 99 % when the playback ended
      out.println(liveGoals(rate, keptUp, sidecar.decisionLatencyNanos(0.99, Math.max(0, warmupMark.get())) / 1e6,
          peakHeap.get()));
    } finally {
      sampler.interrupt();
      if (workDir == null) {
        clear(dir);
        Files.deleteIfExists(dir);
      }
    }
    return FlowTraceCli.EXIT_PASSED;
  }

  /**
   * {@code --backlog}: the flows happened an hour ago and sit unread in Kafka; a sidecar started
   * from the earliest offsets works flat out until it has decided them all. Its rate then is what it
   * sustains with the broker serving it on the same machine and no load generator competing.
   */
  private int drainBacklog(PrintStream out, SyntheticOrderFlows.Builder generator, Path dir) throws Exception {
    Instant happened = Instant.now().minus(Duration.ofHours(1));
    // The topics are new or empty: records land from offset 0, as written, with no filler before them.
    generator.firstOffsets(Map.of()).start(happened).build().write(dir);
    long spans;
    long records;
    long producing = System.nanoTime();
    try (LivePlayback producer = new LivePlayback(bootstrapServers, dir)) {
      producer.play(BACKLOG_SPANS_TOPIC, null);
      spans = producer.spans();
      records = producer.records();
    }
    out.printf("bench-sidecar --backlog: %s (%.0f flows/s when they happened): %s, %s, produced in %.1f s%n",
        Plural.grouped(count, "flow"), rate, Plural.grouped(spans, "span"), Plural.grouped(records, "record"),
        (System.nanoTime() - producing) / 1e9);
    SidecarConfig config = sidecarConfig(Map.of("spans-topic", BACKLOG_SPANS_TOPIC, "start-from", "earliest"));
    CpuClock cpu = CpuClock.start();
    long started = System.nanoTime();
    long firstVerdict = 0;
    long allTaken = 0;
    long halfway = 0;
    long decidedAtHalfway = 0;
    CpuClock secondHalf = null;
    long deadline = started + TimeUnit.MINUTES.toNanos(30);
    long offered = spans + records;
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    long peakHeap = 0;
    long sampled = 0;
    Peaks peaks = new Peaks();
    try (Sidecar sidecar = Sidecar.start(config, System.out)) {
      while (System.nanoTime() < deadline) {
        peakHeap = Math.max(peakHeap, memory.getHeapMemoryUsage().getUsed());
        if (System.nanoTime() - sampled > TimeUnit.MILLISECONDS.toNanos(200)) {
          sampled = System.nanoTime();
          peaks.sample(sidecar);
          peaks.sampleHeap();
        }
        FlowEngine.EngineStats s = sidecar.engineStats();
        if (firstVerdict == 0 && s.verdictsDecided() > 0) {
          firstVerdict = System.nanoTime();
        }
        if (halfway == 0 && s.verdictsDecided() >= count / 2) {
          halfway = System.nanoTime();
          decidedAtHalfway = s.verdictsDecided();
          secondHalf = CpuClock.start();
        }
        if (allTaken == 0 && s.spans() + s.records() >= offered) {
          allTaken = System.nanoTime();
        }
        if (s.verdictsDecided() >= count && allTaken != 0) {
          break;
        }
        if (sidecar.failure() != null) {
          return failed(out, sidecar);
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
      }
      long ended = System.nanoTime();
      CpuClock.Used used = cpu.used();
      FlowEngine.EngineStats s = sidecar.engineStats();
      double seconds = (ended - started) / 1e9;
      out.printf("  decided %,d of %s in %.1f s from the sidecar's start: %,.0f flows/s, %,.0f spans/s + %,.0f records/s"
              + " (first verdict after %.1f s; every event taken after %.1f s)%n", s.verdictsDecided(),
          Plural.grouped(count, "flow"), seconds, s.verdictsDecided() / seconds, s.spans() / seconds, s.records() / seconds,
          firstVerdict == 0 ? Double.NaN : (firstVerdict - started) / 1e9,
          allTaken == 0 ? Double.NaN : (allTaken - started) / 1e9);
      out.printf("  CPU while draining: %s%n", cpuShares(used, seconds));
      if (secondHalf != null && ended > halfway) {
        double half = (ended - halfway) / 1e9;
        out.printf("  the second half alone (JIT warmed up): %,.0f flows/s; CPU %s%n",
            (s.verdictsDecided() - decidedAtHalfway) / half, cpuShares(secondHalf.used(), half));
      }
      out.printf("  %,d amendments, %,d late events, %,d evicted by the in-flight cap; at most %,d open instances,"
              + " %,d retained events, %,d records of Kafka lag; engine: %,d observations, %,d snapshots, %,d"
              + " verifications%n", s.verdictsAmended(), s.lateDropped(), s.instancesEvicted(), peaks.open, peaks.retained,
          peaks.kafkaLag, s.observations(), s.snapshots(), s.verifications());
      out.printf("  peak heap used %,d MiB (max %,d MiB); in use after a collection, at most %,d MiB (an upper bound"
              + " of what is live: it counts old garbage not yet collected)%n", peakHeap >> 20,
          memory.getHeapMemoryUsage().getMax() >> 20, peaks.liveAfterGc >> 20);
      double sustained = secondHalf != null && ended > halfway
          ? (s.verdictsDecided() - decidedAtHalfway) / ((ended - halfway) / 1e9) : s.verdictsDecided() / seconds;
      out.println(drainGoals(sustained, peakHeap));
      return s.verdictsDecided() >= count ? FlowTraceCli.EXIT_PASSED : FlowTraceCli.EXIT_FAILED;
    }
  }

  /**
   * The sidecar's goals: at least 2,000 reference flows/s sustained, a verdict p99 of at most 50 ms
   * after the last needed event, a heap of at most 1 GiB.
   */
  static final double GOAL_FLOWS_PER_SECOND = 2_000;
  static final double GOAL_P99_MILLIS = 50;
  static final long GOAL_HEAP = 1L << 30;

  /** The goals line of a backlog drain: the rate once the JIT is warm (its second half) and the heap. */
  static String drainGoals(double sustainedFlowsPerSecond, long peakHeapBytes) {
    return String.format("goals: %,.0f flows/s sustained once warm, no load generator beside (≥ %,.0f: %s), peak heap"
            + " used %,d MiB (≤ %,d MiB: %s)", sustainedFlowsPerSecond, GOAL_FLOWS_PER_SECOND,
        BenchCommand.met(sustainedFlowsPerSecond >= GOAL_FLOWS_PER_SECOND), peakHeapBytes >> 20, GOAL_HEAP >> 20,
        BenchCommand.met(peakHeapBytes <= GOAL_HEAP));
  }

  /** The goals line of a live run: the rate played if the sidecar kept up with it, p99 after the warm-up, the heap. */
  static String liveGoals(double rate, boolean keptUp, double p99Millis, long peakHeapBytes) {
    return String.format("goals: %,.0f flows/s %s, the load generator beside (≥ %,.0f: %s), verdict p99 after the"
            + " warm-up %.1f ms (≤ %.0f ms: %s), peak heap used with the load generator %,d MiB (≤ %,d MiB: %s)", rate,
        keptUp ? "kept up with" : "not kept up with", GOAL_FLOWS_PER_SECOND,
        BenchCommand.met(keptUp && rate >= GOAL_FLOWS_PER_SECOND), p99Millis, GOAL_P99_MILLIS,
        BenchCommand.met(p99Millis <= GOAL_P99_MILLIS), peakHeapBytes >> 20, GOAL_HEAP >> 20,
        BenchCommand.met(peakHeapBytes <= GOAL_HEAP));
  }

  /** The measured sidecar stopped verifying: what the bench saw is no measure. */
  private static int failed(PrintStream out, Sidecar sidecar) {
    out.printf("  the sidecar failed (%s): no figures%n", sidecar.failure());
    return FlowTraceCli.EXIT_FAILED;
  }

  /** The measured sidecar's settings: the bench's own, then {@code mode}'s, then the user's {@code --sidecar} ones. */
  private SidecarConfig sidecarConfig(Map<String, String> mode) throws java.io.IOException {
    Map<String, String> settings = new java.util.LinkedHashMap<>(Map.of(
        "flows", flowsDir.toString(),
        "bootstrap-servers", bootstrapServers,
        "group-id", "flowtrace-bench-" + UUID.randomUUID(),
        "otlp-http-port", "-1",
        "otlp-grpc-port", "-1",
        "verdicts-topic", "",
        "console", "false"));
    settings.putAll(mode);
    settings.putAll(sidecarSettings);
    return SidecarConfig.from(null, Map.of(), settings);
  }

  private static String cpuShares(CpuClock.Used used, double seconds) {
    String sidecar = String.format("the sidecar %.1f s (%.2f of %d cores)", used.processSeconds(),
        used.processSeconds() / seconds, Runtime.getRuntime().availableProcessors());
    if (used.machineSeconds() < 0) {
      return sidecar;
    }
    double rest = Math.max(0, used.machineSeconds() - used.processSeconds());
    return sidecar + String.format(", the rest of the machine (the broker, …) %.1f s (%.2f cores)", rest, rest / seconds);
  }

  /** The sidecar's own backlog at its largest, sampled every 200 ms (sampler thread only). */
  private static final class Peaks {
    volatile long open;
    volatile long retained;
    volatile long otlpQueued;
    volatile long inbox;
    volatile long kafkaLag;

    void sample(Sidecar s) {
      FlowEngine.EngineStats e = s.engineStats();
      Sidecar.Backlog b = s.backlog();
      open = Math.max(open, e.openInstances());
      retained = Math.max(retained, e.retainedEvents());
      otlpQueued = Math.max(otlpQueued, b.otlpQueued());
      inbox = Math.max(inbox, b.inboxBatches());
      kafkaLag = Math.max(kafkaLag, b.kafkaLag());
    }

    volatile long liveAfterGc;

    /**
     * Heap in use right after the latest collection of each collector. An upper bound of the live
     * set, not the live set: after a young collection the old generation still holds its garbage
     * (a backlog drain of 20,000 flows showed up to 761-826 MiB here, while forced full
     * collections during it left 220-370 MB).
     */
    void sampleHeap() {
      for (java.lang.management.GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
        if (gc instanceof com.sun.management.GarbageCollectorMXBean g && g.getLastGcInfo() != null) {
          long used = g.getLastGcInfo().getMemoryUsageAfterGc().values().stream().mapToLong(u -> u.getUsed()).sum();
          liveAfterGc = Math.max(liveAfterGc, used);
        }
      }
    }
  }

  /**
   * The p99 of each {@link #WINDOW_NANOS} of playback (and of the drain after it), so that a
   * warm-up still going on, or a backlog growing, shows where one figure for the whole run hides it.
   */
  private static void printWindows(PrintStream out, Sidecar sidecar, List<Long> marks) {
    List<Long> ends = new ArrayList<>(marks);
    ends.add(sidecar.decisionsMeasured());
    StringBuilder line = new StringBuilder("  p99 (decisions) by " + WINDOW_NANOS / 1_000_000_000 + " s of playback:");
    for (int i = 0; i + 1 < ends.size(); i++) {
      long from = ends.get(i);
      long to = ends.get(i + 1);
      long p99 = sidecar.decisionLatencyNanos(0.99, from, to);
      line.append(i == 0 ? " " : " | ").append(p99 < 0 ? "-" : String.format(Locale.ROOT, "%.0f ms", p99 / 1e6))
          .append(String.format(Locale.ROOT, " (%,d)", to - from));
    }
    out.println(line);
  }

  private static void printLatency(PrintStream out, String what, Sidecar sidecar, long from) {
    out.printf("  %s: %,d decisions, p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms%n", what,
        sidecar.decisionsMeasured() - from, sidecar.decisionLatencyNanos(0.5, from) / 1e6,
        sidecar.decisionLatencyNanos(0.9, from) / 1e6, sidecar.decisionLatencyNanos(0.99, from) / 1e6,
        sidecar.decisionLatencyNanos(1.0, from) / 1e6);
  }

  private void createTopics(Set<String> topics) throws Exception {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
      Set<String> existing = new LinkedHashSet<>(admin.listTopics().names().get(30, TimeUnit.SECONDS));
      existing.retainAll(topics);
      if (!existing.isEmpty() && recreateTopics) {
        admin.deleteTopics(existing).all().get(30, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (admin.listTopics().names().get(30, TimeUnit.SECONDS).stream().anyMatch(existing::contains)) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("topics " + existing + " were not deleted within 60 s");
          }
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
        }
      } else if (!existing.isEmpty()) {
        for (var end : admin.listOffsets(existing.stream().flatMap(t -> java.util.stream.IntStream.range(0, 3)
                .mapToObj(p -> new org.apache.kafka.common.TopicPartition(t, p)))
                .collect(java.util.stream.Collectors.toMap(tp -> tp,
                    tp -> org.apache.kafka.clients.admin.OffsetSpec.latest()))).all().get(30, TimeUnit.SECONDS).entrySet()) {
          if (end.getValue().offset() > 0) {
            throw new IllegalStateException("topic " + end.getKey().topic() + " already has records: use a fresh broker"
                + " (bin/demo-broker) or --recreate-topics");
          }
        }
      }
      for (String t : topics) {
        try {
          admin.createTopics(List.of(new NewTopic(t, 3, (short) 1))).all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw e;
          }
        }
      }
    }
  }

  private static void awaitAssigned(Sidecar sidecar) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    for (var notReady = sidecar.notReady(); notReady.isPresent(); notReady = sidecar.notReady()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the sidecar did not get ready: " + notReady.get());
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
    }
  }

  private static void clear(Path dir) throws java.io.IOException {
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (var files = Files.list(dir)) {
      for (Path f : files.toList()) {
        Files.delete(f);
      }
    }
  }
}
