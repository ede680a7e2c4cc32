package io.flowtrace.verifier.schema;

import io.flowtrace.tracer.model.RecordHeader;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import tools.jackson.databind.JsonNode;

/**
 * Avro payloads identified by a schema registry id. Three framings are understood:
 *
 * <ul>
 *   <li>Confluent: magic byte {@code 0x00}, 4-byte big-endian schema id, Avro binary;
 *   <li>Apicurio headers: a {@value #APICURIO_GLOBAL_ID} or {@value #APICURIO_CONTENT_ID} record
 *       header (8-byte big-endian long, or its decimal text) and a plain Avro body;
 *   <li>Apicurio's default framing: magic byte, 8-byte id, Avro binary. It is told apart from
 *       Confluent's only when that is safe: the 4-byte reading gives id 0 (never a Confluent id) or
 *       an undeclared id while the 8-byte reading gives a declared one.
 * </ul>
 *
 * Immutable and thread-safe ({@code GenericDatumReader} keeps its per-thread state itself).
 */
final class AvroPayload implements PayloadSchema {
  static final String APICURIO_GLOBAL_ID = "apicurio.value.globalId";
  static final String APICURIO_CONTENT_ID = "apicurio.value.contentId";

  private static final String HINT_DIFFERENT_SCHEMA = "written with a different schema?";

  private final String description;
  private final Schema schema;
  private final String name;
  private final Set<Long> ids;
  private final String declared;
  private final GenericDatumReader<Object> reader;
  private final PayloadShape shape;

  AvroPayload(String description, Schema schema, Set<Long> ids) {
    this.description = description;
    this.schema = schema;
    this.name = schema.getFullName();
    this.ids = Set.copyOf(ids);
    this.declared = new TreeSet<>(ids).stream().map(String::valueOf).collect(Collectors.joining(", "));
    this.reader = new GenericDatumReader<>(schema, schema, new GenericData());
    this.shape = SchemaShapes.ofAvro(schema);
  }

  @Override
  public PayloadShape shape() {
    return shape;
  }

  Schema schema() {
    return schema;
  }

  @Override
  public String description() {
    return description;
  }

  @Override
  public PayloadFormat format() {
    return PayloadFormat.AVRO;
  }

  @Override
  public DecodedPayload decode(byte[] bytes, List<RecordHeader> headers) {
    byte[] data = bytes == null ? new byte[0] : bytes;
    List<SchemaProblem> problems = new ArrayList<>(2);
    int offset;
    RecordHeader idHeader = apicurioHeader(headers);
    if (idHeader != null) {
      Long id = headerId(idHeader.value());
      if (id == null) {
        return failed(
            "header "
                + idHeader.name()
                + " is neither an 8-byte big-endian id nor a decimal number (was "
                + describeHeader(idHeader.value())
                + ")");
      }
      checkDeclared(id, " (header " + idHeader.name() + ")", problems);
      offset = 0;
    } else {
      if (data.length == 0) {
        return failed("empty payload: expected magic byte 0x00, a 4-byte schema id and an Avro body");
      }
      if (data[0] != 0) {
        return failed(
            String.format(
                "no magic byte: expected 0x00 then a 4-byte schema id (Confluent framing), found 0x%02x%s",
                data[0] & 0xff,
                data[0] == '{' || data[0] == '[' ? " (looks like JSON text)" : ""));
      }
      if (data.length < 5) {
        return failed(
            "too short for Confluent framing: "
                + data.length
                + " bytes (magic byte 0x00 and a 4-byte schema id need 5)");
      }
      long id4 = ByteBuffer.wrap(data, 1, 4).getInt() & 0xFFFF_FFFFL;
      long id8 = data.length >= 9 ? ByteBuffer.wrap(data, 1, 8).getLong() : -1;
      boolean apicurio = id8 > 0 && !ids.contains(id4) && (id4 == 0 || ids.contains(id8));
      if (apicurio) {
        checkDeclared(id8, " (Apicurio 8-byte id)", problems);
        offset = 9;
      } else {
        checkDeclared(id4, "", problems);
        offset = 5;
      }
    }
    int length = data.length - offset;
    Object datum;
    BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(data, offset, length, null);
    try {
      datum = reader.read(null, decoder);
    } catch (IOException | RuntimeException | StackOverflowError e) {
      problems.add(
          new SchemaProblem(
              "$",
              "not decodable as "
                  + name
                  + ": "
                  + reason(e, length)
                  + " (truncated, or "
                  + HINT_DIFFERENT_SCHEMA
                  + ")"));
      return new DecodedPayload(null, problems);
    }
    int left = leftOver(decoder);
    if (left > 0) {
      problems.add(
          new SchemaProblem(
              "$",
              left
                  + (left == 1 ? " byte" : " bytes")
                  + " left over after decoding "
                  + name
                  + " from a "
                  + length
                  + "-byte body ("
                  + HINT_DIFFERENT_SCHEMA
                  + ")"));
      return new DecodedPayload(null, problems);
    }
    JsonNode tree;
    try {
      tree = AvroJson.toJson(datum, schema);
    } catch (RuntimeException e) {
      problems.add(new SchemaProblem("$", "decoded " + name + " but could not convert it: " + e));
      return new DecodedPayload(null, problems);
    }
    return new DecodedPayload(tree, problems);
  }

