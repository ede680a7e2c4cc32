package io.flowtrace.tracer.recording;

import static java.util.Objects.requireNonNull;

/**
 * A source whose reading stopped part-way ({@link ReadProblem#restSkipped()}): what came after the
 * problem is missing.
 *
 * @param problem where reading stopped and why
 * @param lastSpanEndNanos the latest end of a span read before it, {@code Long.MIN_VALUE} when no
 *     span was (a file of records, or one cut before its first span): an exporter writes spans
 *     nearly in end-time order, so the spans lost ended then or later
 */
public record SourceCut(ReadProblem problem, long lastSpanEndNanos) {
  public SourceCut {
    requireNonNull(problem, "problem");
  }

  /** Whether spans were read from the source before it stopped (a span exporter's file). */
  public boolean spans() {
    return lastSpanEndNanos != Long.MIN_VALUE;
  }
}
