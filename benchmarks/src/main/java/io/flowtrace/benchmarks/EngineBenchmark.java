package io.flowtrace.benchmarks;

import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.assembly.FlowEngine;
import io.flowtrace.verifier.check.Check;
import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.model.FlowInstance;
import io.flowtrace.verifier.report.FlowVerifier;
import io.flowtrace.verifier.report.Verdict;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The engine's parts on telemetry already decoded: the event matcher ({@code prepare}: match to a
 * flow event, decode and validate the payload, extract keys), the checks of an assembled instance
 * ({@code checks}: every check of the contract on instances captured as the engine decided them),
 * and the whole engine as replay drives it ({@code engine}: prepare, assemble, decide, verify).
 * Secondary figures: {@code items} or {@code flows} a second.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "-Xmx2g")
@State(Scope.Thread)
public class EngineBenchmark {

  private FlowEngine matcher;
  private final List<FlowInstance> decided = new ArrayList<>();
  private final FlowVerifier verifier = FlowVerifier.standard();

  @Setup(Level.Trial)
  public void capture(Traffic traffic) {
    matcher = FlowEngine.builder(traffic.specs).build();
    Check capture = new Check() {
      @Override
      public List<Violation> check(FlowInstance instance) {
        decided.add(instance);
        return List.of();
      }
    };
    FlowEngine engine = FlowEngine.builder(traffic.specs).verifier(new FlowVerifier(List.of(capture))).build();
    feed(engine, traffic.telemetry);
    if (decided.size() != traffic.flows) {
      throw new IllegalStateException(decided.size() + " instances decided of " + traffic.flows + " flows");
    }
  }

  @Benchmark
  public void prepare(Traffic traffic, Counts.Items counts, Blackhole sink) {
    for (Telemetry t : traffic.telemetry) {
      sink.consume(matcher.prepare(t));
    }
    counts.items += traffic.telemetry.size();
  }

  @Benchmark
  public void checks(Counts.Flows counts, Blackhole sink) {
    for (FlowInstance instance : decided) {
      Verdict v = verifier.verify(instance, true, "complete");
      sink.consume(v);
    }
    counts.flows += decided.size();
  }

  @Benchmark
  public long engine(Traffic traffic, Counts.Flows counts) {
    FlowEngine engine = FlowEngine.builder(traffic.specs).build();
    feed(engine, traffic.telemetry);
    long verdicts = engine.stats().verdictsFinal();
    counts.flows += verdicts;
    return verdicts;
  }

  /** As replay feeds it: in event-time order, the clock advanced every 256 items, then finished. */
  private static void feed(FlowEngine engine, List<Telemetry> telemetry) {
    int n = 0;
    for (Telemetry t : telemetry) {
      engine.accept(t);
      if (++n % 256 == 0) {
        engine.advanceTo(t.arrivalEpochNanos());
      }
    }
    engine.finish();
  }
}
