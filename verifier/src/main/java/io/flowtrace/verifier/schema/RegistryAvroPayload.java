package io.flowtrace.verifier.schema;

import static java.util.Objects.requireNonNull;

import io.flowtrace.tracer.model.RecordHeader;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * Avro payloads whose schema is looked up by the id they carry (Confluent magic byte + 4-byte id,
 * an Apicurio id header, or Apicurio's magic byte + 8-byte id) in a schema registry. With declared
 * {@code ids}, an id outside them is a problem (the payload is still decoded). A look-up that fails
 * is a problem naming the registry URL and the id; the payload is then not decoded.
 */
final class RegistryAvroPayload implements PayloadSchema {

  private final SchemaRegistryClient registry;
  private final Set<Long> ids;
  private final String declared;
  private final String description;
  /** One decoder per id the registry knew; bounded by the registry's own content. */
  private final Map<Long, AvroPayload> byId = new ConcurrentHashMap<>();

  RegistryAvroPayload(SchemaRegistryClient registry, Set<Long> ids) {
    this.registry = requireNonNull(registry, "registry");
    this.ids = Set.copyOf(ids);
    this.declared = new TreeSet<>(ids).stream().map(String::valueOf).collect(Collectors.joining(", "));
    this.description = "Avro schema by id from " + registry + (ids.isEmpty() ? "" : " (ids " + declared + ")");
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
    Long id = headerId(headers);
    if (id == null) {
      if (data.length < 5 || data[0] != 0) {
        // Not framed: the fixed-schema decoder words the problem (no magic byte, too short, empty).
        return new AvroPayload(description, org.apache.avro.Schema.create(org.apache.avro.Schema.Type.NULL), Set.of())
            .decode(data, headers);
      }
      long id4 = ByteBuffer.wrap(data, 1, 4).getInt() & 0xFFFF_FFFFL;
      id = id4 == 0 && data.length >= 9 ? ByteBuffer.wrap(data, 1, 8).getLong() : id4;
    }
    List<SchemaProblem> problems = new ArrayList<>(2);
    if (!ids.isEmpty() && !ids.contains(id)) {
      problems.add(new SchemaProblem("$", "schema id " + id + " is not a declared id (declared: " + declared + ")"));
    }
    AvroPayload payload = byId.get(id);
    if (payload == null) {
      try {
        org.apache.avro.Schema schema = registry.schema(id);
        payload = new AvroPayload("Avro schema " + schema.getFullName() + " (id " + id + " from " + registry + ")",
            schema, Set.of(id));
        byId.putIfAbsent(id, payload);
      } catch (SchemaRegistryClient.SchemaRegistryException e) {
        if (e.unavailable()) {
          return new DecodedPayload(null, List.of(SchemaProblem.unavailable(e.getMessage())));
        }
        problems.add(new SchemaProblem("$", "cannot decode: " + e.getMessage()));
        return new DecodedPayload(null, problems);
      }
    }
    DecodedPayload decoded = payload.decode(data, headers);
    if (problems.isEmpty()) {
      return decoded;
    }
    problems.addAll(decoded.problems());
    return new DecodedPayload(decoded.tree(), problems);
  }

  private static Long headerId(List<RecordHeader> headers) {
    if (headers == null) {
      return null;
    }
    Long content = null;
    for (RecordHeader h : headers) {
      if (h.value() == null) {
        continue;
      }
      if (h.name().equals(AvroPayload.APICURIO_GLOBAL_ID)) {
        return AvroPayload.headerId(h.value());
      }
      if (content == null && h.name().equals(AvroPayload.APICURIO_CONTENT_ID)) {
        content = AvroPayload.headerId(h.value());
      }
    }
    return content;
  }

  @Override
  public String toString() {
    return description;
  }
}
