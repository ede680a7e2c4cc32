package io.flowtrace.sidecar.internal;

import io.flowtrace.sidecar.output.JsonLinesVerdictSink;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads back the verdicts a sidecar wrote recently (from its verdicts topic or files), so that a
 * restarted sidecar re-reading uncommitted input does not decide those instances again. A line or
 * message that is not a verdict is skipped with its place named.
 */
public final class VerdictHistory {

  private static final Logger LOG = LoggerFactory.getLogger(VerdictHistory.class);
  private static final JsonMapper JSON = JsonMapper.builder().build();

  /**
   * One verdict as read back: its instance, its revision, its status and its violations ({@code
   * kind@stage}); with its {@code instanceKey} and its whole JSON text as written, when read from an output.
   */
  public record Decided(String flow, Map<String, String> keys, List<String> traceIds, int revision, String status,
      List<String> violations, String instanceKey, String json) {

    public Decided(String flow, Map<String, String> keys, List<String> traceIds, int revision, String status,
        List<String> violations) {
      this(flow, keys, traceIds, revision, status, violations, null, null);
    }

    /** What identifies this verdict among an instance's: {@code instanceKey#revision}. */
    public String id() {
      return (instanceKey != null ? instanceKey : flow + '|' + keys) + '#' + revision;
    }
  }

  /**
   * The verdicts in {@code from} that {@code in} lacks (by instance and revision), in {@code
   * from}'s order: what one output of a sidecar holds and another does not, when the process
   * stopped between writing to one and to the other (a {@code kill -9}).
   */
  public static List<Decided> missing(List<Decided> from, List<Decided> in) {
    return missing(from, in, true);
  }

  /**
   * {@link #missing(List, List)}, where {@code in} may have been read only from some point on
   * ({@code inWhole} false: a topic read for a window, with older records before it): a verdict of
   * {@code from} decided before the earliest one read of {@code in} may well be there, unread, and
   * is not taken as missing — copied, every older verdict was published again at each restart.
   */
  public static List<Decided> missing(List<Decided> from, List<Decided> in, boolean inWhole) {
    java.util.Set<String> have = new java.util.HashSet<>();
    in.forEach(d -> have.add(d.id()));
    Instant cutoff = inWhole ? null
        : in.stream().map(VerdictHistory::decided).filter(java.util.Objects::nonNull).min(Instant::compareTo).orElse(null);
    return from.stream().filter(d -> d.json() != null && d.instanceKey() != null && !have.contains(d.id())
        && (cutoff == null || !decidedBefore(d, cutoff))).toList();
  }

  private static boolean decidedBefore(Decided d, Instant cutoff) {
    Instant at = decided(d);
    return at != null && at.isBefore(cutoff);
  }

  /** Verdicts read back from a topic, and whether the read began at the start of every partition. */
  public record TopicRead(List<Decided> verdicts, boolean whole) {}

  /** When a verdict read from an output says it was decided, or {@code null} when it does not say. */
  private static Instant decided(Decided d) {
    if (d.json() == null) {
      return null;
    }
    try {
      String text = JSON.readTree(d.json()).path("decided").asString(null);
      return text == null ? null : Instant.parse(text);
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** The latest revision of each instance's verdict, in the order each instance first appears. */
  public static List<Decided> latest(List<Decided> read) {
    Map<String, Decided> byInstance = new java.util.LinkedHashMap<>();
    for (Decided d : read) {
      byInstance.merge(d.flow() + '|' + d.keys(), d, (a, b) -> b.revision() >= a.revision() ? b : a);
    }
    return List.copyOf(byInstance.values());
  }

  private VerdictHistory() {}

  /**
   * Verdicts written to {@code topic} in the {@code window} before the last one written: the window
   * is measured back from when the previous run stopped writing, not from now, so a long downtime
   * does not leave out the verdicts of the messages that were read but not yet committed.
   */
  public static TopicRead fromTopic(Map<String, Object> properties, String topic, Duration window) {
    Map<String, Object> p = new HashMap<>(properties);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.remove(ConsumerConfig.GROUP_ID_CONFIG);
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "flowtrace-verdict-history");
    List<Decided> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<PartitionInfo> infos = c.partitionsFor(topic, Duration.ofSeconds(10));
      if (infos == null || infos.isEmpty()) {
        return new TopicRead(out, true);
      }
      List<TopicPartition> tps = infos.stream().map(i -> new TopicPartition(topic, i.partition())).toList();
      c.assign(tps);
      Map<TopicPartition, Long> ends = c.endOffsets(tps, Duration.ofSeconds(10));
      OptionalLong lastWritten = lastTimestamp(c, ends);
      if (lastWritten.isEmpty()) {
        return new TopicRead(out, true);
      }
      Instant since = Instant.ofEpochMilli(lastWritten.getAsLong()).minus(window);
      LOG.info("event=reading_verdicts topic={} since={} last_written={}", topic, since,
          Instant.ofEpochMilli(lastWritten.getAsLong()));
      Map<TopicPartition, Long> query = new HashMap<>();
      tps.forEach(tp -> query.put(tp, since.toEpochMilli()));
      Map<TopicPartition, OffsetAndTimestamp> starts = c.offsetsForTimes(query, Duration.ofSeconds(10));
      Map<TopicPartition, Long> remaining = new HashMap<>();
      Map<TopicPartition, Long> beginnings = c.beginningOffsets(tps, Duration.ofSeconds(10));
      boolean whole = true;
      for (TopicPartition tp : tps) {
        OffsetAndTimestamp at = starts.get(tp);
        long start = at == null ? ends.get(tp) : at.offset();
        whole &= start <= beginnings.getOrDefault(tp, 0L);
        c.seek(tp, start);
        if (start < ends.get(tp)) {
          remaining.put(tp, ends.get(tp));
        }
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (!remaining.isEmpty() && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : poll(c)) {
          TopicPartition tp = new TopicPartition(r.topic(), r.partition());
          parse(new String(r.value() == null ? new byte[0] : r.value(), StandardCharsets.UTF_8),
              r.topic() + "[" + r.partition() + "]@" + r.offset(), out);
          if (remaining.containsKey(tp) && r.offset() + 1 >= remaining.get(tp)) {
            remaining.remove(tp);
          }
        }
        remaining.keySet().removeIf(tp -> c.position(tp) >= ends.get(tp));
      }
      if (!remaining.isEmpty()) {
        LOG.warn("event=verdicts_partly_read partitions={} detail=\"not read to the end within 30 s; instances they "
            + "hold may be decided again\"", remaining.keySet());
      }
      return new TopicRead(out, whole);
    }
  }

