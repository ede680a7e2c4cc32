package io.flowtrace.tracer.spill;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.SpanLink;
import io.flowtrace.tracer.model.Telemetry;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A compact binary form of {@link Telemetry} for spilling sorted runs to disk during replay. Our own
 * tagged format (no Java serialization): every length is checked, so a corrupt file fails with an
 * {@link IOException} instead of allocating without bound.
 */
public final class TelemetryCodec {
  private static final int SPAN = 1;
  private static final int RECORD = 2;
  private static final int MAX_LENGTH = 64 * 1024 * 1024;

  private TelemetryCodec() {}

  public static void write(Telemetry t, DataOutput out) throws IOException {
    if (t instanceof Telemetry.SpanEvent s) {
      out.writeByte(SPAN);
      writeSpan(s.span(), out);
    } else if (t instanceof Telemetry.RecordEvent r) {
      out.writeByte(RECORD);
      writeRecord(r.record(), out);
    }
  }

  /** Reads one item, or returns {@code null} at a clean end of input (the caller checks EOF). */
  public static Telemetry read(DataInput in) throws IOException {
    int tag = in.readByte();
    return switch (tag) {
      case SPAN -> Telemetry.of(readSpan(in));
      case RECORD -> Telemetry.of(readRecord(in));
      default -> throw new IOException("corrupt spill file: unknown tag " + tag);
    };
  }

  private static void writeSpan(Span s, DataOutput out) throws IOException {
    out.writeUTF(s.traceId());
    out.writeUTF(s.spanId());
    out.writeUTF(s.parentSpanId());
    writeString(s.name(), out);
    out.writeByte(s.kind().ordinal());
    writeString(s.service(), out);
    out.writeLong(s.startEpochNanos());
    out.writeLong(s.endEpochNanos());
    writeAttributes(s.attributes(), out);
    out.writeInt(s.links().size());
    for (SpanLink l : s.links()) {
      out.writeUTF(l.traceId());
      out.writeUTF(l.spanId());
      writeAttributes(l.attributes(), out);
    }
    out.writeBoolean(s.error());
  }

  private static Span readSpan(DataInput in) throws IOException {
    String traceId = in.readUTF();
    String spanId = in.readUTF();
    String parent = in.readUTF();
    String name = readString(in);
    int kind = in.readByte();
    String service = readString(in);
    long start = in.readLong();
    long end = in.readLong();
    Map<String, Object> attributes = readAttributes(in);
    int links = length(in.readInt());
    List<SpanLink> list = new ArrayList<>(links);
    for (int i = 0; i < links; i++) {
      list.add(new SpanLink(in.readUTF(), in.readUTF(), readAttributes(in)));
    }
    boolean error = in.readBoolean();
    return new Span(traceId, spanId, parent, name, SpanKind.fromOtlp(kind), service, start, end, attributes, list, error);
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

  private static KafkaRecord readRecord(DataInput in) throws IOException {
    String topic = readString(in);
    int partition = in.readInt();
    long offset = in.readLong();
    long ts = in.readLong();
    String key = in.readBoolean() ? readString(in) : null;
    int n = length(in.readInt());
    List<RecordHeader> headers = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      headers.add(new RecordHeader(readString(in), readBytes(in)));
    }
    return new KafkaRecord(topic, partition, offset, ts, key, headers, readBytes(in));
  }

  private static void writeAttributes(Map<String, Object> attributes, DataOutput out) throws IOException {
    out.writeInt(attributes.size());
    for (Map.Entry<String, Object> e : attributes.entrySet()) {
      writeString(e.getKey(), out);
      writeValue(e.getValue(), out);
    }
  }

  private static Map<String, Object> readAttributes(DataInput in) throws IOException {
    int n = length(in.readInt());
    Map<String, Object> map = new HashMap<>(n * 2);
    for (int i = 0; i < n; i++) {
      map.put(readString(in), readValue(in));
    }
    return map;
  }

  private static void writeValue(Object v, DataOutput out) throws IOException {
    if (v instanceof String s) {
      out.writeByte('s');
      writeString(s, out);
    } else if (v instanceof Long l) {
      out.writeByte('l');
      out.writeLong(l);
    } else if (v instanceof Integer i) {
      out.writeByte('l');
      out.writeLong(i);
    } else if (v instanceof Double d) {
      out.writeByte('d');
      out.writeDouble(d);
    } else if (v instanceof Boolean b) {
      out.writeByte('b');
      out.writeBoolean(b);
    } else if (v instanceof List<?> list) {
      out.writeByte('a');
      out.writeInt(list.size());
      for (Object o : list) {
        writeValue(o, out);
      }
    } else {
      out.writeByte('s');
      writeString(String.valueOf(v), out);
    }
  }

  private static Object readValue(DataInput in) throws IOException {
    int tag = in.readByte();
    switch (tag) {
      case 's': return readString(in);
      case 'l': return in.readLong();
      case 'd': return in.readDouble();
      case 'b': return in.readBoolean();
      case 'a': {
        int n = length(in.readInt());
        List<Object> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          list.add(readValue(in));
        }
        return list;
      }
      default: throw new IOException("corrupt spill file: unknown value tag " + tag);
    }
  }

  private static void writeString(String s, DataOutput out) throws IOException {
    writeBytes(s.getBytes(java.nio.charset.StandardCharsets.UTF_8), out);
  }

  private static String readString(DataInput in) throws IOException {
    return new String(readBytes(in), java.nio.charset.StandardCharsets.UTF_8);
  }

  private static void writeBytes(byte[] b, DataOutput out) throws IOException {
    if (b == null) {
      out.writeInt(-1);
      return;
    }
    out.writeInt(b.length);
    out.write(b);
  }

  private static byte[] readBytes(DataInput in) throws IOException {
    int n = in.readInt();
    if (n == -1) {
      return null;
    }
    byte[] b = new byte[length(n)];
    in.readFully(b);
    return b;
  }

  private static int length(int n) throws IOException {
    if (n < 0 || n > MAX_LENGTH) {
      throw new IOException("corrupt spill file: length " + n);
    }
    return n;
  }
}
