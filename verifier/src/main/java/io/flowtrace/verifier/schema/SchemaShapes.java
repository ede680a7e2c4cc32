package io.flowtrace.verifier.schema;

import io.flowtrace.verifier.schema.PayloadShape.Type;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import tools.jackson.databind.JsonNode;

/**
 * Derives {@link PayloadShape}s from JSON Schemas and Avro schemas. What a schema expresses that a
 * shape cannot ({@code if}/{@code then}, {@code not}, remote or anchor refs) makes the shape less
 * precise, never wrong: where it cannot tell, the shape is {@link PayloadShape#unknown()}. Not
 * thread-safe (used under {@link SchemaLoader}'s lock).
 */
final class SchemaShapes {
  /** Deeper than this a schema is not followed (a guard against pathological nesting). */
  private static final int MAX_DEPTH = 64;

  private static final Pattern URI_SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*:");

  private final Documents documents;

  SchemaShapes(Documents documents) {
    this.documents = documents;
  }

  /** A document a schema sits in: its file (null for a built, self-contained document) and root. */
  private record Doc(Path file, JsonNode root) {}

  /**
   * The shape of the JSON Schema {@code schema}, whose local refs point into {@code root} and
   * relative-file refs are relative to {@code file} (null: none are resolved).
   */
  PayloadShape ofJsonSchema(Path file, JsonNode root, JsonNode schema) {
    try {
      return new JsonBuild().build(schema, new Doc(file, root), 0);
    } catch (RuntimeException e) {
      return PayloadShape.unknown();
    }
  }

  /** The shape of payloads of the Avro schema {@code schema}, once decoded to JSON. */
  static PayloadShape ofAvro(org.apache.avro.Schema schema) {
    try {
      return avro(schema, new LinkedHashMap<>(), 0);
    } catch (RuntimeException e) {
      return PayloadShape.unknown();
    }
  }

  private final class JsonBuild {
    private final Map<JsonNode, PayloadShape> refs = new IdentityHashMap<>();

    PayloadShape build(JsonNode node, Doc doc, int depth) {
      if (node == null || !node.isObject() || depth > MAX_DEPTH) {
        return PayloadShape.unknown();
      }
      List<PayloadShape> parts = new ArrayList<>();
      PayloadShape own = own(node, doc, depth);
      if (!own.isEmptyPart()) {
        parts.add(own); // a bare {$ref: …} is its target itself (which may still be in the making)
      }
      JsonNode ref = node.get("$ref");
      if (ref != null && ref.isString()) {
        parts.add(ref(ref.stringValue(), doc, depth));
      }
      JsonNode all = node.get("allOf");
      if (all != null && all.isArray()) {
        for (JsonNode branch : all) {
          parts.add(build(branch, doc, depth + 1));
        }
      }
      for (String keyword : new String[] {"anyOf", "oneOf"}) {
        JsonNode some = node.get(keyword);
        if (some != null && some.isArray()) {
          List<PayloadShape> branches = new ArrayList<>();
          for (JsonNode branch : some) {
            branches.add(build(branch, doc, depth + 1));
          }
          parts.add(PayloadShape.anyOf(branches));
        }
      }
      // Conditional branches constrain some payloads only: their fields exist, their types and
      // closedness say nothing about the others.
      for (String keyword : new String[] {"then", "else"}) {
        JsonNode branch = node.get(keyword);
        if (branch != null && branch.isObject()) {
          PayloadShape b = build(branch, doc, depth + 1);
          PayloadShape fieldsOnly = PayloadShape.of(Set.of());
          fieldsOnly.setProperties(b.properties());
          parts.add(fieldsOnly);
        }
      }
      return parts.isEmpty() ? PayloadShape.unknown() : allOf(parts);
    }

