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
    String h = header.trim();
    TraceContext plain = plain(h);
    if (plain != null) {
      return Optional.of(plain);
    }
    String[] parts = h.split("-");
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

  /**
   * The usual header — {@code vv-<32 hex>-<16 hex>-<2 hex>}, maybe followed by {@code -...} — read
   * in place (every record's header is read two or three times in a replay); {@code null} for
   * anything else, which the general parse then reads, so both give the same answer.
   */
  private static TraceContext plain(String h) {
    int n = h.length();
    if (n < 55 || h.charAt(2) != '-' || h.charAt(35) != '-' || h.charAt(52) != '-' || n > 55 && h.charAt(55) != '-'
        || h.charAt(0) == '-' || h.charAt(1) == '-') {
      return null;
    }
    if (!isHex(h, 3, 35) || !isHex(h, 36, 52) || !isHex(h, 53, 55) || isZero(h, 3, 35) || isZero(h, 36, 52)) {
      return null;
    }
    String traceId = h.substring(3, 35).toLowerCase(java.util.Locale.ROOT);
    String spanId = h.substring(36, 52).toLowerCase(java.util.Locale.ROOT);
    return new TraceContext(traceId, spanId, Character.digit(h.charAt(53), 16) * 16 + Character.digit(h.charAt(54), 16));
  }

  private static boolean isHex(String s, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
        return false;
      }
    }
    return true;
  }

  private static boolean isZero(String s, int from, int to) {
    for (int i = from; i < to; i++) {
      if (s.charAt(i) != '0') {
        return false;
      }
    }
    return true;
  }

  /** Formats as a version-00 {@code traceparent} value. */
  public String toHeader() {
    return String.format("00-%s-%s-%02x", traceId, spanId, flags);
  }

  /** Whether the trace is sampled (flags bit {@code 0x01}): its spans are exported. */
  public boolean sampled() {
    return (flags & 0x01) != 0;
  }

  private static boolean isHex(String s) {
    return isHex(s, 0, s.length());
  }

  private static boolean isZero(String s) {
    return isZero(s, 0, s.length());
  }
}