  private void checkDeclared(long id, String source, List<SchemaProblem> problems) {
    if (!ids.isEmpty() && !ids.contains(id)) {
      problems.add(
          new SchemaProblem(
              "$",
              "schema id "
                  + id
                  + source
                  + " is not a declared id of "
                  + name
                  + " (declared: "
                  + declared
                  + ")"));
    }
  }

  private static DecodedPayload failed(String message) {
    return new DecodedPayload(null, List.of(new SchemaProblem("$", message)));
  }

  /** The global-id header if present, else the content-id header, else null. */
  private static RecordHeader apicurioHeader(List<RecordHeader> headers) {
    if (headers == null || headers.isEmpty()) {
      return null;
    }
    RecordHeader content = null;
    for (RecordHeader header : headers) {
      if (header.value() == null) {
        continue;
      }
      if (header.name().equals(APICURIO_GLOBAL_ID)) {
        return header;
      }
      if (content == null && header.name().equals(APICURIO_CONTENT_ID)) {
        content = header;
      }
    }
    return content;
  }

  /** An 8-byte big-endian long, or decimal text; null if it is neither. */
  static Long headerId(byte[] value) {
    if (value.length == 8) {
      return ByteBuffer.wrap(value).getLong();
    }
    String text = new String(value, StandardCharsets.UTF_8).strip();
    if (!text.isEmpty() && text.length() <= 19 && text.chars().allMatch(Character::isDigit)) {
      return Long.parseLong(text);
    }
    return null;
  }

  private static String describeHeader(byte[] value) {
    StringBuilder hex = new StringBuilder("0x");
    for (int i = 0; i < Math.min(value.length, 16); i++) {
      hex.append(String.format("%02x", value[i] & 0xff));
    }
    if (value.length > 16) {
      hex.append("...");
    }
    return hex + ", " + value.length + (value.length == 1 ? " byte" : " bytes");
  }

  private static int leftOver(BinaryDecoder decoder) {
    try {
      return decoder.isEnd() ? 0 : Math.max(decoder.remainingBytes(), 1);
    } catch (IOException e) {
      return 0;
    }
  }

  private static String reason(Throwable e, int bodyLength) {
    if (e instanceof StackOverflowError) {
      return "nesting too deep";
    }
    if (e instanceof ArrayIndexOutOfBoundsException) {
      return "union or enum index out of range (" + e.getMessage() + ")";
    }
    String message = e.getMessage();
    if (message == null || message.isBlank()) {
      return e instanceof EOFException
          ? "ran out of bytes (the body is " + bodyLength + " bytes)"
          : e.getClass().getSimpleName();
    }
    return message;
  }

  @Override
  public String toString() {
    return description;
  }
}
