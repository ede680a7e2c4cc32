package io.flowtrace.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import tools.jackson.databind.json.JsonMapper;

/** Kafka records written as {@code kcat -C -J} lines, each with a {@code traceparent}: traffic for tests to draft and replay. */
final class KcatLines {

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final Map<String, Integer> offsets = new HashMap<>();
  private final List<String> lines = new ArrayList<>();
  private final Random random;

  KcatLines(Random random) {
    this.random = random;
  }

  /** A new trace id. */
  String trace() {
    return hex(32);
  }

  /** Adds a record of {@code topic} (partition 0, the topic's next offset) at {@code ts} epoch ms. */
  void record(String topic, long ts, String trace, String key, Map<String, Object> payload) {
    add(topic, ts, List.of("traceparent", "00-" + trace + "-" + hex(16) + "-01"), key, payload);
  }

  /** As {@link #record}, with one more header. */
  void record(String topic, long ts, String trace, String key, String header, String value, Map<String, Object> payload) {
    add(topic, ts, List.of("traceparent", "00-" + trace + "-" + hex(16) + "-01", header, value), key, payload);
  }

  /** Adds a record of {@code topic} as a producer that does not trace sends it: no {@code traceparent}. */
  void untraced(String topic, long ts, String key, Map<String, Object> payload) {
    add(topic, ts, List.of(), key, payload);
  }

  private void add(String topic, long ts, List<String> headers, String key, Map<String, Object> payload) {
    int offset = offsets.merge(topic, 1, Integer::sum) - 1;
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("topic", topic);
    line.put("partition", 0);
    line.put("offset", offset);
    line.put("tstype", "create");
    line.put("ts", ts);
    line.put("broker", -1);
    line.put("headers", headers);
    line.put("key", key);
    line.put("payload", JSON.writeValueAsString(payload));
    lines.add(JSON.writeValueAsString(line));
  }

  /** Writes the records as {@code messages.kcat.jsonl} in a new directory {@code dir}; returns it. */
  Path write(Path dir) throws IOException {
    Files.createDirectories(dir);
    Files.write(dir.resolve("messages.kcat.jsonl"), lines);
    return dir;
  }

  String hex(int digits) {
    StringBuilder out = new StringBuilder(digits);
    for (int i = 0; i < digits; i++) {
      out.append(Character.forDigit(random.nextInt(16), 16));
    }
    return out.toString();
  }
}
