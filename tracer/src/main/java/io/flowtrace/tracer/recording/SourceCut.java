package io.flowtrace.tracer.recording;

import static java.util.Objects.requireNonNull;

/**
 * A source whose reading stopped part-way ({@link ReadProblem#restSkipped()}): what came after the
 * problem is missing.
 *
 * @param problem where reading stopped and why
 * @param lastEpochNanos the latest time of what was read before it (a span's end, a record's
 *     timestamp), {@code Long.MIN_VALUE} when nothing was: what is missing came about then or later
 * @param spans whether spans were read from the source before it stopped (a span exporter's file)
 */
public record SourceCut(ReadProblem problem, long lastEpochNanos, boolean spans) {
  public SourceCut {
    requireNonNull(problem, "problem");
  }
}
