package io.flowtrace.tracer.otlp;

import com.google.protobuf.InvalidProtocolBufferException;
import io.flowtrace.tracer.model.Span;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Prints how fast OTLP/JSON lines already in memory become {@link Span}s: through the reference
 * ({@link OtlpJson#parse} then {@link OtlpSpans#convert}, what the reader did before the streaming
 * decoder) and through {@link OtlpJsonDecoder}, on one thread, best of N rounds after a warm-up.
 * No file reading, sorting or verifying is timed. Each round is timed by the clock and by the
 * thread's CPU time, which a machine shared with other work disturbs less.
 *
 * <pre>java -cp tracer/target/test-classes:tracer/target/classes:DEPENDENCIES \
 *     io.flowtrace.tracer.otlp.OtlpJsonDecodeBenchmark RECORDING_DIR [ROUNDS]</pre>
 */
public final class OtlpJsonDecodeBenchmark {

  private OtlpJsonDecodeBenchmark() {}

  /** Decodes the lines in a way; returns how many spans came out. */
  private interface Decoding {
    long decode(List<String> lines, Consumer<Span> sink) throws Exception;
  }

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    List<String> lines = new ArrayList<>();
    long bytes = 0;
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : files.filter(p -> p.getFileName().toString().endsWith(".otlp.jsonl")).sorted().toList()) {
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
          if (!line.isBlank()) {
            lines.add(line);
            bytes += line.getBytes(StandardCharsets.UTF_8).length + 1;
          }
        }
      }
    }
    System.out.printf("%,d requests, %.1f MiB of OTLP/JSON from %s%n", lines.size(), bytes / 1048576.0, dir);
    run("reference (JsonFormat + convert)", lines, bytes, rounds, OtlpJsonDecodeBenchmark::reference);
    run("streaming decoder", lines, bytes, rounds, OtlpJsonDecodeBenchmark::streaming);
  }

  private static long reference(List<String> lines, Consumer<Span> sink) throws InvalidProtocolBufferException {
    long spans = 0;
    for (String line : lines) {
      spans += OtlpSpans.convert(OtlpJson.parse(line), sink, id -> { });
    }
    return spans;
  }

  private static long streaming(List<String> lines, Consumer<Span> sink)
      throws OtlpJsonDecoder.MalformedRequestException {
    OtlpJsonDecoder decoder = new OtlpJsonDecoder();
    long spans = 0;
    for (String line : lines) {
      spans += decoder.decode(line, sink, id -> { });
    }
    return spans;
  }

  private static void run(String name, List<String> lines, long bytes, int rounds, Decoding decoding)
      throws Exception {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long[] sinkHash = new long[1];
    Consumer<Span> sink = span -> sinkHash[0] += span.startEpochNanos();
    double best = Double.MAX_VALUE;
    double bestCpu = Double.MAX_VALUE;
    long spans = 0;
    for (int round = 0; round <= rounds; round++) {
      long cpu0 = threads.getCurrentThreadCpuTime();
      long t0 = System.nanoTime();
      spans = decoding.decode(lines, sink);
      double seconds = (System.nanoTime() - t0) / 1e9;
      double cpu = (threads.getCurrentThreadCpuTime() - cpu0) / 1e9;
      if (round > 0) {
        best = Math.min(best, seconds);
        bestCpu = Math.min(bestCpu, cpu);
      }
      System.out.printf("  %s round %d: %.2f s, %.2f s CPU%s%n", name, round, seconds, cpu,
          round == 0 ? " (warm-up)" : "");
    }
    System.out.printf("%s: %,d spans; best of %d: %.2f s = %,.0f spans/s, %.1f MiB/s; "
        + "%.2f s CPU = %,.0f spans per CPU-second, %.1f MiB per CPU-second (checksum %d)%n",
        name, spans, rounds, best, spans / best, bytes / 1048576.0 / best,
        bestCpu, spans / bestCpu, bytes / 1048576.0 / bestCpu, sinkHash[0]);
  }
}
