package io.flowtrace.verifier.schema;

/** How a payload's bytes are encoded. */
public enum PayloadFormat {
  /** UTF-8 JSON text. */
  JSON,
  /** Avro binary, framed the Confluent way (magic byte + 4-byte id) or identified by an Apicurio header. */
  AVRO,
  /** Opaque bytes ({@code schema: binary}): neither decoded nor validated. */
  BINARY
}
