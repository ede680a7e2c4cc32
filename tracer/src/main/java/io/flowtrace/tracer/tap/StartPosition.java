package io.flowtrace.tracer.tap;

import static java.util.Objects.requireNonNull;

import java.time.Instant;

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

  @Override
  public String toString() {
    return kind == Kind.TIMESTAMP ? "TIMESTAMP(" + Instant.ofEpochMilli(timestampMillis) + ")"
        : kind.name();
  }
}
