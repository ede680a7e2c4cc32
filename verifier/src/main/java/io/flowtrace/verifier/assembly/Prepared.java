package io.flowtrace.verifier.assembly;

import io.flowtrace.tracer.model.Telemetry;

/**
 * Telemetry made ready for the engine on any thread: matched against the declared events, payloads
 * decoded and validated, trace context parsed. The engine's own thread then only assembles and
 * checks. Made by {@link FlowEngine#prepare(Telemetry)}.
 */
public abstract sealed class Prepared permits PreparedRecord, PreparedSpan {
  /** The underlying span or record (for ordering and spilling). */
  public abstract Telemetry telemetry();
}
