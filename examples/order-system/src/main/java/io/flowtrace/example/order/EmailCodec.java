package io.flowtrace.example.order;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;

/** The e-mail request in the Confluent wire format: magic 0, schema id 1 (big-endian), Avro binary. */
public final class EmailCodec {

  /** The registered schema id of {@link #SCHEMA}. */
  public static final int SCHEMA_ID = 1;

  /** The contract's {@code EmailNotification} schema. */
  public static final Schema SCHEMA = new Schema.Parser().parse("""
      {"type":"record","name":"EmailNotification","namespace":"shop.notifications","fields":[
        {"name":"to","type":"string"},{"name":"template","type":"string"},
        {"name":"data","type":{"type":"record","name":"OrderData","fields":[
          {"name":"orderId","type":"string"},{"name":"customerName","type":"string"},
          {"name":"total","type":"double"}]}}]}""");

  /** What {@link Defect#BROKEN_EMAIL_SCHEMA} writes under id 1: {@code total} a string, no {@code to}. */
  static final Schema BROKEN = new Schema.Parser().parse("""
      {"type":"record","name":"EmailNotification","namespace":"shop.notifications","fields":[
        {"name":"template","type":"string"},{"name":"orderId","type":"string"},
        {"name":"total","type":"string"}]}""");

  private EmailCodec() {}

  /** Encodes an e-mail. */
  public static byte[] encode(String to, String template, String orderId, String customerName, double total) {
    GenericRecord data = new GenericData.Record(SCHEMA.getField("data").schema());
    data.put("orderId", orderId);
    data.put("customerName", customerName);
    data.put("total", total);
    GenericRecord email = new GenericData.Record(SCHEMA);
    email.put("to", to);
    email.put("template", template);
    email.put("data", data);
    return frame(SCHEMA, email);
  }

  static byte[] encodeBroken(String template, String orderId, double total) {
    GenericRecord email = new GenericData.Record(BROKEN);
    email.put("template", template);
    email.put("orderId", orderId);
    email.put("total", Double.toString(total));
    return frame(BROKEN, email);
  }

  /** Decodes a framed e-mail; fails on a wrong magic byte or schema id. */
  public static GenericRecord decode(byte[] bytes) {
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    if (bytes.length < 5 || buf.get() != 0) {
      throw new IllegalArgumentException("not Confluent-framed: magic byte is not 0");
    }
    int id = buf.getInt();
    if (id != SCHEMA_ID) {
      throw new IllegalArgumentException("schema id " + id + ", expected " + SCHEMA_ID);
    }
    try {
      return new GenericDatumReader<GenericRecord>(SCHEMA)
          .read(null, DecoderFactory.get().binaryDecoder(bytes, 5, bytes.length - 5, null));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] frame(Schema schema, GenericRecord record) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0);
    out.writeBytes(ByteBuffer.allocate(4).putInt(SCHEMA_ID).array());
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    try {
      new GenericDatumWriter<GenericRecord>(schema).write(record, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
