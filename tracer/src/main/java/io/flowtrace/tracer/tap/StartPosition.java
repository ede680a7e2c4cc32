package io.flowtrace.tracer.tap;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/**
 * Where a {@link KafkaTap} starts reading a partition it has not read before: its end ({@link
 * #LATEST}), its beginning ({@link #EARLIEST}), or the first record at or after a timestamp ({@link
 * #at(Instant)}; a partition with no such record starts at its end).
 */
public record StartPosition(Kind kind, long timestampMillis) {

  /** The kinds of start position. */
  public enum Kind { LATEST, EARLIEST, TIMESTAMP }

  /** Only records produced after the tap was assigned the partition. */
  public static final StartPosition LATEST = new StartPosition(Kind.LATEST, -1);
  /** Every record still retained. */
  public static final StartPosition EARLIEST = new StartPosition(Kind.EARLIEST, -1);

  public StartPosition {
    requireNonNull(kind, "kind");
    if (kind == Kind.TIMESTAMP && timestampMillis < 0) {
      throw new IllegalArgumentException("timestampMillis must be >= 0, was " + timestampMillis);
    }
    if (kind != Kind.TIMESTAMP) {
      timestampMillis = -1;
    }
  }

  /** The first record whose timestamp is at or after {@code instant}. */
  public static StartPosition at(Instant instant) {
    return new StartPosition(Kind.TIMESTAMP, requireNonNull(instant, "instant").toEpochMilli());
  }

  /**
   * Parses {@code latest}, {@code earliest} (any case) or an ISO-8601 instant with a zone or offset
   * ({@code 2026-11-25T14:00:00Z}, {@code 2026-11-25T15:00:00+01:00}).
   *
   * @throws IllegalArgumentException naming the text and what is accepted
   */
  public static StartPosition parse(String text) {
    requireNonNull(text, "text");
    String t = text.trim();
    switch (t.toLowerCase(Locale.ROOT)) {
      case "latest":
        return LATEST;
      case "earliest":
        return EARLIEST;
      default:
        try {
          return at(OffsetDateTime.parse(t).toInstant());
        } catch (DateTimeParseException e) {
          throw new IllegalArgumentException("'" + text + "' is not latest, earliest or an ISO-8601 instant"
              + " such as 2026-11-25T14:00:00Z");
        }
    }
  }

  @Override
  public String toString() {
    return kind == Kind.TIMESTAMP ? "TIMESTAMP(" + Instant.ofEpochMilli(timestampMillis) + ")"
        : kind.name();
  }
}
