package io.flowtrace.tracer.otlp;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import io.flowtrace.tracer.otlp.JsonText.Arr;
import io.flowtrace.tracer.otlp.JsonText.Bool;
import io.flowtrace.tracer.otlp.JsonText.Member;
import io.flowtrace.tracer.otlp.JsonText.Num;
import io.flowtrace.tracer.otlp.JsonText.Obj;
import io.flowtrace.tracer.otlp.JsonText.Str;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.Deque;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Mutates OTLP/JSON text the ways real and broken writers differ: fields dropped, reordered,
 * unknown or given twice; numbers, ids and enums in every form; values of the wrong type, null,
 * wrapped in an array; attribute values nested past the recursion limit.
 */
final class JsonMutator {

  enum Mutation {
    DROP_MEMBER, SHUFFLE_MEMBERS, ADD_UNKNOWN, NULL_VALUE, EMPTY_ARRAY, SINGLE_ELEMENT_ARRAY, WRONG_TYPE,
    PROTO_NAME, NUMBER_FORM, ID_FORM, BROKEN_ID, UNDECODABLE_ID, ENUM_FORM, ONEOF_CONFLICT, BYTES_FORM,
    SAME_NAME_TWICE, BOTH_NAMES, DEEP_VALUE, STRING_CONTENT
  }

  /** JSON (lowerCamelCase) name to proto name, and back, for every field whose two names differ. */
  static final Map<String, String> OTHER_NAME = otherNames();

  private static final Set<String> ID_FIELDS = Set.of("traceId", "trace_id", "spanId", "span_id",
      "parentSpanId", "parent_span_id");
  private static final Set<String> ENUM_FIELDS = Set.of("kind", "code");
  private static final List<String> VALUE_KINDS = List.of("stringValue", "boolValue", "intValue", "doubleValue",
      "arrayValue", "kvlistValue", "bytesValue", "string_value", "int_value", "stringValueStrindex");
  private static final String[] UNKNOWN_NAMES = {"futureField", "somethingNew", "entityRefsV2", "", "@type",
      "[ext.field]", "TraceId", "trace-id", "SPANS", "x", "instrumentation_scope", "\u00e9t\u00e9", "nested"};
  private static final String[] NUMBERS = {"0", "-0", "0.0", "-0.0", "1", "-1", "1e3", "1E3", "1.0e3", "1000.0",
      "2.5", "-2.5", "1e-400", "-1e-400", "1e400", "-1e400", "1e308", "1.7976931348623157e308",
      "1.7976931348623159e308", "4294967295", "4294967296", "2147483648", "-2147483649", "9223372036854775807",
      "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "18446744073709551615",
      "18446744073709551616", "1732530000000000001", "1.732530000000000001e18", "17325300000000000010e-1",
      "123456789012345678901234567890", "0.1", "4.9e-324", "2e0", "3.0"};
  private static final String[] NUMERIC_STRINGS = {"+5", " 5", "5 ", "0x10", ".5", "5.", "NaN", "Infinity",
      "-Infinity", "nan", "", "1_000", "\u0665", "1e3", "-0", "18446744073709551615", "true"};

  private final Random random;
  private final boolean allowUndecodableIds;
  private final List<JsonText> donors;
  private final Set<JsonText> protectedNodes = Collections.newSetFromMap(new IdentityHashMap<>());
  final EnumMap<Mutation, Integer> applied = new EnumMap<>(Mutation.class);

  /**
   * @param allowUndecodableIds whether ids that are not base64 at all may be made (the reference
   *     parses such a request twice: the second time with those ids renamed away)
   * @param donors clean requests whose values are copied in when a name is given twice
   */
  JsonMutator(Random random, boolean allowUndecodableIds, List<JsonText> donors) {
    this.random = random;
    this.allowUndecodableIds = allowUndecodableIds;
    this.donors = donors;
  }

  /** Applies {@code count} random mutations (those that find nothing to change are skipped). */
  void mutate(JsonText root, int count) {
    Mutation[] all = Mutation.values();
    // names given twice first, on the clean text: the reference keeps the last value and never looks
    // at the first, so the copy that is not kept must stay valid
    if (random.nextInt(6) == 0) {
      apply(root, random.nextBoolean() ? Mutation.SAME_NAME_TWICE : Mutation.BOTH_NAMES);
    }
    for (int i = 0; i < count; i++) {
      Mutation m = all[random.nextInt(all.length)];
      if (m == Mutation.SAME_NAME_TWICE || m == Mutation.BOTH_NAMES) {
        continue;
      }
      if (!allowUndecodableIds && m == Mutation.UNDECODABLE_ID) {
        m = Mutation.BROKEN_ID;
      }
      apply(root, m);
    }
  }

