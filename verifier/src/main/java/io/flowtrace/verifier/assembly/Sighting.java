package io.flowtrace.verifier.assembly;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.TraceContext;
import io.flowtrace.verifier.model.Observation;
import io.flowtrace.verifier.schema.SchemaProblem;
import io.flowtrace.verifier.spec.EventSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * One occurrence of a declared event as it arrived — a record, or a span event — with its decoded
 * payload and the keys it carries, and the messaging spans it was joined to once they were seen
 * (a record's producer and consumers; joins are kept here because the span index forgets spans
 * long before a replay's instance is final).
 */
final class Sighting {
  final EventSpec event;
  final long time;
  final JsonNode payload;
  final List<SchemaProblem> problems;
  final KafkaRecord record;
  final Span span;
  final Map<String, String> keys;
  final TraceContext context;
  /** Why its payload was not decoded (over the size cap), or {@code null}. */
  final String tooLarge;
  /** Whether the span or record it came from found an instance in any flow. */
  final Placement placement;
  /** The keys of another instance some of its key values named (see {@link Observation#otherInstance}); empty when none. */
  Map<String, String> otherInstance = Map.of();
  Span producer;
  List<Span> consumers = List.of();
  /** The observation last made of it, reused while its joins are unchanged; and its consumers then. */
  Observation observed;
  List<Span> observedConsumers;

  Sighting(EventSpec event, long time, JsonNode payload, List<SchemaProblem> problems, KafkaRecord record, Span span,
      Map<String, String> keys, TraceContext context, String tooLarge, Placement placement) {
    this.event = event;
    this.time = time;
    this.payload = payload;
    this.problems = problems;
    this.record = record;
    this.span = span;
    this.keys = keys;
    this.context = context;
    this.tooLarge = tooLarge;
    this.placement = placement;
  }

  /** What makes it this occurrence: {@code topic[p]@offset}, or {@code trace/span}. */
  String identity() {
    return record != null ? record.coordinates() : span.traceId() + "/" + span.spanId();
  }

  /** Where to find it, in words. */
  String where() {
    return record != null ? record.coordinates() : span.describe();
  }

  /** Adds the consumers found now to those kept. */
  void addConsumers(List<Span> found) {
    if (found.isEmpty() || consumers.containsAll(found)) {
      return;
    }
    if (consumers.isEmpty()) {
      consumers = found;
      return;
    }
    List<Span> all = new ArrayList<>(consumers);
    for (Span f : found) {
      if (!all.contains(f)) {
        all.add(f);
      }
    }
    consumers = all;
  }
}
