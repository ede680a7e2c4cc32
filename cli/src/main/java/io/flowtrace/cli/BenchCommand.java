package io.flowtrace.cli;

import io.flowtrace.cli.synth.SyntheticOrderFlows;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.recording.KcatJsonLinesReader;
import io.flowtrace.tracer.recording.OtlpJsonLinesReader;
import io.flowtrace.tracer.recording.OtlpProtobufReader;
import io.flowtrace.tracer.recording.ReadListener;
import io.flowtrace.tracer.recording.RecordingReader;
import io.flowtrace.tracer.recording.TelemetryFileReader;
import io.flowtrace.verifier.assembly.FlowEngine;
import io.flowtrace.verifier.report.ReportSummary;
import io.flowtrace.verifier.replay.Replay;
import io.flowtrace.verifier.replay.ReplayResult;
import io.flowtrace.verifier.schema.PayloadSchema;
import io.flowtrace.verifier.spec.EventSpec;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code flowtrace bench}: replays a recording — N synthetic reference flows it generates, or any
 * recording given with {@code --recording} — and prints replay throughput next to two baselines
 * over the same files: a raw Jackson parse ({@link RawParse}, the yardstick) and parsing plus
 * validating the payloads the flows declare, so the verifier's overhead over parsing is visible.
 */
@Command(name = "bench",
    header = "Measures replay throughput against a raw parse of the same files.",
    mixinStandardHelpOptions = true,
    description = "Measures replay throughput (spans/s, flows/s, peak heap) against a raw Jackson parse and parse+validate.")
final class BenchCommand implements Callable<Integer> {

  private static final RecordingReader READER = RecordingReader.defaults();

  @Option(names = "--count", defaultValue = "20000", description = "Synthetic flows to generate (default ${DEFAULT-VALUE}; ignored with --recording).")
  int count;

  @picocli.CommandLine.Mixin
  VerificationThreads verificationThreads = new VerificationThreads();

  @Option(names = "--flows", defaultValue = "flows", paramLabel = "DIR", description = "Flow specs (default ${DEFAULT-VALUE}).")
  Path flowsDir;

  @Option(names = "--iterations", defaultValue = "3", description = "Measured rounds after one warm-up round (default ${DEFAULT-VALUE}).")
  int iterations;

  @Option(names = "--work-dir", paramLabel = "DIR", description = "Where to generate the recording (default: a temp dir, deleted after).")
  Path workDir;

  @Option(names = "--recording", paramLabel = "DIR",
      description = "Bench this recording (a directory or file in any format replay reads) instead of generating one; flows/s counts the verdicts replay reaches.")
  Path recording;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (!Files.isDirectory(flowsDir)) {
      throw new ParameterException(spec.commandLine(), "--flows: " + flowsDir.toAbsolutePath()
          + " is not a directory of flow specs" + (spec.commandLine().getParseResult().hasMatchedOption("--flows") ? ""
          : " (the default, 'flows', is read from the current directory: run bench from the repository or give --flows DIR)"));
    }
    if (recording != null) {
      List<Path> files = recordingFiles();
      List<FlowSpec> flows = new FlowSpecLoader().load(flowsDir);
      System.out.printf("recording %s: %s (%s), %s%n", recording, Plural.count(files.size(), "file"),
          shape(files), ProgressLine.bytes(size(files)));
      measure(recording, files, flows, -1);
      return 0;
    }
    List<FlowSpec> flows = new FlowSpecLoader().load(flowsDir);
    Path dir = workDir != null ? workDir : Files.createTempDirectory("flowtrace-bench-");
    try {
      long g0 = System.nanoTime();
      SyntheticOrderFlows.correct(count).seed(42).build().write(dir);
      long g1 = System.nanoTime();
      long bytes;
      try (Stream<Path> s = Files.list(dir)) {
        bytes = s.mapToLong(p -> p.toFile().length()).sum();
      }
      System.out.printf("generated %s in %.1f s (%s)%n", Plural.grouped(count, "flow"), (g1 - g0) / 1e9, ProgressLine.bytes(bytes));
      measure(dir, READER.files(dir), flows, count);
      return 0;
    } finally {
      if (workDir == null) {
        try (Stream<Path> walk = Files.walk(dir)) {
          walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
      }
    }
  }

