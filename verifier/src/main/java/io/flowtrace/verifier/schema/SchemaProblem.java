package io.flowtrace.verifier.schema;

/**
 * One way a payload broke its schema. {@code path} is a JSONPath-like location
 * ({@code $.items[0].quantity}, {@code $} for the whole payload); {@code message} says what was
 * expected and what was found.
 */
public record SchemaProblem(String path, String message) {
  @Override
  public String toString() {
    return path + ": " + message;
  }
}
