package io.flowtrace.tracer.model;

/** The kind of a span, as OTLP numbers it ({@code SPAN_KIND_SERVER = 2} and so on). */
public enum SpanKind {
  UNSPECIFIED,
  INTERNAL,
  SERVER,
  CLIENT,
  PRODUCER,
  CONSUMER;

  private static final SpanKind[] KINDS = values();

  /** Maps the OTLP enum number; an unknown number maps to {@link #UNSPECIFIED}. */
  public static SpanKind fromOtlp(int number) {
    return number >= 0 && number < KINDS.length ? KINDS[number] : UNSPECIFIED;
  }
}
