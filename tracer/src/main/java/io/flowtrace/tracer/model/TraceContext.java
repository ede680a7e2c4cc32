package io.flowtrace.tracer.model;

import java.util.Optional;

/**
 * A W3C trace context ({@code traceparent}): the trace and the parent span a record was produced
 * under. Parsing is lenient where real instrumentation varies (any flags byte, upper-case hex) and
 * strict where a wrong value would join the wrong spans (lengths, all-zero ids).
 */
public record TraceContext(String traceId, String spanId, int flags) {

  /** Parses {@code 00-<32 hex>-<16 hex>-<2 hex>}; empty when malformed. */
  public static Optional<TraceContext> parse(String header) {
    if (header == null) {
      return Optional.empty();
    }
    String[] parts = header.trim().split("-");
    if (parts.length < 4 || parts[0].length() != 2 || parts[1].length() != 32
        || parts[2].length() != 16 || parts[3].length() != 2) {
      return Optional.empty();
    }
    String traceId = parts[1].toLowerCase(java.util.Locale.ROOT);
    String spanId = parts[2].toLowerCase(java.util.Locale.ROOT);
    if (!isHex(traceId) || !isHex(spanId) || !isHex(parts[3]) || isZero(traceId) || isZero(spanId)) {
      return Optional.empty();
    }
    return Optional.of(new TraceContext(traceId, spanId, Integer.parseInt(parts[3], 16)));
  }

  /** Formats as a version-00 {@code traceparent} value. */
  public String toHeader() {
    return String.format("00-%s-%s-%02x", traceId, spanId, flags);
  }

  private static boolean isHex(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
        return false;
      }
    }
    return true;
  }

  private static boolean isZero(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) != '0') {
        return false;
      }
    }
    return true;
  }
}
