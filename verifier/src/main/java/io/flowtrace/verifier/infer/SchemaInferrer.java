package io.flowtrace.verifier.infer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A JSON Schema (draft 2020-12) drafted from sample payloads: the types seen, {@code required} =
 * present in every sample, {@code enum} for small closed sets of codes (up to six, each seen
 * often; a lone value only if it is a word), {@code format} for
 * date-times, UUIDs and e-mail addresses, {@code minimum: 0}/{@code 1} where no sample went below.
 * Deterministic: the same samples in any order give the same schema.
 */
final class SchemaInferrer {

  static final JsonMapper JSON = JsonMapper.builder().build();
  private static final Pattern DATE_TIME =
      Pattern.compile("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})");
  private static final Pattern DATE = Pattern.compile("\\d{4}-\\d{2}-\\d{2}");
  /** A point on a scale rather than a code: a date, a time, a number, a version. */
  private static final Pattern SCALAR = Pattern.compile("[\\d.:+-]*\\d[\\d.:+-]*");
  /** A field that names one thing of many (an analyzer's id, a case reference), not a kind of thing. */
  private static final Pattern IDENTIFIER =
      Pattern.compile("id|ID|.*[a-z](Id|ID|Ids|Ref|Number|No)|.*[_-](id|ID|ref|number|no)");
  private static final Pattern UUID =
      Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
  /** An e-mail address as the schema validator's {@code format: email} takes it: no dot at either end of the local part, none doubled. */
  private static final Pattern EMAIL = Pattern.compile("(?!\\.)(?!.*\\.\\.)[^@\\s]+(?<!\\.)@[^@\\s.][^@\\s]*\\.[^@\\s]+");
  /**
   * What an enum's values look like: codes (a status, a currency, a tier), not text. Free text
   * that happened to take few values in a recording takes others in production.
   */
  static final Pattern CODE = Pattern.compile("[\\p{L}\\p{N}_.:/-]{1,40}");
  /**
   * A value that may stand alone as an enum: a word ({@code confirmed}, {@code DELIVERED}), what an
   * event type's status or kind holds; not a version or a number ({@code 2026.11}), which change.
   */
  private static final Pattern WORD = Pattern.compile("[\\p{L}_-]+");
  /** Most distinct values a string field may have to be an enum. */
  static final int ENUM_MAX = 6;
  /** Least samples per enum value for a set to count as closed. */
  static final int ENUM_SAMPLES_PER_VALUE = 5;
  /**
   * Least samples for a lone value to be pinned as a constant, unless it echoes the event's name
   * ({@code SETTLED} of {@code claims_settled}): by the rule of three, a value the field takes in
   * fewer than 3 % of payloads may still be unseen in 100, while a currency seen as {@code EUR} in
   * 30 payloads of one market is not a constant.
   */
  static final int LONE_VALUE_SAMPLES = 100;

  /** What was seen at one place in the payloads. */
  private static final class Shape {
    int samples;
    int nulls;
    int strings;
    int integers;
    int numbers;
    int booleans;
    int objects;
    int arrays;
    final Map<String, Integer> stringValues = new TreeMap<>();
    boolean manyValues;
    boolean allDateTime = true;
    boolean allDate = true;
    boolean allUuid = true;
    boolean allEmail = true;
    double min = Double.MAX_VALUE;
    final Map<String, Shape> properties = new TreeMap<>();
    final Map<String, Integer> present = new TreeMap<>();
    Shape items;

    void add(JsonNode n) {
      samples++;
      if (n == null || n.isNull()) {
        nulls++;
      } else if (n.isString()) {
        strings++;
        String s = n.asString();
        if (stringValues.containsKey(s) || stringValues.size() < ENUM_MAX * 4) {
          stringValues.merge(s, 1, Integer::sum);
        } else {
          manyValues = true;
        }
        allDateTime &= DATE_TIME.matcher(s).matches();
        allDate &= DATE.matcher(s).matches();
        allUuid &= UUID.matcher(s).matches();
        allEmail &= EMAIL.matcher(s).matches();
      } else if (n.isIntegralNumber()) {
        integers++;
        min = Math.min(min, n.asDouble());
      } else if (n.isNumber()) {
        numbers++;
        min = Math.min(min, n.asDouble());
      } else if (n.isBoolean()) {
        booleans++;
      } else if (n.isObject()) {
        objects++;
        for (Map.Entry<String, JsonNode> e : n.properties()) {
          properties.computeIfAbsent(e.getKey(), k -> new Shape()).add(e.getValue());
          present.merge(e.getKey(), 1, Integer::sum);
        }
      } else if (n.isArray()) {
        arrays++;
        if (items == null) {
          items = new Shape();
        }
        for (JsonNode element : n) {
          items.add(element);
        }
      }
    }
  }

