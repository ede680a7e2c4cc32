package io.flowtrace.verifier.internal;

import java.time.Duration;
import tools.jackson.databind.JsonNode;

/** Formatting shared by checks and reports. Internal: not API. */
public final class Texts {
  private Texts() {}

  /** {@code 1.234 s}, {@code 35 ms}, {@code 0.8 ms}. */
  public static String duration(long nanos) {
    double ms = nanos / 1e6;
    if (Math.abs(ms) >= 1000) {
      return trim(String.format(java.util.Locale.ROOT, "%.3f", ms / 1000)) + " s";
    }
    if (Math.abs(ms) >= 10) {
      return Math.round(ms) + " ms";
    }
    return trim(String.format(java.util.Locale.ROOT, "%.1f", ms)) + " ms";
  }

  public static String duration(Duration d) {
    return duration(d.toNanos());
  }

  private static String trim(String s) {
    if (s.contains(".")) {
      s = s.replaceAll("0+$", "");
      if (s.endsWith(".")) s = s.substring(0, s.length() - 1);
    }
    return s;
  }

  /** Compact JSON text of a value, cut to {@code max} characters. */
  public static String json(JsonNode node, int max) {
    if (node == null) {
      return "<missing>";
    }
    String s = node.toString();
    return s.length() <= max ? s : s.substring(0, max - 1) + "…";
  }

  public static String json(JsonNode node) {
    return json(node, 120);
  }

  /** {@code 1 flow}, {@code 2 flows}: the count and the noun, plural unless the count is 1. */
  public static String count(long n, String noun) {
    return n + " " + (n == 1 ? noun : noun + "s");
  }
}
