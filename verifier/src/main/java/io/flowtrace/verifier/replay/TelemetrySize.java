package io.flowtrace.verifier.replay;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.Telemetry;
import java.util.Map;

/**
 * A rough estimate of the heap a span or record takes (objects, strings, maps), to bound replay's
 * buffer by memory rather than by count: spans and records differ by two orders of magnitude.
 */
final class TelemetrySize {
  private static final int OBJECT = 16;
  private static final int STRING = 48;
  private static final int MAP_ENTRY = 48;

  private TelemetrySize() {}

  static long estimate(Telemetry telemetry) {
    if (telemetry instanceof Telemetry.SpanEvent s) {
      Span span = s.span();
      long size = 6 * OBJECT + 5 * STRING + span.traceId().length() + span.spanId().length()
          + span.parentSpanId().length() + span.name().length() + span.service().length()
          + span.links().size() * (OBJECT + 2 * STRING + 48);
      for (Map.Entry<String, Object> a : span.attributes().entrySet()) {
        size += MAP_ENTRY + STRING + a.getKey().length() + valueSize(a.getValue());
      }
      return size;
    }
    KafkaRecord record = ((Telemetry.RecordEvent) telemetry).record();
    long size = 4 * OBJECT + 2 * STRING + record.topic().length() + (record.key() == null ? 0 : record.key().length())
        + (record.value() == null ? 0 : OBJECT + record.value().length);
    for (RecordHeader h : record.headers()) {
      size += 2 * OBJECT + STRING + h.name().length() + (h.value() == null ? 0 : h.value().length);
    }
    return size;
  }

  private static long valueSize(Object value) {
    if (value instanceof String text) {
      return STRING + text.length();
    }
    if (value instanceof java.util.Collection<?> list) {
      long size = OBJECT;
      for (Object item : list) {
        size += 8 + valueSize(item);
      }
      return size;
    }
    return OBJECT + 8;
  }
}
