package io.flowtrace.tracer.recording;

import static java.util.Objects.requireNonNull;

import io.flowtrace.tracer.model.SourcePosition;

/** One piece of input that could not be read: where it was and what was wrong with it. */
public record ReadProblem(SourcePosition position, String reason) {
  public ReadProblem {
    requireNonNull(position, "position");
    requireNonNull(reason, "reason");
  }

  @Override
  public String toString() {
    return position + ": " + reason;
  }
}
