package io.flowtrace.verifier.replay;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.Telemetry;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * The total order replay feeds the engine in: arrival time, then a content key. Because ties are
 * broken by content, not by where a line was read, the same recording gives the same sequence —
 * and the same verdicts — whatever the order of its lines and files, and whichever thread decoded
 * them. Two different items under the same ids (a record at the same topic, partition and offset
 * with another value; a span with the same trace and span id and other content) are ordered by the
 * rest of their content, so which of them the engine sees first does not depend on reading order;
 * only identical items compare equal.
 */
final class TelemetryOrder implements Comparator<Telemetry> {
  static final TelemetryOrder INSTANCE = new TelemetryOrder();

  @Override
  public int compare(Telemetry a, Telemetry b) {
    int c = Long.compare(a.arrivalEpochNanos(), b.arrivalEpochNanos());
    if (c != 0) {
      return c;
    }
    boolean aSpan = a instanceof Telemetry.SpanEvent;
    boolean bSpan = b instanceof Telemetry.SpanEvent;
    if (aSpan != bSpan) {
      return aSpan ? -1 : 1;
    }
    if (aSpan) {
      Span x = ((Telemetry.SpanEvent) a).span();
      Span y = ((Telemetry.SpanEvent) b).span();
      c = x.traceId().compareTo(y.traceId());
      if (c == 0) c = x.spanId().compareTo(y.spanId());
      return c != 0 || x.equals(y) ? c : spanContent(x, y);
    }
    KafkaRecord x = ((Telemetry.RecordEvent) a).record();
    KafkaRecord y = ((Telemetry.RecordEvent) b).record();
    c = x.topic().compareTo(y.topic());
    if (c == 0) c = Integer.compare(x.partition(), y.partition());
    if (c == 0) c = Long.compare(x.offset(), y.offset());
    return c != 0 ? c : recordContent(x, y);
  }

  /** Records at the same coordinates (and time): by key, value and headers. */
  private static int recordContent(KafkaRecord x, KafkaRecord y) {
    int c = Long.compare(x.timestampMillis(), y.timestampMillis());
    if (c == 0) c = Objects.compare(x.key(), y.key(), Comparator.nullsFirst(Comparator.naturalOrder()));
    if (c == 0) c = Arrays.compare(x.value(), y.value());
    if (c == 0) c = headers(x.headers(), y.headers());
    return c;
  }

  private static int headers(List<RecordHeader> x, List<RecordHeader> y) {
    for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
      int c = x.get(i).name().compareTo(y.get(i).name());
      if (c == 0) c = Arrays.compare(x.get(i).value(), y.get(i).value());
      if (c != 0) {
        return c;
      }
    }
    return Integer.compare(x.size(), y.size());
  }

  /**
   * Different spans under the same ids (and end time): by their other fields, attributes and links
   * last as text (attribute maps have no order of their own; sorted for a stable text).
   */
  private static int spanContent(Span x, Span y) {
    int c = Long.compare(x.startEpochNanos(), y.startEpochNanos());
    if (c == 0) c = x.name().compareTo(y.name());
    if (c == 0) c = x.service().compareTo(y.service());
    if (c == 0) c = x.kind().compareTo(y.kind());
    if (c == 0) c = x.parentSpanId().compareTo(y.parentSpanId());
    if (c == 0) c = Boolean.compare(x.error(), y.error());
    if (c == 0) c = new java.util.TreeMap<>(x.attributes()).toString().compareTo(new java.util.TreeMap<>(y.attributes()).toString());
    if (c == 0) c = x.links().toString().compareTo(y.links().toString());
    return c;
  }
}
