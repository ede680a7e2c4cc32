package io.flowtrace.verifier.schema;

import java.util.List;
import tools.jackson.core.JacksonException;
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

  private static DecodedPayload notJson(String reason) {
    return new DecodedPayload(null, List.of(new SchemaProblem("$", "not valid JSON: " + reason)));
  }

  /**
   * What a Jackson parse failure says, on one line, with its line and column: {@code Unexpected
   * character ('}' (code 125)): expected a value (line 2, column 7)}.
   */
  static String describe(JacksonException e) {
    String message = e.getOriginalMessage();
    if (message == null) {
      message = e.getClass().getSimpleName();
    } else if (message.startsWith("Trailing token")) {
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
