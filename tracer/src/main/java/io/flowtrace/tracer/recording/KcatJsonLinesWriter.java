package io.flowtrace.tracer.recording;

import static java.util.Objects.requireNonNull;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.Flushable;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * Writes {@code *.kcat.jsonl}: one Kafka record per line in the shape {@code kcat -C -J} prints
 * ({@code topic, partition, offset, tstype, ts, broker, headers, key, payload}). A value that is
 * UTF-8 text goes in {@code payload}; any other value (Avro, say) as base64 in {@code
 * payload_base64}, which kcat itself cannot print. {@code headers} is left out when there are none,
 * {@code key} is {@code null} when absent, {@code tstype} is {@code "create"} and {@code broker}
 * is {@value #BROKER}. For use by one thread at a time.
 */
public final class KcatJsonLinesWriter implements Closeable, Flushable {

  /** The broker id written: -1, unknown, as kcat prints it when it does not know. */
  public static final int BROKER = -1;

  private static final JsonMapper MAPPER =
      JsonMapper.builder(JsonFactory.builder().rootValueSeparator((String) null).build()).build();

  private final Writer out;
  /** Each record is made here first and written whole, so a failed write never leaves the generator mid-object. */
  private final StringWriter line = new StringWriter(512);
  private JsonGenerator json;
  private boolean closed;

  /** Writes to {@code out}, which {@link #close()} closes. */
  public KcatJsonLinesWriter(Writer out) {
    this.out = requireNonNull(out, "out");
    this.json = MAPPER.createGenerator(line);
  }

  /** Creates (or truncates) the file. */
  public static KcatJsonLinesWriter open(Path file) throws IOException {
    return new KcatJsonLinesWriter(new BufferedWriter(
        new OutputStreamWriter(Files.newOutputStream(file), StandardCharsets.UTF_8), 1 << 16));
  }

  /** Writes the record as one line. */
  public void write(KafkaRecord record) throws IOException {
    requireNonNull(record, "record");
    ensureOpen();
    line.getBuffer().setLength(0);
    try {
      json.writeStartObject();
      json.writeStringProperty("topic", record.topic());
      json.writeNumberProperty("partition", record.partition());
      json.writeNumberProperty("offset", record.offset());
      json.writeStringProperty("tstype", "create");
      json.writeNumberProperty("ts", record.timestampMillis());
      json.writeNumberProperty("broker", BROKER);
      if (!record.headers().isEmpty()) {
        // kcat's flat [name, value, ...] list holds text; a value that is not text (e.g. an
        // Apicurio 8-byte id) is also kept whole in "headers_base64", at the same position.
        String[] binary = null;
        json.writeArrayPropertyStart("headers");
        for (int i = 0; i < record.headers().size(); i++) {
          RecordHeader header = record.headers().get(i);
          json.writeString(header.name());
          byte[] bytes = header.value();
          if (bytes != null && asText(bytes) == null) {
            binary = binary == null ? new String[record.headers().size()] : binary;
            binary[i] = Base64.getEncoder().encodeToString(bytes);
          }
          json.writeString(header.valueAsString());
        }
        json.writeEndArray();
        if (binary != null) {
          json.writeArrayPropertyStart("headers_base64");
          for (String b : binary) {
            json.writeString(b);
          }
          json.writeEndArray();
        }
      }
      json.writeStringProperty("key", record.key());
      byte[] value = record.value();
      String text = value == null ? null : asText(value);
      if (value != null && text == null) {
        json.writeStringProperty("payload_base64", Base64.getEncoder().encodeToString(value));
      } else {
        json.writeStringProperty("payload", text);
      }
      json.writeEndObject();
      json.flush();
    } catch (JacksonException e) {
      json = MAPPER.createGenerator(line); // the old one may be inside the half-made object
      throw new IOException("cannot write " + record.coordinates() + ": " + e.getOriginalMessage(), e);
    }
    line.write('\n');
    out.append(line.getBuffer());
  }

  /** The value as text when it is UTF-8 without control characters (other than tab and line breaks). */
  static String asText(byte[] value) {
    for (byte b : value) {
      if ((b >= 0 && b < 0x20 && b != '\t' && b != '\n' && b != '\r') || b == 0x7f) {
        return null;
      }
    }
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(value))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  @Override
  public void flush() throws IOException {
    ensureOpen();
    out.flush();
  }

  @Override
  public void close() throws IOException {
    if (!closed) {
      closed = true;
      try {
        json.close();
      } finally {
        out.close();
      }
    }
  }

  private void ensureOpen() throws IOException {
    if (closed) {
      throw new IOException("writer is closed");
    }
  }
}
