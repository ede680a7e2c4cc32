package io.flowtrace.verifier.replay;

import io.flowtrace.tracer.model.Telemetry;
import java.util.Comparator;

/**
 * The total order replay feeds the engine in: arrival time, then a content key. Because ties are
 * broken by content, not by where a line was read, the same recording gives the same sequence —
 * and the same verdicts — whatever the order of its lines and files.
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
      var x = ((Telemetry.SpanEvent) a).span();
      var y = ((Telemetry.SpanEvent) b).span();
      c = x.traceId().compareTo(y.traceId());
      return c != 0 ? c : x.spanId().compareTo(y.spanId());
    }
    var x = ((Telemetry.RecordEvent) a).record();
    var y = ((Telemetry.RecordEvent) b).record();
    c = x.topic().compareTo(y.topic());
    if (c == 0) c = Integer.compare(x.partition(), y.partition());
    if (c == 0) c = Long.compare(x.offset(), y.offset());
    return c;
  }
}
