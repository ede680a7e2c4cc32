package io.flowtrace.verifier.schema;

import static io.flowtrace.verifier.schema.TestSchemas.NO_HEADERS;
import static io.flowtrace.verifier.schema.TestSchemas.apicurioFramed;
import static io.flowtrace.verifier.schema.TestSchemas.avro;
import static io.flowtrace.verifier.schema.TestSchemas.confluent;
import static io.flowtrace.verifier.schema.TestSchemas.email;
import static io.flowtrace.verifier.schema.TestSchemas.longBytes;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.RecordHeader;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

class AvroPayloadTest {
  private static final String EXPECTED_TREE =
      "{\"to\":\"jane@example.com\",\"template\":\"order_confirmation\","
          + "\"data\":{\"orderId\":\"ord-1\",\"customerName\":\"Jane Doe\",\"total\":39.98}}";

  private final SchemaLoader loader = new SchemaLoader();
  private PayloadSchema emailSchema;
  private final GenericRecord email = email("jane@example.com", "Jane Doe", 39.98);

  @BeforeEach
  void load() throws SchemaLoadException {
    emailSchema = loader.load(TestSchemas.dir(), new SchemaRef("email.avsc", null, Set.of(1L)));
  }

  private static List<String> problems(DecodedPayload decoded) {
    return decoded.problems().stream().map(SchemaProblem::toString).toList();
  }

  @Test
  void describesTheSchemaByNameAndFile() {
    assertThat(emailSchema.description())
        .isEqualTo("Avro schema shop.notifications.EmailNotification (email.avsc)");
    assertThat(emailSchema.format()).isEqualTo(PayloadFormat.AVRO);
  }

  @Test
  void aConfluentFramedRecordDecodesToAJsonTree() {
    DecodedPayload decoded = emailSchema.decode(confluent(1, email), NO_HEADERS);

    assertThat(decoded.problems()).isEmpty();
    assertThat(decoded.tree()).hasToString(EXPECTED_TREE);
  }

  @Test
  void anUndeclaredSchemaIdIsAProblemButTheRecordIsStillDecoded() {
    DecodedPayload decoded = emailSchema.decode(confluent(7, email), NO_HEADERS);

    assertThat(problems(decoded))
        .containsExactly(
            "$: schema id 7 is not a declared id of shop.notifications.EmailNotification (declared: 1)");
    assertThat(decoded.tree()).hasToString(EXPECTED_TREE);
  }

  @Test
  void anyIdIsAcceptedWhenNoneIsDeclared() throws SchemaLoadException {
    PayloadSchema anyId = loader.load(TestSchemas.dir(), new SchemaRef("email.avsc", null, null));

    assertThat(anyId.decode(confluent(42, email), NO_HEADERS).problems()).isEmpty();
  }

  @Test
  void aPayloadWithoutTheMagicByteIsNotDecoded() {
    DecodedPayload plain = emailSchema.decode(avro(email), NO_HEADERS);
    DecodedPayload json = emailSchema.decode(TestSchemas.utf8("{\"to\": \"x\"}"), NO_HEADERS);

    assertThat(plain.decoded()).isFalse();
    assertThat(problems(plain))
        .containsExactly(
            "$: no magic byte: expected 0x00 then a 4-byte schema id (Confluent framing), found 0x20");
    assertThat(problems(json))
        .containsExactly(
            "$: no magic byte: expected 0x00 then a 4-byte schema id (Confluent framing), found 0x7b (looks like JSON text)");
  }

  @Test
  void aPayloadTooShortForTheFramingIsNotDecoded() {
    assertThat(problems(emailSchema.decode(new byte[] {0, 0, 1}, NO_HEADERS)))
        .containsExactly(
            "$: too short for Confluent framing: 3 bytes (magic byte 0x00 and a 4-byte schema id need 5)");
    assertThat(problems(emailSchema.decode(new byte[0], NO_HEADERS)))
        .containsExactly(
            "$: empty payload: expected magic byte 0x00, a 4-byte schema id and an Avro body");
  }

  @Test
  void aTruncatedBodyIsNotDecodable() {
    byte[] whole = confluent(1, email);
    byte[] truncated = Arrays.copyOf(whole, whole.length - 3);

    DecodedPayload decoded = emailSchema.decode(truncated, NO_HEADERS);

    assertThat(decoded.decoded()).isFalse();
    assertThat(problems(decoded))
        .containsExactly(
            "$: not decodable as shop.notifications.EmailNotification: ran out of bytes (the body is "
                + (whole.length - 5 - 3)
                + " bytes) (truncated, or written with a different schema?)");
  }

  @Test
  void bytesLeftOverAfterTheRecordAreReported() {
    byte[] whole = confluent(1, email);
    byte[] padded = Arrays.copyOf(whole, whole.length + 3);

    DecodedPayload decoded = emailSchema.decode(padded, NO_HEADERS);

    assertThat(decoded.decoded()).isFalse();
    assertThat(problems(decoded))
        .containsExactly(
            "$: 3 bytes left over after decoding shop.notifications.EmailNotification from a "
                + (whole.length - 5 + 3)
                + "-byte body (written with a different schema?)");
  }

