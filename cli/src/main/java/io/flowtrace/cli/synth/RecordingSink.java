package io.flowtrace.cli.synth;

import io.flowtrace.tracer.model.KafkaRecord;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import java.io.Closeable;
import java.io.IOException;

/** Where a synthetic recording goes: span export lines per service and Kafka records. */
interface RecordingSink extends Closeable {

  /** One export of a service's span batch: one line of {@code <service>.otlp.jsonl}. */
  void spans(String service, ExportTraceServiceRequest request) throws IOException;

  /** One Kafka record; the records of each topic-partition come in offset order. */
  void record(KafkaRecord record) throws IOException;
}
