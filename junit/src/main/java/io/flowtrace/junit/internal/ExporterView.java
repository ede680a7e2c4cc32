package io.flowtrace.junit.internal;

import static java.util.Objects.requireNonNull;

import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.Collection;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The exporter the extension hands to its users ({@code spanExporter()}, and under every {@code
 * openTelemetry(...)}): it exports into the extension's one exporter, and its {@link #shutdown()}
 * only flushes. An SDK shuts its exporters down when its tracer provider closes; a test that builds
 * and closes its own provider must not stop the spans of every later test of the class. The
 * shutdowns are counted for the failure messages. The extension's own exporter is shut down with
 * the session. Internal: not API.
 */
public final class ExporterView implements SpanExporter {

  private final SpanExporter target;
  private final AtomicInteger shutdowns = new AtomicInteger();

  public ExporterView(SpanExporter target) {
    this.target = requireNonNull(target, "target");
  }

  @Override
  public CompletableResultCode export(Collection<SpanData> spans) {
    return target.export(spans);
  }

  @Override
  public CompletableResultCode flush() {
    return target.flush();
  }

  /** Flushes; the exporter goes on taking spans. */
  @Override
  public CompletableResultCode shutdown() {
    shutdowns.incrementAndGet();
    return target.flush();
  }

  /** How many times {@link #shutdown()} was called. */
  public int shutdowns() {
    return shutdowns.get();
  }

  @Override
  public String toString() {
    return "flowtrace spanExporter() view of " + target;
  }
}