  @Test
  void aRecordWrittenWithAnotherSchemaIsCaught() {
    Schema other =
        new Schema.Parser()
            .parse(
                "{\"type\":\"record\",\"name\":\"Other\",\"fields\":[{\"name\":\"to\",\"type\":\"string\"},"
                    + "{\"name\":\"count\",\"type\":\"long\"}]}");
    GenericRecord record = new GenericData.Record(other);
    record.put("to", "jane@example.com");
    record.put("count", 1234567L);

    DecodedPayload decoded = emailSchema.decode(confluent(1, record), NO_HEADERS);

    assertThat(decoded.decoded()).isFalse();
    assertThat(problems(decoded))
        .singleElement()
        .asString()
        .startsWith("$: not decodable as shop.notifications.EmailNotification: ")
        .endsWith("(truncated, or written with a different schema?)");
  }

  @Test
  void anApicurioGlobalIdHeaderMeansAPlainAvroBody() {
    List<RecordHeader> headers = List.of(new RecordHeader("apicurio.value.globalId", longBytes(1)));

    DecodedPayload decoded = emailSchema.decode(avro(email), headers);

    assertThat(decoded.problems()).isEmpty();
    assertThat(decoded.tree()).hasToString(EXPECTED_TREE);
  }

  @Test
  void anUndeclaredApicurioHeaderIdNamesTheHeader() {
    List<RecordHeader> headers = List.of(new RecordHeader("apicurio.value.globalId", longBytes(9)));

    assertThat(problems(emailSchema.decode(avro(email), headers)))
        .containsExactly(
            "$: schema id 9 (header apicurio.value.globalId) is not a declared id of shop.notifications.EmailNotification (declared: 1)");
  }

  @Test
  void anApicurioContentIdHeaderMayBeDecimalText() {
    List<RecordHeader> headers = List.of(RecordHeader.ofString("apicurio.value.contentId", "1"));

    assertThat(emailSchema.decode(avro(email), headers).problems()).isEmpty();
  }

  @Test
  void aMalformedApicurioHeaderIsAProblem() {
    List<RecordHeader> headers = List.of(new RecordHeader("apicurio.value.globalId", new byte[] {1, 2, 3}));

    assertThat(problems(emailSchema.decode(avro(email), headers)))
        .containsExactly(
            "$: header apicurio.value.globalId is neither an 8-byte big-endian id nor a decimal number (was 0x010203, 3 bytes)");
  }

  @Test
  void apicurioEightByteFramingIsRecognisedByItsDeclaredId() {
    DecodedPayload decoded = emailSchema.decode(apicurioFramed(1, email), NO_HEADERS);

    assertThat(decoded.problems()).isEmpty();
    assertThat(decoded.tree()).hasToString(EXPECTED_TREE);
  }

  @Test
  void apicurioEightByteFramingWithAnUndeclaredIdSaysSo() {
    assertThat(problems(emailSchema.decode(apicurioFramed(5, email), NO_HEADERS)))
        .containsExactly(
            "$: schema id 5 (Apicurio 8-byte id) is not a declared id of shop.notifications.EmailNotification (declared: 1)");
  }

  @Test
  void unionsEnumsCollectionsBytesAndDecimalsBecomePlainJson() throws SchemaLoadException {
    PayloadSchema sink = loader.load(TestSchemas.dir(), new SchemaRef("kitchen-sink.avsc", null, null));
    Schema schema = new Schema.Parser().parse(readResource("kitchen-sink.avsc"));
    GenericRecord record = new GenericData.Record(schema);
    record.put("note", "hello");
    record.put("count", null);
    record.put("kind", new GenericData.EnumSymbol(schema.getField("kind").schema(), "B"));
    record.put("tags", List.of("a", "b"));
    record.put("attrs", Map.of("x", 1));
    record.put("raw", ByteBuffer.wrap(new byte[] {1, 2, 3}));
    record.put("price", ByteBuffer.wrap(new BigDecimal("12.34").unscaledValue().toByteArray()));
    record.put("flag", true);

    DecodedPayload decoded = sink.decode(confluent(3, record), NO_HEADERS);

    assertThat(decoded.problems()).isEmpty();
    JsonNode tree = decoded.tree();
    assertThat(tree)
        .hasToString(
            "{\"note\":\"hello\",\"count\":null,\"kind\":\"B\",\"tags\":[\"a\",\"b\"],"
                + "\"attrs\":{\"x\":1},\"raw\":\"AQID\",\"price\":12.34,\"flag\":true}");
  }

  private static String readResource(String name) {
    try {
      return java.nio.file.Files.readString(TestSchemas.dir().resolve(name));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
