package io.flowtrace.verifier.schema;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What a schema says about the structure of its payloads, as much as a flow spec's field paths and
 * CEL rules need to be checked at load time: the JSON types a value may have, an object's fields,
 * an array's elements, the values an enum allows. Derived from a JSON Schema (also an AsyncAPI
 * message's payload) from its {@code type}, {@code properties}, {@code patternProperties}, {@code
 * additionalProperties}, {@code items}, {@code enum}/{@code const}, {@code $ref} and the {@code
 * allOf}/{@code anyOf}/{@code oneOf} combinators; or from an Avro schema (records, arrays, maps,
 * enums, unions, primitives), as the payload looks once decoded to JSON.
 *
 * <p><b>Which fields exist.</b> An object that declares {@code properties} (or {@code
 * patternProperties}) has exactly those fields, unless {@code additionalProperties} says otherwise
 * ({@code true} or a schema: other fields exist too). An object that declares no fields at all may
 * have any. Avro records have exactly their fields.
 *
 * <p>A shape that says nothing ({@link #unknown()}) lets every path and every use through: when the
 * schema cannot tell, nothing is reported. Shapes may be recursive (a schema that refers to itself);
 * they are immutable once built and thread-safe.
 */
public final class PayloadShape {

  /** The JSON types of a value. */
  public enum Type {
    OBJECT, ARRAY, STRING, NUMBER, INTEGER, BOOLEAN, NULL;

    /** How a message names it: {@code an object}, {@code a string}, … */
    public String article() {
      return switch (this) {
        case OBJECT -> "an object";
        case ARRAY -> "an array";
        case STRING -> "a string";
        case NUMBER -> "a number";
        case INTEGER -> "an integer";
        case BOOLEAN -> "a boolean";
        case NULL -> "null";
      };
    }
  }

  private static final PayloadShape UNKNOWN = new PayloadShape();

  // Set while the shape is built (a recursive schema refers to a shape before it is complete);
  // never changed afterwards.
  private Set<Type> types = Set.of();
  private Map<String, PayloadShape> properties = Map.of();
  private List<Map.Entry<Pattern, PayloadShape>> patternProperties = List.of();
  private PayloadShape additionalProperties;
  private boolean declaresFields;
  private PayloadShape items;
  private List<Object> enumValues;

  PayloadShape() {}

  /** A shape that says nothing: every path and every use is possible. */
  public static PayloadShape unknown() {
    return UNKNOWN;
  }

  /** The JSON types a value may have; empty when the schema does not say. */
  public Set<Type> types() {
    return types;
  }

  /** Whether the schema says nothing about the value's type. */
  public boolean isUnknown() {
    return types.isEmpty();
  }

  /** Whether a value may be of this type (always, when the type is unknown). */
  public boolean mayBe(Type type) {
    return types.isEmpty()
        || types.contains(type)
        || (type == Type.INTEGER && types.contains(Type.NUMBER));
  }

  /**
   * Whether the fields of this object are known: then a field that {@link #field} does not find
   * does not exist. False for objects that declare no fields or allow any others.
   */
  public boolean fieldsKnown() {
    return declaresFields && additionalProperties == null;
  }

  /** Whether the object has exactly the fields {@link #fieldNames()} lists (no pattern or other ones). */
  public boolean fieldsListed() {
    return fieldsKnown() && patternProperties.isEmpty();
  }

  /** The declared fields (not pattern or additional ones), in declaration order. */
  public Set<String> fieldNames() {
    return properties.keySet();
  }

  /**
   * The shape of field {@code name}: a declared one, one matching a {@code patternProperties}
   * pattern, or what {@code additionalProperties} allows; {@code null} when {@link #fieldsKnown()}
   * and the schema does not declare it; {@link #unknown()} when the schema cannot tell.
   */
  public PayloadShape field(String name) {
    PayloadShape declared = properties.get(name);
    if (declared != null) {
      return declared;
    }
    for (Map.Entry<Pattern, PayloadShape> p : patternProperties) {
      if (p.getKey().matcher(name).find()) {
        return p.getValue();
      }
    }
    if (additionalProperties != null) {
      return additionalProperties;
    }
    return fieldsKnown() ? null : UNKNOWN;
  }

  /** The shape of other fields when the object allows any (a map), else {@code null}. */
  public PayloadShape otherFields() {
    return additionalProperties;
  }

  /** The shape of an array's elements ({@link #unknown()} when the schema does not say). */
  public PayloadShape items() {
    return items == null ? UNKNOWN : items;
  }

  /**
   * The values an {@code enum} or {@code const} (or an Avro enum) allows, as JSON values (String,
   * Double, Boolean, null); {@code null} when the value is not restricted to a list.
   */
  public List<Object> enumValues() {
    return enumValues;
  }

  @Override
  public String toString() {
    if (types.isEmpty()) {
      return "unknown";
    }
    List<String> names = new ArrayList<>();
    types.forEach(t -> names.add(t.name().toLowerCase(java.util.Locale.ROOT)));
    String s = String.join("|", names);
    if (!properties.isEmpty()) {
      s += properties.keySet();
    }
    return enumValues == null ? s : s + " enum " + enumValues;
  }

  // ---- building (package-private: only the schema readers build shapes) ----

  /** A new shape of these types, to be filled by a builder. */
  static PayloadShape of(Set<Type> types) {
    PayloadShape s = new PayloadShape();
    s.types = types.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(types));
    return s;
  }

  void setTypes(Set<Type> newTypes) {
    types = newTypes.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(newTypes));
  }

  void setProperties(Map<String, PayloadShape> newProperties) {
    properties = Collections.unmodifiableMap(new LinkedHashMap<>(newProperties));
  }

  void setPatternProperties(List<Map.Entry<Pattern, PayloadShape>> patterns) {
    patternProperties = List.copyOf(patterns);
  }

  /** {@code null}: only the declared fields; a shape: any other field, of that shape. */
  void setAdditionalProperties(PayloadShape additional) {
    additionalProperties = additional;
  }

  void setDeclaresFields(boolean declares) {
    declaresFields = declares;
  }

  void setItems(PayloadShape newItems) {
    items = newItems;
  }

  void setEnumValues(List<Object> values) {
    enumValues = values == null ? null : Collections.unmodifiableList(new ArrayList<>(values));
  }

  /** Takes over everything {@code built} says (completes a placeholder of a recursive schema). */
  void adopt(PayloadShape built) {
    types = built.types;
    properties = built.properties;
    patternProperties = built.patternProperties;
    additionalProperties = built.additionalProperties;
    declaresFields = built.declaresFields;
    items = built.items;
    enumValues = built.enumValues;
  }

  /** Whether the shape says nothing at all (an empty part of a combination). */
  boolean isEmptyPart() {
    return types.isEmpty() && properties.isEmpty() && patternProperties.isEmpty() && !declaresFields
        && additionalProperties == null && items == null && enumValues == null;
  }

  boolean declaresFields() {
    return declaresFields;
  }

  Map<String, PayloadShape> properties() {
    return properties;
  }

  List<Map.Entry<Pattern, PayloadShape>> patternProperties() {
    return patternProperties;
  }

  PayloadShape rawItems() {
    return items;
  }

  /**
   * A value that satisfies one of {@code shapes} ({@code anyOf}, {@code oneOf}, an Avro union):
   * any of their types, the fields any of them declares.
   */
  static PayloadShape anyOf(List<PayloadShape> shapes) {
    if (shapes.isEmpty()) {
      return UNKNOWN;
    }
    if (shapes.size() == 1) {
      return shapes.get(0);
    }
    Set<Type> types = EnumSet.noneOf(Type.class);
    boolean unknownType = false;
    Map<String, List<PayloadShape>> props = new LinkedHashMap<>();
    List<Map.Entry<Pattern, PayloadShape>> patterns = new ArrayList<>();
    List<PayloadShape> additional = new ArrayList<>();
    List<PayloadShape> items = new ArrayList<>();
    boolean anyItemsUnknown = false;
    boolean allDeclare = true;
    boolean anyOpen = false;
    LinkedHashSet<Object> enums = new LinkedHashSet<>();
    boolean allEnums = true;
    for (PayloadShape s : shapes) {
      unknownType |= s.types.isEmpty();
      types.addAll(s.types);
      s.properties.forEach((k, v) -> props.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
      patterns.addAll(s.patternProperties);
      boolean objectLike = s.types.isEmpty() || s.types.contains(Type.OBJECT);
      if (objectLike) {
        allDeclare &= s.declaresFields;
        if (s.additionalProperties != null) {
          anyOpen = true;
          additional.add(s.additionalProperties);
        }
      }
      if (s.types.isEmpty() || s.types.contains(Type.ARRAY)) {
        if (s.items == null) {
          anyItemsUnknown = true;
        } else {
          items.add(s.items);
        }
      }
      if (s.enumValues == null) {
        allEnums = false;
      } else {
        enums.addAll(s.enumValues);
      }
    }
    PayloadShape out = of(unknownType ? Set.of() : types);
    Map<String, PayloadShape> merged = new LinkedHashMap<>();
    props.forEach((k, v) -> merged.put(k, anyOf(v)));
    out.setProperties(merged);
    out.setPatternProperties(patterns);
    out.setDeclaresFields(allDeclare && (!merged.isEmpty() || !patterns.isEmpty() || anyOpen));
    out.setAdditionalProperties(anyOpen ? anyOf(additional) : null);
    if (!allDeclare) {
      out.setAdditionalProperties(null);
      out.setDeclaresFields(false);
    }
    out.setItems(anyItemsUnknown || items.isEmpty() ? null : anyOf(items));
    out.setEnumValues(allEnums ? new ArrayList<>(enums) : null);
    return out;
  }
}
