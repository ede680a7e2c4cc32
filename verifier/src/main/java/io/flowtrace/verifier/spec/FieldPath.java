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

  @Override
  public String toString() {
    return text;
  }
}