  /** One poll; a record that cannot be read is logged and skipped (nothing returned this time). */
  private static ConsumerRecords<byte[], byte[]> poll(KafkaConsumer<byte[], byte[]> c) {
    try {
      return c.poll(Duration.ofMillis(200));
    } catch (KafkaException e) {
      if (!KafkaInput.skipUnreadable(c, e, LOG, (reason, n) -> { })) {
        throw e;
      }
      return ConsumerRecords.empty();
    }
  }

  /** The newest record timestamp at the end of the partitions, or empty when all are empty. */
  private static OptionalLong lastTimestamp(KafkaConsumer<byte[], byte[]> c, Map<TopicPartition, Long> ends) {
    Map<TopicPartition, Long> waiting = new HashMap<>();
    ends.forEach((tp, end) -> {
      if (end > 0) {
        c.seek(tp, end - 1);
        waiting.put(tp, end - 1);
      } else {
        c.pause(List.of(tp));
      }
    });
    long latest = Long.MIN_VALUE;
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!waiting.isEmpty() && System.nanoTime() < deadline) {
      for (ConsumerRecord<byte[], byte[]> r : poll(c)) {
        latest = Math.max(latest, r.timestamp());
        waiting.remove(new TopicPartition(r.topic(), r.partition()));
      }
      waiting.keySet().removeIf(tp -> c.position(tp) >= ends.get(tp));
    }
    c.resume(c.paused());
    return latest == Long.MIN_VALUE ? OptionalLong.empty() : OptionalLong.of(latest);
  }

  /**
   * Verdicts in the {@code verdicts-NNNN.jsonl} files of {@code dir} modified in the {@code window}
   * before the newest file was last written (see {@link #fromTopic}).
   */
  public static List<Decided> fromDirectory(Path dir, Duration window) throws IOException {
    List<Decided> out = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(f -> JsonLinesVerdictSink.FILE_NAME.matcher(f.getFileName().toString()).matches()).sorted().toList();
    }
    List<Path> written = new ArrayList<>();
    for (Path f : files) {
      if (Files.size(f) > 0) { // not the file this run's output just opened: its date would make the window end now
        written.add(f);
      }
    }
    files = written;
    Instant newest = Instant.MIN;
    for (Path f : files) {
      Instant modified = Files.getLastModifiedTime(f).toInstant();
      newest = modified.isAfter(newest) ? modified : newest;
    }
    Instant since = files.isEmpty() ? Instant.MAX : newest.minus(window);
    for (Path f : files) {
      if (Files.getLastModifiedTime(f).toInstant().isBefore(since)) {
        continue;
      }
      try (BufferedReader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
        String line;
        int n = 0;
        while ((line = r.readLine()) != null) {
          n++;
          if (!line.isBlank()) {
            parse(line, f + ":" + n, out);
          }
        }
      }
    }
    return out;
  }

  private static void parse(String text, String where, List<Decided> out) {
    try {
      JsonNode root = JSON.readTree(text);
      if (root.has("late")) {
        return; // a note of an event that came after a final verdict, not a verdict
      }
      JsonNode v = root.path("verdict");
      String flow = v.path("flow").asString(null);
      if (flow == null) {
        LOG.warn("event=skip_verdict where={} reason=\"no verdict.flow\"", where);
        return;
      }
      Map<String, String> keys = new LinkedHashMap<>();
      for (Map.Entry<String, JsonNode> k : v.path("keys").properties()) {
        keys.put(k.getKey(), k.getValue().asString());
      }
      List<String> traces = new ArrayList<>();
      v.path("traceIds").forEach(t -> traces.add(t.asString()));
      List<String> violations = new ArrayList<>();
      v.path("violations").forEach(x -> violations.add(x.path("kind").asString() + "@" + x.path("stage").asString()));
      out.add(new Decided(flow, keys, traces, root.path("revision").asInt(0), v.path("status").asString(), violations,
          root.path("instanceKey").asString(null), text));
    } catch (RuntimeException e) {
      LOG.warn("event=skip_verdict where={} reason=\"not JSON: {}\"", where, e.getMessage());
    }
  }
}
