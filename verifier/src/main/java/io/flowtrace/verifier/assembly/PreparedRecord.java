package io.flowtrace.verifier.assembly;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.model.TraceContext;
import io.flowtrace.verifier.schema.DecodedPayload;
import java.util.List;
import java.util.Map;

/**
 * A Kafka record with its payload already decoded and validated for every event it matches, and
 * its trace context parsed. {@link FlowEngine#prepare(KafkaRecord)} makes these on any thread (a
 * reader's), so the engine's single thread only assembles and checks.
 */
public final class PreparedRecord extends Prepared {
  private final KafkaRecord record;
  private final Telemetry telemetry;
  private final TraceContext context;
  private final List<List<DecodedPayload>> decodedByFlow;
  private final List<List<Map<String, String>>> keysByFlow;

  PreparedRecord(KafkaRecord record, TraceContext context, List<List<DecodedPayload>> decodedByFlow,
      List<List<Map<String, String>>> keysByFlow) {
    this.record = record;
    this.telemetry = Telemetry.of(record);
    this.context = context;
    this.decodedByFlow = decodedByFlow;
    this.keysByFlow = keysByFlow;
  }

  public KafkaRecord record() {
    return record;
  }

  @Override
  public Telemetry telemetry() {
    return telemetry;
  }

  TraceContext context() {
    return context;
  }

  /** Decoded payloads for flow {@code flowIndex}, one per event of the record's topic, or null. */
  List<DecodedPayload> decoded(int flowIndex) {
    return decodedByFlow.get(flowIndex);
  }

  /** The instance keys of each of those events for flow {@code flowIndex}, or null. */
  List<Map<String, String>> keys(int flowIndex) {
    return keysByFlow.get(flowIndex);
  }
}