    private PayloadShape ref(String ref, Doc doc, int depth) {
      int hash = ref.indexOf('#');
      String filePart = hash < 0 ? ref : ref.substring(0, hash);
      String fragment = hash < 0 ? "" : URLDecoder.decode(ref.substring(hash + 1), StandardCharsets.UTF_8);
      if (!fragment.isEmpty() && !fragment.startsWith("/")) {
        return PayloadShape.unknown(); // an anchor
      }
      Doc target = doc;
      if (!filePart.isEmpty()) {
        if (URI_SCHEME.matcher(filePart).find() || doc.file() == null) {
          return PayloadShape.unknown();
        }
        Path file = doc.file().toAbsolutePath().getParent().resolve(filePart).normalize();
        try {
          target = new Doc(file, documents.read(file, file.toString()));
        } catch (SchemaLoadException e) {
          return PayloadShape.unknown();
        }
      }
      JsonNode node;
      try {
        node = target.root().at(fragment);
      } catch (IllegalArgumentException e) {
        return PayloadShape.unknown();
      }
      if (node == null || node.isMissingNode()) {
        return PayloadShape.unknown();
      }
      PayloadShape known = refs.get(node);
      if (known != null) {
        return known; // recursive: complete once the outer build returns
      }
      PayloadShape placeholder = new PayloadShape();
      refs.put(node, placeholder);
      placeholder.adopt(build(node, target, depth + 1));
      return placeholder;
    }

    /** What the schema's own keywords say (not its refs and combinators). */
    private PayloadShape own(JsonNode node, Doc doc, int depth) {
      Set<Type> types = EnumSet.noneOf(Type.class);
      JsonNode type = node.get("type");
      if (type != null) {
        for (JsonNode t : type.isArray() ? type : List.of(type)) {
          Type parsed = t.isString() ? jsonType(t.stringValue()) : null;
          if (parsed != null) {
            types.add(parsed);
          }
        }
        JsonNode nullable = node.get("nullable"); // OpenAPI 3.0
        if (nullable != null && nullable.isBoolean() && nullable.booleanValue() && !types.isEmpty()) {
          types.add(Type.NULL);
        }
      }
      List<Object> enumValues = null;
      JsonNode en = node.get("enum");
      if (en != null && en.isArray()) {
        enumValues = new ArrayList<>();
        for (JsonNode v : en) {
          enumValues.add(value(v));
        }
      }
      JsonNode constant = node.get("const");
      if (constant != null) {
        enumValues = new ArrayList<>();
        enumValues.add(value(constant));
      }
      boolean objectKeywords = node.has("properties") || node.has("patternProperties")
          || node.has("additionalProperties") || node.has("unevaluatedProperties");
      boolean arrayKeywords = node.has("items") || node.has("prefixItems");
      if (type == null) {
        if (objectKeywords) {
          types.add(Type.OBJECT);
        }
        if (arrayKeywords) {
          types.add(Type.ARRAY);
        }
        if (enumValues != null) {
          for (Object v : enumValues) {
            types.add(typeOfValue(v));
          }
        }
      }
      PayloadShape shape = PayloadShape.of(types);
      shape.setEnumValues(enumValues);

      Map<String, PayloadShape> properties = new LinkedHashMap<>();
      JsonNode props = node.get("properties");
      if (props != null && props.isObject()) {
        for (Map.Entry<String, JsonNode> p : props.properties()) {
          properties.put(p.getKey(), build(p.getValue(), doc, depth + 1));
        }
      }
      shape.setProperties(properties);
      List<Map.Entry<Pattern, PayloadShape>> patterns = new ArrayList<>();
      boolean badPattern = false;
      JsonNode pp = node.get("patternProperties");
      if (pp != null && pp.isObject()) {
        for (Map.Entry<String, JsonNode> p : pp.properties()) {
          try {
            patterns.add(new AbstractMap.SimpleImmutableEntry<>(
                Pattern.compile(p.getKey()), build(p.getValue(), doc, depth + 1)));
          } catch (PatternSyntaxException e) {
            badPattern = true; // ECMA-262 syntax Java does not read: allow any field
          }
        }
      }
      shape.setPatternProperties(patterns);
      JsonNode additional = node.get("additionalProperties");
      if (additional == null) {
        additional = node.get("unevaluatedProperties");
      }
      boolean declares = !properties.isEmpty() || !patterns.isEmpty() || additional != null;
      shape.setDeclaresFields(declares);
      if (badPattern || additional != null && additional.isBoolean() && additional.booleanValue()) {
        shape.setAdditionalProperties(PayloadShape.unknown());
      } else if (additional != null && additional.isObject()) {
        shape.setAdditionalProperties(build(additional, doc, depth + 1));
      }

      List<PayloadShape> items = new ArrayList<>();
      JsonNode prefix = node.get("prefixItems");
      if (prefix != null && prefix.isArray()) {
        prefix.forEach(p -> items.add(build(p, doc, depth + 1)));
      }
      JsonNode it = node.get("items");
      if (it != null && it.isObject()) {
        items.add(build(it, doc, depth + 1));
      } else if (it != null && it.isArray()) {
        it.forEach(p -> items.add(build(p, doc, depth + 1)));
      }
      boolean itemsUnknown = it != null && it.isBoolean() || prefix != null && it == null;
      shape.setItems(items.isEmpty() || itemsUnknown ? null : PayloadShape.anyOf(items));
      return shape;
    }
  }

