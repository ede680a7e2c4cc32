package io.flowtrace.verifier.spec;

import java.util.regex.Pattern;

/** Matches a span name or attribute value: exactly, or by a regular expression (found anywhere). */
public record StringMatcher(String exact, Pattern regex) {

  public static StringMatcher exact(String value) {
    return new StringMatcher(value, null);
  }

  public static StringMatcher regex(String regex) {
    return new StringMatcher(null, Pattern.compile(regex));
  }

  public boolean matches(String value) {
    if (value == null) {
      return false;
    }
    return exact != null ? exact.equals(value) : regex.matcher(value).find();
  }

  @Override
  public String toString() {
    return exact != null ? "'" + exact + "'" : "/" + regex.pattern() + "/";
  }
}
