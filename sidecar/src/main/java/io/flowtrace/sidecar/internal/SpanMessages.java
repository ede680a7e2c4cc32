package io.flowtrace.sidecar.internal;

import com.google.protobuf.InvalidProtocolBufferException;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.otlp.OtlpJson;
import io.flowtrace.tracer.otlp.OtlpSpans;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes the values the OpenTelemetry Collector's Kafka exporter writes to its spans topic: one
 * {@code ExportTraceServiceRequest} per message, as protobuf ({@code otlp_proto}) or OTLP/JSON
 * ({@code otlp_json}).
 */
public final class SpanMessages {

  /** A message that is not a trace export request. */
  public static final class UndecodableException extends Exception {
    UndecodableException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private final boolean json;

  public SpanMessages(String encoding) {
    this.json = "otlp_json".equals(encoding);
  }

  /** The spans of one message; spans with invalid ids are left out and counted in {@code invalid}. */
  public List<Span> decode(byte[] value, long[] invalid) throws UndecodableException {
    if (value == null || value.length == 0) {
      throw new UndecodableException("empty message", null);
    }
    ExportTraceServiceRequest request;
    try {
      request = json ? OtlpJson.parse(new String(value, StandardCharsets.UTF_8))
          : ExportTraceServiceRequest.parseFrom(value);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw new UndecodableException("not an OTLP " + (json ? "JSON" : "protobuf") + " trace request: "
          + e.getMessage(), e);
    }
    List<Span> spans = new ArrayList<>();
    OtlpSpans.convert(request, spans::add, id -> invalid[0]++);
    return spans;
  }
}
