package io.flowtrace.tracer.recording;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.otlp.JacksonMessages;
import io.flowtrace.tracer.otlp.StringCache;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.SourcePosition;
import io.flowtrace.tracer.model.Telemetry;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.Consumer;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads Kafka records from {@code *.kcat.jsonl} files (optionally gzipped): one record per line as
 * {@code kcat -C -J} prints it — {@code topic}, {@code partition}, {@code offset}, {@code ts}
 * (epoch ms), {@code headers} as a flat {@code [name, value, ...]} list, {@code key} and {@code
 * payload} — with a binary value as base64 in {@code payload_base64}. Numbers may be strings. A
 * record's value is the UTF-8 bytes of {@code payload}. A line that is not such a record, is not
 * UTF-8 or is longer than {@link #MAX_LINE_BYTES} is reported with its line number and skipped. A
 * file cut off or corrupt (a truncated gzip) is reported at the line where reading stopped; the
 * lines before it are kept.
 */
public final class KcatJsonLinesReader implements TelemetryFileReader {

  /** The timestamp given to a record without {@code ts}: Kafka's "no timestamp", -1. */
  public static final long NO_TIMESTAMP = -1;

  /** The longest line read: 64 MiB. A longer line is reported and skipped. */
  public static final int MAX_LINE_BYTES = LineReader.MAX_LINE_BYTES;

  private static final JsonMapper MAPPER = JsonMapper.builder().build();

  private final int maxLineBytes;

  public KcatJsonLinesReader() {
    this(MAX_LINE_BYTES);
  }

  /** A reader with another line limit (for tests). */
  KcatJsonLinesReader(int maxLineBytes) {
    this.maxLineBytes = maxLineBytes;
  }

  @Override
  public boolean accepts(Path file) {
    return RecordingFiles.hasSuffix(file, ".kcat.jsonl");
  }

  /** Reads the file; a file that cannot be opened is reported at line 1. Never throws for bad input. */
  @Override
  public long read(Path file, Consumer<Telemetry> sink, ReadListener listener) {
    String source = file.toString();
    return RecordingFiles.read(file, listener, SourcePosition.line(source, 1),
        in -> read(in, source, sink, listener));
  }

  /**
   * Reads kcat JSON lines (UTF-8); {@code source} names the input in problem reports. A read error
   * is reported at the line it cut off and ends the input. Does not close {@code in}.
   */
  public long read(InputStream in, String source, Consumer<Telemetry> sink, ReadListener listener) {
    UnreadableRuns problems = new UnreadableRuns(listener);
    long emitted = readLines(in, source, sink, problems);
    problems.flush();
    return emitted;
  }

  private long readLines(InputStream in, String source, Consumer<Telemetry> sink, ReadListener listener) {
    LineReader lines = new LineReader(in, maxLineBytes);
    LineChunks chunks = LineChunks.inReadingPool(problems -> (utf8, offset, length, lineNumber) ->
        plain(utf8, offset, length, lineNumber, source, sink, problems), listener);
    long emitted = 0;
    try {
      while (lines.next()) {
        long lineNumber = lines.number();
        if (lines.plainUtf8()) {
          if (RecordingFiles.isBlank(lines.bytes(), lines.offset(), lines.length())) {
            continue;
          }
          if (chunks != null) {
            chunks.add(lines.bytes(), lines.offset(), lines.length(), lineNumber);
          } else {
            emitted += plain(lines.bytes(), lines.offset(), lines.length(), lineNumber, source, sink, listener);
          }
          continue;
        }
        if (chunks != null) {
          chunks.drain(); // what comes before this line is reported before it
        }
        String line = lines.text();
        if (line == null) {
          problem(listener, source, lineNumber, lines.problem());
          continue;
        }
        if (lineNumber == 1) {
          line = RecordingFiles.withoutBom(line);
        }
        if (RecordingFiles.isBlank(line)) {
          continue;
        }
        try {
          sink.accept(Telemetry.of(plausible(parse(line))));
          emitted++;
        } catch (BadRecord e) {
          listener.problem(ReadProblem.naming(SourcePosition.line(source, lineNumber), e.getMessage(), line));
        }
      }
    } catch (IOException e) {
      if (chunks != null) {
        chunks.drain();
      }
      problem(listener, source, lines.number(), RecordingFiles.cutOff(e));
    }
    if (chunks != null) {
      chunks.drain();
      emitted += chunks.emitted();
    }
    return emitted;
  }

  /** Reads a line of plain UTF-8 into the sink (1) or reports why it is not a record (0). */
  private static long plain(byte[] utf8, int offset, int length, long lineNumber, String source,
      Consumer<Telemetry> sink, ReadListener problems) {
    KafkaRecord record;
    try {
      record = common(utf8, offset, length);
      if (record == null) {
        record = parse(new String(utf8, offset, length, StandardCharsets.UTF_8));
      }
      plausible(record);
    } catch (BadRecord e) {
      problems.problem(ReadProblem.naming(SourcePosition.line(source, lineNumber), e.getMessage(),
          new String(utf8, offset, length, StandardCharsets.UTF_8)));
      return 0;
    }
    sink.accept(Telemetry.of(record));
    return 1;
  }

  /** Earliest time a record's {@code ts} in epoch milliseconds is taken for: 1973-03-03; below it, seconds. */
  private static final long EARLIEST_MS = 100_000_000_000L;
  /** Latest: the year 5138; above it, micro- or nanoseconds. */
  private static final long LATEST_MS = 100_000_000_000_000L;

  /**
   * The record, unless its {@code ts} cannot be a time in epoch milliseconds (-1 and 0, no time, aside): a
   * time in seconds or microseconds, or before 1970. Taken as read, such a record made an instance
   * of its own in 1970 and left its real one without it, blamed on a reused key.
   */
  static KafkaRecord plausible(KafkaRecord record) throws BadRecord {
    long ts = record.timestampMillis();
    if (ts == NO_TIMESTAMP || ts == 0) {
      return record;
    }
    if (ts < 0) {
      throw new BadRecord("\"ts\" is " + ts + ", before 1970: not a time in epoch milliseconds; the record is left out");
    }
    if (ts < EARLIEST_MS || ts > LATEST_MS) {
      throw new BadRecord("\"ts\" " + ts + " reads as " + java.time.Instant.ofEpochMilli(ts) + " in epoch milliseconds: "
          + (ts < EARLIEST_MS ? "seconds" : "micro- or nanoseconds") + ", not milliseconds?; the record is left out");
    }
    return record;
  }

  private static void problem(ReadListener listener, String source, long lineNumber, String reason) {
    listener.problem(new ReadProblem(SourcePosition.line(source, lineNumber), reason));
  }

  /** Parses one kcat {@code -J} line. */
  static KafkaRecord parse(String line) throws BadRecord {
    JsonNode node;
    try {
      node = MAPPER.readTree(line);
    } catch (JacksonException e) {
      throw new BadRecord("not a kcat JSON record: " + JacksonMessages.reason(e));
    }
    return record(node);
  }

  /**
   * Reads a line of the shape kcat writes — {@code topic}, {@code partition}, {@code offset},
   * {@code ts}, {@code key}, {@code payload} as text or {@code payload_base64}, {@code headers} as
   * name, text pairs — in one pass, without a tree. Returns {@code null} for anything else (binary
   * header values, numbers as text,
   * a repeated field, text that is not one JSON object...): {@link #parse} then reads it, with what
   * a bad line lacks. Where it returns a record, it is the one {@code parse} gives.
   */
  static KafkaRecord common(byte[] utf8, int offset, int length) {
    // A bare parser: the mapper's own would make a deserialization context for every line.
    try (JsonParser p = MAPPER.tokenStreamFactory().createParser(ObjectReadContext.empty(), utf8, offset, length)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      String topic = null;
      long partition = 0;
      long position = 0;
      long ts = NO_TIMESTAMP;
      String key = null;
      String payload = null;
      String base64 = null;
      List<RecordHeader> headers = List.of();
      int seen = 0;
      String name;
      while ((name = p.nextName()) != null) {
        JsonToken token = p.nextToken();
        int field;
        switch (name) {
          case "topic" -> {
            field = 1;
            topic = token == JsonToken.VALUE_STRING ? name(p) : null;
            if (topic == null || topic.isEmpty()) {
              return null;
            }
          }
          case "partition" -> {
            field = 2;
            partition = token == JsonToken.VALUE_NUMBER_INT ? p.getLongValue() : -1;
            if (partition < 0 || partition > Integer.MAX_VALUE) {
              return null;
            }
          }
          case "offset" -> {
            field = 4;
            if (token != JsonToken.VALUE_NUMBER_INT) {
              return null;
            }
            position = p.getLongValue();
          }
          case "ts" -> {
            field = 8;
            if (token == JsonToken.VALUE_NUMBER_INT) {
              ts = p.getLongValue();
            } else if (token != JsonToken.VALUE_NULL) {
              return null;
            }
          }
          case "key", "payload", "payload_base64" -> {
            field = name.equals("key") ? 16 : name.equals("payload") ? 32 : 128;
            if (token != JsonToken.VALUE_STRING && token != JsonToken.VALUE_NULL) {
              return null;
            }
            String text = token == JsonToken.VALUE_NULL ? null : p.getString();
            if (field == 16) {
              key = text;
            } else if (field == 32) {
              payload = text;
            } else {
              base64 = text;
            }
          }
          case "headers" -> {
            field = 64;
            if (token == JsonToken.START_ARRAY) {
              headers = headers(p);
              if (headers == null) {
                return null;
              }
            } else if (token != JsonToken.VALUE_NULL) {
              return null;
            }
          }
          case "headers_base64" -> {
            return null;
          }
          default -> {
            field = 0;
            p.skipChildren();
          }
        }
        if ((seen & field) != 0) {
          return null;
        }
        seen |= field;
      }
      if ((seen & 7) != 7 || p.nextToken() != null) {
        return null;
      }
      byte[] value = base64 != null ? Base64.getDecoder().decode(base64.strip())
          : payload == null ? null : payload.getBytes(StandardCharsets.UTF_8);
      return new KafkaRecord(topic, (int) partition, position, ts, key, headers, value);
    } catch (RuntimeException e) {
      return null; // not JSON, a number too large, not base64...: parse says what
    }
  }

  /** A topic or header name: the shared copy, found by its characters (every record repeats them). */
  private static String name(JsonParser p) {
    return StringCache.NAMES.get(p.getStringCharacters(), p.getStringOffset(), p.getStringLength());
  }

  /** Name, text pairs up to the end of the array the parser is in; {@code null} for any other content. */
  private static List<RecordHeader> headers(JsonParser p) {
    List<RecordHeader> headers = new ArrayList<>(2);
    JsonToken token;
    while ((token = p.nextToken()) != JsonToken.END_ARRAY) {
      if (token != JsonToken.VALUE_STRING) {
        return null;
      }
      String name = name(p);
      JsonToken value = p.nextToken();
      if (value != JsonToken.VALUE_STRING && value != JsonToken.VALUE_NULL) {
        return null;
      }
      headers.add(RecordHeader.ofString(name, value == JsonToken.VALUE_NULL ? null : p.getString()));
    }
    return headers;
  }

  private static KafkaRecord record(JsonNode node) throws BadRecord {
    if (node == null || !node.isObject()) {
      throw new BadRecord("not a kcat JSON record: expected an object but got "
          + (node == null ? "nothing" : node.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)));
    }
    List<String> missing = new ArrayList<>(3);
    for (String field : new String[] {"topic", "partition", "offset"}) {
      JsonNode value = node.get(field);
      if (value == null || value.isNull()) {
        missing.add('"' + field + '"');
      }
    }
    if (!missing.isEmpty()) {
      throw new BadRecord("kcat record lacks " + String.join(", ", missing));
    }
    JsonNode topicNode = node.get("topic");
    if (!topicNode.isString() || topicNode.stringValue().isEmpty()) {
      throw new BadRecord("\"topic\" is not a topic name: " + topicNode);
    }
    long partition = number(node, "partition", 0);
    if (partition < 0 || partition > Integer.MAX_VALUE) {
      throw new BadRecord("\"partition\" is not a partition number: " + node.get("partition"));
    }
    long offset = number(node, "offset", 0);
    long ts = number(node, "ts", NO_TIMESTAMP);
    return new KafkaRecord(
        topicNode.stringValue(),
        (int) partition,
        offset,
        ts,
        text(node, "key"),
        headers(node.get("headers"), node.get("headers_base64")),
        value(node));
  }

  private static long number(JsonNode node, String field, long absent) throws BadRecord {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return absent;
    }
    if (value.isIntegralNumber() && value.canConvertToLong()) {
      return value.longValue();
    }
    if (value.isString()) {
      try {
        return Long.parseLong(value.stringValue().strip());
      } catch (NumberFormatException e) {
        // reported below
      }
    }
    throw new BadRecord('"' + field + "\" is not an integer: " + value);
  }

  private static String text(JsonNode node, String field) throws BadRecord {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return null;
    }
    if (value.isContainer()) {
      throw new BadRecord('"' + field + "\" is not a string: " + value);
    }
    return value.asString();
  }

  private static List<RecordHeader> headers(JsonNode headers, JsonNode binary) throws BadRecord {
    List<RecordHeader> list = headers(headers);
    if (binary == null || binary.isNull()) {
      return list;
    }
    if (!binary.isArray() || binary.size() != list.size()) {
      throw new BadRecord("\"headers_base64\" is not a list of " + list.size()
          + " entries (one per header, null where the value is text): " + binary);
    }
    List<RecordHeader> whole = new ArrayList<>(list);
    for (int i = 0; i < list.size(); i++) {
      JsonNode b = binary.get(i);
      if (b.isNull()) {
        continue;
      }
      try {
        whole.set(i, new RecordHeader(list.get(i).name(), Base64.getDecoder().decode(b.asString())));
      } catch (IllegalArgumentException e) {
        throw new BadRecord("header '" + list.get(i).name() + "' has a \"headers_base64\" value that is not base64: "
            + e.getMessage());
      }
    }
    return whole;
  }

  private static List<RecordHeader> headers(JsonNode headers) throws BadRecord {
    if (headers == null || headers.isNull()) {
      return List.of();
    }
    if (!headers.isArray()) {
      throw new BadRecord("\"headers\" is not a [name, value, ...] list: " + headers);
    }
    if (headers.size() % 2 != 0) {
      throw new BadRecord("\"headers\" has an odd number of entries (" + headers.size()
          + "); expected name, value pairs");
    }
    List<RecordHeader> list = new ArrayList<>(headers.size() / 2);
    for (int i = 0; i < headers.size(); i += 2) {
      JsonNode name = headers.get(i);
      JsonNode value = headers.get(i + 1);
      if (!name.isString()) {
        throw new BadRecord("header " + (i / 2 + 1) + " has a name that is not a string: " + name);
      }
      if (value.isContainer()) {
        throw new BadRecord("header '" + name.stringValue() + "' has a value that is not a string: " + value);
      }
      list.add(RecordHeader.ofString(name.stringValue(), value.isNull() ? null : value.asString()));
    }
    return list;
  }

  private static byte[] value(JsonNode node) throws BadRecord {
    JsonNode base64 = node.get("payload_base64");
    if (base64 != null && !base64.isNull()) {
      if (!base64.isString()) {
        throw new BadRecord("\"payload_base64\" is not a string: " + base64);
      }
      try {
        return Base64.getDecoder().decode(base64.stringValue().strip());
      } catch (IllegalArgumentException e) {
        throw new BadRecord("\"payload_base64\" is not base64: " + e.getMessage());
      }
    }
    String payload = text(node, "payload");
    return payload == null ? null : payload.getBytes(StandardCharsets.UTF_8);
  }

  /** A line that is not a kcat record; the message says why. */
  static final class BadRecord extends Exception {
    BadRecord(String message) {
      super(message, null, false, false);
    }
  }
}
