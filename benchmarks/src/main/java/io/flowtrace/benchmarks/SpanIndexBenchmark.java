package io.flowtrace.benchmarks;

import io.flowtrace.tracer.correlation.MessageSpanIndex;
import io.flowtrace.tracer.correlation.MessagingAttributes;
import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.model.TraceContext;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.SpanLink;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
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
 * The span index as the engine drives it: the traffic in arrival order, each messaging span held
 * without its attributes, each record joined to its producer and consumer spans once the exporters'
 * batches that carry them can have come ({@link #JOIN_AFTER_NANOS} after the record), spans evicted
 * past a sliding horizon. The secondary {@code items} figure is spans and records a second.
 * {@code oneParent}: 100,000 consumer spans that all name one parent (a producer that sends a
 * hard-coded {@code traceparent}), 20,000 held at a time — an index that walks a key's entries on
 * each add or eviction is quadratic here. {@code oneLink}: the same with batch-receive spans that
 * all link to one span (evicting 100,000 such spans took 23 s when each eviction searched the
 * linking spans' list).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "-Xmx2g")
@State(Scope.Thread)
public class SpanIndexBenchmark {

  /** How long after a record it is joined: the exporters' 5 s batches, and a second. */
  private static final long JOIN_AFTER_NANOS = TimeUnit.SECONDS.toNanos(6);
  /** How long spans are held behind the newest arrival. */
  private static final long HORIZON_NANOS = TimeUnit.SECONDS.toNanos(15);

  private final List<Span> oneParent = new ArrayList<>();

  @Setup(Level.Trial)
  public void makeOneParent() {
    Random random = new Random(42);
    for (int i = 0; i < 100_000; i++) {
      oneParent.add(new Span(String.format("%032x", i), String.format("%016x", random.nextLong()), "00f067aa0ba902b7",
          "process orders", SpanKind.CONSUMER, "svc", i * 1_000L, i * 1_000L + 10,
          Map.of("messaging.destination.name", "orders", "messaging.destination.partition.id", 0L,
              "messaging.kafka.offset", (long) (i % 3)), List.of(), false));
    }
  }

  private final List<Span> oneLink = new ArrayList<>();

  @Setup(Level.Trial)
  public void makeOneLink() {
    Random random = new Random(42);
    List<SpanLink> links = List.of(new SpanLink("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", Map.of()));
    for (int i = 0; i < 100_000; i++) {
      oneLink.add(new Span(String.format("%032x", i), String.format("%016x", random.nextLong()), "", "receive orders",
          SpanKind.CONSUMER, "svc", i * 1_000L, i * 1_000L + 10,
          Map.of("messaging.destination.name", "orders", "messaging.operation.type", "receive"), links, false));
    }
  }

  @Benchmark
  public long oneLink(Counts.Items counts) {
    return churn(oneLink, counts);
  }

  @Benchmark
  public long oneParent(Counts.Items counts) {
    return churn(oneParent, counts);
  }

  /** Adds the spans in order, holding the latest 20,000 (20 ms of them); returns how many are held at the end. */
  private static long churn(List<Span> spans, Counts.Items counts) {
    MessageSpanIndex index = new MessageSpanIndex();
    for (Span span : spans) {
      index.addStripped(span, "orders");
      index.evictBefore(span.endEpochNanos() - 20_000_000L);
    }
    counts.items += spans.size();
    return index.size();
  }

  @Benchmark
  public long indexAndJoin(Traffic traffic, Counts.Items counts, Blackhole sink) {
    MessageSpanIndex index = new MessageSpanIndex();
    ArrayDeque<Telemetry.RecordEvent> waiting = new ArrayDeque<>();
    long joined = 0;
    for (Telemetry t : traffic.telemetry) {
      long now = t.arrivalEpochNanos();
      while (!waiting.isEmpty() && waiting.peekFirst().arrivalEpochNanos() < now - JOIN_AFTER_NANOS) {
        joined += join(index, waiting.pollFirst().record(), sink);
      }
      if (t instanceof Telemetry.SpanEvent e) {
        Span span = e.span();
        index.addStripped(span, MessagingAttributes.topic(span));
        index.evictBefore(now - HORIZON_NANOS);
      } else if (t instanceof Telemetry.RecordEvent r) {
        waiting.add(r);
      }
    }
    while (!waiting.isEmpty()) {
      joined += join(index, waiting.pollFirst().record(), sink);
    }
    counts.items += traffic.telemetry.size();
    return joined;
  }

  private static int join(MessageSpanIndex index, KafkaRecord record, Blackhole sink) {
    TraceContext context = record.traceContext().orElse(null);
    sink.consume(index.producerOf(record, context));
    return index.consumersOf(record, context).size();
  }
}
