package io.flowtrace.verifier.schema;

import com.networknt.schema.Error;
import com.networknt.schema.path.NodePath;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * Turns networknt validation errors into {@link SchemaProblem}s that say what was expected and
 * what was found, e.g. {@code $.items[0].quantity: must be >= 1 (was 0)}. Paths point at the
 * offending value; for a missing or unexpected property, at the property itself.
 */
final class JsonProblems {
  private static final Map<String, String> FORMAT_NAMES =
      Map.ofEntries(
          Map.entry("date-time", "an RFC 3339 date-time"),
          Map.entry("date", "an RFC 3339 full-date"),
          Map.entry("time", "an RFC 3339 time"),
          Map.entry("uuid", "a UUID"),
          Map.entry("email", "an e-mail address"),
          Map.entry("uri", "an absolute URI"),
          Map.entry("uri-reference", "a URI reference"),
          Map.entry("ipv4", "an IPv4 address"),
          Map.entry("ipv6", "an IPv6 address"),
          Map.entry("hostname", "a host name"),
          Map.entry("duration", "an ISO 8601 duration"),
          Map.entry("regex", "a regular expression"));

  private JsonProblems() {}

  static List<SchemaProblem> of(List<Error> errors) {
    if (errors.isEmpty()) {
      return List.of();
    }
    Set<SchemaProblem> problems = new LinkedHashSet<>();
    for (Error error : errors) {
      problems.add(of(error));
    }
    return new ArrayList<>(problems);
  }

  static SchemaProblem of(Error error) {
    NodePath location = error.getInstanceLocation();
    String keyword = error.getKeyword() == null ? "" : error.getKeyword();
    JsonNode actual = error.getInstanceNode();
    JsonNode limit = error.getSchemaNode();
    String property = error.getProperty();
    switch (keyword) {
      case "required":
        if (property != null) {
          return new SchemaProblem(location.append(property).toString(), "required property missing");
        }
        break;
      case "dependentRequired":
        if (property != null) {
          return new SchemaProblem(
              location.append(property).toString(),
              "required property missing (required when '" + argument(error, 1) + "' is present)");
        }
        break;
      case "additionalProperties":
      case "unevaluatedProperties":
        if (property != null) {
          return new SchemaProblem(
              location.append(property).toString(), "property not declared in the schema");
        }
        break;
      case "items":
      case "additionalItems":
      case "unevaluatedItems":
        {
          Integer index = index(error);
          if (index != null) {
            return new SchemaProblem(
                location.append(index).toString(),
                "array item not allowed (the schema allows no further items)");
          }
          break;
        }
      case "type":
        return at(location, "expected " + expectedTypes(limit) + ", was " + typed(actual));
      case "minimum":
        return at(location, "must be >= " + Json.brief(limit) + was(actual));
      case "exclusiveMinimum":
        return at(location, "must be > " + Json.brief(limit) + was(actual));
      case "maximum":
        return at(location, "must be <= " + Json.brief(limit) + was(actual));
      case "exclusiveMaximum":
        return at(location, "must be < " + Json.brief(limit) + was(actual));
      case "multipleOf":
        return at(location, "must be a multiple of " + Json.brief(limit) + was(actual));
      case "minLength":
        return at(location, "must be at least " + Json.brief(limit) + " characters long" + was(actual));
      case "maxLength":
        return at(location, "must be at most " + Json.brief(limit) + " characters long" + was(actual));
      case "pattern":
        return at(location, "must match the pattern " + text(limit) + was(actual));
      case "format":
        {
          String format = text(limit);
          return at(location, "must be " + FORMAT_NAMES.getOrDefault(format, "a valid " + format) + was(actual));
        }
      case "enum":
        return at(location, "must be one of " + Json.brief(limit) + was(actual));
      case "const":
        return at(location, "must be " + Json.brief(limit) + was(actual));
      case "minItems":
        return at(location, "must have at least " + Json.brief(limit) + " items" + wasSize(actual));
      case "maxItems":
        return at(location, "must have at most " + Json.brief(limit) + " items" + wasSize(actual));
      case "minProperties":
        return at(location, "must have at least " + Json.brief(limit) + " properties" + wasSize(actual));
      case "maxProperties":
        return at(location, "must have at most " + Json.brief(limit) + " properties" + wasSize(actual));
      case "uniqueItems":
        return at(location, "must not contain duplicate items");
      case "false":
        return at(location, "not allowed here (the schema is false)");
      default:
        break;
    }
    String message = error.getMessage();
    if (actual != null && actual.isValueNode()) {
      message += was(actual);
    }
    return at(location, message);
  }

  private static SchemaProblem at(NodePath location, String message) {
    return new SchemaProblem(location.toString(), message);
  }

  private static Integer index(Error error) {
    if (error.getIndex() != null) {
      return error.getIndex();
    }
    try {
      return Integer.valueOf(argument(error, 0));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static String argument(Error error, int index) {
    Object[] arguments = error.getArguments();
    return arguments != null && arguments.length > index ? String.valueOf(arguments[index]) : "?";
  }

  private static String text(JsonNode node) {
    return node != null && node.isString() ? node.stringValue() : Json.brief(node);
  }

  private static String was(JsonNode actual) {
    return actual == null ? "" : " (was " + Json.brief(actual) + ")";
  }

  private static String wasSize(JsonNode actual) {
    return actual == null ? "" : " (was " + actual.size() + ")";
  }

  private static String expectedTypes(JsonNode types) {
    if (types == null) {
      return "another type";
    }
    if (types.isArray()) {
      List<String> names = new ArrayList<>();
      types.forEach(t -> names.add(text(t)));
      return String.join(" or ", names);
    }
    return text(types);
  }

  /** {@code string "3"}, {@code number 1.5}, {@code null}, {@code object}, {@code array}. */
  private static String typed(JsonNode actual) {
    if (actual == null) {
      return "nothing";
    }
    if (actual.isNull()) {
      return "null";
    }
    if (actual.isObject()) {
      return "object";
    }
    if (actual.isArray()) {
      return "array";
    }
    if (actual.isString()) {
      return "string " + Json.brief(actual);
    }
    if (actual.isBoolean()) {
      return "boolean " + actual;
    }
    if (actual.isIntegralNumber()) {
      return "integer " + actual;
    }
    if (actual.isNumber()) {
      return "number " + actual;
    }
    return Json.brief(actual);
  }
}
