package io.flowtrace.verifier.spec;

import java.util.Locale;

/**
 * Whether a flow's spans can be trusted to arrive. A trace whose records say "not sampled" (the
 * W3C sampled flag clear) has no spans by design under either setting; this setting is about
 * sampled traces.
 */
public enum SpanCompleteness {
  /**
   * Every span of a sampled trace is exported (head sampling, or no sampling): a span event that
   * does not arrive is missing. The default.
   */
  COMPLETE,
  /**
   * Spans of sampled traces may still be lost (Collector tail sampling, lossy exporters or
   * pipelines): a span event that does not arrive is unobserved, not missing, and the checks that
   * need it are reported as not verified. Records are still checked in full.
   */
  MAY_BE_MISSING;

  /** The spec's spelling: {@code complete} or {@code may-be-missing}. */
  public String text() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** Parses the spec's spelling (case-insensitive, {@code -} or {@code _}); {@code null} when unknown. */
  public static SpanCompleteness parse(String text) {
    String t = text.trim().toUpperCase(Locale.ROOT).replace('-', '_');
    for (SpanCompleteness s : values()) {
      if (s.name().equals(t)) {
        return s;
      }
    }
    return null;
  }
}
