package io.flowtrace.verifier.text;

import java.util.regex.Pattern;

/** URL paths made generic: the segments that name one thing of many ({@code CLM-400003}, a UUID, a number) as {@code {id}}. */
public final class UrlPaths {

  /** What stands in for an id-like segment. */
  public static final String ID = "{id}";

  private static final Pattern ID_SEGMENT = Pattern.compile("[0-9]+|[0-9a-fA-F]{8}-[0-9a-fA-F-]{27,}|[0-9a-fA-F]{16,}"
      + "|[A-Za-z]+-[0-9a-fA-F]{6,}|[A-Za-z_-]*[0-9][A-Za-z_-]*[0-9][A-Za-z_-]*[0-9][A-Za-z_-]*[0-9][0-9A-Za-z_-]*");

  private UrlPaths() {}

  /** Whether a path segment names one thing of many rather than a kind of thing. */
  public static boolean isId(String segment) {
    return ID_SEGMENT.matcher(segment).matches();
  }

  /** The path (or URL) with every id-like segment after {@code from} slashes replaced by {@link #ID}. */
  public static String generic(String path, int from) {
    String[] parts = path.split("/", -1);
    for (int i = from; i < parts.length; i++) {
      if (isId(parts[i])) {
        parts[i] = ID;
      }
    }
    return String.join("/", parts);
  }
}
