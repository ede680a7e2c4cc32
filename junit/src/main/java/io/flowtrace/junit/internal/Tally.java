package io.flowtrace.junit.internal;

import io.flowtrace.tracer.model.Telemetry;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts the spans (by {@code service.name}) and records (by topic) that reached the extension,
 * whether or not they belong to a declared event, so that a test that sees no flow can be told what
 * did arrive. Written by the engine thread, read by any. Internal: not API.
 */
public final class Tally {

  private final Map<String, LongAdder> spans = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> records = new ConcurrentHashMap<>();

  /** Counts one span or record. */
  public void count(Telemetry t) {
    if (t instanceof Telemetry.SpanEvent s) {
      String service = s.span().service();
      spans.computeIfAbsent(service.isEmpty() ? "(no service.name)" : service, k -> new LongAdder()).increment();
    } else if (t instanceof Telemetry.RecordEvent r) {
      records.computeIfAbsent(r.record().topic(), k -> new LongAdder()).increment();
    }
  }

  /** Spans by service name, sorted by name. */
  public Map<String, Long> spansByService() {
    return snapshot(spans);
  }

  /** Records by topic, sorted by name. */
  public Map<String, Long> recordsByTopic() {
    return snapshot(records);
  }

  private static Map<String, Long> snapshot(Map<String, LongAdder> counts) {
    Map<String, Long> out = new TreeMap<>();
    counts.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }
}
