package io.flowtrace.cli;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.SpanLink;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.recording.RecordingWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Spans and records written into a recording as a traced system makes them, for drafting tests:
 * spans named by short ids, a record with its producer span and {@code traceparent}. A trace that
 * is not sampled exports no span; its records keep their header (flag {@code 00}).
 */
final class TracedTraffic {
  private final RecordingWriter out;

  TracedTraffic(RecordingWriter out) {
    this.out = out;
  }

  void span(boolean sampled, String trace, String id, String parent, String name, SpanKind kind, String service,
      long startMs, long endMs, Map<String, Object> attributes) {
    if (sampled) {
      out.accept(Telemetry.of(Span.builder().traceId(trace).spanId(spanId(id))
          .parentSpanId(parent.isEmpty() ? "" : spanId(parent)).name(name).kind(kind).service(service)
          .startEpochNanos(startMs * 1_000_000L).endEpochNanos(endMs * 1_000_000L).attributes(attributes).build()));
    }
  }

  /** A producer span (exported only when sampled) and its record, stamped at the same time on the producer's clock. */
  void record(boolean sampled, String trace, String id, String parent, String service, String topic, long offset,
      long ms, String json) {
    span(sampled, trace, id, parent, topic + " publish", SpanKind.PRODUCER, service, ms, ms + 1,
        Map.of("messaging.system", "kafka", "messaging.destination.name", topic, "messaging.operation.type", "send",
            "messaging.destination.partition.id", "0", "messaging.kafka.offset", offset));
    out.accept(Telemetry.of(new KafkaRecord(topic, 0, offset, ms, "k" + offset, List.of(RecordHeader.ofString(
        "traceparent", "00-" + trace + "-" + spanId(id) + (sampled ? "-01" : "-00"))), json.getBytes(StandardCharsets.UTF_8))));
  }

  /**
   * A batch consumer's span, in a trace of its own, linked to the producer span of each record it
   * read ({@code linked}: each record's trace, then its producer span's short id), as the messaging
   * conventions have a batch receive do.
   */
  void batch(String trace, String id, String service, String topic, long startMs, long endMs, String... linked) {
    Span.Builder span = Span.builder().traceId(trace).spanId(spanId(id)).parentSpanId("").name("process " + topic)
        .kind(SpanKind.CONSUMER).service(service).startEpochNanos(startMs * 1_000_000L)
        .endEpochNanos(endMs * 1_000_000L).attributes(consumed(topic));
    for (int i = 0; i < linked.length; i += 2) {
      span.addLink(new SpanLink(linked[i], spanId(linked[i + 1]), Map.of()));
    }
    out.accept(Telemetry.of(span.build()));
  }

  /**
   * A record whose {@code traceparent} names {@code spanId} (16 hex digits) itself, as a producer
   * that makes no span of its own sends it from the span it is in.
   */
  static Telemetry published(String topic, long offset, long ms, String key, String trace, String spanId,
      boolean sampled, String json) {
    return Telemetry.of(new KafkaRecord(topic, 0, offset, ms, key, List.of(RecordHeader.ofString("traceparent",
        "00-" + trace + "-" + spanId + (sampled ? "-01" : "-00"))), json.getBytes(StandardCharsets.UTF_8)));
  }

  /** A record as a system that does not trace writes it: no {@code traceparent}, no producer span. */
  static Telemetry untraced(String topic, int offset, long ms, String key, String json) {
    return Telemetry.of(new KafkaRecord(topic, 0, offset, ms, key, List.of(), json.getBytes(StandardCharsets.UTF_8)));
  }

  /** The attributes of a consumer span that processed a record of {@code topic}. */
  static Map<String, Object> consumed(String topic) {
    return Map.of("messaging.system", "kafka", "messaging.destination.name", topic, "messaging.operation.type",
        "process");
  }

  static String spanId(String id) {
    return String.format("%016x", id.hashCode() & 0xffffffffL | (long) id.charAt(0) << 40);
  }
}
