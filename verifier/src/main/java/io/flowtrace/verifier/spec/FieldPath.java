package io.flowtrace.verifier.spec;

import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * A dotted path into a payload: {@code userId}, {@code data.orderId}, {@code items[].productId}
 * ({@code []} walks every element of an array).
 */
public record FieldPath(String text, List<String> segments) {

  public FieldPath {
    segments = List.copyOf(segments);
  }

  /** Parses {@code a.b[].c}; throws {@link IllegalArgumentException} on an empty segment. */
  public static FieldPath parse(String text) {
    List<String> segments = new ArrayList<>();
    for (String part : text.split("\\.", -1)) {
      boolean array = part.endsWith("[]");
      String name = array ? part.substring(0, part.length() - 2) : part;
      if (name.isEmpty() || name.contains("[") || name.contains("]")) {
        throw new IllegalArgumentException("'" + text + "' is not a field path (like a.b or items[].productId)");
      }
      segments.add(name);
      if (array) {
        segments.add("[]");
      }
    }
    return new FieldPath(text, segments);
  }

  /** Whether the path walks into array elements. */
  public boolean hasArray() {
    return segments.contains("[]");
  }

  /** The single value at this path (no array walking), or {@code null} when absent. */
  public JsonNode resolve(JsonNode root) {
    JsonNode node = root;
    for (String segment : segments) {
      if (node == null || segment.equals("[]")) {
        return null;
      }
      node = node.isObject() ? node.get(segment) : null;
    }
    return node == null || node.isMissingNode() ? null : node;
  }

  /**
   * Where this path finds nothing in {@code root} ({@code items[2].price}), walking every element of
   * each array; {@code null} when it finds a value everywhere (an empty array has no element to lack it).
   */
  public String firstAbsent(JsonNode root) {
    return firstAbsent(0, root, "");
  }

  private String firstAbsent(int i, JsonNode node, String at) {
    if (node == null || node.isMissingNode()) {
      return at;
    }
    if (i == segments.size()) {
      return null;
    }
    String s = segments.get(i);
    if (s.equals("[]")) {
      if (!node.isArray()) {
        return at + "[]";
      }
      for (int k = 0; k < node.size(); k++) {
        String absent = firstAbsent(i + 1, node.get(k), at + "[" + k + "]");
        if (absent != null) {
          return absent;
        }
      }
      return null;
    }
    return firstAbsent(i + 1, node.isObject() ? node.get(s) : null, at.isEmpty() ? s : at + "." + s);
  }

  @Override
  public String toString() {
    return text;
  }
}
