package io.flowtrace.verifier.rules;

/** A CEL expression that does not parse or type-check; {@code column} is 1-based within the expression. */
public final class RuleSyntaxException extends Exception {
  private static final long serialVersionUID = 1L;
  private final int column;

  public RuleSyntaxException(String message, int column) {
    super(message);
    this.column = column;
  }

  public int column() {
    return column;
  }
}
