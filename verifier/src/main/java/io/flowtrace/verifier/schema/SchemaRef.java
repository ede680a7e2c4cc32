package io.flowtrace.verifier.schema;

import static java.util.Objects.requireNonNull;

import java.util.Set;

/**
 * Where a stage's schema is declared, relative to the flow spec's directory.
 *
 * <ul>
 *   <li>{@code schemas/orders-created.schema.json} — a JSON Schema file;
 *   <li>{@code schemas/email.avsc} with {@code avroIds} — an Avro schema and the registry ids a
 *       record may name for it (Confluent magic-byte id or Apicurio id header);
 *   <li>{@code asyncapi.yaml} with {@code fragment} {@code OrderCreated} (a message name under
 *       {@code components.messages}) or a JSON pointer such as {@code /components/messages/OrderCreated}.
 * </ul>
 */
public record SchemaRef(String file, String fragment, Set<Long> avroIds) {
  public SchemaRef {
    requireNonNull(file, "file");
    fragment = fragment == null || fragment.isEmpty() ? null : fragment;
    avroIds = avroIds == null ? Set.of() : Set.copyOf(avroIds);
  }

  @Override
  public String toString() {
    return fragment == null ? file : file + "#" + fragment;
  }
}