  private void apply(JsonText root, Mutation m) {
    List<Slot> slots = new ArrayList<>();
    List<Obj> objects = new ArrayList<>();
    collect(root, slots, objects);
    boolean done = switch (m) {
      case DROP_MEMBER -> {
        List<Slot> members = slots.stream().filter(s -> s.member != null).toList();
        if (members.isEmpty()) {
          yield false;
        }
        Slot s = pick(members);
        s.parentObj.members().remove(s.member);
        yield true;
      }
      case SHUFFLE_MEMBERS -> {
        List<Obj> free = objects.stream().filter(o -> o.members().stream().noneMatch(x -> protectedNodes.contains(x.value)))
            .toList();
        if (free.isEmpty()) {
          yield false;
        }
        Collections.shuffle(pick(free).members(), random);
        yield true;
      }
      case ADD_UNKNOWN -> {
        Obj o = pick(objects);
        o.members().add(random.nextInt(o.members().size() + 1),
            new Member(UNKNOWN_NAMES[random.nextInt(UNKNOWN_NAMES.length)], randomValue(3)));
        yield true;
      }
      case NULL_VALUE -> set(pickMember(slots, null), JsonText.Null.NULL);
      case EMPTY_ARRAY -> set(pick(slots.stream().filter(s -> s.get() instanceof Arr).toList()), new Arr());
      case SINGLE_ELEMENT_ARRAY -> {
        Slot s = pick(slots.stream().filter(x -> isScalar(x.get())).toList());
        if (s == null) {
          yield false;
        }
        JsonText v = s.get();
        yield set(s, switch (random.nextInt(4)) {
          case 0 -> new Arr(new ArrayList<>(List.of(new Arr(new ArrayList<>(List.of(v))))));
          case 1 -> new Arr(new ArrayList<>(List.of(v, v)));
          default -> new Arr(new ArrayList<>(List.of(v)));
        });
      }
      case WRONG_TYPE -> {
        Slot s = pickMember(slots, null);
        yield s != null && set(s, otherType(s.get()));
      }
      case PROTO_NAME -> {
        Slot s = pickMember(slots, OTHER_NAME.keySet());
        if (s == null) {
          yield false;
        }
        s.member.name = OTHER_NAME.get(s.member.name);
        yield true;
      }
      case NUMBER_FORM -> {
        Slot s = pick(slots.stream().filter(x -> x.get() instanceof Num || isNumericString(x.get())).toList());
        yield s != null && set(s, numberForm(s.get()));
      }
      case ID_FORM -> {
        Slot s = pickMember(slots, ID_FIELDS);
        yield s != null && s.get() instanceof Str id && set(s, new Str(idForm(id.value())));
      }
      case BROKEN_ID -> {
        Slot s = pickMember(slots, ID_FIELDS);
        if (s == null) {
          yield false;
        }
        JsonText broken = brokenId(s.get());
        if (!allowUndecodableIds && broken instanceof Str id && !isBase64(id.value())) {
          broken = new Str("xyz"); // e.g. base64 with "00" after its padding
        }
        yield set(s, broken);
      }
      case UNDECODABLE_ID -> {
        Slot s = pickMember(slots, ID_FIELDS);
        yield s != null && s.get() instanceof Str id
            && set(s, new Str(pick(List.of("zz!", " " + id.value(), id.value() + "===", "caf\u00e9", "*"))));
      }
      case ENUM_FORM -> {
        Slot s = pickMember(slots, ENUM_FIELDS);
        yield s != null && set(s, enumForm(s.member.name, s.get()));
      }
      case ONEOF_CONFLICT -> {
        List<Obj> values = objects.stream().filter(o -> o.members().stream().anyMatch(x -> VALUE_KINDS.contains(x.name)))
            .toList();
        if (values.isEmpty()) {
          yield false;
        }
        Obj o = pick(values);
        List<String> kinds = VALUE_KINDS.stream().filter(k -> o.get(k) == null).toList();
        if (kinds.isEmpty()) {
          yield false;
        }
        String kind = pick(kinds); // a name not in the object yet: a name given twice is SAME_NAME_TWICE's
        JsonText v = switch (random.nextInt(3)) {
          case 0 -> JsonText.Null.NULL;
          case 1 -> new Bool(true);
          default -> new Str("7");
        };
        o.members().add(random.nextInt(o.members().size() + 1), new Member(kind, v));
        yield true;
      }
      case BYTES_FORM -> {
        Slot s = pickMember(slots, Set.of("bytesValue", "bytes_value"));
        if (s == null || !(s.get() instanceof Str b)) {
          yield false;
        }
        byte[] bytes;
        try {
          bytes = Base64.getDecoder().decode(b.value());
        } catch (IllegalArgumentException e) {
          yield false;
        }
        yield set(s, switch (random.nextInt(5)) {
          case 0 -> new Str(Base64.getUrlEncoder().encodeToString(bytes));
          case 1 -> new Str(Base64.getEncoder().withoutPadding().encodeToString(bytes));
          case 2 -> new Str(b.value() + "!");
          case 3 -> new Num("12");
          default -> new Str(Base64.getUrlEncoder().withoutPadding().encodeToString(bytes));
        });
      }
      case SAME_NAME_TWICE, BOTH_NAMES -> twice(slots, m == Mutation.BOTH_NAMES);
      case DEEP_VALUE -> {
        Slot s = pickMember(slots, Set.of("value"));
        if (s == null || !(s.get() instanceof Obj)) {
          yield false;
        }
        JsonText v = s.get();
        int levels = 27 + random.nextInt(8);
        for (int i = 0; i < levels; i++) {
          v = random.nextInt(3) == 0
              ? obj("arrayValue", obj("values", new Arr(new ArrayList<>(List.of(v)))))
              : obj("kvlistValue", obj("values", new Arr(new ArrayList<>(List.of(obj("key", new Str("k" + i), "value", v))))));
        }
        yield set(s, v);
      }
      case STRING_CONTENT -> {
        Slot s = pick(slots.stream().filter(x -> x.get() instanceof Str).toList());
        yield s != null && set(s, new Str(pick(List.of("\uD800 lone", "\\u0041", "\"", "\u0000", "", "\uD83D\uDE00",
            "line\u2028sep", "\u007f\u0080\u00ff", "k".repeat(300)))));
      }
    };
    if (done) {
      applied.merge(m, 1, Integer::sum);
    }
  }

