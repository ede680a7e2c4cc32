package io.flowtrace.verifier.schema;

import io.flowtrace.tracer.model.RecordHeader;
import java.util.List;

/**
 * Decodes and validates the payload of one kind of message. Implementations are immutable,
 * thread-safe and never throw from {@link #decode}: every failure becomes a {@link SchemaProblem}.
 */
public interface PayloadSchema {

  /** Says what the schema is and where it came from, e.g. {@code JSON Schema schemas/x.json}. */
  String description();

  /** Whether a schema was declared: {@code false} where payloads are only decoded (a parse failure is still a problem). */
  default boolean declared() {
    return true;
  }

  PayloadFormat format();

  /**
   * Decodes {@code bytes} (record value or HTTP body) and validates the result.
   *
   * @param headers the Kafka record's headers (Apicurio puts schema ids there); empty for spans
   */
  DecodedPayload decode(byte[] bytes, List<RecordHeader> headers);

  /**
   * The tree {@link #decode} would give for {@code bytes}, without validating it ({@code null} when
   * it cannot be decoded): enough to read instance keys ahead of verification.
   */
  default tools.jackson.databind.JsonNode parse(byte[] bytes, List<RecordHeader> headers) {
    return decode(bytes, headers).tree();
  }

  /**
   * The string values {@link #parse} would show at {@code paths} (each a list of object field
   * names from the root), read without building the tree: for each path its text, or {@code null}
   * where the tree has no string there (absent, null, an object or array, or behind one). Returns
   * {@code null} when only the tree can tell — the payload is not such JSON, a value at a path is a
   * number or boolean, or this schema does not read JSON (the default) — and the caller then parses.
   */
  default String[] strings(byte[] bytes, List<List<String>> paths) {
    return null;
  }

  /**
   * What the schema says about the structure of decoded payloads, for checking a flow spec's field
   * paths and rules at load time; {@link PayloadShape#unknown()} when it says nothing (no schema,
   * binary payloads, schemas known only at run time from a registry).
   */
  default PayloadShape shape() {
    return PayloadShape.unknown();
  }
}
