package io.flowtrace.tracer.recording;

import static java.util.Objects.requireNonNull;

import io.flowtrace.tracer.model.SourcePosition;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * One piece of input that could not be read: where it was, what was wrong with it, and the names
 * its text held (identifiers and trace ids, see {@link #naming}), by which a verdict can tell that
 * input of its own may be missing. {@code spansLostAfterNanos}: for a request of spans cut short
 * part-way (the spans before the cut read), the end of the last span read from it — the spans it
 * lost ended then or later, within the exporter's batch — else {@link #NO_TIME}.
 */
public record ReadProblem(SourcePosition position, String reason, Set<String> names, long spansLostAfterNanos) {

  /** {@link #spansLostAfterNanos} of a problem that lost no spans it can place in time. */
  public static final long NO_TIME = Long.MIN_VALUE;

  /** How the reason of a problem that ended its source's reading ends: nothing after it was read. */
  public static final String REST_SKIPPED = "rest of the file skipped";

  /** The most names kept from one problem's text. */
  static final int MAX_NAMES = 4096;
  private static final int MAX_NAME_LENGTH = 128;

  public ReadProblem {
    requireNonNull(position, "position");
    requireNonNull(reason, "reason");
    names = names == null ? Set.of() : java.util.Collections.unmodifiableSet(new LinkedHashSet<>(names));
  }

  /** A problem whose text names {@code names}, and that lost no spans it can place in time. */
  public ReadProblem(SourcePosition position, String reason, Set<String> names) {
    this(position, reason, names, NO_TIME);
  }

  /** A problem whose text is not at hand, or holds nothing to name. */
  public ReadProblem(SourcePosition position, String reason) {
    this(position, reason, Set.of());
  }

  /** This problem, placed in time: the spans it lost ended at {@code nanos} or later. */
  public ReadProblem losingSpansAfter(long nanos) {
    return new ReadProblem(position, reason, names, nanos);
  }

  /**
   * A problem with the names {@code text} (the unreadable line or document) holds: each run of
   * letters, digits and {@code _.:@/+-} up to 128 characters that has a letter or digit (from its
   * first letter or digit: {@code "offset":42} names {@code 42}), and each
   * trace id (32 hex digits) inside one, lower-cased. A run the text ends in is left out, as the
   * text may have been cut in the middle of it.
   */
  public static ReadProblem naming(SourcePosition position, String reason, CharSequence text) {
    Set<String> names = new LinkedHashSet<>();
    int n = text.length();
    int i = 0;
    while (i < n && names.size() < MAX_NAMES) {
      if (!nameChar(text.charAt(i))) {
        i++;
        continue;
      }
      int start = i;
      boolean alnum = false;
      while (i < n && nameChar(text.charAt(i))) {
        alnum |= Character.isLetterOrDigit(text.charAt(i));
        i++;
      }
      if (i == n) {
        break;
      }
      int from = start;
      while (from < i && !Character.isLetterOrDigit(text.charAt(from))) {
        from++;
      }
      if (alnum && i - from <= MAX_NAME_LENGTH) {
        names.add(text.subSequence(from, i).toString());
      }
      traceIds(text, start, i, names);
    }
    return new ReadProblem(position, reason, names);
  }

  private static boolean nameChar(char c) {
    return c < 128 && (Character.isLetterOrDigit(c) || c == '_' || c == '.' || c == ':' || c == '@' || c == '/'
        || c == '+' || c == '-');
  }

  /** Adds each run of exactly 32 hex digits in {@code text[from, to)}, lower-cased. */
  private static void traceIds(CharSequence text, int from, int to, Set<String> names) {
    int run = from;
    for (int i = from; i <= to; i++) {
      if (i < to && Character.digit(text.charAt(i), 16) >= 0) {
        continue;
      }
      if (i - run == 32) {
        names.add(text.subSequence(run, i).toString().toLowerCase(java.util.Locale.ROOT));
      }
      run = i + 1;
    }
  }

  /** Whether reading its source stopped here (a gzip cut off, a disk error): what followed is missing. */
  public boolean restSkipped() {
    return reason.endsWith(REST_SKIPPED);
  }

  @Override
  public String toString() {
    return position + ": " + reason;
  }
}
