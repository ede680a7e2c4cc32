package io.flowtrace.verifier.spec.internal;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLFactory;

/**
 * A YAML document read into a Jackson tree, remembering the line and column of every node by its
 * JSON pointer, so that spec errors can point at the exact place. Internal: not API.
 */
public final class LocatedYaml {
  private static final YAMLFactory FACTORY = new YAMLFactory();

  private final JsonNode root;
  private final Map<String, int[]> locations;

  private LocatedYaml(JsonNode root, Map<String, int[]> locations) {
    this.root = root;
    this.locations = locations;
  }

  /** Parses a file; a syntax error becomes {@link YamlSyntaxException} with line and column. */
  public static LocatedYaml read(Path file) throws IOException, YamlSyntaxException {
    try (Reader reader = Files.newBufferedReader(file)) {
      return read(reader);
    }
  }

  public static LocatedYaml read(Reader reader) throws YamlSyntaxException {
    Map<String, int[]> locations = new HashMap<>();
    try (JsonParser parser = FACTORY.createParser(tools.jackson.core.ObjectReadContext.empty(), reader)) {
      JsonToken token = parser.nextToken();
      if (token == null) {
        return new LocatedYaml(JsonNodeFactory.instance.nullNode(), locations);
      }
      JsonNode root = readValue(parser, "", locations);
      return new LocatedYaml(root, locations);
    } catch (JacksonException e) {
      TokenStreamLocation loc = e.getLocation();
      int line = loc == null ? 0 : loc.getLineNr();
      int column = loc == null ? 0 : loc.getColumnNr();
      throw new YamlSyntaxException(e.getOriginalMessage(), line, column);
    }
  }

  private static JsonNode readValue(JsonParser p, String pointer, Map<String, int[]> locations)
      throws YamlSyntaxException {
    TokenStreamLocation loc = p.currentTokenLocation();
    locations.put(pointer, new int[] {loc.getLineNr(), loc.getColumnNr()});
    JsonToken t = p.currentToken();
    switch (t) {
      case START_OBJECT: {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        while (p.nextToken() == JsonToken.PROPERTY_NAME) {
          String name = p.currentName();
          String child = pointer + "/" + escape(name);
          TokenStreamLocation keyLoc = p.currentTokenLocation();
          if (node.has(name)) {
            int[] first = locations.get(child + "#key");
            throw new YamlSyntaxException("duplicate key '" + name + "'" + (first == null ? ""
                : " (first at line " + first[0] + ")") + "; the second would silently replace the first",
                keyLoc.getLineNr(), keyLoc.getColumnNr());
          }
          p.nextToken();
          node.set(name, readValue(p, child, locations));
          locations.put(child + "#key", new int[] {keyLoc.getLineNr(), keyLoc.getColumnNr()});
        }
        return node;
      }
      case START_ARRAY: {
        ArrayNode node = JsonNodeFactory.instance.arrayNode();
        int i = 0;
        while (p.nextToken() != JsonToken.END_ARRAY) {
          node.add(readValue(p, pointer + "/" + i++, locations));
        }
        return node;
      }
      case VALUE_STRING:
        return JsonNodeFactory.instance.textNode(p.getText());
      case VALUE_NUMBER_INT:
        return JsonNodeFactory.instance.numberNode(p.getLongValue());
      case VALUE_NUMBER_FLOAT:
        return JsonNodeFactory.instance.numberNode(p.getDoubleValue());
      case VALUE_TRUE:
        return JsonNodeFactory.instance.booleanNode(true);
      case VALUE_FALSE:
        return JsonNodeFactory.instance.booleanNode(false);
      default:
        return JsonNodeFactory.instance.nullNode();
    }
  }

  private static String escape(String name) {
    return name.replace("~", "~0").replace("/", "~1");
  }

  public JsonNode root() {
    return root;
  }

  /** {line, column} of the node at {@code pointer}, or of the nearest located ancestor. */
  public int[] location(String pointer) {
    String p = pointer;
    while (true) {
      int[] loc = locations.get(p);
      if (loc != null) {
        return loc;
      }
      if (p.isEmpty()) {
        return new int[] {1, 1};
      }
      p = p.substring(0, Math.max(0, p.lastIndexOf('/')));
    }
  }

  /** {line, column} of the key of the property at {@code pointer} (for "unknown key" errors). */
  public int[] keyLocation(String pointer) {
    int[] loc = locations.get(pointer + "#key");
    return loc != null ? loc : location(pointer);
  }

  /** A YAML document that does not parse. */
  public static final class YamlSyntaxException extends Exception {
    private static final long serialVersionUID = 1L;
    private final int line;
    private final int column;

    public YamlSyntaxException(String message, int line, int column) {
      super(message);
      this.line = line;
      this.column = column;
    }

    public int line() {
      return line;
    }

    public int column() {
      return column;
    }
  }
}
