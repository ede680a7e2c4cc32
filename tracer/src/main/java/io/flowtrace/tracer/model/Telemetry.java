package io.flowtrace.tracer.model;

/**
 * One unit of observed telemetry: a finished span or a Kafka record. The verifier consumes a
 * stream of these in any order; {@link #arrivalEpochNanos()} is when it became observable (a
 * span's end, a record's timestamp), which live and replay alike use as event time.
 */
public sealed interface Telemetry permits Telemetry.SpanEvent, Telemetry.RecordEvent {

  long arrivalEpochNanos();

  static Telemetry of(Span span) {
    return new SpanEvent(span);
  }

  static Telemetry of(KafkaRecord record) {
    return new RecordEvent(record);
  }

  /** A finished span. */
  record SpanEvent(Span span) implements Telemetry {
    @Override
    public long arrivalEpochNanos() {
      return Math.max(span.endEpochNanos(), span.startEpochNanos());
    }
  }

  /** A Kafka record. */
  record RecordEvent(KafkaRecord record) implements Telemetry {
    @Override
    public long arrivalEpochNanos() {
      return record.timestampNanos();
    }
  }
}
