package io.flowtrace.benchmarks;

import io.flowtrace.tracer.otlp.OtlpJson;
import io.flowtrace.tracer.otlp.OtlpJsonDecoder;
import io.flowtrace.tracer.otlp.OtlpSpans;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * OTLP/JSON export requests (already in memory) into spans: the streaming decoder replay uses, from
 * text and from UTF-8 bytes (as replay reads a file), against the reference it is held to (protobuf's {@code JsonFormat}, then conversion). The
 * secondary {@code spans} figure is spans a second.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "-Xmx2g")
@State(Scope.Thread)
public class OtlpDecodeBenchmark {

  private final OtlpJsonDecoder decoder = new OtlpJsonDecoder();

  @Benchmark
  public long streaming(Traffic traffic, Counts.Spans counts, Blackhole sink) throws Exception {
    long spans = 0;
    for (String line : traffic.otlpLines) {
      spans += decoder.decode(line, sink::consume, sink::consume);
    }
    counts.spans += spans;
    return spans;
  }

  @Benchmark
  public long streamingUtf8(Traffic traffic, Counts.Spans counts, Blackhole sink) throws Exception {
    long spans = 0;
    for (byte[] line : traffic.otlpUtf8) {
      spans += decoder.decode(line, 0, line.length, sink::consume, sink::consume);
    }
    counts.spans += spans;
    return spans;
  }

  @Benchmark
  public long jsonFormatReference(Traffic traffic, Counts.Spans counts, Blackhole sink) throws Exception {
    long spans = 0;
    for (String line : traffic.otlpLines) {
      spans += OtlpSpans.convert(OtlpJson.parse(line), sink::consume, sink::consume);
    }
    counts.spans += spans;
    return spans;
  }
}
