package io.flowtrace.verifier.schema;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;

/** Fixed sample documents and payloads for the schema tests. */
final class TestSchemas {
  private TestSchemas() {}

  /** The directory holding {@code src/test/resources/schema}, as copied to the test classpath. */
  static Path dir() {
    try {
      return Path.of(TestSchemas.class.getResource("/schema").toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  static final String VALID_ORDERS_REQUESTED =
      """
      {"items": [{"productId": "sku-1", "quantity": 2}],
       "shipping": {"address": "1 Main St", "city": "Springfield", "zipCode": "12345"},
       "userId": "user-42",
       "timestamp": "2024-05-01T10:00:00.123Z",
       "requestId": "6f1c2e1a-3b4d-4c5e-8f90-123456789abc"}
      """;

  static final String VALID_ORDERS_CREATED =
      """
      {"orderId": "ord-1", "requestId": "6f1c2e1a-3b4d-4c5e-8f90-123456789abc",
       "userId": "user-42", "userEmail": "jane@example.com", "userName": "Jane Doe",
       "items": [{"productId": "sku-1", "quantity": 2, "unitPrice": 19.99}],
       "total": 39.98, "currency": "USD", "status": "pending"}
      """;

  /** The contract's e-mail schema (also in {@code email.avsc}). */
  static Schema emailSchema() {
    try {
      return new Schema.Parser().parse(Files.readString(dir().resolve("email.avsc")));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static GenericRecord email(String to, String customerName, double total) {
    Schema schema = emailSchema();
    GenericRecord data = new GenericData.Record(schema.getField("data").schema());
    data.put("orderId", "ord-1");
    data.put("customerName", customerName);
    data.put("total", total);
    GenericRecord email = new GenericData.Record(schema);
    email.put("to", to);
    email.put("template", "order_confirmation");
    email.put("data", data);
    return email;
  }

  /** Plain Avro binary, no framing. */
  static byte[] avro(GenericRecord record) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    try {
      new GenericDatumWriter<GenericRecord>(record.getSchema()).write(record, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** Confluent wire format: 0x00, 4-byte big-endian id, Avro binary. */
  static byte[] confluent(int id, GenericRecord record) {
    byte[] body = avro(record);
    return ByteBuffer.allocate(5 + body.length).put((byte) 0).putInt(id).put(body).array();
  }

  /** Apicurio's default framing: 0x00, 8-byte big-endian id, Avro binary. */
  static byte[] apicurioFramed(long id, GenericRecord record) {
    byte[] body = avro(record);
    return ByteBuffer.allocate(9 + body.length).put((byte) 0).putLong(id).put(body).array();
  }

  static byte[] longBytes(long value) {
    return ByteBuffer.allocate(8).putLong(value).array();
  }

  static final List<io.flowtrace.tracer.model.RecordHeader> NO_HEADERS = List.of();
}