  /**
   * Gives a field twice: the same name (the reference keeps the last value) or its other name
   * (the reference refuses the second when the first gave a value). The copy comes from a donor
   * request; it and the original are protected from later mutations.
   */
  private boolean twice(List<Slot> slots, boolean otherName) {
    Slot s = otherName ? pickMember(slots, OTHER_NAME.keySet()) : pickMember(slots, null);
    if (s == null) {
      return false;
    }
    String name = otherName ? OTHER_NAME.get(s.member.name) : s.member.name;
    JsonText copy = donorValue(s.member.name);
    if (copy == null) {
      copy = JsonText.copy(s.get());
    }
    List<Member> members = s.parentObj.members();
    int at = members.indexOf(s.member) + (random.nextBoolean() ? 0 : 1);
    members.add(at, new Member(name, copy));
    protectedNodes.add(copy);
    protectedNodes.add(s.get());
    return true;
  }

  private JsonText donorValue(String name) {
    if (donors.isEmpty()) {
      return null;
    }
    List<JsonText> found = new ArrayList<>();
    Deque<JsonText> todo = new ArrayDeque<>();
    todo.add(donors.get(random.nextInt(donors.size())));
    while (!todo.isEmpty()) {
      JsonText v = todo.poll();
      if (v instanceof Obj o) {
        for (Member m : o.members()) {
          if (m.name.equals(name)) {
            found.add(m.value);
          }
          todo.add(m.value);
        }
      } else if (v instanceof Arr a) {
        todo.addAll(a.items());
      }
    }
    return found.isEmpty() ? null : JsonText.copy(found.get(random.nextInt(found.size())));
  }

  private String idForm(String id) {
    byte[] bytes;
    if (id.matches("[0-9a-fA-F]*") && id.length() % 2 == 0) {
      bytes = HexFormat.of().parseHex(id);
    } else {
      try {
        bytes = Base64.getDecoder().decode(id);
      } catch (IllegalArgumentException e) {
        return id;
      }
    }
    String hex = HexFormat.of().formatHex(bytes);
    return switch (random.nextInt(6)) {
      case 0 -> hex.toUpperCase(Locale.ROOT);
      case 1 -> {
        StringBuilder mixed = new StringBuilder(hex);
        for (int i = 0; i < mixed.length(); i += 2) {
          mixed.setCharAt(i, Character.toUpperCase(mixed.charAt(i)));
        }
        yield mixed.toString();
      }
      case 2 -> Base64.getEncoder().encodeToString(bytes);
      case 3 -> Base64.getEncoder().withoutPadding().encodeToString(bytes);
      case 4 -> Base64.getUrlEncoder().encodeToString(bytes);
      default -> hex;
    };
  }

