package io.flowtrace.verifier.schema;

/**
 * One way a payload broke its schema. {@code path} is a JSONPath-like location
 * ({@code $.items[0].quantity}, {@code $} for the whole payload); {@code message} says what was
 * expected and what was found. {@code unavailable}: not the payload's fault — its schema could not
 * be had (a registry down, slow or refusing the request), so it was not checked.
 */
public record SchemaProblem(String path, String message, boolean unavailable) {

  /** A problem of the payload itself. */
  public SchemaProblem(String path, String message) {
    this(path, message, false);
  }

  /** The payload's schema could not be had: it is not checked, and nothing is wrong with it as far as is known. */
  public static SchemaProblem unavailable(String message) {
    return new SchemaProblem("$", message, true);
  }

  @Override
  public String toString() {
    return path + ": " + message;
  }
}
