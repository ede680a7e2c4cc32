package io.flowtrace.verifier.schema;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Reads schema documents (JSON, YAML, Avro {@code .avsc}) into Jackson trees, once per file. Not
 * thread-safe: its owner, {@link SchemaLoader}, serializes access.
 */
final class Documents {
  private final Map<Path, JsonNode> trees = new HashMap<>();

  /**
   * The tree of {@code file}.
   *
   * @param display how messages name the file (relative to the flow spec's directory)
   */
  JsonNode read(Path file, String display) throws SchemaLoadException {
    Path key = file.toAbsolutePath().normalize();
    JsonNode cached = trees.get(key);
    if (cached != null) {
      return cached;
    }
    if (!Files.isRegularFile(key)) {
      throw new SchemaLoadException(display, "no such file (looked for " + key + ")");
    }
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(key);
    } catch (IOException e) {
      throw new SchemaLoadException(display, "cannot read: " + e, e);
    }
    boolean json = isJsonFile(key);
    JsonNode tree;
    try {
      tree = (json ? Json.JSON : Json.YAML).readTree(bytes);
    } catch (JacksonException e) {
      throw new SchemaLoadException(
          display, "not valid " + (json ? "JSON" : "YAML") + ": " + Json.describe(e), e);
    }
    if (tree == null || tree.isMissingNode() || tree.isNull()) {
      throw new SchemaLoadException(display, "empty file");
    }
    trees.put(key, tree);
    return tree;
  }

  static boolean isJsonFile(Path file) {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    return name.endsWith(".json") || name.endsWith(".avsc");
  }

  static boolean isAvroFile(Path file) {
    return file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".avsc");
  }

  /** {@code file} relative to {@code baseDir} with '/' separators, or absolute if outside it. */
  static String display(Path baseDir, Path file) {
    Path base = baseDir.toAbsolutePath().normalize();
    Path abs = file.toAbsolutePath().normalize();
    if (abs.startsWith(base)) {
      return base.relativize(abs).toString().replace('\\', '/');
    }
    return abs.toString();
  }
}
