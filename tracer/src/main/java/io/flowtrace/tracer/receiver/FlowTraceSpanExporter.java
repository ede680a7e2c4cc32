package io.flowtrace.tracer.receiver;

import static java.util.Objects.requireNonNull;

import io.flowtrace.tracer.otlp.OtlpSpans;
import io.opentelemetry.exporter.internal.otlp.traces.TraceRequestMarshaler;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An OpenTelemetry SDK {@link SpanExporter} that feeds spans of the same JVM into a {@link
 * BoundedTelemetryQueue}, through exactly the path the receivers use: the SDK's own OTLP marshaler
 * writes the protobuf an OTLP exporter would send, which is parsed and converted by {@link
 * OtlpSpans}. {@link #export} fails (never throws) when the queue is full or closed, or after
 * {@link #shutdown}. {@link #flush} waits up to the flush timeout for the queue to deliver what it
 * holds. The exporter does not own the queue; shutting it down leaves the queue open.
 */
public final class FlowTraceSpanExporter implements SpanExporter {

  /** How long {@link #flush} waits for the queue to drain: 10 s. */
  public static final Duration DEFAULT_FLUSH_TIMEOUT = Duration.ofSeconds(10);

  private final OtlpIngest ingest;
  private final Duration flushTimeout;
  private final AtomicBoolean shutdown = new AtomicBoolean();

  private FlowTraceSpanExporter(BoundedTelemetryQueue queue, Duration flushTimeout) {
    this.ingest = new OtlpIngest(queue, "FlowTraceSpanExporter");
    this.flushTimeout = flushTimeout;
  }

  /** An exporter into {@code queue} with the default flush timeout of 10 s. */
  public static FlowTraceSpanExporter create(BoundedTelemetryQueue queue) {
    return create(queue, DEFAULT_FLUSH_TIMEOUT);
  }

  /** An exporter into {@code queue} whose {@link #flush} waits up to {@code flushTimeout}. */
  public static FlowTraceSpanExporter create(BoundedTelemetryQueue queue, Duration flushTimeout) {
    requireNonNull(queue, "queue");
    requireNonNull(flushTimeout, "flushTimeout");
    if (flushTimeout.isNegative()) {
      throw new IllegalArgumentException("flushTimeout must not be negative, was " + flushTimeout);
    }
    return new FlowTraceSpanExporter(queue, flushTimeout);
  }

  @Override
  public CompletableResultCode export(Collection<SpanData> spans) {
    if (shutdown.get()) {
      return CompletableResultCode.ofFailure();
    }
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      TraceRequestMarshaler.create(spans).writeBinaryTo(out);
      ExportTraceServiceRequest request = ExportTraceServiceRequest.parseFrom(out.toByteArray());
      OtlpIngest.Result result = ingest.ingest(request, OtlpSpans.InvalidId::describe, "this JVM");
      return result.outcome() == OtlpIngest.Outcome.ACCEPTED
          ? CompletableResultCode.ofSuccess()
          : CompletableResultCode.ofFailure();
    } catch (IOException | RuntimeException e) {
      ingest.refuse(DropReason.UNDECODABLE, "this JVM", "could not marshal " + spans.size()
          + " spans: " + e);
      return CompletableResultCode.ofFailure();
    }
  }

  /** Waits up to the flush timeout until everything queued so far has reached the sink. */
  @Override
  public CompletableResultCode flush() {
    try {
      return ingest.queue().awaitDrained(flushTimeout)
          ? CompletableResultCode.ofSuccess()
          : CompletableResultCode.ofFailure();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return CompletableResultCode.ofFailure();
    }
  }

  /** Flushes, then refuses further exports. Idempotent; later calls succeed at once. */
  @Override
  public CompletableResultCode shutdown() {
    if (!shutdown.compareAndSet(false, true)) {
      return CompletableResultCode.ofSuccess();
    }
    return flush();
  }

  @Override
  public String toString() {
    return "FlowTraceSpanExporter{" + ingest.queue().stats() + "}";
  }
}
