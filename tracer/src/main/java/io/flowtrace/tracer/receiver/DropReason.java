package io.flowtrace.tracer.receiver;

/** Why received telemetry was not passed on. */
public enum DropReason {
  /** The body or message was not an OTLP trace request (bad protobuf, JSON or gzip). */
  UNDECODABLE,
  /** The body exceeded the size limit, or the request had more spans than the queue holds. */
  TOO_LARGE,
  /** The queue could not take the request's spans (or the server had too many requests in flight). */
  OVERLOADED,
  /** A span's trace, span or parent id was missing, of the wrong length, or all zeros. */
  INVALID_ID,
  /** The downstream sink threw while taking it. */
  SINK_FAILED,
  /** The queue was already closed. */
  CLOSED
}
