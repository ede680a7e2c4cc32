package io.flowtrace.verifier.infer;

import java.math.BigDecimal;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/** Walking JSON payloads for inference: scalar leaves by path ({@code a.b}, {@code items[].sku}). */
final class Values {
  private Values() {}

  /**
   * Every scalar leaf under {@code node} as text, by path; array elements under {@code []} (the
   * first element's value wins), down to {@code depth} levels.
   */
  static void scalars(String path, JsonNode node, Map<String, String> out, int depth) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      return;
    }
    if (node.isValueNode()) {
      if (!path.isEmpty()) {
        out.putIfAbsent(path, node.isNumber() ? number(node) : node.asString());
      }
      return;
    }
    if (depth == 0) {
      return;
    }
    if (node.isObject()) {
      for (Map.Entry<String, JsonNode> e : node.properties()) {
        scalars(path.isEmpty() ? e.getKey() : path + "." + e.getKey(), e.getValue(), out, depth - 1);
      }
    } else if (node.isArray()) {
      for (JsonNode element : node) {
        scalars(path + "[]", element, out, depth - 1);
      }
    }
  }

  /** A number as plain text without trailing zeros: {@code 10.50} → {@code 10.5}. */
  static String number(JsonNode n) {
    BigDecimal d = n.decimalValue().stripTrailingZeros();
    return d.scale() < 0 ? d.setScale(0).toPlainString() : d.toPlainString();
  }

  /** The node at a path of {@link #scalars} (first element for {@code []}), or {@code null}. */
  static JsonNode at(JsonNode root, String path) {
    JsonNode node = root;
    for (String part : path.split("\\.")) {
      if (node == null) {
        return null;
      }
      boolean array = part.endsWith("[]");
      String name = array ? part.substring(0, part.length() - 2) : part;
      if (!name.isEmpty()) {
        node = node.get(name);
      }
      if (array) {
        node = node != null && node.isArray() && !node.isEmpty() ? node.get(0) : null;
      }
    }
    return node;
  }
}
