package io.flowtrace.verifier.schema;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AfterProperty;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Reading key strings without a tree ({@link Json#strings}) must say what the tree says, or step
 * aside: replay reads keys ahead this way, and a key read differently there than the engine reads
 * it could let a verdict become final before an event for it has come.
 */
class JsonStringsProperties {

  private static final String[] NAMES = {"orderId", "id", "data", "payment", "a", "b", "Order Id", "é", "x\"y"};
  private static final AtomicInteger TRIES = new AtomicInteger();
  private static final AtomicInteger READ = new AtomicInteger();

  @AfterProperty
  void mostPayloadsAreReadWithoutTheTree() {
    assertThat(READ.get()).as("read without the tree in %d of %d tries", READ.get(), TRIES.get())
        .isGreaterThan(TRIES.get() / 3);
  }

  @Property(tries = 400)
  void whatItReadsIsWhatTheTreeHoldsAndItStepsAsideWhereOnlyTheTreeCanTell(@ForAll long seed) {
    Random random = new Random(seed);
    StringBuilder json = new StringBuilder();
    value(random, json, 0, true);
    String text = mutate(random, json.toString());
    List<List<String>> paths = new ArrayList<>();
    for (int i = 0, n = 1 + random.nextInt(4); i < n; i++) {
      List<String> path = new ArrayList<>();
      for (int d = 0, depth = 1 + random.nextInt(3); d < depth; d++) {
        path.add(NAMES[random.nextInt(NAMES.length)]);
      }
      paths.add(path);
    }
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);

    String[] read = Json.strings(bytes, paths);

    JsonNode tree = Json.parsePayload(bytes).tree();
    TRIES.incrementAndGet();
    if (read == null) {
      return;
    }
    READ.incrementAndGet();
    for (int i = 0; i < paths.size(); i++) {
      JsonNode v = resolve(tree, paths.get(i));
      String expected = v != null && v.isValueNode() && !v.isNull() ? v.asString() : null;
      assertThat(read[i]).as("%s in %s", paths.get(i), text).isEqualTo(expected);
    }
  }

  @Test
  void readsNestedStringsWithTheLastOfARepeatedFieldAsTheTreeDoes() {
    byte[] json = """
        {"orderId":"o-1","data":{"payment":{"id":"p-1"},"payment":{"other":1}},"orderId":"o-2","items":[{"id":"i"}]}
        """.getBytes(StandardCharsets.UTF_8);

    assertThat(Json.strings(json, List.of(List.of("orderId"), List.of("data", "payment", "id"), List.of("items"))))
        .containsExactly("o-2", null, null);
  }

  @Test
  void stepsAsideForNumbersAndForWhatIsNotOneJsonObject() {
    List<List<String>> orderId = List.of(List.of("orderId"));
    assertThat(Json.strings(bytes("{\"orderId\":42}"), orderId)).isNull();
    assertThat(Json.strings(bytes("{\"orderId\":\"o\"} trailing"), orderId)).isNull();
    assertThat(Json.strings(bytes("{\"orderId\":\"o\""), orderId)).isNull();
    assertThat(Json.strings(bytes("[{\"orderId\":\"o\"}]"), orderId)).isNull();
    assertThat(Json.strings(new byte[0], orderId)).isNull();
    assertThat(Json.strings(bytes("{\"other\":42,\"orderId\":null}"), orderId)).containsExactly((String) null);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** {@code FieldPath.resolve}, as the engine reads a key from the tree. */
  private static JsonNode resolve(JsonNode root, List<String> path) {
    JsonNode node = root;
    for (String segment : path) {
      if (node == null) {
        return null;
      }
      node = node.isObject() ? node.get(segment) : null;
    }
    return node == null || node.isMissingNode() ? null : node;
  }

  private static void value(Random random, StringBuilder out, int depth, boolean object) {
    int kind = object ? 0 : random.nextInt(depth > 3 ? 7 : 9);
    switch (kind) {
      case 0, 7 -> {
        out.append('{');
        for (int i = 0, n = random.nextInt(5); i < n; i++) {
          if (i > 0) {
            out.append(',');
          }
          string(out, NAMES[random.nextInt(NAMES.length)]);
          out.append(':');
          value(random, out, depth + 1, false);
        }
        out.append('}');
      }
      case 1, 8 -> {
        out.append('[');
        for (int i = 0, n = random.nextInt(3); i < n; i++) {
          if (i > 0) {
            out.append(',');
          }
          value(random, out, depth + 1, random.nextInt(3) == 0);
        }
        out.append(']');
      }
      case 2 -> out.append(random.nextBoolean() ? "null" : random.nextBoolean() ? "true" : "false");
      case 3 -> out.append(random.nextBoolean() ? Integer.toString(random.nextInt(1000)) : "1.50");
      default -> string(out, random.nextInt(4) == 0 ? "" : random.nextBoolean() ? "ord-" + random.nextInt(99)
          : "caf\u00e9 \\u00e9 \\\"q\\\" \ud83d\ude80");
    }
  }

  private static void string(StringBuilder out, String s) {
    out.append('"');
    for (char c : s.toCharArray()) {
      out.append(c == '"' && !s.contains("\\\"") ? "\\\"" : String.valueOf(c));
    }
    out.append('"');
  }

  /** Sometimes breaks the text: cut short, trailing text, a stray character. */
  private static String mutate(Random random, String json) {
    return switch (random.nextInt(10)) {
      case 0 -> json.substring(0, random.nextInt(json.length() + 1));
      case 1 -> json + (random.nextBoolean() ? " {}" : " x");
      case 2 -> {
        int at = random.nextInt(json.length() + 1);
        yield json.substring(0, at) + ",:]".charAt(random.nextInt(3)) + json.substring(at);
      }
      default -> json;
    };
  }
}
