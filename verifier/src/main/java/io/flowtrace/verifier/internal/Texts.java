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

  /** {@code " (did you mean 'x'?)"} for the closest known name, or empty when none is close. */
  public static String didYouMean(String wrong, java.util.Collection<String> known) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String k : known) {
      int d = editDistance(wrong, k);
      if (d < bestDistance) {
        bestDistance = d;
        best = k;
      }
    }
    return best != null && bestDistance <= Math.max(2, wrong.length() / 3) ? " (did you mean '" + best + "'?)" : "";
  }

  /** Levenshtein distance. */
  public static int editDistance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
