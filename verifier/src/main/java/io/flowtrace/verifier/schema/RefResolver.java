package io.flowtrace.verifier.schema;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Resolves {@code $ref}s in documents that no library resolves for us (AsyncAPI): local ones
 * ({@code #/components/schemas/X}) and relative-file ones ({@code common.yaml#/X}, {@code
 * email.avsc}). Remote refs are refused. Errors name the document the load was for; locations in it
 * are shown as {@code #/pointer}, locations in other files as {@code other.yaml#/pointer}.
 */
final class RefResolver {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final Pattern URI_SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*:");
  private static final Pattern UNSAFE_NAME_CHARS = Pattern.compile("[^A-Za-z0-9_.-]");

  /** Keywords whose values are data, never schemas: refs inside them are not followed. */
  private static final Set<String> LITERAL_KEYWORDS =
      Set.of("enum", "const", "default", "examples", "example", "x-examples");

  /** Keywords whose values map names (which may look like keywords) to schemas. */
  private static final Set<String> NAME_MAP_KEYWORDS =
      Set.of("properties", "patternProperties", "definitions", "$defs", "dependentSchemas");

  /** A node and where it is: a file and a JSON pointer into it. */
  record Located(Path file, String pointer, JsonNode node) {
    Located child(String name) {
      return new Located(file, pointer + "/" + escape(name), node.get(name));
    }

    Located child(int index) {
      return new Located(file, pointer + "/" + index, node.get(index));
    }

    String key() {
      return file + "#" + pointer;
    }
  }

  private final Path baseDir;
  private final Documents documents;
  private final Path rootFile;
  private final String rootDisplay;

  RefResolver(Path baseDir, Documents documents, Path rootFile) {
    this.baseDir = baseDir;
    this.documents = documents;
    this.rootFile = rootFile.toAbsolutePath().normalize();
    this.rootDisplay = Documents.display(baseDir, rootFile);
  }

  /** How messages show a location: {@code #/a/b} in the root document, else {@code f.yaml#/a/b}. */
  String display(Path file, String pointer) {
    Path abs = file.toAbsolutePath().normalize();
    return (abs.equals(rootFile) ? "" : Documents.display(baseDir, abs)) + "#" + pointer;
  }

  String display(Located at) {
    return display(at.file(), at.pointer());
  }

  SchemaLoadException error(String detail) {
    return new SchemaLoadException(rootDisplay, detail);
  }

  /** The node at {@code pointer} of {@code file}, or {@code null} if there is none. */
  Located at(Path file, String pointer) throws SchemaLoadException {
    Path abs = file.toAbsolutePath().normalize();
    JsonNode doc = documents.read(abs, Documents.display(baseDir, abs));
    JsonNode node;
    try {
      node = doc.at(pointer);
    } catch (IllegalArgumentException e) {
      return null;
    }
    return node == null || node.isMissingNode() ? null : new Located(abs, pointer, node);
  }

  static boolean isRef(JsonNode node) {
    return node != null && node.isObject() && node.has("$ref") && node.get("$ref").isString();
  }

  /**
   * Follows {@code start} through {@code $ref}s until a node that is not a reference.
   *
   * @throws SchemaLoadException on a reference to nothing, a remote reference, or a cycle
   */
  Located follow(Located start) throws SchemaLoadException {
    if (!isRef(start.node())) {
      return start;
    }
    List<String> chain = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    chain.add(display(start));
    seen.add(start.key());
    Located current = start;
    while (isRef(current.node())) {
      Located target = target(current);
      chain.add(display(target));
      if (!seen.add(target.key())) {
        throw error("$ref cycle: " + String.join(" -> ", chain));
      }
      current = target;
    }
    return current;
  }

  /** Where the {@code $ref} of {@code at} points. */
  private Located target(Located at) throws SchemaLoadException {
    String ref = at.node().get("$ref").stringValue();
    int hash = ref.indexOf('#');
    String filePart = hash < 0 ? ref : ref.substring(0, hash);
    String fragment = hash < 0 ? "" : decode(ref.substring(hash + 1));
    if (URI_SCHEME.matcher(filePart).find()) {
      throw error(
          "$ref '"
              + ref
              + "' at "
              + display(at)
              + " is not supported: only local (#/...) and relative-file refs are resolved");
    }
    if (!fragment.isEmpty() && !fragment.startsWith("/")) {
      throw error(
          "$ref '" + ref + "' at " + display(at) + " is not supported: the fragment must be a JSON pointer");
    }
    Path file =
        filePart.isEmpty()
            ? at.file()
            : at.file().toAbsolutePath().getParent().resolve(decode(filePart)).normalize();
    Located target;
    try {
      target = at(file, fragment);
    } catch (SchemaLoadException e) {
      throw new SchemaLoadException(
          rootDisplay, "$ref '" + ref + "' at " + display(at) + " cannot be read: " + e.getMessage(), e);
    }
    if (target == null) {
      throw error("$ref '" + ref + "' at " + display(at) + " points to nothing");
    }
    return target;
  }

  /**
   * A copy of the schema at {@code root} that needs no other document: every {@code $ref} is
   * rewritten to {@code #/<defsKeyword>/<name>}, and each schema referenced is copied (once) under
   * that keyword of the result. Recursive schemas stay recursive; chains of refs that never reach a
   * schema are reported as cycles.
   */
  JsonNode selfContained(Located root, String defsKeyword) throws SchemaLoadException {
    Located start = follow(root);
    Rewrite rewrite = new Rewrite(defsKeyword, start.node().get(defsKeyword));
    JsonNode out = rewrite.copy(start, false);
    if (rewrite.definitions.isEmpty()) {
      return out;
    }
    ObjectNode container;
    JsonNode existing = out.get(defsKeyword);
    if (existing instanceof ObjectNode existingObject) {
      container = existingObject;
    } else {
      container = ((ObjectNode) out).putObject(defsKeyword);
    }
    container.setAll(rewrite.definitions);
    return out;
  }

  private final class Rewrite {
    final String defsKeyword;
    final Set<String> takenNames = new HashSet<>();
    final Map<String, String> names = new HashMap<>();
    final Deque<Located> pending = new ArrayDeque<>();
    final Map<String, JsonNode> definitions = new LinkedHashMap<>();

    Rewrite(String defsKeyword, JsonNode existingDefinitions) {
      this.defsKeyword = defsKeyword;
      if (existingDefinitions != null && existingDefinitions.isObject()) {
        takenNames.addAll(existingDefinitions.propertyNames());
      }
    }

    JsonNode copy(Located at, boolean namesLevel) throws SchemaLoadException {
      JsonNode copied = copyNode(at, namesLevel);
      while (!pending.isEmpty()) {
        Located next = pending.removeFirst();
        definitions.put(names.get(next.key()), copyNode(next, false));
      }
      return copied;
    }

    private JsonNode copyNode(Located at, boolean namesLevel) throws SchemaLoadException {
      JsonNode node = at.node();
      if (node.isObject()) {
        ObjectNode out = NODES.objectNode();
        boolean ref = !namesLevel && isRef(node);
        if (ref) {
          out.put("$ref", "#/" + defsKeyword + "/" + nameFor(follow(at)));
        }
        for (String name : node.propertyNames()) {
          if (ref && name.equals("$ref")) {
            continue;
          }
          JsonNode child = node.get(name);
          if (!namesLevel && LITERAL_KEYWORDS.contains(name)) {
            out.set(name, child.deepCopy());
          } else {
            boolean childNames = !namesLevel && NAME_MAP_KEYWORDS.contains(name);
            out.set(name, copyNode(at.child(name), childNames));
          }
        }
        return out;
      }
      if (node.isArray()) {
        ArrayNode out = NODES.arrayNode();
        for (int i = 0; i < node.size(); i++) {
          out.add(copyNode(at.child(i), false));
        }
        return out;
      }
      return node;
    }

    private String nameFor(Located target) {
      String existing = names.get(target.key());
      if (existing != null) {
        return existing;
      }
      String pointer = target.pointer();
      String base =
          pointer.isEmpty()
              ? stem(target.file())
              : unescape(pointer.substring(pointer.lastIndexOf('/') + 1));
      base = UNSAFE_NAME_CHARS.matcher(base).replaceAll("_");
      if (base.isEmpty()) {
        base = "ref";
      }
      String name = base;
      for (int i = 2; !takenNames.add(name); i++) {
        name = base + "_" + i;
      }
      names.put(target.key(), name);
      pending.addLast(target);
      return name;
    }
  }

  /**
   * A copy of the node at {@code root} with every {@code $ref} replaced by (a copy of) what it
   * points to. For schema languages without references of their own (Avro in AsyncAPI).
   *
   * @throws SchemaLoadException on any cycle, since a fully inlined tree cannot have one
   */
  JsonNode inlined(Located root) throws SchemaLoadException {
    return inline(root, new LinkedHashSet<>(), new ArrayList<>());
  }

  private JsonNode inline(Located at, Set<String> stack, List<String> chain)
      throws SchemaLoadException {
    JsonNode node = at.node();
    if (isRef(node)) {
      Located target = follow(at);
      if (!stack.add(target.key())) {
        List<String> cycle = new ArrayList<>(chain);
        cycle.add(display(target));
        throw error("$ref cycle: " + String.join(" -> ", cycle));
      }
      chain.add(display(target));
      JsonNode out = inline(target, stack, chain);
      chain.remove(chain.size() - 1);
      stack.remove(target.key());
      return out;
    }
    if (node.isObject()) {
      ObjectNode out = NODES.objectNode();
      for (String name : node.propertyNames()) {
        out.set(name, inline(at.child(name), stack, chain));
      }
      return out;
    }
    if (node.isArray()) {
      ArrayNode out = NODES.arrayNode();
      for (int i = 0; i < node.size(); i++) {
        out.add(inline(at.child(i), stack, chain));
      }
      return out;
    }
    return node;
  }

  static String escape(String token) {
    return token.replace("~", "~0").replace("/", "~1");
  }

  static String unescape(String token) {
    return token.replace("~1", "/").replace("~0", "~");
  }

  private static String decode(String uriPart) {
    if (uriPart.indexOf('%') < 0) {
      return uriPart;
    }
    try {
      return URLDecoder.decode(uriPart.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return uriPart;
    }
  }

  private static String stem(Path file) {
    String name = file.getFileName().toString();
    int dot = name.indexOf('.');
    return dot > 0 ? name.substring(0, dot) : name;
  }
}