  /** The files of {@code --recording}; a path that is no recording is a usage error naming it. */
  private List<Path> recordingFiles() {
    if (!Files.exists(recording)) {
      throw new ParameterException(spec.commandLine(), "--recording: " + recording + " does not exist");
    }
    List<Path> files;
    try {
      files = READER.files(recording);
    } catch (IOException e) {
      String reason = e instanceof FileSystemException f && f.getReason() != null ? f.getReason() : e.toString();
      throw new ParameterException(spec.commandLine(), "--recording: " + recording + ": " + reason);
    }
    return files;
  }

  /**
   * Runs a warm-up round and {@code iterations} measured ones and prints the best of each phase;
   * flows/s counts {@code flowCount} flows, or the verdicts replay reached when it is negative.
   */
  private void measure(Path dir, List<Path> files, List<FlowSpec> flows, long flowCount) throws IOException {
    System.out.printf("cores %d, max heap %s%n", Runtime.getRuntime().availableProcessors(),
        ProgressLine.bytes(Runtime.getRuntime().maxMemory()));
    int threads = Math.min(4, Runtime.getRuntime().availableProcessors());
    double bestRaw = Double.MAX_VALUE;
    double bestParse = Double.MAX_VALUE;
    double bestReplay = Double.MAX_VALUE;
    double cpuRaw = Double.MAX_VALUE;
    double cpuReplay = Double.MAX_VALUE;
    long rawPeak = 0;
    long parsePeak = 0;
    long replayPeak = 0;
    long replayLive = 0;
    HeapWatch heap = new HeapWatch();
    RawParse.Counts raw = RawParse.Counts.NONE;
    long spans = 0;
    long records = 0;
    long verdicts = 0;
    long problems = 0;
    for (int round = 0; round <= iterations; round++) {
      resetPeaks();
      long c0 = CpuClock.processNanos();
      long w0 = System.nanoTime();
      raw = RawParse.parse(READER, files, threads);
      long w1 = System.nanoTime();
      long c1 = CpuClock.processNanos();
      long wPeak = peakHeap();
      resetPeaks();
      long p0 = System.nanoTime();
      long[] items = parseAndValidate(dir, flows);
      long p1 = System.nanoTime();
      long pPeak = peakHeap();
      resetPeaks();
      heap.reset();
      ReportSummary summary = new ReportSummary();
      FlowEngine engine = FlowEngine.builder(flows).verificationThreads(verificationThreads.threads())
          .listener(summary).amendUntilEnd().build();
      long c2 = CpuClock.processNanos();
      long r0 = System.nanoTime();
      ReplayResult result = Replay.builder(engine).build().run(dir);
      long r1 = System.nanoTime();
      long c3 = CpuClock.processNanos();
      long rPeak = peakHeap();
      spans = result.spans();
      records = result.records();
      problems = result.readProblems();
      verdicts = summary.flows();
      String label = round == 0 ? "warm-up" : "round " + round;
      System.out.printf("%-8s raw parse %6.2f s | parse+validate %6.2f s | replay %6.2f s (read %.2f s, %s, verify %.2f s) | %,d flows (%,d passed)%n",
          label, (w1 - w0) / 1e9, (p1 - p0) / 1e9, (r1 - r0) / 1e9, result.readTime().toNanos() / 1e9,
          result.spilledRuns() == 0 ? String.format(Locale.ROOT, "sort %.2f s", result.sortTime().toNanos() / 1e9)
              : Plural.grouped(result.spilledRuns(), "sorted run") + " spilled while reading",
          result.verifyTime().toNanos() / 1e9, summary.flows(), summary.passed());
      if (c0 >= 0) {
        System.out.printf("         CPU (all threads, compiler and GC included): raw parse %.2f s, replay %.2f s%n",
            (c1 - c0) / 1e9, (c3 - c2) / 1e9);
      }
      if (round > 0) {
        bestRaw = Math.min(bestRaw, (w1 - w0) / 1e9);
        bestParse = Math.min(bestParse, (p1 - p0) / 1e9);
        bestReplay = Math.min(bestReplay, (r1 - r0) / 1e9);
        cpuRaw = Math.min(cpuRaw, (c1 - c0) / 1e9);
        cpuReplay = Math.min(cpuReplay, (c3 - c2) / 1e9);
        rawPeak = Math.max(rawPeak, wPeak);
        parsePeak = Math.max(parsePeak, pPeak);
        replayPeak = Math.max(replayPeak, rPeak);
        replayLive = Math.max(replayLive, heap.peakAfterGc());
      }
      if (round == 0) {
        var st = result.engine();
        System.out.printf("         engine: %,d observations, %,d snapshots, %,d verifications, %,d amended, %,d spans indexed at end%n",
            st.observations(), st.snapshots(), st.verifications(), st.verdictsAmended(), st.indexedSpans());
      }
      if (items[0] != spans) {
        System.out.println("warning: parse saw " + items[0] + " spans, replay " + spans);
      }
    }
    long perFlow = flowCount >= 0 ? flowCount : verdicts;
    System.out.println();
    System.out.printf("raw parse (best):      %6.2f s  %,10.0f spans/s  %,8.0f flows/s  peak heap %s  (%,d lines, %s, %,d JSON values in strings%s)%n",
        bestRaw, spans / bestRaw, perFlow / bestRaw, ProgressLine.bytes(rawPeak), raw.lines(),
        ProgressLine.bytes(raw.bytes()), raw.embedded(), raw.unparsed() > 0 ? ", " + Plural.grouped(raw.unparsed(), "line") + " not JSON" : "");
    System.out.printf("parse+validate (best): %6.2f s  %,10.0f spans/s  %,8.0f flows/s  peak heap %s%n",
        bestParse, spans / bestParse, perFlow / bestParse, ProgressLine.bytes(parsePeak));
    System.out.printf("replay (best):         %6.2f s  %,10.0f spans/s  %,8.0f flows/s  peak heap %s (%s in use after a GC at most)%n",
        bestReplay, spans / bestReplay, verdicts / bestReplay, ProgressLine.bytes(replayPeak), ProgressLine.bytes(replayLive));
    System.out.printf("records: %,d   spans: %,d   replay / parse+validate = %.2f×   replay / raw parse = %.2f×%n",
        records, spans, bestReplay / bestParse, bestReplay / bestRaw);
    boolean cpu = cpuRaw != Double.MAX_VALUE && cpuRaw > 0 && CpuClock.processNanos() >= 0;
    if (cpu) {
      System.out.printf("CPU time (least of the rounds): raw parse %.2f s, replay %.2f s = %.2f× (steadier than wall time on a"
          + " shared machine)%n", cpuRaw, cpuReplay, cpuReplay / cpuRaw);
    }
    long rss = peakRss();
    if (rss > 0) {
      System.out.printf("process peak RSS %s (max heap %s; the JVM grows the heap towards its maximum whatever is "
          + "in use: give -Xmx to bound it)%n", ProgressLine.bytes(rss), ProgressLine.bytes(Runtime.getRuntime().maxMemory()));
    }
    if (problems > 0) {
      System.out.println(Plural.grouped(problems, "unreadable line") + " skipped");
    }
    System.out.println(goals(cpu ? cpuReplay / cpuRaw : bestReplay / bestRaw, cpu, spans / bestReplay, rss));
  }

