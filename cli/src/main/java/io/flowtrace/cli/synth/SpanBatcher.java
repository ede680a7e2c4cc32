package io.flowtrace.cli.synth;

import io.opentelemetry.exporter.internal.otlp.traces.TraceRequestMarshaler;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The exporter of one service instance: collects finished spans in end order and hands them on
 * in batches the way a {@code BatchSpanProcessor} exports them, a batch being full at a varying
 * size up to {@code maxSpansPerLine} or once it covers {@value #EXPORT_INTERVAL_NANOS} ns of
 * span ends. Each batch becomes one official {@link ExportTraceServiceRequest} via the SDK's own
 * OTLP marshaler. An I/O failure of the sink is kept and reported by {@link #rethrowFailure()},
 * since the SDK swallows exporter exceptions.
 */
final class SpanBatcher implements SpanExporter {

  /** The batch span processor's default schedule delay: 5 s. */
  static final long EXPORT_INTERVAL_NANOS = 5_000_000_000L;

  private final String service;
  private final RecordingSink sink;
  private final SplittableRandom random;
  private final int maxSpansPerLine;
  private final List<SpanData> batch = new ArrayList<>();
  private final ByteArrayOutputStream buffer = new ByteArrayOutputStream(1 << 16);
  private int batchLimit;
  private long batchFirstEnd;
  private long exported;
  private IOException failure;

  SpanBatcher(String service, RecordingSink sink, long seed, int maxSpansPerLine) {
    this.service = service;
    this.sink = sink;
    this.random = new SplittableRandom(seed);
    this.maxSpansPerLine = maxSpansPerLine;
    this.batchLimit = nextLimit();
  }

  @Override
  public CompletableResultCode export(Collection<SpanData> spans) {
    for (SpanData span : spans) {
      if (batch.isEmpty()) {
        batchFirstEnd = span.getEndEpochNanos();
      }
      batch.add(span);
      if (batch.size() >= batchLimit || span.getEndEpochNanos() - batchFirstEnd >= EXPORT_INTERVAL_NANOS) {
        flushBatch();
      }
    }
    return CompletableResultCode.ofSuccess();
  }

  @Override
  public CompletableResultCode flush() {
    flushBatch();
    return CompletableResultCode.ofSuccess();
  }

  @Override
  public CompletableResultCode shutdown() {
    return flush();
  }

  /** Spans handed to the sink so far. */
  long exported() {
    return exported;
  }

  void rethrowFailure() throws IOException {
    if (failure != null) {
      throw failure;
    }
  }

  private void flushBatch() {
    if (batch.isEmpty()) {
      return;
    }
    try {
      buffer.reset();
      TraceRequestMarshaler.create(batch).writeBinaryTo(buffer);
      sink.spans(service, inBatchOrder(ExportTraceServiceRequest.parseFrom(buffer.toByteArray())));
      exported += batch.size();
    } catch (IOException e) {
      if (failure == null) {
        failure = e;
      }
    }
    batch.clear();
    batchLimit = nextLimit();
  }

  /**
   * The marshaler groups spans by resource and scope in identity-hash order, which differs from
   * run to run; put the scopes back in the order their first span ended so output is reproducible.
   */
  private ExportTraceServiceRequest inBatchOrder(ExportTraceServiceRequest request) {
    Map<String, Integer> firstEnded = new HashMap<>();
    for (int i = 0; i < batch.size(); i++) {
      firstEnded.putIfAbsent(batch.get(i).getInstrumentationScopeInfo().getName(), i);
    }
    ExportTraceServiceRequest.Builder builder = request.toBuilder();
    for (ResourceSpans.Builder resource : builder.getResourceSpansBuilderList()) {
      List<ScopeSpans> scopes = new ArrayList<>(resource.getScopeSpansList());
      scopes.sort(Comparator.comparingInt(scope -> firstEnded.getOrDefault(scope.getScope().getName(), 0)));
      resource.clearScopeSpans().addAllScopeSpans(scopes);
    }
    return builder.build();
  }

  private int nextLimit() {
    return maxSpansPerLine <= 2 ? maxSpansPerLine : random.nextInt(Math.max(1, maxSpansPerLine / 4), maxSpansPerLine + 1);
  }
}
