package io.flowtrace.verifier.schema;

import io.flowtrace.tracer.model.RecordHeader;
import java.util.List;

/** No schema declared: JSON is parsed but not validated; Avro cannot be decoded at all; binary is left as it is. */
final class NoSchemaPayload implements PayloadSchema {
  static final NoSchemaPayload JSON = new NoSchemaPayload(PayloadFormat.JSON);
  static final NoSchemaPayload AVRO = new NoSchemaPayload(PayloadFormat.AVRO);
  static final NoSchemaPayload BINARY = new NoSchemaPayload(PayloadFormat.BINARY);

  private final PayloadFormat format;

  private NoSchemaPayload(PayloadFormat format) {
    this.format = format;
  }

  @Override
  public String description() {
    return switch (format) {
      case JSON -> "no schema (JSON, not validated)";
      case AVRO -> "no schema (Avro)";
      case BINARY -> "binary payload (not decoded)";
    };
  }

  @Override
  public boolean declared() {
    return false;
  }

  @Override
  public PayloadFormat format() {
    return format;
  }

  @Override
  public DecodedPayload decode(byte[] bytes, List<RecordHeader> headers) {
    if (format == PayloadFormat.JSON) {
      return Json.parsePayload(bytes);
    }
    if (format == PayloadFormat.BINARY) {
      return new DecodedPayload(null, List.of());
    }
    int length = bytes == null ? 0 : bytes.length;
    return new DecodedPayload(
        null,
        List.of(new SchemaProblem("$", "no Avro schema declared: cannot decode " + length + " bytes")));
  }

  @Override
  public String toString() {
    return description();
  }

  @Override
  public String[] strings(byte[] bytes, List<List<String>> paths) {
    return format == PayloadFormat.JSON ? Json.strings(bytes, paths) : null;
  }
}