  /** Replay's goals: at most 1.5× a raw parse, at least 150,000 spans/s, a peak RSS of at most 1 GiB. */
  static final double GOAL_RATIO = 1.5;
  static final double GOAL_SPANS_PER_SECOND = 150_000;
  static final long GOAL_RSS = 1L << 30;

  /** The goals line: each figure against its goal, and whether it is met. */
  static String goals(double ratio, boolean byCpu, double spansPerSecond, long rss) {
    String line = String.format("goals: replay %.2f× a raw parse%s (≤ %.1f×: %s), %,.0f spans/s (≥ %,.0f: %s)",
        ratio, byCpu ? " by CPU" : "", GOAL_RATIO, met(ratio <= GOAL_RATIO), spansPerSecond, GOAL_SPANS_PER_SECOND,
        met(spansPerSecond >= GOAL_SPANS_PER_SECOND));
    if (rss > 0) {
      line += String.format(", peak RSS %s (≤ %s: %s)", ProgressLine.bytes(rss), ProgressLine.bytes(GOAL_RSS),
          met(rss <= GOAL_RSS));
    }
    return line;
  }

  /** {@code met} or {@code not met}, as the goals lines say it. */
  static String met(boolean met) {
    return met ? "met" : "not met";
  }

  /** How many files of each format: {@code 4 OTLP/JSON, 1 kcat}. */
  private static String shape(List<Path> files) {
    Map<String, Integer> byFormat = new TreeMap<>();
    for (Path file : files) {
      TelemetryFileReader reader = READER.readerFor(file).orElseThrow();
      String format = reader instanceof OtlpJsonLinesReader ? "OTLP/JSON"
          : reader instanceof OtlpProtobufReader ? "OTLP protobuf"
          : reader instanceof KcatJsonLinesReader ? "kcat" : reader.getClass().getSimpleName();
      if (file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gz")) {
        format += " gzipped";
      }
      byFormat.merge(format, 1, Integer::sum);
    }
    StringJoiner joined = new StringJoiner(", ");
    byFormat.forEach((format, n) -> joined.add(n + " " + format));
    return joined.toString();
  }

