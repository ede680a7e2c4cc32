package io.flowtrace.cli.synth;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;

/**
 * Encodes {@code notifications.email} values the way a Confluent-compatible serializer does:
 * {@code 0x00}, the 4-byte big-endian schema id, then the Avro binary body.
 */
final class EmailAvro {

  /** The schema id the contract registers {@link #CONTRACT_SCHEMA} under. */
  static final int SCHEMA_ID = 1;

  /** The contract's {@code EmailNotification} schema, verbatim. */
  static final String CONTRACT_SCHEMA_JSON =
      "{\"type\":\"record\",\"name\":\"EmailNotification\",\"namespace\":\"shop.notifications\","
          + "\"fields\":[{\"name\":\"to\",\"type\":\"string\"},{\"name\":\"template\",\"type\":\"string\"},"
          + "{\"name\":\"data\",\"type\":{\"type\":\"record\",\"name\":\"OrderData\",\"fields\":["
          + "{\"name\":\"orderId\",\"type\":\"string\"},{\"name\":\"customerName\",\"type\":\"string\"},"
          + "{\"name\":\"total\",\"type\":\"double\"}]}}]}";

  /**
   * A drifted writer schema (a release that dropped {@code data.total}); records written with it
   * but framed with id 1 cannot be read with the contract schema.
   */
  static final String DRIFTED_SCHEMA_JSON =
      "{\"type\":\"record\",\"name\":\"EmailNotification\",\"namespace\":\"shop.notifications\","
          + "\"fields\":[{\"name\":\"to\",\"type\":\"string\"},{\"name\":\"template\",\"type\":\"string\"},"
          + "{\"name\":\"data\",\"type\":{\"type\":\"record\",\"name\":\"OrderData\",\"fields\":["
          + "{\"name\":\"orderId\",\"type\":\"string\"},{\"name\":\"customerName\",\"type\":\"string\"}]}}]}";

  static final Schema CONTRACT_SCHEMA = new Schema.Parser().parse(CONTRACT_SCHEMA_JSON);
  static final Schema DRIFTED_SCHEMA = new Schema.Parser().parse(DRIFTED_SCHEMA_JSON);

  private final GenericDatumWriter<GenericRecord> contractWriter = new GenericDatumWriter<>(CONTRACT_SCHEMA);
  private final GenericDatumWriter<GenericRecord> driftedWriter = new GenericDatumWriter<>(DRIFTED_SCHEMA);
  private final ByteArrayOutputStream buffer = new ByteArrayOutputStream(256);
  private BinaryEncoder encoder;

  /** The framed value of an e-mail request; {@code drifted} uses the writer schema without total. */
  byte[] encode(String to, String template, String orderId, String customerName, double total, boolean drifted) {
    Schema schema = drifted ? DRIFTED_SCHEMA : CONTRACT_SCHEMA;
    Schema dataSchema = schema.getField("data").schema();
    GenericRecord data = new GenericData.Record(dataSchema);
    data.put("orderId", orderId);
    data.put("customerName", customerName);
    if (!drifted) {
      data.put("total", total);
    }
    GenericRecord email = new GenericData.Record(schema);
    email.put("to", to);
    email.put("template", template);
    email.put("data", data);
    buffer.reset();
    buffer.write(0);
    buffer.write(SCHEMA_ID >>> 24);
    buffer.write(SCHEMA_ID >>> 16);
    buffer.write(SCHEMA_ID >>> 8);
    buffer.write(SCHEMA_ID);
    try {
      encoder = EncoderFactory.get().binaryEncoder(buffer, encoder);
      (drifted ? driftedWriter : contractWriter).write(email, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return buffer.toByteArray();
  }
}
