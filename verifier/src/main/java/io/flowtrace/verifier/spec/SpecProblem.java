package io.flowtrace.verifier.spec;

/** One error in a flow spec, located in its file (1-based line and column; 0 when unknown). */
public record SpecProblem(String file, int line, int column, String message) {
  @Override
  public String toString() {
    return file + ":" + line + ":" + column + ": " + message;
  }
}