  /** Everything the parts say together ({@code allOf}, or a schema's keywords next to its {@code $ref}). */
  static PayloadShape allOf(List<PayloadShape> parts) {
    if (parts.size() == 1) {
      return parts.get(0);
    }
    Set<Type> types = null;
    Set<Type> union = EnumSet.noneOf(Type.class);
    Map<String, List<PayloadShape>> props = new LinkedHashMap<>();
    List<Map.Entry<Pattern, PayloadShape>> patterns = new ArrayList<>();
    boolean declares = false;
    List<PayloadShape> additional = new ArrayList<>();
    List<PayloadShape> items = new ArrayList<>();
    List<Object> enumValues = null;
    for (PayloadShape p : parts) {
      if (!p.types().isEmpty()) {
        union.addAll(p.types());
        types = types == null ? EnumSet.copyOf(p.types()) : intersect(types, p.types());
      }
      p.properties().forEach((k, v) -> props.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
      patterns.addAll(p.patternProperties());
      if (p.declaresFields()) {
        declares = true;
        if (p.otherFields() != null) {
          additional.add(p.otherFields());
        }
      }
      if (p.rawItems() != null) {
        items.add(p.rawItems());
      }
      if (p.enumValues() != null) {
        if (enumValues == null) {
          enumValues = new ArrayList<>(p.enumValues());
        } else {
          List<Object> both = new ArrayList<>(enumValues);
          both.retainAll(p.enumValues());
          enumValues = both.isEmpty() ? enumValues : both;
        }
      }
    }
    Set<Type> resolved = types == null ? Set.of() : types.isEmpty() ? union : types;
    PayloadShape out = PayloadShape.of(resolved);
    Map<String, PayloadShape> merged = new LinkedHashMap<>();
    props.forEach((k, v) -> merged.put(k, allOf(v)));
    out.setProperties(merged);
    out.setPatternProperties(patterns);
    out.setDeclaresFields(declares);
    out.setAdditionalProperties(additional.isEmpty() ? null : allOf(additional));
    out.setItems(items.isEmpty() ? null : allOf(items));
    out.setEnumValues(enumValues);
    return out;
  }

  private static Set<Type> intersect(Set<Type> a, Set<Type> b) {
    Set<Type> out = EnumSet.noneOf(Type.class);
    for (Type t : a) {
      if (b.contains(t)) {
        out.add(t);
      } else if (t == Type.INTEGER && b.contains(Type.NUMBER) || t == Type.NUMBER && b.contains(Type.INTEGER)) {
        out.add(Type.INTEGER);
      }
    }
    return out;
  }

  private static Type jsonType(String name) {
    return switch (name) {
      case "object" -> Type.OBJECT;
      case "array" -> Type.ARRAY;
      case "string" -> Type.STRING;
      case "number" -> Type.NUMBER;
      case "integer" -> Type.INTEGER;
      case "boolean" -> Type.BOOLEAN;
      case "null" -> Type.NULL;
      default -> null;
    };
  }

  /** A JSON value as the shape keeps enum values: String, Double, Boolean, null, or the node. */
  private static Object value(JsonNode v) {
    if (v.isString()) {
      return v.stringValue();
    }
    if (v.isNumber()) {
      return v.doubleValue();
    }
    if (v.isBoolean()) {
      return v.booleanValue();
    }
    if (v.isNull()) {
      return null;
    }
    return v;
  }

  private static Type typeOfValue(Object v) {
    if (v == null) {
      return Type.NULL;
    }
    if (v instanceof String) {
      return Type.STRING;
    }
    if (v instanceof Double) {
      return Type.NUMBER;
    }
    if (v instanceof Boolean) {
      return Type.BOOLEAN;
    }
    return ((JsonNode) v).isArray() ? Type.ARRAY : Type.OBJECT;
  }

  private static PayloadShape avro(org.apache.avro.Schema schema, Map<String, PayloadShape> named, int depth) {
    if (depth > MAX_DEPTH) {
      return PayloadShape.unknown();
    }
    switch (schema.getType()) {
      case RECORD: {
        PayloadShape known = named.get(schema.getFullName());
        if (known != null) {
          return known;
        }
        PayloadShape shape = PayloadShape.of(Set.of(Type.OBJECT));
        named.put(schema.getFullName(), shape);
        Map<String, PayloadShape> fields = new LinkedHashMap<>();
        for (org.apache.avro.Schema.Field f : schema.getFields()) {
          fields.put(f.name(), avro(f.schema(), named, depth + 1));
        }
        shape.setProperties(fields);
        shape.setDeclaresFields(true);
        return shape;
      }
      case MAP: {
        PayloadShape shape = PayloadShape.of(Set.of(Type.OBJECT));
        shape.setDeclaresFields(true);
        shape.setAdditionalProperties(avro(schema.getValueType(), named, depth + 1));
        return shape;
      }
      case ARRAY: {
        PayloadShape shape = PayloadShape.of(Set.of(Type.ARRAY));
        shape.setItems(avro(schema.getElementType(), named, depth + 1));
        return shape;
      }
      case UNION: {
        List<PayloadShape> branches = new ArrayList<>();
        for (org.apache.avro.Schema branch : schema.getTypes()) {
          branches.add(avro(branch, named, depth + 1));
        }
        return PayloadShape.anyOf(branches);
      }
      case ENUM: {
        PayloadShape shape = PayloadShape.of(Set.of(Type.STRING));
        shape.setEnumValues(new ArrayList<>(schema.getEnumSymbols()));
        return shape;
      }
      case STRING:
        return PayloadShape.of(Set.of(Type.STRING));
      case BYTES:
      case FIXED:
        // base64 text, or a number when a decimal (see AvroJson)
        return PayloadShape.of(Set.of(
            schema.getLogicalType() instanceof org.apache.avro.LogicalTypes.Decimal ? Type.NUMBER : Type.STRING));
      case INT:
      case LONG:
        return PayloadShape.of(Set.of(Type.INTEGER));
      case FLOAT:
      case DOUBLE:
        return PayloadShape.of(Set.of(Type.NUMBER));
      case BOOLEAN:
        return PayloadShape.of(Set.of(Type.BOOLEAN));
      case NULL:
        return PayloadShape.of(Set.of(Type.NULL));
      default:
        return PayloadShape.unknown();
    }
  }
}