  private JsonText brokenId(JsonText v) {
    String id = v instanceof Str s ? s.value() : "0af7651916cd43dd8448eb211c80319c";
    return switch (random.nextInt(11)) {
      case 0 -> new Str(id.length() > 2 ? id.substring(2) : "");
      case 1 -> new Str(id + "00");
      case 2 -> new Str("0".repeat(id.length()));
      case 3 -> new Str("");
      case 4 -> new Str("xyz");
      case 5 -> new Num(pick(List.of("123", "0", "-1", "1e3")));
      case 6 -> new Bool(true);
      case 7 -> new Arr(new ArrayList<>(List.of(new Str(id))));
      case 8 -> new Str("AAAAAAAAAAAAAAAAAAAAAA==");
      case 9 -> new Str("0".repeat(id.length() * 3 / 4));
      default -> new Str(Base64.getEncoder().encodeToString(new byte[id.length() / 2]));
    };
  }

  private JsonText enumForm(String field, JsonText v) {
    String[] names = field.equals("kind")
        ? new String[] {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT",
            "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"}
        : new String[] {"STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"};
    int number = random.nextInt(names.length);
    if (v instanceof Num n && n.text().matches("\\d")) {
      number = Integer.parseInt(n.text());
    }
    return switch (random.nextInt(10)) {
      case 0 -> new Str(names[Math.min(number, names.length - 1)]);
      case 1 -> new Str(names[Math.min(number, names.length - 1)].toLowerCase(Locale.ROOT));
      case 2 -> new Str("SPAN_KIND_FROM_THE_FUTURE");
      case 3 -> new Num(pick(List.of("99", "-1", "2147483648", "1e10", "2.5")));
      case 4 -> new Str(Integer.toString(number));
      case 5 -> new Num(number + ".0");
      case 6 -> new Num(number + "e0");
      case 7 -> new Bool(true);
      case 8 -> new Str(pick(List.of("", " 2", "2e0", "0x2")));
      default -> new Num(Integer.toString(number));
    };
  }

  private JsonText numberForm(JsonText v) {
    String text = v instanceof Num n ? n.text() : ((Str) v).value();
    boolean digits = text.matches("-?\\d{2,}");
    return switch (random.nextInt(10)) {
      case 0 -> new Str(text);
      case 1 -> isJsonNumber(text) ? new Num(text) : new Str(text);
      case 2 -> text.matches("-?\\d+") ? new Num(text + ".0") : new Str(text + ".0"); // not 1.1.0, which is not JSON
      case 3 -> isJsonNumber(text) && !text.contains("e") && !text.contains("E") ? new Num(text + "e0") : new Num("0");
      case 4 -> new Str(NUMERIC_STRINGS[random.nextInt(NUMERIC_STRINGS.length)]);
      case 5 -> new Num("9".repeat(1001 + random.nextInt(3)));
      // the same value with its point moved: 1.732530000954992840e18, 17325300009549928400e-1
      case 6 -> digits ? number(scientific(text)) : new Num("0");
      case 7 -> digits ? number(text + "0e-1") : new Num("0");
      default -> random.nextBoolean() ? new Num(NUMBERS[random.nextInt(NUMBERS.length)])
          : new Str(NUMBERS[random.nextInt(NUMBERS.length)]);
    };
  }

  private JsonText number(String text) {
    return random.nextBoolean() ? new Num(text) : new Str(text);
  }

  private static String scientific(String digits) {
    int first = digits.startsWith("-") ? 1 : 0;
    return digits.substring(0, first + 1) + "." + digits.substring(first + 1) + "e" + (digits.length() - first - 1);
  }

  private JsonText otherType(JsonText v) {
    List<JsonText> options = new ArrayList<>(List.of(new Obj(), obj("x", new Num("1")), new Arr(),
        new Str("12"), new Str("word"), new Num("12"), new Num("1.5"), new Num("-3"), new Bool(false)));
    options.removeIf(o -> o.getClass() == v.getClass());
    return pick(options);
  }

