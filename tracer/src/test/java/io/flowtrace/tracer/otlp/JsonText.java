package io.flowtrace.tracer.otlp;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.json.JsonFactory;

/**
 * A JSON value that keeps what a mutation test needs and a tree library loses: the order of
 * members, a name given twice, the text of a number. Containers are mutable; {@link #print} writes
 * strict JSON, in a randomly chosen but always valid style (spacing, escapes).
 */
sealed interface JsonText {

  record Obj(List<Member> members) implements JsonText {
    Obj() {
      this(new ArrayList<>());
    }

    JsonText get(String name) {
      for (Member m : members) {
        if (m.name.equals(name)) {
          return m.value;
        }
      }
      return null;
    }
  }

  /** A member; its name and value may be replaced. */
  final class Member {
    String name;
    JsonText value;

    Member(String name, JsonText value) {
      this.name = name;
      this.value = value;
    }
  }

  record Arr(List<JsonText> items) implements JsonText {
    Arr() {
      this(new ArrayList<>());
    }
  }

  record Str(String value) implements JsonText {}

  /** A number, as written: {@code 1e3}, {@code -0}, {@code 12345678901234567890123}. */
  record Num(String text) implements JsonText {}

  record Bool(boolean value) implements JsonText {}

  enum Null implements JsonText { NULL }

  JsonFactory FACTORY = JsonFactory.builder().build();

  static JsonText parse(String json) {
    try (JsonParser p = FACTORY.createParser(ObjectReadContext.empty(), json)) {
      p.nextToken();
      return read(p);
    }
  }

  private static JsonText read(JsonParser p) {
    JsonToken t = p.currentToken();
    switch (t) {
      case START_OBJECT: {
        Obj obj = new Obj();
        String name;
        while ((name = p.nextName()) != null) {
          p.nextToken();
          obj.members.add(new Member(name, read(p)));
        }
        return obj;
      }
      case START_ARRAY: {
        Arr arr = new Arr();
        while (p.nextToken() != JsonToken.END_ARRAY) {
          arr.items.add(read(p));
        }
        return arr;
      }
      case VALUE_STRING:
        return new Str(p.getString());
      case VALUE_NUMBER_INT:
      case VALUE_NUMBER_FLOAT:
        return new Num(p.getString());
      case VALUE_TRUE:
        return new Bool(true);
      case VALUE_FALSE:
        return new Bool(false);
      case VALUE_NULL:
        return Null.NULL;
      default:
        throw new IllegalStateException("unexpected " + t);
    }
  }

  /** A deep copy. */
  static JsonText copy(JsonText v) {
    if (v instanceof Obj o) {
      Obj c = new Obj();
      for (Member m : o.members) {
        c.members.add(new Member(m.name, copy(m.value)));
      }
      return c;
    }
    if (v instanceof Arr a) {
      Arr c = new Arr();
      for (JsonText item : a.items) {
        c.items.add(copy(item));
      }
      return c;
    }
    return v;
  }

  /** How {@link #print} writes. */
  record Style(boolean pretty, boolean escapeNonAscii, boolean escapeSlash, boolean rawControl) {
    static final Style COMPACT = new Style(false, false, false, false);

    static Style random(Random random) {
      return new Style(random.nextInt(4) == 0, random.nextInt(4) == 0, random.nextInt(6) == 0,
          random.nextInt(6) == 0);
    }
  }

  static String print(JsonText v, Style style) {
    StringBuilder out = new StringBuilder();
    print(v, style, 0, out);
    return out.toString();
  }

  private static void print(JsonText v, Style style, int indent, StringBuilder out) {
    if (v instanceof Obj o) {
      out.append('{');
      for (int i = 0; i < o.members.size(); i++) {
        if (i > 0) {
          out.append(',');
        }
        newline(style, indent + 1, out);
        string(o.members.get(i).name, style, out);
        out.append(style.pretty ? ": " : ":");
        print(o.members.get(i).value, style, indent + 1, out);
      }
      if (!o.members.isEmpty()) {
        newline(style, indent, out);
      }
      out.append('}');
    } else if (v instanceof Arr a) {
      out.append('[');
      for (int i = 0; i < a.items.size(); i++) {
        if (i > 0) {
          out.append(',');
        }
        newline(style, indent + 1, out);
        print(a.items.get(i), style, indent + 1, out);
      }
      if (!a.items.isEmpty()) {
        newline(style, indent, out);
      }
      out.append(']');
    } else if (v instanceof Str s) {
      string(s.value, style, out);
    } else if (v instanceof Num n) {
      out.append(n.text);
    } else if (v instanceof Bool b) {
      out.append(b.value);
    } else {
      out.append("null");
    }
  }

  private static void newline(Style style, int indent, StringBuilder out) {
    if (style.pretty) {
      out.append('\n');
      out.append("  ".repeat(indent));
    }
  }

  private static void string(String s, Style style, StringBuilder out) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '/' -> out.append(style.escapeSlash ? "\\/" : "/");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append(style.rawControl ? "\t" : "\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          if (c < 0x20) {
            if (style.rawControl) {
              out.append(c);
            } else {
              out.append(String.format("\\u%04x", (int) c));
            }
          } else if (c > 0x7e && style.escapeNonAscii) {
            out.append(String.format("\\u%04X", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
