package io.flowtrace.verifier.spec.internal;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
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
  private final String[] lines;

  private LocatedYaml(JsonNode root, Map<String, int[]> locations, String text) {
    this.root = root;
    this.locations = locations;
    this.lines = text.split("\r?\n|\r", -1);
  }

  /** Parses a file; a syntax error becomes {@link YamlSyntaxException} with line and column. */
  public static LocatedYaml read(Path file) throws IOException, YamlSyntaxException {
    return read(Files.readString(file));
  }

  public static LocatedYaml read(Reader reader) throws IOException, YamlSyntaxException {
    StringBuilder text = new StringBuilder();
    char[] buffer = new char[8192];
    for (int n; (n = reader.read(buffer)) >= 0; ) {
      text.append(buffer, 0, n);
    }
    return read(text.toString());
  }

  /** Parses YAML text; a syntax error becomes {@link YamlSyntaxException} with line and column. */
  public static LocatedYaml read(String text) throws YamlSyntaxException {
    Map<String, int[]> locations = new HashMap<>();
    try (JsonParser parser = FACTORY.createParser(tools.jackson.core.ObjectReadContext.empty(), new StringReader(text))) {
      JsonToken token = parser.nextToken();
      if (token == null) {
        return new LocatedYaml(JsonNodeFactory.instance.nullNode(), locations, text);
      }
      JsonNode root = readValue(parser, "", locations);
      return new LocatedYaml(root, locations, text);
    } catch (JacksonException e) {
      throw syntaxError(e, text);
    }
  }

  /**
   * One problem at one place. SnakeYAML says where it stopped ("problem") and what it was reading
   * ("context"); an unclosed bracket or quote is a mistake where it opened, anything else where
   * the parser stopped.
   */
  private static YamlSyntaxException syntaxError(JacksonException e, String text) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof MarkedYamlEngineException marked && marked.getProblemMark().isPresent()) {
        Mark problem = marked.getProblemMark().get();
        String context = marked.getContext();
        String what = plain(marked.getProblem());
        String closed = closedBefore(text, problem);
        if (closed != null && marked.getProblem() != null && marked.getProblem().strip().startsWith("expected <block end>")) {
          what = "text after the closing " + closed + ": remove it, or put it inside";
        }
        Mark opened = marked.getContextMark().orElse(null);
        if (context != null && opened != null && opened.getLine() != problem.getLine()) {
          String unclosed = context.contains("flow sequence") ? "this '[' is not closed by a ']'"
              : context.contains("flow mapping") ? "this '{' is not closed by a '}'"
              : context.contains("quoted scalar") ? "this quoted string is not closed"
              : null;
          if (unclosed != null) {
            return new YamlSyntaxException(unclosed + " (" + what + ")", opened.getLine() + 1, opened.getColumn() + 1);
          }
        }
        boolean explained = !what.equals(marked.getProblem().strip());
        return new YamlSyntaxException(what + (context == null || explained ? "" : " (" + context.strip() + ")"),
            problem.getLine() + 1, problem.getColumn() + 1);
      }
    }
    TokenStreamLocation loc = e.getLocation();
    int line = loc == null ? 0 : loc.getLineNr();
    int column = loc == null ? 0 : loc.getColumnNr();
    return new YamlSyntaxException(e.getOriginalMessage(), line, column);
  }

  /**
   * The bracket or quote that closes a value right before {@code at} on its line ({@code ']'} of
   * {@code add: [a, b] extra}), described; {@code null} when something else comes before it.
   */
  private static String closedBefore(String text, Mark at) {
    String[] lines = text.split("\r?\n", -1);
    if (at.getLine() < 0 || at.getLine() >= lines.length) {
      return null;
    }
    String line = lines[at.getLine()];
    String before = line.substring(0, Math.min(at.getColumn(), line.length())).stripTrailing();
    if (before.isEmpty()) {
      return null;
    }
    return switch (before.charAt(before.length() - 1)) {
      case ']' -> "']' of a list";
      case '}' -> "'}' of a mapping";
      case '"', '\'' -> "quote of a string";
      default -> null;
    };
  }

  private static String plain(String problem) {
    if (problem == null) {
      return "cannot be read";
    }
    String p = problem.strip();
    if (p.contains("\\t(TAB)")) {
      return "a tab cannot indent YAML: indent with spaces";
    }
    if (p.startsWith("expected <block end>")) {
      return "this line is indented differently from the lines of its block";
    }
    if (p.startsWith("mapping values are not allowed here")) {
      return "a ': ' inside a plain value: put the value in quotes";
    }
    return p;
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

  /**
   * {line, column} of the character at {@code offset} of the string value at {@code pointer}, in
   * the file: plain, quoted (escapes and doubled quotes counted as written) and block scalars
   * ({@code |}, {@code >}), over several lines too. Where the text cannot be followed, the nearest
   * place it could be.
   */
  public int[] valueLocation(String pointer, int offset) {
    int[] start = location(pointer);
    JsonNode node = root.at(pointer.isEmpty() ? "" : pointer);
    if (node == null || !node.isString() || start[0] < 1 || start[0] > lines.length) {
      return start;
    }
    String value = node.stringValue();
    int line = start[0] - 1;
    int col = start[1] - 1;
    String first = lines[line];
    if (col >= first.length()) {
      return start;
    }
    char style = first.charAt(col);
    boolean block = style == '|' || style == '>';
    boolean doubleQuoted = style == '"';
    boolean singleQuoted = style == '\'';
    int indent = 0;
    if (block) {
      line++;
      while (line < lines.length && lines[line].isBlank()) {
        line++;
      }
      if (line >= lines.length) {
        return start;
      }
      indent = leadingSpaces(lines[line]);
      line = start[0]; // leading blank lines are '\n's of the value
      col = Math.min(indent, lines[line].length());
    } else if (doubleQuoted || singleQuoted) {
      col++;
    }
    int i = 0;
    int target = Math.min(offset, value.length());
    while (i < target && line < lines.length) {
      String text = lines[line];
      if (col >= text.length()) {
        // a line break: one '\n' (literal) or ' ' (folded) in the value; blank lines are '\n's
        if (line + 1 >= lines.length) {
          break;
        }
        boolean escapedBreak = doubleQuoted && text.endsWith("\\") && col > text.length();
        if (!escapedBreak && (value.charAt(i) == ' ' || value.charAt(i) == '\n')) {
          i++;
        }
        line++;
        while (!block && i < target && line + 1 < lines.length && lines[line].isBlank() && value.charAt(i) == '\n') {
          i++;
          line++;
        }
        col = block ? Math.min(indent, lines[line].length()) : leadingSpaces(lines[line]);
        continue;
      }
      char c = text.charAt(col);
      char v = value.charAt(i);
      if (doubleQuoted && c == '\\') {
        char next = col + 1 < text.length() ? text.charAt(col + 1) : '\n';
        if (next == '\n') {
          col += 2; // an escaped line break adds nothing
          continue;
        }
        col += next == 'x' ? 4 : next == 'u' ? 6 : next == 'U' ? 10 : 2;
        i++;
        continue;
      }
      if (singleQuoted && c == '\'' && col + 1 < text.length() && text.charAt(col + 1) == '\'') {
        col += 2;
        i++;
        continue;
      }
      if (c == v) {
        col++;
        i++;
        continue;
      }
      if (Character.isWhitespace(c)) {
        col++; // folded spaces
        continue;
      }
      break;
    }
    return new int[] {line + 1, col + 1};
  }

  private static int leadingSpaces(String line) {
    int n = 0;
    while (n < line.length() && line.charAt(n) == ' ') {
      n++;
    }
    return n;
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
