package io.flowtrace.verifier.schema;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import io.flowtrace.tracer.model.RecordHeader;
import java.util.List;

/** JSON payloads validated by a JSON Schema compiled once. Immutable and thread-safe. */
final class JsonSchemaPayload implements PayloadSchema {
  private final String description;
  private final Schema schema;
  private final PayloadShape shape;

  JsonSchemaPayload(String description, Schema schema, PayloadShape shape) {
    this.description = description;
    this.schema = schema;
    this.shape = shape;
  }

  @Override
  public PayloadShape shape() {
    return shape;
  }

  @Override
  public String description() {
    return description;
  }

  @Override
  public PayloadFormat format() {
    return PayloadFormat.JSON;
  }

  @Override
  public DecodedPayload decode(byte[] bytes, List<RecordHeader> headers) {
    DecodedPayload parsed = Json.parsePayload(bytes);
    if (!parsed.decoded()) {
      return parsed;
    }
    List<Error> errors;
    try {
      errors = schema.validate(parsed.tree());
    } catch (RuntimeException e) {
      return new DecodedPayload(
          parsed.tree(), List.of(new SchemaProblem("$", "could not be validated: " + e)));
    }
    return errors.isEmpty() ? parsed : new DecodedPayload(parsed.tree(), JsonProblems.of(errors));
  }

  @Override
  public tools.jackson.databind.JsonNode parse(byte[] bytes, List<RecordHeader> headers) {
    return Json.parsePayload(bytes).tree();
  }

  @Override
  public String[] strings(byte[] bytes, List<List<String>> paths) {
    return Json.strings(bytes, paths);
  }

  @Override
  public String toString() {
    return description;
  }
}
