package io.flowtrace.benchmarks;

import io.flowtrace.cli.synth.SyntheticOrderFlows;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.recording.ReadListener;
import io.flowtrace.tracer.recording.RecordingReader;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The reference order flows as a benchmark's input: {@link #flows} generated correct flows
 * (authorized and declined payments) of a {@link #shape}, written as a recording, read back, in event-time order; the flow specs
 * from {@code -Dflowtrace.flows} (default {@code flows/order-creation}, run from the repository).
 */
@State(Scope.Benchmark)
public class Traffic {

  @Param({"500"})
  public int flows;

  /**
   * {@code clean}: every trace sampled, clocks agreeing; {@code field}: 70 % of the orders' traces
   * sampled and the inventory service's clock 30 ms ahead, as a staging system's telemetry comes.
   */
  @Param({"clean"})
  public String shape;

  Path dir;
  List<FlowSpec> specs;
  /** Every span and record, in event-time order. */
  List<Telemetry> telemetry;
  /** The OTLP/JSON export requests of the recording, a line each. */
  List<String> otlpLines;
  /** The same lines as UTF-8 bytes, as replay reads them from a file. */
  List<byte[]> otlpUtf8;
  long otlpSpans;

  @Setup(Level.Trial)
  public void generate() throws IOException, io.flowtrace.verifier.spec.FlowSpecException {
    specs = new FlowSpecLoader().load(Path.of(System.getProperty("flowtrace.flows", "flows/order-creation")));
    dir = Files.createTempDirectory("flowtrace-jmh-");
    SyntheticOrderFlows.Builder traffic = SyntheticOrderFlows.correct(flows).seed(42);
    if (shape.equals("field")) {
      traffic.sampleRatio(0.7).clockSkew("inventory-service", java.time.Duration.ofMillis(30));
    } else if (!shape.equals("clean")) {
      throw new IllegalArgumentException("shape is clean or field, not " + shape);
    }
    traffic.build().write(dir);
    telemetry = new ArrayList<>();
    RecordingReader.defaults().read(dir, telemetry::add, ReadListener.ignoring());
    telemetry.sort(Comparator.comparingLong(Telemetry::arrivalEpochNanos));
    otlpSpans = telemetry.stream().filter(t -> t instanceof Telemetry.SpanEvent).count();
    otlpLines = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".otlp.jsonl")).sorted().toList()) {
        Files.readAllLines(f, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).forEach(otlpLines::add);
      }
    }
    otlpUtf8 = otlpLines.stream().map(l -> l.getBytes(StandardCharsets.UTF_8)).toList();
  }

  @TearDown(Level.Trial)
  public void delete() throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
