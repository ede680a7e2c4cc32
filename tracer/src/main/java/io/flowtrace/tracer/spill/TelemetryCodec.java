package io.flowtrace.tracer.spill;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.SpanLink;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.otlp.Names;
import io.flowtrace.tracer.otlp.OtlpSpans;
import io.flowtrace.tracer.otlp.StringCache;
import java.io.ByteArrayInputStream;
import java.io.DataInput;
import java.io.DataInputStream;
import java.io.DataOutput;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A compact binary form of {@link Telemetry}, for spilling sorted runs to disk during replay and
 * for routing items through Kafka topics in the sidecar's cluster mode. Our own tagged format (no
 * Java serialization).
 *
 * <p>The input may come from a topic anyone can write to, so decoding trusts nothing it reads:
 * every length and count is checked against a fixed maximum and, when the whole input is known
 * ({@link #read(byte[])}), against the bytes that are left; collections are never presized from a
 * count and byte arrays grow only as their bytes arrive, so memory follows the input actually
 * read; nested values are limited to {@link #MAX_DEPTH} levels. Bad input fails with an {@link
 * IOException} that says what was wrong.
 *
 * <p>Attribute values round-trip as the OTLP mapping makes them: {@link String}, {@link Long}
 * ({@link Integer} is written as a long), {@link Double}, {@link Boolean}, an unmodifiable {@link
 * List} and an unmodifiable {@link Map} with string keys (a key-value list), nested. Other types are
 * written as their {@code toString}.
 */
public final class TelemetryCodec {
  private static final int SPAN = 1;
  private static final int RECORD = 2;

  /** Most bytes in one string or byte array: above the largest Kafka record a broker is set to accept. */
  static final int MAX_BYTES = 64 * 1024 * 1024;
  /** Most elements in one collection (attributes, links, headers, list or map value). */
  static final int MAX_COUNT = 1024 * 1024;
  /**
   * Deepest nesting of list and map values. OTLP can't go deeper than about 48 (protobuf parses at
   * most 100 nested messages, and every level of value costs two), and 64 frames of recursion are
   * nothing for the stack.
   */
  static final int MAX_DEPTH = 64;

  /** Fewest bytes one element can take, for checking a count against the bytes left. */
  private static final int MIN_ENTRY_BYTES = 4 + 2; // key length, then a tag and a boolean

  private static final int MIN_VALUE_BYTES = 2; // a tag and a boolean
  private static final int MIN_LINK_BYTES = 2 + 2 + 4; // two empty UTF ids, no attributes
  private static final int MIN_HEADER_BYTES = 4 + 4; // empty name, null value

  /** Largest initial capacity given to a collection, whatever its count says. */
  private static final int PRESIZE = 16;
  /** Byte arrays longer than this are read in steps, growing as their bytes arrive. */
  private static final int CHUNK = 64 * 1024;
  private static final int STREAM_BUFFER = 64 * 1024;

  /** A span's last byte: whether it is an error, and whether its host follows (older items wrote a boolean: 0 or 1). */
  private static final int ERROR = 1;
  private static final int HOST = 2;

  private static final int VALUE_STRING = 's';
  private static final int VALUE_LONG = 'l';
  private static final int VALUE_DOUBLE = 'd';
  private static final int VALUE_BOOLEAN = 'b';
  private static final int VALUE_LIST = 'a';
  private static final int VALUE_MAP = 'm';

  private TelemetryCodec() {}

  /**
   * A buffered stream to {@link #write} items to from one thread, without the per-byte lock of
   * {@link java.io.BufferedOutputStream}. Closing it closes {@code out}.
   */
  public static DataOutputStream output(OutputStream out) {
    return new DataOutputStream(new BufferedOutput(out, STREAM_BUFFER));
  }

  /**
   * A buffered stream to {@link #read(DataInput)} items from on one thread, without the per-byte
   * lock of {@link java.io.BufferedInputStream}. Closing it closes {@code in}.
   */
  public static DataInputStream input(InputStream in) {
    return new DataInputStream(new BufferedInput(in, STREAM_BUFFER));
  }

  public static void write(Telemetry t, DataOutput out) throws IOException {
    if (t instanceof Telemetry.SpanEvent s) {
      out.writeByte(SPAN);
      writeSpan(s.span(), out);
    } else if (t instanceof Telemetry.RecordEvent r) {
      out.writeByte(RECORD);
      writeRecord(r.record(), out);
    }
  }

  /**
   * Reads one item from a stream of them. At a clean end of input (before an item's first byte)
   * throws {@link EOFException}; an item cut short or otherwise bad throws a plain {@link
   * IOException}.
   */
  public static Telemetry read(DataInput in) throws IOException {
    return read(new Reader(in, null));
  }

  /**
   * Reads the item {@code value} holds (one Kafka record's value), checking every length and
   * count against the bytes left. An empty or {@code null} value is an {@link IOException} too.
   */
  public static Telemetry read(byte[] value) throws IOException {
    if (value == null || value.length == 0) {
      throw new IOException("corrupt item: empty input");
    }
    ByteArrayInputStream bytes = new ByteArrayInputStream(value);
    return read(new Reader(new DataInputStream(bytes), bytes));
  }

  private static Telemetry read(Reader r) throws IOException {
    int tag = r.in.readByte();
    try {
      return switch (tag) {
        case SPAN -> Telemetry.of(readSpan(r));
        case RECORD -> Telemetry.of(readRecord(r));
        default -> throw new IOException("corrupt item: unknown tag " + tag);
      };
    } catch (EOFException e) {
      throw new IOException("corrupt item: input ends inside a " + (tag == SPAN ? "span" : "record"), e);
    }
  }

  private static void writeSpan(Span s, DataOutput out) throws IOException {
    writeId(s.traceId(), out);
    writeId(s.spanId(), out);
    writeId(s.parentSpanId(), out);
    writeString(s.name(), out);
    out.writeByte(s.kind().ordinal());
    writeString(s.service(), out);
    out.writeLong(s.startEpochNanos());
    out.writeLong(s.endEpochNanos());
    writeAttributes(s.attributes(), out);
    out.writeInt(s.links().size());
    for (SpanLink l : s.links()) {
      writeId(l.traceId(), out);
      writeId(l.spanId(), out);
      writeAttributes(l.attributes(), out);
    }
    out.writeByte((s.error() ? ERROR : 0) | (s.host().isEmpty() ? 0 : HOST));
    if (!s.host().isEmpty()) {
      writeString(s.host(), out);
    }
  }

  private static Span readSpan(Reader r) throws IOException {
    DataInput in = r.in;
    String traceId = readId(r);
    String spanId = readId(r);
    String parent = readId(r);
    String name = readName(r, "span name", "");
    int kind = in.readByte();
    String service = readName(r, "service name", "");
    long start = in.readLong();
    long end = in.readLong();
    Map<String, Object> attributes = readEntries(r, "attribute", 0);
    int links = r.count(in.readInt(), "link", MIN_LINK_BYTES);
    List<SpanLink> list = new ArrayList<>(Math.min(links, PRESIZE));
    for (int i = 0; i < links; i++) {
      list.add(new SpanLink(readId(r), readId(r), readEntries(r, "link attribute", 0)));
    }
    int flags = in.readByte();
    if ((flags & ~(ERROR | HOST)) != 0) {
      throw new IOException("corrupt item: unknown span flags " + flags);
    }
    String host = (flags & HOST) != 0 ? readName(r, "host name", "") : "";
    return new Span(traceId, spanId, parent, name, SpanKind.fromOtlp(kind), service, start, end, attributes, list,
        (flags & ERROR) != 0, host);
  }

  private static void writeRecord(KafkaRecord r, DataOutput out) throws IOException {
    writeString(r.topic(), out);
    out.writeInt(r.partition());
    out.writeLong(r.offset());
    out.writeLong(r.timestampMillis());
    out.writeBoolean(r.key() != null);
    if (r.key() != null) {
      writeString(r.key(), out);
    }
    out.writeInt(r.headers().size());
    for (RecordHeader h : r.headers()) {
      writeString(h.name(), out);
      writeBytes(h.value(), out);
    }
    writeBytes(r.value(), out);
  }

  private static KafkaRecord readRecord(Reader r) throws IOException {
    DataInput in = r.in;
    String topic = readName(r, "topic", "");
    int partition = in.readInt();
    long offset = in.readLong();
    long ts = in.readLong();
    String key = in.readBoolean() ? readString(r, "record key", "") : null;
    int n = r.count(in.readInt(), "header", MIN_HEADER_BYTES);
    List<RecordHeader> headers = new ArrayList<>(Math.min(n, PRESIZE));
    for (int i = 0; i < n; i++) {
      headers.add(new RecordHeader(readName(r, "header name", ""), readBytes(r, "header value", "")));
    }
    return new KafkaRecord(topic, partition, offset, ts, key, headers, readBytes(r, "record value", ""));
  }

  private static void writeAttributes(Map<String, ?> attributes, DataOutput out) throws IOException {
    out.writeInt(attributes.size());
    for (Map.Entry<String, ?> e : attributes.entrySet()) {
      writeString(e.getKey(), out);
      writeValue(e.getValue(), out);
    }
  }

  /**
   * An unmodifiable map of {@code count} entries, as {@code OtlpSpans.attributes} makes (of
   * repeated keys the last wins; the writer, writing a map, never repeats one). Keys are the
   * decoders' shared copies ({@link Names}).
   */
  private static Map<String, Object> readEntries(Reader r, String what, int depth) throws IOException {
    int n = r.count(r.in.readInt(), what, MIN_ENTRY_BYTES);
    if (n == 0) {
      return Map.of();
    }
    @SuppressWarnings("unchecked")
    Map.Entry<String, Object>[] entries = new Map.Entry[Math.min(n, PRESIZE)];
    for (int i = 0; i < n; i++) {
      if (i == entries.length) {
        entries = Arrays.copyOf(entries, Math.min(n, 2 * i));
      }
      entries[i] = Map.entry(readName(r, what, " key"), readValue(r, what, " value", depth));
    }
    return OtlpSpans.attributeMap(entries);
  }

  private static void writeValue(Object v, DataOutput out) throws IOException {
    if (v instanceof String s) {
      out.writeByte(VALUE_STRING);
      writeString(s, out);
    } else if (v instanceof Long l) {
      out.writeByte(VALUE_LONG);
      out.writeLong(l);
    } else if (v instanceof Integer i) {
      out.writeByte(VALUE_LONG);
      out.writeLong(i);
    } else if (v instanceof Double d) {
      out.writeByte(VALUE_DOUBLE);
      out.writeDouble(d);
    } else if (v instanceof Boolean b) {
      out.writeByte(VALUE_BOOLEAN);
      out.writeBoolean(b);
    } else if (v instanceof List<?> list) {
      out.writeByte(VALUE_LIST);
      out.writeInt(list.size());
      for (Object o : list) {
        writeValue(o, out);
      }
    } else if (v instanceof Map<?, ?> map) {
      out.writeByte(VALUE_MAP);
      out.writeInt(map.size());
      for (Map.Entry<?, ?> e : map.entrySet()) {
        writeString(String.valueOf(e.getKey()), out);
        writeValue(e.getValue(), out);
      }
    } else {
      out.writeByte(VALUE_STRING);
      writeString(String.valueOf(v), out);
    }
  }

  /** One value at nesting {@code depth} (0 for an attribute's own value), described as {@code what + part} in errors. */
  private static Object readValue(Reader r, String what, String part, int depth) throws IOException {
    int tag = r.in.readByte();
    switch (tag) {
      case VALUE_STRING: return readString(r, what, part);
      case VALUE_LONG: return r.in.readLong();
      case VALUE_DOUBLE: return r.in.readDouble();
      case VALUE_BOOLEAN: return r.in.readBoolean();
      case VALUE_LIST: {
        nested(depth, what, part);
        int n = r.count(r.in.readInt(), "list element", MIN_VALUE_BYTES);
        if (n == 0) {
          return List.of();
        }
        List<Object> list = new ArrayList<>(Math.min(n, PRESIZE));
        for (int i = 0; i < n; i++) {
          list.add(readValue(r, "list element", "", depth + 1));
        }
        return List.copyOf(list);
      }
      case VALUE_MAP: {
        nested(depth, what, part);
        return readEntries(r, "map entry", depth + 1);
      }
      default: throw new IOException("corrupt item: unknown value tag " + tag);
    }
  }

  private static void nested(int depth, String what, String part) throws IOException {
    if (depth >= MAX_DEPTH) {
      throw new IOException("corrupt item: " + what + part + " nests lists and maps deeper than " + MAX_DEPTH + " levels");
    }
  }

  /**
   * An id as {@link DataOutput#writeUTF} writes it (modified UTF-8 after a two-byte length). Ids are
   * almost always ASCII hex, whose modified UTF-8 is their bytes: written as such without the two
   * passes over {@code charAt} that {@code writeUTF} makes.
   */
  private static void writeId(String id, DataOutput out) throws IOException {
    byte[] b = id.getBytes(StandardCharsets.ISO_8859_1);
    if (b.length <= 0xFFFF && plainAscii(b, b.length) && noneReplaced(b)) {
      out.writeShort(b.length);
      out.write(b);
    } else {
      out.writeUTF(id);
    }
  }

  /** Reads what {@link #writeId} wrote: the same as {@link DataInput#readUTF}, ASCII without a decoding pass. */
  private static String readId(Reader r) throws IOException {
    int n = r.in.readUnsignedShort();
    byte[] b = r.scratch(n);
    if (plainAscii(b, n)) {
      return StringCache.IDS.getAscii(b, 0, n);
    }
    byte[] whole = new byte[n + 2];
    whole[0] = (byte) (n >>> 8);
    whole[1] = (byte) n;
    System.arraycopy(b, 0, whole, 2, n);
    return DataInputStream.readUTF(new DataInputStream(new ByteArrayInputStream(whole)));
  }

  /** Whether no byte is '?', which is also what ISO-8859-1 encoding puts for a character it cannot encode. */
  private static boolean noneReplaced(byte[] b) {
    for (byte x : b) {
      if (x == '?') {
        return false;
      }
    }
    return true;
  }

  /** Whether the first {@code n} bytes are 1..127: characters that modified UTF-8 writes as themselves. */
  private static boolean plainAscii(byte[] b, int n) {
    for (int i = 0; i < n; i++) {
      if (b[i] <= 0) {
        return false;
      }
    }
    return true;
  }

  private static void writeString(String s, DataOutput out) throws IOException {
    writeBytes(s.getBytes(StandardCharsets.UTF_8), out);
  }

  /** A string, never {@code null}: the writer never writes a null one. {@code what + part} names it in errors. */
  private static String readString(Reader r, String what, String part) throws IOException {
    int n = readLength(r, what, part);
    byte[] b = n <= CHUNK ? r.scratch(n) : readBytes(r, n);
    return plainAscii(b, n) ? StringCache.VALUES.getAscii(b, 0, n) : new String(b, 0, n, StandardCharsets.UTF_8);
  }

  /** A name (span, service, topic, header, attribute key): {@link Names#SHARED}'s copy, found by its bytes when ASCII. */
  private static String readName(Reader r, String what, String part) throws IOException {
    int n = readLength(r, what, part);
    byte[] b = n <= CHUNK ? r.scratch(n) : readBytes(r, n);
    return plainAscii(b, n) ? StringCache.NAMES.getAscii(b, 0, n)
        : Names.SHARED.canonical(new String(b, 0, n, StandardCharsets.UTF_8));
  }

  /** The length of a string that follows, checked; a {@code null} one is an error. */
  private static int readLength(Reader r, String what, String part) throws IOException {
    int n = r.in.readInt();
    if (n == -1) {
      throw new IOException("corrupt item: " + what + part + " is null");
    }
    checkLength(r, n, what, part);
    return n;
  }

  private static void writeBytes(byte[] b, DataOutput out) throws IOException {
    if (b == null) {
      out.writeInt(-1);
      return;
    }
    out.writeInt(b.length);
    out.write(b);
  }

  /** Error messages are built only on error: this runs for every string of every item read back. */
  private static byte[] readBytes(Reader r, String what, String part) throws IOException {
    int n = r.in.readInt();
    if (n == -1) {
      return null;
    }
    checkLength(r, n, what, part);
    return readBytes(r, n);
  }

  private static void checkLength(Reader r, int n, String what, String part) throws IOException {
    if (n < 0 || n > MAX_BYTES) {
      limit(n, MAX_BYTES, what + part + " length " + n);
    }
    if (r.whole != null) {
      r.fits(n, what + part + " length " + n);
    }
  }

  /** {@code n} bytes (a checked length) in an array of their own, grown only as they arrive. */
  private static byte[] readBytes(Reader r, int n) throws IOException {
    byte[] b = new byte[Math.min(n, CHUNK)];
    int filled = 0;
    while (true) {
      r.in.readFully(b, filled, b.length - filled);
      filled = b.length;
      if (filled == n) {
        return b;
      }
      b = Arrays.copyOf(b, (int) Math.min(n, 2L * filled)); // only as long as twice what did arrive
    }
  }

  private static void limit(int n, int max, String what) throws IOException {
    if (n < 0) {
      throw new IOException("corrupt item: " + what + " is negative");
    }
    if (n > max) {
      throw new IOException("corrupt item: " + what + " exceeds the maximum of " + max);
    }
  }

  /** Where an item is read from: a stream, or a whole byte array whose remaining length is known. */
  private static final class Reader {
    /** Each thread's array that strings are read through before they are made (or found in a cache). */
    private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[256]);

    final DataInput in;
    final ByteArrayInputStream whole;
    private byte[] scratch;

    Reader(DataInput in, ByteArrayInputStream whole) {
      this.in = in;
      this.whole = whole;
    }

    /**
     * The next {@code n} bytes, at most {@link #CHUNK} (a length already checked), in this thread's
     * scratch array: valid until the next call.
     */
    byte[] scratch(int n) throws IOException {
      if (scratch == null) {
        scratch = SCRATCH.get();
      }
      if (scratch.length < n) {
        scratch = new byte[Math.max(n, 2 * scratch.length)];
        SCRATCH.set(scratch);
      }
      in.readFully(scratch, 0, n);
      return scratch;
    }

    /** The count, checked against {@link #MAX_COUNT} and against the bytes left at {@code minBytes} an element. */
    int count(int n, String what, int minBytes) throws IOException {
      if (n < 0 || n > MAX_COUNT || whole != null && (long) n * minBytes > whole.available()) {
        limit(n, MAX_COUNT, what + " count " + n);
        fits((long) n * minBytes, what + " count " + n);
      }
      return n;
    }

    void fits(long bytes, String what) throws IOException {
      if (whole != null && bytes > whole.available()) {
        throw new IOException("corrupt item: " + what + " exceeds the " + whole.available() + " bytes left");
      }
    }
  }
}
