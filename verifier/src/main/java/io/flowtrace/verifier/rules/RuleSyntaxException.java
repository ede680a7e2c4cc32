package io.flowtrace.verifier.rules;

import java.util.List;

/**
 * A CEL expression that does not parse, does not type-check, or cannot work with the payloads its
 * schemas describe. {@link #problems()} lists every problem found (one per mistake), each with its
 * 1-based column within the expression; the message and {@link #column()} are the first's.
 */
public final class RuleSyntaxException extends Exception {
  private static final long serialVersionUID = 1L;

  /** One problem of an expression: a 1-based column within the expression and what is wrong. */
  public record Problem(int column, String message) {}

  private final transient List<Problem> problems;

  public RuleSyntaxException(String message, int column) {
    this(List.of(new Problem(column, message)));
  }

  /** @param problems at least one */
  public RuleSyntaxException(List<Problem> problems) {
    super(problems.get(0).message());
    this.problems = List.copyOf(problems);
  }

  public int column() {
    return problems.get(0).column();
  }

  /** Every problem, in the order of the expression. */
  public List<Problem> problems() {
    return problems;
  }
}