  private JsonText randomValue(int depth) {
    int pick = random.nextInt(depth > 0 ? 8 : 6);
    return switch (pick) {
      case 0 -> new Str(pick(List.of("x", "", "\u00e9\\", "{\"not\":\"json\"}")));
      case 1 -> new Num(NUMBERS[random.nextInt(NUMBERS.length)]);
      case 2 -> new Bool(random.nextBoolean());
      case 3 -> JsonText.Null.NULL;
      case 4 -> new Num("9".repeat(1000 + random.nextInt(50)));
      case 5 -> new Str("k".repeat(random.nextInt(50)));
      case 6 -> {
        Arr a = new Arr();
        for (int i = random.nextInt(4); i > 0; i--) {
          a.items().add(random.nextInt(4) == 0 ? JsonText.Null.NULL : randomValue(depth - 1));
        }
        yield a;
      }
      default -> {
        Obj o = new Obj();
        for (int i = random.nextInt(4); i > 0; i--) {
          String name = pick(List.of("spans", "traceId", "x", "resourceSpans", "value", "x"));
          o.members().add(new Member(name, randomValue(depth - 1)));
        }
        yield o;
      }
    };
  }

  // --- plumbing -------------------------------------------------------------------------------

  /** A place holding a value: a member of an object or an item of an array. */
  private static final class Slot {
    final Obj parentObj;
    final Member member;
    final Arr parentArr;
    final int index;

    Slot(Obj parent, Member member) {
      this.parentObj = parent;
      this.member = member;
      this.parentArr = null;
      this.index = -1;
    }

    Slot(Arr parent, int index) {
      this.parentObj = null;
      this.member = null;
      this.parentArr = parent;
      this.index = index;
    }

    JsonText get() {
      return member != null ? member.value : parentArr.items().get(index);
    }
  }

  private boolean set(Slot slot, JsonText value) {
    if (slot == null) {
      return false;
    }
    if (slot.member != null) {
      slot.member.value = value;
    } else {
      slot.parentArr.items().set(slot.index, value);
    }
    return true;
  }

  private void collect(JsonText v, List<Slot> slots, List<Obj> objects) {
    if (protectedNodes.contains(v)) {
      return;
    }
    if (v instanceof Obj o) {
      objects.add(o);
      for (Member m : o.members()) {
        if (!protectedNodes.contains(m.value)) {
          slots.add(new Slot(o, m));
          collect(m.value, slots, objects);
        }
      }
    } else if (v instanceof Arr a) {
      for (int i = 0; i < a.items().size(); i++) {
        slots.add(new Slot(a, i));
        collect(a.items().get(i), slots, objects);
      }
    }
  }

  private Slot pickMember(List<Slot> slots, Set<String> names) {
    return pick(slots.stream().filter(s -> s.member != null && (names == null || names.contains(s.member.name)))
        .toList());
  }

  private <T> T pick(List<T> list) {
    return list.isEmpty() ? null : list.get(random.nextInt(list.size()));
  }

  private static Obj obj(Object... pairs) {
    Obj o = new Obj();
    for (int i = 0; i < pairs.length; i += 2) {
      o.members().add(new Member((String) pairs[i], (JsonText) pairs[i + 1]));
    }
    return o;
  }

  private static boolean isBase64(String text) {
    try {
      Base64.getDecoder().decode(text);
      return true;
    } catch (IllegalArgumentException e) {
      try {
        Base64.getUrlDecoder().decode(text);
        return true;
      } catch (IllegalArgumentException e2) {
        return false;
      }
    }
  }

  private static boolean isScalar(JsonText v) {
    return v instanceof Str || v instanceof Num || v instanceof Bool;
  }

  private static boolean isNumericString(JsonText v) {
    return v instanceof Str s && isJsonNumber(s.value());
  }

  private static boolean isJsonNumber(String text) {
    return text.matches("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?");
  }

  private static Map<String, String> otherNames() {
    Map<String, String> names = new HashMap<>();
    Set<String> seen = new HashSet<>();
    Deque<Descriptor> todo = new ArrayDeque<>(List.of(ExportTraceServiceRequest.getDescriptor()));
    while (!todo.isEmpty()) {
      Descriptor d = todo.poll();
      if (!seen.add(d.getFullName())) {
        continue;
      }
      for (FieldDescriptor f : d.getFields()) {
        if (!f.getName().equals(f.getJsonName())) {
          names.put(f.getJsonName(), f.getName());
          names.put(f.getName(), f.getJsonName());
        }
        if (f.getType() == FieldDescriptor.Type.MESSAGE) {
          todo.add(f.getMessageType());
        }
      }
    }
    return Map.copyOf(names);
  }
}
