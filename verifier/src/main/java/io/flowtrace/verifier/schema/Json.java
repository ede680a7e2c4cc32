package io.flowtrace.verifier.schema;

import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.dataformat.yaml.YAMLMapper;

/** The Jackson 3 mappers this package shares, and turning parse failures into readable text. */
final class Json {
  /** Thread-safe and immutable (Jackson 3); fails on trailing tokens by default. */
  static final ObjectMapper JSON = JsonMapper.builder().build();

  static final ObjectMapper YAML = YAMLMapper.builder().build();

  private Json() {}

  /** Parses a payload; never throws. */
  static DecodedPayload parsePayload(byte[] bytes) {
    if (bytes == null || bytes.length == 0) {
      return notJson("empty payload");
    }
    JsonNode tree;
    try {
      tree = JSON.readTree(bytes);
    } catch (JacksonException e) {
      return notJson(describe(e));
    } catch (RuntimeException e) {
      return notJson(String.valueOf(e.getMessage()));
    }
    if (tree == null || tree.isMissingNode()) {
      return notJson("empty payload");
    }
    return new DecodedPayload(tree, List.of());
  }

  /**
   * {@link PayloadSchema#strings}: the string values at {@code paths} as {@link #parsePayload}'s
   * tree holds them (a repeated field's last value counts, as in the tree), walking the payload once
   * and skipping what no path enters; {@code null} when only the tree can tell.
   */
  static String[] strings(byte[] bytes, List<List<String>> paths) {
    if (bytes == null || bytes.length == 0) {
      return null;
    }
    int[] all = new int[paths.size()];
    for (int i = 0; i < all.length; i++) {
      if (paths.get(i).isEmpty()) {
        return null;
      }
      all[i] = i;
    }
    String[] values = new String[paths.size()];
    // A bare parser: the mapper's own would make a deserialization context for every payload.
    try (JsonParser p = JSON.tokenStreamFactory().createParser(tools.jackson.core.ObjectReadContext.empty(), bytes)) {
      if (p.nextToken() != JsonToken.START_OBJECT || !strings(p, paths, all, 0, values)) {
        return null;
      }
      return p.nextToken() == null ? values : null;
    } catch (RuntimeException e) {
      return null; // JacksonException among them: the tree tells how
    }
  }

  /** Reads the object the parser has just entered; the {@code live} paths matched its field names down to {@code depth}. */
  private static boolean strings(JsonParser p, List<List<String>> paths, int[] live, int depth, String[] values) {
    int[] here = new int[live.length];
    String name;
    while ((name = p.nextName()) != null) {
      JsonToken token = p.nextToken();
      int n = 0;
      for (int i : live) {
        if (paths.get(i).get(depth).equals(name)) {
          here[n++] = i;
          values[i] = null;
        }
      }
      if (n == 0 || token == JsonToken.START_ARRAY) {
        p.skipChildren();
      } else if (token == JsonToken.START_OBJECT) {
        int deeper = 0;
        for (int k = 0; k < n; k++) {
          if (paths.get(here[k]).size() > depth + 1) {
            here[deeper++] = here[k];
          }
        }
        if (deeper == 0) {
          p.skipChildren();
        } else if (!strings(p, paths, java.util.Arrays.copyOf(here, deeper), depth + 1, values)) {
          return false;
        }
      } else if (token != JsonToken.VALUE_NULL) {
        for (int k = 0; k < n; k++) {
          if (paths.get(here[k]).size() == depth + 1) {
            if (token != JsonToken.VALUE_STRING) {
              return false;
            }
            values[here[k]] = p.getString();
          }
        }
      }
    }
    return true;
  }

  private static DecodedPayload notJson(String reason) {
    return new DecodedPayload(null, List.of(new SchemaProblem("$", "not valid JSON: " + reason)));
  }

  /**
   * What a Jackson parse failure says, on one line, with its line and column: {@code Unexpected
   * character ('}' (code 125)): expected a value (line 2, column 7)}.
   */
  static String describe(JacksonException e) {
    String message = io.flowtrace.tracer.otlp.JacksonMessages.reason(e);
    if (message.startsWith("Trailing token")) {
      message = "unexpected data after the JSON value";
    } else if (message.indexOf('\n') >= 0) {
      message = condenseYamlMessage(message);
    }
    TokenStreamLocation location = e.getLocation();
    if (location != null && location.getLineNr() > 0) {
      message += " (line " + location.getLineNr() + ", column " + location.getColumnNr() + ")";
    }
    return message;
  }

  /** SnakeYAML messages span lines with source excerpts and carets; keep only the prose. */
  private static String condenseYamlMessage(String message) {
    StringBuilder out = new StringBuilder();
    for (String line : message.split("\n")) {
      if (line.isBlank() || Character.isWhitespace(line.charAt(0))) {
        continue;
      }
      if (out.length() > 0) {
        out.append(", ");
      }
      out.append(line.strip());
    }
    return out.length() == 0 ? message.strip() : out.toString();
  }

  /** A short rendering of a value for messages: compact JSON, cut at 80 characters. */
  static String brief(JsonNode node) {
    if (node == null || node.isMissingNode()) {
      return "nothing";
    }
    String text = node.toString();
    return text.length() <= 80 ? text : text.substring(0, 77) + "...";
  }
}
