package io.flowtrace.tracer.spill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.SpanLink;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.otlp.OtlpSpans;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.ArrayValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.common.v1.KeyValueList;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TelemetryCodecTest {

  @Test
  void spansAndRecordsSurviveASpillRoundTrip() throws IOException {
    Span span = new Span("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "", "POST /api/orders",
        SpanKind.SERVER, "gateway", 1, 2,
        Map.of("s", "text", "l", 42L, "d", 1.5, "b", true, "a", List.of("x", 1L)),
        List.of(new SpanLink("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", Map.of("k", "v"))), true);
    KafkaRecord record = new KafkaRecord("notifications.email", 2, 9, 1234, null,
        List.of(new RecordHeader("apicurio.value.globalId", new byte[] {0, 0, 0, 0, 0, 0, 0, 1}),
            new RecordHeader("empty", null)),
        new byte[] {0, 0, 0, 0, 1, 2, 3});
    KafkaRecord tombstone = new KafkaRecord("orders.created", 0, 1, 5, "k", List.of(), null);
    Span onHost = new Span("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b8", "00f067aa0ba902b7", "process",
        SpanKind.CONSUMER, "orders", 3, 4, Map.of(), List.of(), false, "orders-7d4b9-x2x9z");

    List<Telemetry> back = roundTrip(Telemetry.of(span), Telemetry.of(record), Telemetry.of(tombstone),
        Telemetry.of(onHost));

    assertThat(back).containsExactly(Telemetry.of(span), Telemetry.of(record), Telemetry.of(tombstone),
        Telemetry.of(onHost));
  }

  @Test
  void idsOfAnyTextAreWrittenExactlyAsWriteUtfWritesThemAndReadBack() throws IOException {
    List<String> ids = List.of("4bf92f3577b34da6a3ce929d0e0e4736", "", "?", "a?b", "caf\u00e9", "\u0101bc",
        "nul\u0000inside", "\ud83d\ude00", "x".repeat(5000));
    for (String id : ids) {
      Span span = new Span(id, id, id, "n", SpanKind.INTERNAL, "svc", 1, 2, Map.of(),
          List.of(new SpanLink(id, id, Map.of())), false);
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (DataOutputStream out = new DataOutputStream(bytes)) {
        TelemetryCodec.write(Telemetry.of(span), out);
      }
      DataInputStream asWritten = stream(bytes.toByteArray());
      asWritten.readByte();
      assertThat(List.of(asWritten.readUTF(), asWritten.readUTF(), asWritten.readUTF()))
          .as("id %s as DataInput.readUTF reads it", id).containsOnly(id);

      ByteArrayOutputStream legacy = new ByteArrayOutputStream();
      try (DataOutputStream out = new DataOutputStream(legacy)) {
        out.writeByte(1);
        out.writeUTF(id);
        out.writeUTF(id);
        out.writeUTF(id);
        writeString("n", out);
        out.writeByte(SpanKind.INTERNAL.ordinal());
        writeString("svc", out);
        out.writeLong(1);
        out.writeLong(2);
        out.writeInt(0);
        out.writeInt(1);
        out.writeUTF(id);
        out.writeUTF(id);
        out.writeInt(0);
        out.writeBoolean(false);
      }
      assertThat(bytes.toByteArray()).as("id %s", id).isEqualTo(legacy.toByteArray());
      assertThat(TelemetryCodec.read(legacy.toByteArray())).isEqualTo(Telemetry.of(span));
    }
  }

  @Test
  void itemsLargerAndSmallerThanTheStreamBuffersRoundTripThroughTheCodecsOwnStreams() throws IOException {
    List<Telemetry> items = new java.util.ArrayList<>();
    for (int i = 0; i < 3_000; i++) {
      byte[] value = new byte[i % 7 == 0 ? 150_000 + i : i % 300];
      Arrays.fill(value, (byte) i);
      items.add(Telemetry.of(new KafkaRecord("orders", i % 3, i, i, "k" + i, List.of(), value)));
      items.add(Telemetry.of(span(Map.of("i", (long) i))));
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = TelemetryCodec.output(bytes)) {
      for (Telemetry t : items) {
        TelemetryCodec.write(t, out);
      }
    }

    List<Telemetry> back = new java.util.ArrayList<>();
    try (DataInputStream in = TelemetryCodec.input(new ByteArrayInputStream(bytes.toByteArray()))) {
      while (true) {
        try {
          back.add(TelemetryCodec.read((java.io.DataInput) in));
        } catch (EOFException end) {
          break;
        }
      }
    }

    assertThat(back).hasSize(items.size());
    for (int i = 0; i < items.size(); i++) {
      assertThat(back.get(i)).as("item %d", i).isEqualTo(items.get(i));
    }
  }

  @Test
  void aCorruptFileFailsWithAClearErrorInsteadOfAllocating() {
    byte[] corrupt = {2, 0, 0, 0, 5, 'o', 'r', 'd', 'e', 'r', 0x7f, 0x7f, 0x7f, 0x7f};
    byte[] badTag = {9};

    assertThatThrownBy(() -> TelemetryCodec.read(stream(badTag)))
        .isInstanceOf(IOException.class).hasMessage("corrupt item: unknown tag 9");
    assertThatThrownBy(() -> TelemetryCodec.read(stream(corrupt)))
        .isInstanceOf(IOException.class);
  }

  @Test
  void aHugeAttributeCountIsRejectedBeforeAnythingIsAllocatedForIt() throws IOException {
    // A span cut off right after its attribute count, which claims 64 Mi attributes: presizing a
    // map for them would take about half a gigabyte.
    byte[] hostile = spanUpToAttributes(out -> out.writeInt(64 * 1024 * 1024));

    assertThatThrownBy(() -> TelemetryCodec.read(stream(hostile)))
        .isInstanceOf(IOException.class)
        .hasMessage("corrupt item: attribute count 67108864 exceeds the maximum of " + TelemetryCodec.MAX_COUNT);
    assertThatThrownBy(() -> TelemetryCodec.read(hostile))
        .isInstanceOf(IOException.class)
        .hasMessage("corrupt item: attribute count 67108864 exceeds the maximum of " + TelemetryCodec.MAX_COUNT);
  }

  @Test
  void aCountWithinTheMaximumButBeyondTheBytesLeftIsRejectedWhenTheWholeInputIsKnown() throws IOException {
    // 1000 attributes take at least 6 bytes each; none follow.
    byte[] hostile = spanUpToAttributes(out -> out.writeInt(1000));

    assertThatThrownBy(() -> TelemetryCodec.read(hostile))
        .isInstanceOf(IOException.class)
        .hasMessage("corrupt item: attribute count 1000 exceeds the 0 bytes left");
    assertThatThrownBy(() -> TelemetryCodec.read(stream(hostile)))
        .isInstanceOf(IOException.class)
        .isNotInstanceOf(EOFException.class)
        .hasMessage("corrupt item: input ends inside a span");
  }

  @Test
  void aHugeHeaderCountOrByteLengthIsRejectedWithWhatWasWrong() throws IOException {
    byte[] headers = recordUpToHeaders(out -> out.writeInt(Integer.MAX_VALUE));
    byte[] valueLength = recordUpToHeaders(out -> {
      out.writeInt(0); // no headers
      out.writeInt(TelemetryCodec.MAX_BYTES); // a value as long as allowed, but absent
    });
    byte[] tooLong = recordUpToHeaders(out -> {
      out.writeInt(0);
      out.writeInt(TelemetryCodec.MAX_BYTES + 1);
    });
    byte[] negative = recordUpToHeaders(out -> out.writeInt(-2));

    assertThatThrownBy(() -> TelemetryCodec.read(stream(headers)))
        .isInstanceOf(IOException.class)
        .hasMessage("corrupt item: header count 2147483647 exceeds the maximum of " + TelemetryCodec.MAX_COUNT);
    assertThatThrownBy(() -> TelemetryCodec.read(valueLength))
        .isInstanceOf(IOException.class)
        .hasMessage("corrupt item: record value length " + TelemetryCodec.MAX_BYTES + " exceeds the 0 bytes left");
    // From a stream the bytes left are unknown: the array grows only as its bytes arrive.
    assertThatThrownBy(() -> TelemetryCodec.read(stream(valueLength)))
        .isInstanceOf(IOException.class)
        .hasMessage("corrupt item: input ends inside a record");
    assertThatThrownBy(() -> TelemetryCodec.read(stream(tooLong)))
        .isInstanceOf(IOException.class)
        .hasMessage("corrupt item: record value length " + (TelemetryCodec.MAX_BYTES + 1)
            + " exceeds the maximum of " + TelemetryCodec.MAX_BYTES);
    assertThatThrownBy(() -> TelemetryCodec.read(stream(negative)))
        .isInstanceOf(IOException.class)
        .hasMessage("corrupt item: header count -2 is negative");
  }

  @Test
  void aNullWhereTheWriterNeverWritesOneIsAnIOExceptionNotANullPointerException() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.writeByte(2); // a record
    out.writeInt(-1); // whose topic is null

    assertThatThrownBy(() -> TelemetryCodec.read(bytes.toByteArray()))
        .isInstanceOf(IOException.class)
        .hasMessage("corrupt item: topic is null");
    assertThatThrownBy(() -> TelemetryCodec.read(new byte[0]))
        .isInstanceOf(IOException.class)
        .hasMessage("corrupt item: empty input");
  }

  @Test
  void listsNestedDeeperThanTheLimitAreRejectedInsteadOfOverflowingTheStack() throws IOException {
    // One attribute whose value is a list holding a list holding a list ... 100 000 deep.
    byte[] hostile = spanUpToAttributes(out -> {
      out.writeInt(1);
      writeString("k", out);
      for (int i = 0; i < 100_000; i++) {
        out.writeByte('a');
        out.writeInt(1);
      }
      out.writeByte('b');
      out.writeBoolean(true);
    });

    assertThatThrownBy(() -> TelemetryCodec.read(stream(hostile)))
        .isInstanceOf(IOException.class)
        .hasMessage("corrupt item: list element nests lists and maps deeper than " + TelemetryCodec.MAX_DEPTH + " levels");
    assertThatThrownBy(() -> TelemetryCodec.read(hostile))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("deeper than " + TelemetryCodec.MAX_DEPTH);
  }

  @Test
  void mapsNestedDeeperThanTheLimitAreRejectedToo() throws IOException {
    byte[] hostile = spanUpToAttributes(out -> {
      out.writeInt(1);
      writeString("k", out);
      for (int i = 0; i < 100_000; i++) {
        out.writeByte('m');
        out.writeInt(1);
        writeString("k", out);
      }
      out.writeByte('b');
      out.writeBoolean(true);
    });

    assertThatThrownBy(() -> TelemetryCodec.read(hostile))
        .isInstanceOf(IOException.class)
        .hasMessage("corrupt item: map entry value nests lists and maps deeper than " + TelemetryCodec.MAX_DEPTH + " levels");
  }

  @Test
  void valuesNestedUpToTheLimitStillRoundTrip() throws IOException {
    Object value = true;
    for (int i = 0; i < TelemetryCodec.MAX_DEPTH; i++) {
      value = i % 2 == 0 ? List.of(value) : Map.of("k", value);
    }
    Span span = span(Map.of("deep", value));

    assertThat(roundTrip(Telemetry.of(span))).containsExactly(Telemetry.of(span));
  }

  @Test
  void otlpAttributeValuesOfEveryKindComeBackAsTheSameJavaTypes() throws IOException {
    Map<String, Object> attributes = OtlpSpans.attributes(List.of(
        kv("string", AnyValue.newBuilder().setStringValue("text")),
        kv("int", AnyValue.newBuilder().setIntValue(42)),
        kv("double", AnyValue.newBuilder().setDoubleValue(1.5)),
        kv("bool", AnyValue.newBuilder().setBoolValue(true)),
        kv("bytes", AnyValue.newBuilder().setBytesValue(ByteString.copyFrom(new byte[] {1, 2, 3}))),
        kv("list", AnyValue.newBuilder().setArrayValue(ArrayValue.newBuilder()
            .addValues(AnyValue.newBuilder().setIntValue(1))
            .addValues(AnyValue.newBuilder().setStringValue("two")))),
        kv("map", kvlist(kv("id", AnyValue.newBuilder().setIntValue(42)),
            kv("inner", kvlist(kv("ok", AnyValue.newBuilder().setBoolValue(false)))))),
        kv("listOfMaps", AnyValue.newBuilder().setArrayValue(ArrayValue.newBuilder()
            .addValues(kvlist(kv("id", AnyValue.newBuilder().setIntValue(1))))
            .addValues(kvlist(kv("id", AnyValue.newBuilder().setIntValue(2))))))));
    Span span = span(attributes);
    SpanLink link = new SpanLink("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", attributes);
    span = new Span(span.traceId(), span.spanId(), "", span.name(), span.kind(), span.service(), 1, 2,
        attributes, List.of(link), false);

    Span back = ((Telemetry.SpanEvent) roundTrip(Telemetry.of(span)).get(0)).span();

    assertThat(back).isEqualTo(span);
    assertThat(back.attributes().get("map")).isEqualTo(Map.of("id", 42L, "inner", Map.of("ok", false)));
    assertThat(back.attributes().get("listOfMaps")).isEqualTo(List.of(Map.of("id", 1L), Map.of("id", 2L)));
    for (String key : attributes.keySet()) {
      assertThat(back.attributes().get(key)).as(key).isInstanceOf(kind(attributes.get(key)));
      assertThat(back.links().get(0).attributes().get(key)).as(key).isInstanceOf(kind(attributes.get(key)));
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> map = (Map<String, Object>) back.attributes().get("map");
    @SuppressWarnings("unchecked")
    List<Object> list = (List<Object>) back.attributes().get("listOfMaps");
    assertThatThrownBy(() -> map.put("x", 1L)).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> list.add(1L)).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void anIntegerAttributeComesBackAsTheLongOtlpWouldHaveMade() throws IOException {
    Span span = span(Map.of("n", 7, "list", List.of(1, 2)));

    Span back = ((Telemetry.SpanEvent) roundTrip(Telemetry.of(span)).get(0)).span();

    assertThat(back.attributes()).isEqualTo(Map.of("n", 7L, "list", List.of(1L, 2L)));
  }

  @Test
  void aStreamEndingBetweenItemsIsACleanEndButOneEndingInsideAnItemIsAnError() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      TelemetryCodec.write(Telemetry.of(span(Map.of("k", "v"))), out);
    }
    byte[] whole = bytes.toByteArray();
    DataInputStream atEnd = stream(whole);
    TelemetryCodec.read(atEnd);

    assertThatThrownBy(() -> TelemetryCodec.read(atEnd)).isInstanceOf(EOFException.class);
    assertThatThrownBy(() -> TelemetryCodec.read(stream(Arrays.copyOf(whole, whole.length - 1))))
        .isInstanceOf(IOException.class)
        .isNotInstanceOf(EOFException.class)
        .hasMessage("corrupt item: input ends inside a span");
  }

  @Test
  void aMapAttributeWrittenByAnOlderVersionAsTextStillDecodes() throws IOException {
    // Before the map tag, a map was written as the 's' tag with its toString.
    byte[] old = spanUpToAttributes(out -> {
      out.writeInt(1);
      writeString("m", out);
      out.writeByte('s');
      writeString("{id=42}", out);
      out.writeInt(0); // no links
      out.writeBoolean(false);
    });

    Span back = ((Telemetry.SpanEvent) TelemetryCodec.read(old)).span();

    assertThat(back.attributes()).isEqualTo(Map.of("m", "{id=42}"));
  }

  private static List<Telemetry> roundTrip(Telemetry... items) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      for (Telemetry t : items) {
        TelemetryCodec.write(t, out);
      }
    }
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()));
    java.util.ArrayList<Telemetry> back = new java.util.ArrayList<>();
    for (int i = 0; i < items.length; i++) {
      back.add(TelemetryCodec.read(in));
    }
    assertThat(in.available()).isZero();
    return back;
  }

  private interface Body {
    void write(DataOutputStream out) throws IOException;
  }

  private static Span span(Map<String, Object> attributes) {
    return new Span("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "", "POST /api/orders",
        SpanKind.SERVER, "gateway", 1, 2, attributes, List.of(), false);
  }

  /** A span item in the codec's format up to (not including) its attribute count, then {@code rest}. */
  private static byte[] spanUpToAttributes(Body rest) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.writeByte(1); // span tag
    out.writeUTF("t"); // trace id
    out.writeUTF("s"); // span id
    out.writeUTF(""); // parent span id
    writeString("n", out); // name
    out.writeByte(SpanKind.SERVER.ordinal());
    writeString("svc", out); // service
    out.writeLong(1); // start
    out.writeLong(2); // end
    rest.write(out);
    out.flush();
    return bytes.toByteArray();
  }

  /** A record item in the codec's format up to (not including) its header count, then {@code rest}. */
  private static byte[] recordUpToHeaders(Body rest) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.writeByte(2); // record tag
    writeString("orders", out); // topic
    out.writeInt(0); // partition
    out.writeLong(0); // offset
    out.writeLong(0); // timestamp
    out.writeBoolean(false); // no key
    rest.write(out);
    out.flush();
    return bytes.toByteArray();
  }

  /** A string as the codec writes it: its UTF-8 length as an int, then the bytes. */
  private static void writeString(String s, DataOutputStream out) throws IOException {
    byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    out.writeInt(b.length);
    out.write(b);
  }

  private static DataInputStream stream(byte[] bytes) {
    return new DataInputStream(new ByteArrayInputStream(bytes));
  }

  private static KeyValue kv(String key, AnyValue.Builder value) {
    return KeyValue.newBuilder().setKey(key).setValue(value).build();
  }

  private static AnyValue.Builder kvlist(KeyValue... values) {
    return AnyValue.newBuilder().setKvlistValue(KeyValueList.newBuilder().addAllValues(List.of(values)));
  }

  private static Class<?> kind(Object value) {
    return value instanceof Map ? Map.class : value instanceof List ? List.class : value.getClass();
  }
}
