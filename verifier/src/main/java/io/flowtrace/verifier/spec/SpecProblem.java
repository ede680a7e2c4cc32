package io.flowtrace.verifier.spec;

import static java.util.Objects.requireNonNull;

/**
 * One problem in a flow spec, located in its file (1-based line and column; 0 when unknown). An
 * {@link Severity#ERROR} makes the spec unusable; a {@link Severity#WARNING} is said by
 * {@code lint} and does not stop the spec from loading.
 */
public record SpecProblem(String file, int line, int column, String message, Severity severity) {

  /** How much a problem matters. */
  public enum Severity {
    /** The spec cannot be used. */
    ERROR,
    /** The spec works, but probably not as its author meant. */
    WARNING
  }

  public SpecProblem {
    requireNonNull(severity, "severity");
  }

  /** An error. */
  public SpecProblem(String file, int line, int column, String message) {
    this(file, line, column, message, Severity.ERROR);
  }

  public boolean isError() {
    return severity == Severity.ERROR;
  }

  @Override
  public String toString() {
    return file + ":" + line + ":" + column + ": " + (isError() ? "" : "warning: ") + message;
  }
}
