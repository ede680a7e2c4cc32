package io.flowtrace.verifier.rules;

import dev.cel.common.values.CelByteString;
import dev.cel.common.values.NullValue;
import java.util.AbstractList;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.RandomAccess;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * JSON trees as CEL values, converted lazily: an object is a read-only {@link Map} view and an
 * array a read-only {@link List} view over the tree, whose members are converted only when the
 * expression reads them. Every JSON number becomes a {@link Double} (see {@link CelRules}).
 */
final class JsonCelValues {

  /** Longest rendering of an observed value; longer texts are cut and end with {@value #ELLIPSIS}. */
  static final int MAX_RENDERED_LENGTH = 120;

  static final String ELLIPSIS = "...";
  static final String MISSING = "<missing>";

  private JsonCelValues() {}

  /** The CEL value of a JSON node: Map, List, String, Double, Boolean, bytes or CEL null. */
  static Object toCel(JsonNode node) {
    switch (node.getNodeType()) {
      case OBJECT:
        return new ObjectView(node);
      case ARRAY:
        return new ArrayView(node);
      case STRING:
        return node.stringValue();
      case NUMBER:
        return node.doubleValue();
      case BOOLEAN:
        return node.booleanValue();
      case BINARY:
        return CelByteString.of(node.binaryValue());
      case NULL:
      case MISSING:
        return NullValue.NULL_VALUE;
      default: // POJO: not produced by parsing JSON; expose its text
        return node.asString();
    }
  }

  /** The node at {@code path} (segments after the variable), or {@code null} when a segment is absent. */
  static JsonNode at(JsonNode root, List<String> path, int from) {
    JsonNode node = root;
    for (int i = from; i < path.size() && node != null; i++) {
      node = node.isObject() ? node.get(path.get(i)) : null;
    }
    return node == null || node.isMissingNode() ? null : node;
  }

  /** Compact JSON text of a node, cut to {@link #MAX_RENDERED_LENGTH} characters. */
  static String render(JsonNode node) {
    if (node == null) {
      return MISSING;
    }
    if (node.isValueNode()) {
      return cut(node.toString());
    }
    StringBuilder out = new StringBuilder(64);
    append(node, out);
    return cut(out);
  }

  private static String cut(CharSequence text) {
    if (text.length() <= MAX_RENDERED_LENGTH) {
      return text.toString();
    }
    return text.subSequence(0, MAX_RENDERED_LENGTH - ELLIPSIS.length()) + ELLIPSIS;
  }

  /** Appends compact JSON, stopping once the text is longer than the limit. */
  private static void append(JsonNode node, StringBuilder out) {
    if (out.length() > MAX_RENDERED_LENGTH) {
      return;
    }
    if (node.isObject()) {
      out.append('{');
      boolean first = true;
      for (Map.Entry<String, JsonNode> e : node.properties()) {
        if (out.length() > MAX_RENDERED_LENGTH) {
          return;
        }
        if (!first) {
          out.append(',');
        }
        first = false;
        quote(e.getKey(), out);
        out.append(':');
        append(e.getValue(), out);
      }
      out.append('}');
    } else if (node.isArray()) {
      out.append('[');
      for (int i = 0; i < node.size(); i++) {
        if (out.length() > MAX_RENDERED_LENGTH) {
          return;
        }
        if (i > 0) {
          out.append(',');
        }
        append(node.get(i), out);
      }
      out.append(']');
    } else {
      out.append(node.toString());
    }
  }

  /**
   * Compact JSON-like text of a value CEL computed, cut as {@link #render(JsonNode)} is; a whole
   * number is written without a fraction, as a payload would carry it.
   */
  static String renderValue(Object value) {
    StringBuilder out = new StringBuilder(32);
    appendValue(value, out);
    return cut(out);
  }

  private static void appendValue(Object value, StringBuilder out) {
    if (out.length() > MAX_RENDERED_LENGTH) {
      return;
    }
    if (value instanceof ObjectView o) {
      append(o.node, out);
    } else if (value instanceof ArrayView a) {
      append(a.node, out);
    } else if (value instanceof String s) {
      quote(s, out);
    } else if (value instanceof Double d) {
      out.append(d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString(d.longValue()) : d.toString());
    } else if (value instanceof NullValue || value == null) {
      out.append("null");
    } else if (value instanceof Map<?, ?> map) {
      out.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : map.entrySet()) {
        if (!first) {
          out.append(',');
        }
        first = false;
        appendValue(e.getKey(), out);
        out.append(':');
        appendValue(e.getValue(), out);
      }
      out.append('}');
    } else if (value instanceof List<?> list) {
      out.append('[');
      for (int i = 0; i < list.size() && out.length() <= MAX_RENDERED_LENGTH; i++) {
        if (i > 0) {
          out.append(',');
        }
        appendValue(list.get(i), out);
      }
      out.append(']');
    } else {
      out.append(value);
    }
  }

  private static void quote(String s, StringBuilder out) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  /** A JSON object as a read-only CEL map; members are converted when read. */
  static final class ObjectView extends AbstractMap<String, Object> {
    private final JsonNode node;

    ObjectView(JsonNode node) {
      this.node = node;
    }

    @Override
    public Object get(Object key) {
      if (!(key instanceof String name)) {
        return null;
      }
      JsonNode child = node.get(name);
      return child == null ? null : toCel(child);
    }

    @Override
    public boolean containsKey(Object key) {
      return key instanceof String name && node.has(name);
    }

    @Override
    public int size() {
      return node.size();
    }

    @Override
    public boolean isEmpty() {
      return node.isEmpty();
    }

    @Override
    public Set<Entry<String, Object>> entrySet() {
      return new AbstractSet<>() {
        @Override
        public Iterator<Entry<String, Object>> iterator() {
          Iterator<Entry<String, JsonNode>> it = node.properties().iterator();
          return new Iterator<>() {
            @Override
            public boolean hasNext() {
              return it.hasNext();
            }

            @Override
            public Entry<String, Object> next() {
              Entry<String, JsonNode> e = it.next();
              return new SimpleImmutableEntry<>(e.getKey(), toCel(e.getValue()));
            }
          };
        }

        @Override
        public int size() {
          return node.size();
        }
      };
    }

    @Override
    public String toString() {
      return render(node);
    }
  }

  /** A JSON array as a read-only CEL list; elements are converted when read. */
  static final class ArrayView extends AbstractList<Object> implements RandomAccess {
    private final JsonNode node;

    ArrayView(JsonNode node) {
      this.node = node;
    }

    @Override
    public Object get(int index) {
      if (index < 0 || index >= node.size()) {
        throw new IndexOutOfBoundsException("Index " + index + " out of bounds for length " + node.size());
      }
      return toCel(node.get(index));
    }

    @Override
    public int size() {
      return node.size();
    }

    @Override
    public String toString() {
      return render(node);
    }
  }
}
