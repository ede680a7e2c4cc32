package io.flowtrace.verifier.internal;

import java.time.Duration;
import tools.jackson.databind.JsonNode;

/** Formatting shared by checks and reports. Internal: not API. */
public final class Texts {
  private Texts() {}

  /**
   * Text for a terminal or a page, with the control characters that would hide, reorder or act on
   * it shown as {@code <U+202E>}: a payload's U+202E turns {@code eurt} into {@code true}, an
   * ESC starts a terminal's escape sequence. Line breaks and tabs stay.
   */
  public static String printable(String text) {
    StringBuilder out = null;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      boolean hidden = c < 0x20 && c != '\n' && c != '\t' || c >= 0x7F && c <= 0x9F || c == 0x061C
          || c == 0x200E || c == 0x200F || c >= 0x202A && c <= 0x202E || c >= 0x2066 && c <= 0x2069;
      if (hidden && out == null) {
        out = new StringBuilder(text.length() + 16).append(text, 0, i);
      }
      if (hidden) {
        out.append(String.format("<U+%04X>", (int) c));
      } else if (out != null) {
        out.append(c);
      }
    }
    return out == null ? text : out.toString();
  }

  private static final java.time.format.DateTimeFormatter INSTANT =
      java.time.format.DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(java.time.ZoneOffset.UTC);

  /** {@code 2026-12-01T09:00:05.121Z}: a time in epoch nanoseconds, to the millisecond, in UTC. */
  public static String instant(long epochNanos) {
    return INSTANT.format(java.time.Instant.ofEpochSecond(0, epochNanos));
  }

  /** {@code 5.6 h} (from two hours), {@code 12.5 min} (from ten minutes), {@code 1.234 s}, {@code 35 ms}, {@code 0.8 ms}. */
  public static String duration(long nanos) {
    double ms = nanos / 1e6;
    if (Math.abs(ms) >= 7_200_000) {
      return decimals(ms / 3_600_000, 1) + " h";
    }
    if (Math.abs(ms) >= 600_000) {
      return decimals(ms / 60_000, 1) + " min";
    }
    if (Math.abs(ms) >= 1000) {
      return decimals(ms / 1000, 3) + " s";
    }
    if (Math.abs(ms) >= 10) {
      return Math.round(ms) + " ms";
    }
    return decimals(ms, 1) + " ms";
  }

  /** An offset from an instance's start: {@code +12 ms}, or {@code −0.1 ms} for one a clock correction put before it. */
  public static String offset(long nanos) {
    return nanos <= -50_000 ? "\u2212" + duration(-nanos) : "+" + duration(Math.max(nanos, 0));
  }

  /**
   * An offset to the millisecond however long the flow: {@code +10:07:17.951} past an hour,
   * {@code +7:17.951} past a minute, else as {@link #offset}. Where two times are set side by side
   * (expected, actual), "+10.1 h" twice said nothing of the four minutes between them.
   */
  public static String exactOffset(long nanos) {
    long ms = Math.abs(nanos) / 1_000_000;
    if (ms < 60_000) {
      return offset(nanos);
    }
    String sign = nanos < 0 ? "\u2212" : "+";
    long h = ms / 3_600_000;
    long m = ms / 60_000 % 60;
    String sec = String.format(java.util.Locale.ROOT, "%02d.%03d", ms / 1000 % 60, ms % 1000);
    return h > 0 ? sign + h + ":" + String.format(java.util.Locale.ROOT, "%02d", m) + ":" + sec : sign + m + ":" + sec;
  }

  public static String duration(Duration d) {
    return duration(d.toNanos());
  }

  /**
   * {@code String.format(Locale.ROOT, "%.<places>f", v)} without its trailing zeros (and point):
   * rounded half up from the shortest decimal that reads back as {@code v}, as the formatter
   * rounds, but without parsing a format string and a regular expression on every call (notes and
   * messages of every instance carry durations). A negative value that rounds to zero stays "-0".
   */
  static String decimals(double v, int places) {
    java.math.BigDecimal rounded = new java.math.BigDecimal(Double.toString(v))
        .setScale(places, java.math.RoundingMode.HALF_UP);
    String s = rounded.signum() == 0 ? "0" : rounded.stripTrailingZeros().toPlainString();
    return v < 0 && rounded.signum() == 0 ? "-" + s : s;
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
