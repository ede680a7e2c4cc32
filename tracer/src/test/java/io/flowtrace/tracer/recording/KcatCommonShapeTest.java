package io.flowtrace.tracer.recording;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * kcat lines of the usual shape are read in one pass ({@link KcatJsonLinesReader#common}); every
 * record it gives must be the one the tree reading ({@link KcatJsonLinesReader#parse}) gives, and it
 * must step aside for whatever the tree reads differently or rejects.
 */
class KcatCommonShapeTest {

  @Test
  void readsEveryLineOfTheShippedRecordingsAsTheTreeDoes() throws IOException {
    Path root = Path.of("..").toAbsolutePath().normalize();
    List<Path> files;
    try (Stream<Path> walk = Files.walk(root.resolve("samples"))) {
      files = walk.filter(p -> p.getFileName().toString().endsWith(".kcat.jsonl")).sorted().toList();
    }
    assertThat(files).isNotEmpty();
    int lines = 0;
    for (Path file : files) {
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        if (line.isBlank()) {
          continue;
        }
        byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
        KafkaRecord fast = KcatJsonLinesReader.common(bytes, 0, bytes.length);
        assertThat(fast).as("%s: %s", file, line).isNotNull().isEqualTo(tree(bytes));
        assertThat(fast.headers()).isEqualTo(tree(bytes).headers());
        lines++;
      }
    }
    assertThat(lines).isGreaterThan(100);
  }

  @Test
  void givesTheTreesRecordOrStepsAsideOnRandomAndBrokenLines() {
    Random random = new Random(20261204);
    int read = 0;
    List<String> disagreements = new ArrayList<>();
    for (int i = 0; i < 5_000; i++) {
      String line = mutate(random, line(random));
      byte[] padded = ("xx" + line + "yy").getBytes(StandardCharsets.UTF_8);
      int length = padded.length - 4;
      KafkaRecord fast = KcatJsonLinesReader.common(padded, 2, length);
      if (fast == null) {
        continue;
      }
      read++;
      KafkaRecord expected = tree(line.getBytes(StandardCharsets.UTF_8));
      if (!fast.equals(expected) || !fast.headers().equals(expected == null ? null : expected.headers())) {
        disagreements.add(line + "\n  one pass: " + fast + " " + fast.headers() + "\n  tree:     " + expected);
      }
    }
    assertThat(disagreements).isEmpty();
    assertThat(read).as("lines read in one pass").isGreaterThan(1_000);
  }

  private static KafkaRecord tree(byte[] line) {
    try {
      return KcatJsonLinesReader.parse(new String(line, StandardCharsets.UTF_8));
    } catch (KcatJsonLinesReader.BadRecord e) {
      return null;
    }
  }

  private static String line(Random random) {
    List<String> fields = new ArrayList<>();
    fields.add("\"topic\":" + pick(random, "\"orders.created\"", "\"payments\"", "\"\"", "null", "7"));
    fields.add("\"partition\":" + pick(random, "0", "2", "-1", "\"3\"", "2147483648", "null", "1.5"));
    fields.add("\"offset\":" + pick(random, "0", "3012", "9223372036854775807", "92233720368547758070", "\"12\"", "null"));
    fields.add("\"tstype\":\"create\"");
    fields.add("\"ts\":" + pick(random, "1795597202247", "null", "\"1795597202247\"", "-1", "1.0"));
    fields.add("\"broker\":" + pick(random, "-1", "0", "{\"id\":1}"));
    fields.add("\"headers\":" + pick(random, "[\"traceparent\",\"00-38476651f4d3c50068fdc446ba812150-758a6cab2566ce63-01\"]",
        "[]", "null", "[\"a\",null,\"b\",\"x\"]", "[\"a\"]", "[\"a\",1]", "[1,\"a\"]", "[\"a\",[\"b\"]]", "{}"));
    fields.add("\"key\":" + pick(random, "\"ord-0eaa7f5d97740be6\"", "null", "\"\"", "42", "true"));
    fields.add("\"payload\":" + pick(random, "\"{\\\"orderId\\\":\\\"ord-1\\\",\\\"city\\\":\\\"Zürich\\\"}\"", "null",
        "\"\"", "\"caf\\u00e9 \\ud83d\\ude80\"", "12", "{\"a\":1}"));
    if (random.nextInt(4) == 0) {
      fields.add("\"payload_base64\":" + pick(random, "\"eyJhIjoxfQ==\"", "null", "\"***\"", "\" eyJhIjoxfQ== \"", "5"));
    }
    if (random.nextInt(8) == 0) {
      fields.add("\"headers_base64\":" + pick(random, "[null]", "null", "[\"AAE=\"]"));
    }
    if (random.nextInt(6) == 0) {
      String repeated = fields.get(random.nextInt(fields.size()));
      String name = repeated.substring(0, repeated.indexOf(':') + 1);
      fields.add(name + pick(random, "\"other\"", "1", "null", "2"));
    }
    if (random.nextInt(6) == 0) {
      fields.remove(random.nextInt(fields.size()));
    }
    if (random.nextInt(6) == 0) {
      fields.add("\"extra\":" + pick(random, "1", "[1,{\"b\":[]}]", "\"x\"", "null"));
    }
    java.util.Collections.shuffle(fields, random);
    return "{" + String.join(",", fields) + "}";
  }

  private static String mutate(Random random, String line) {
    return switch (random.nextInt(12)) {
      case 0 -> line.substring(0, random.nextInt(line.length()));
      case 1 -> line + pick(random, " ", " {}", "x", "\t");
      case 2 -> "[" + line + "]";
      case 3 -> " " + line;
      default -> line;
    };
  }

  /** The first option (valid) most of the time, another one sometimes. */
  private static String pick(Random random, String... options) {
    return random.nextInt(10) < 8 ? options[0] : options[1 + random.nextInt(options.length - 1)];
  }
}