  private final Shape root = new Shape();

  void add(JsonNode payload) {
    root.add(payload);
  }

  int samples() {
    return root.samples;
  }

  /** The schema, with {@code $schema} and a title. */
  ObjectNode schema(String title) {
    ObjectNode out = JSON.createObjectNode();
    out.put("$schema", "https://json-schema.org/draft/2020-12/schema");
    out.put("title", title);
    out.put("description", "Drafted by flowtrace infer from " + root.samples + " payloads; review before use.");
    write(root, out, title, "");
    return out;
  }

  /** Least payloads with a value at a place for a kind of value seen in few of them to be left out. */
  static final int RARE_KIND_SAMPLES = 20;

  /**
   * The kinds of value (object, array, string, number, boolean) seen at a place, less one seen in
   * at most 5 % of the payloads that have a value there when another kind makes up the rest: an
   * {@code "urgency": "high"} among 399 numbers is dirt in the traffic, not a type the field has.
   */
  private static List<String> kinds(Shape s, StringBuilder leftOut) {
    Map<String, Integer> seen = new java.util.LinkedHashMap<>();
    seen.put("object", s.objects);
    seen.put("array", s.arrays);
    seen.put("string", s.strings);
    seen.put("number", s.integers + s.numbers);
    seen.put("boolean", s.booleans);
    seen.values().removeIf(n -> n == 0);
    int values = s.samples - s.nulls;
    if (seen.size() > 1 && values >= RARE_KIND_SAMPLES) {
      String main = seen.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
      if (seen.get(main) >= values * 0.95) {
        for (Map.Entry<String, Integer> k : seen.entrySet()) {
          if (!k.getKey().equals(main)) {
            leftOut.append(leftOut.length() == 0 ? "" : "; ").append("also seen as ").append(k.getKey()).append(" in ")
                .append(k.getValue()).append(" of ").append(values).append(" payloads")
                .append(k.getKey().equals("string") ? " (" + sampleValues(s) + ")" : "");
          }
        }
        leftOut.append(", left out as too rare to belong");
        return List.of(main);
      }
    }
    return new ArrayList<>(seen.keySet());
  }

  /**
   * Why values a field took in a recording are no closed set, or {@code null}: the field names one
   * thing of many ({@code analyzerId}); its values are points on a scale (dates, times, numbers,
   * which next week's traffic moves on from); or they are a numbered series ({@code ATELLICA-01},
   * {@code ATELLICA-02}: the fifth analyzer commissioned is {@code -05}).
   */
  private static String openSet(String field, List<String> values) {
    if (!field.isEmpty() && IDENTIFIER.matcher(field).matches()) {
      return "'" + field + "' is an identifier, and identifiers are no closed set";
    }
    if (!values.isEmpty()
        && values.stream().allMatch(v -> SCALAR.matcher(v).matches() || DATE_TIME.matcher(v).matches())) {
      return "dates, times and numbers are no closed set";
    }
    java.util.Set<String> shapes = new java.util.HashSet<>();
    for (String v : values) {
      if (v.chars().anyMatch(Character::isDigit) && !shapes.add(v.replaceAll("\\d", "#"))) {
        return "a numbered series, which grows";
      }
    }
    return null;
  }

  private static void comment(ObjectNode out, String text) {
    JsonNode before = out.get("$comment");
    out.put("$comment", before == null ? text : before.asString() + "; " + text);
  }

  private static String sampleValues(Shape s) {
    List<String> shown = new ArrayList<>();
    for (String v : s.stringValues.keySet()) {
      if (shown.size() == 3) {
        shown.add("…");
        break;
      }
      shown.add('"' + v + '"');
    }
    return String.join(", ", shown);
  }

