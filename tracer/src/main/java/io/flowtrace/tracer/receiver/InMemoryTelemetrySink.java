package io.flowtrace.tracer.receiver;

import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.Telemetry;
import java.util.ArrayList;
import java.util.List;

/** A thread-safe sink that keeps everything in memory, for tests and small embeddings. */
public final class InMemoryTelemetrySink implements TelemetrySink {

  private final List<Telemetry> items = new ArrayList<>();

  public static InMemoryTelemetrySink create() {
    return new InMemoryTelemetrySink();
  }

  private InMemoryTelemetrySink() {}

  @Override
  public synchronized void accept(Telemetry telemetry) {
    items.add(telemetry);
  }

  @Override
  public synchronized void acceptAll(List<? extends Telemetry> batch) {
    items.addAll(batch);
  }

  /** A copy of everything received so far, in arrival order. */
  public synchronized List<Telemetry> telemetry() {
    return List.copyOf(items);
  }

  /** The spans received so far, in arrival order. */
  public synchronized List<Span> spans() {
    List<Span> spans = new ArrayList<>();
    for (Telemetry item : items) {
      if (item instanceof Telemetry.SpanEvent event) {
        spans.add(event.span());
      }
    }
    return spans;
  }

  public synchronized void clear() {
    items.clear();
  }
}