  private static long size(List<Path> files) {
    return files.stream().mapToLong(p -> p.toFile().length()).sum();
  }

  /** The baseline: read every file and decode+validate every payload a flow declares. */
  static long[] parseAndValidate(Path dir, List<FlowSpec> flows) throws IOException {
    Map<String, PayloadSchema> byTopic = new HashMap<>();
    List<EventSpec> spanEvents = new java.util.ArrayList<>();
    for (FlowSpec f : flows) {
      for (EventSpec e : f.events()) {
        if (e.topic() != null) {
          byTopic.putIfAbsent(e.topic(), e.schema());
        } else {
          spanEvents.add(e);
        }
      }
    }
    java.util.concurrent.atomic.AtomicLongArray counts = new java.util.concurrent.atomic.AtomicLongArray(3);
    io.flowtrace.verifier.replay.ParallelRead.read(READER, READER.files(dir),
        Math.min(4, Runtime.getRuntime().availableProcessors()), t -> {
      if (t instanceof Telemetry.SpanEvent s) {
        counts.incrementAndGet(0);
        for (EventSpec e : spanEvents) {
          if (e.span().matches(s.span()) && e.payload().attribute() != null) {
            Object body = s.span().attributes().get(e.payload().attribute());
            if (body != null) {
              e.schema().decode(body.toString().getBytes(StandardCharsets.UTF_8), List.of());
              counts.incrementAndGet(2);
            }
          }
        }
      } else if (t instanceof Telemetry.RecordEvent r) {
        counts.incrementAndGet(1);
        PayloadSchema schema = byTopic.get(r.record().topic());
        if (schema != null && r.record().value() != null) {
          schema.decode(r.record().value(), r.record().headers());
          counts.incrementAndGet(2);
        }
      }
    }, ReadListener.ignoring());
    return new long[] {counts.get(0), counts.get(1), counts.get(2)};
  }

  /** The process's peak resident set (Linux {@code VmHWM}), or 0 where it cannot be read. */
  private static long peakRss() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or not readable: not printed
    }
    return 0;
  }

  private static void resetPeaks() {
    System.gc();
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        pool.resetPeakUsage();
      }
    }
  }

  private static long peakHeap() {
    long sum = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        sum += pool.getPeakUsage().getUsed();
      }
    }
    return sum;
  }
}