  private static void write(Shape s, ObjectNode out, String title, String field) {
    StringBuilder leftOut = new StringBuilder();
    List<String> kinds = kinds(s, leftOut);
    List<String> types = new ArrayList<>();
    if (kinds.contains("object")) types.add("object");
    if (kinds.contains("array")) types.add("array");
    if (kinds.contains("string")) types.add("string");
    if (kinds.contains("number")) {
      types.add(s.numbers > 0 ? "number" : "integer");
    }
    if (kinds.contains("boolean")) types.add("boolean");
    if (s.nulls > 0) types.add("null");
    if (leftOut.length() > 0) {
      out.put("$comment", leftOut.toString());
    }
    if (types.size() == 1) {
      out.put("type", types.get(0));
    } else if (!types.isEmpty()) {
      ArrayNode t = out.putArray("type");
      types.forEach(t::add);
    }
    if (s.strings > 0 && kinds.equals(List.of("string"))) {
      if (s.allDateTime) {
        out.put("format", "date-time");
      } else if (s.allDate) {
        out.put("format", "date");
      } else if (s.allUuid) {
        out.put("format", "uuid");
      } else if (s.allEmail) {
        out.put("format", "email");
      } else if (!s.manyValues) {
        // a closed set: a few codes, each seen often; values seen too rarely to belong (at most
        // 5 % of the samples in all) are left out and named, so dirt in the traffic is not learned
        List<String> common = new ArrayList<>();
        List<String> rare = new ArrayList<>();
        int rareCount = 0;
        for (Map.Entry<String, Integer> v : s.stringValues.entrySet()) {
          if (v.getValue() >= ENUM_SAMPLES_PER_VALUE) {
            common.add(v.getKey());
          } else {
            rare.add(v.getKey() + " (" + v.getValue() + "×)");
            rareCount += v.getValue();
          }
        }
        boolean lone = common.size() == 1 && WORD.matcher(common.get(0)).matches();
        String open = openSet(field, common);
        boolean tooFew = lone && s.strings < LONE_VALUE_SAMPLES && !echoes(title, common.get(0));
        if (open != null && !common.isEmpty() && common.size() <= ENUM_MAX) {
          comment(out, "seen as " + String.join(", ", common) + (rare.isEmpty() ? "" : " and " + rare.size() + " more")
              + "; not pinned: " + open);
        } else if (tooFew && rare.isEmpty()) {
          comment(out, "always \"" + common.get(0) + "\" in " + s.strings + " payloads; not pinned: a constant"
              + " takes " + LONE_VALUE_SAMPLES + ", or a value that echoes the event's name");
        } else if (!tooFew && !common.isEmpty() && common.size() <= ENUM_MAX && rareCount <= s.strings * 0.05
            && common.stream().allMatch(v -> CODE.matcher(v).matches())
            && (common.size() > 1 || lone)) {
          ArrayNode e = out.putArray("enum");
          common.forEach(e::add);
          if (!rare.isEmpty()) {
            comment(out, "also seen, left out as too rare to belong: " + String.join(", ", rare));
          }
        }
      }
    }
    if (kinds.equals(List.of("number")) && s.min != Double.MAX_VALUE) {
      if (s.min >= 1 && s.integers > 0 && s.numbers == 0) {
        out.put("minimum", 1);
      } else if (s.min >= 0) {
        out.put("minimum", 0);
      }
    }
    if (kinds.contains("object")) {
      ObjectNode props = out.putObject("properties");
      List<String> required = new ArrayList<>();
      for (Map.Entry<String, Shape> p : s.properties.entrySet()) {
        ObjectNode child = props.putObject(p.getKey());
        write(p.getValue(), child, title, p.getKey());
        if (s.present.getOrDefault(p.getKey(), 0) == s.objects) {
          required.add(p.getKey());
        }
      }
      if (!required.isEmpty()) {
        ArrayNode r = out.putArray("required");
        required.forEach(r::add);
      }
    }
    if (kinds.contains("array") && s.items != null && s.items.samples > 0) {
      write(s.items, out.putObject("items"), title, field);
    }
  }

  /** The schema as pretty JSON text with a final newline. */
  /** Whether a value repeats the event's name, or a word of it: {@code SETTLED} of {@code claims_settled}. */
  static boolean echoes(String title, String value) {
    String v = letters(value);
    return title != null && v.length() >= 3 && letters(title).contains(v);
  }

  private static String letters(String text) {
    StringBuilder sb = new StringBuilder(text.length());
    text.codePoints().filter(Character::isLetter).map(Character::toLowerCase).forEach(sb::appendCodePoint);
    return sb.toString();
  }

  static String text(ObjectNode schema) {
    return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(schema) + "\n";
  }

}
