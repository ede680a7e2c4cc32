package io.flowtrace.tracer.recording;

import static java.util.Objects.requireNonNull;

/**
 * A source whose reading stopped part-way ({@link ReadProblem#restSkipped()}): what came after the
 * problem is missing; or one request of spans cut short in a source read on
 * ({@link ReadProblem#spansLostAfterNanos()}): the rest of that request is missing.
 *
 * @param problem where reading stopped and why
 * @param lastSpanEndNanos the latest end of a span read before it, {@code Long.MIN_VALUE} when no
 *     span was (a file of records, or one cut before its first span): an exporter writes spans
 *     nearly in end-time order, so the spans lost ended then or later
 * @param lostUntilNanos when the spans lost ended at the latest: {@code Long.MAX_VALUE} for a source
 *     whose rest is lost; for one request, its exporter's batch after {@code lastSpanEndNanos}
 */
public record SourceCut(ReadProblem problem, long lastSpanEndNanos, long lostUntilNanos) {
  /** How far a request cut short may reach past its last span read: an exporter's 5 s batch and its sending. */
  public static final long BATCH_NANOS = 6_000_000_000L;

  public SourceCut {
    requireNonNull(problem, "problem");
  }

  /** A source whose rest, after spans ending at {@code lastSpanEndNanos}, is lost. */
  public SourceCut(ReadProblem problem, long lastSpanEndNanos) {
    this(problem, lastSpanEndNanos, Long.MAX_VALUE);
  }

  /** The rest of the request {@code problem} cut short, its last span read ending at its {@code spansLostAfterNanos}. */
  public static SourceCut request(ReadProblem problem) {
    long after = problem.spansLostAfterNanos();
    return new SourceCut(problem, after, after > Long.MAX_VALUE - BATCH_NANOS ? Long.MAX_VALUE : after + BATCH_NANOS);
  }

  /** Whether only one request was lost and the source read on (else its rest is lost). */
  public boolean oneRequest() {
    return lostUntilNanos != Long.MAX_VALUE;
  }

  /** Whether spans were read from the source before it stopped (a span exporter's file). */
  public boolean spans() {
    return lastSpanEndNanos != Long.MIN_VALUE;
  }
}
