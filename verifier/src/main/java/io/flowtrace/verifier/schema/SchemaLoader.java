package io.flowtrace.verifier.schema;

import static java.util.Objects.requireNonNull;

import com.networknt.schema.Schema;
import com.networknt.schema.SpecificationVersion;
import io.flowtrace.verifier.schema.JsonSchemaCompiler.Dialect;
import io.flowtrace.verifier.schema.RefResolver.Located;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.avro.Schema.Parser;
import tools.jackson.databind.JsonNode;

/**
 * Loads the {@link PayloadSchema} a {@link SchemaRef} declares:
 *
 * <ul>
 *   <li>a JSON Schema file ({@code .json}, {@code .yaml}); draft 2020-12 unless its {@code $schema}
 *       says otherwise; the fragment may be a JSON pointer ({@code /$defs/Order}) or a name under
 *       {@code $defs}/{@code definitions};
 *   <li>an Avro schema ({@code .avsc}, or a JSON file holding a record/enum/fixed), decoding
 *       Confluent- or Apicurio-framed binary and checking the schema id against {@link
 *       SchemaRef#avroIds()};
 *   <li>an AsyncAPI 2.6 or 3.0 document, the fragment naming a message under {@code
 *       components.messages} ({@code OrderCreated}) or pointing at one ({@code
 *       /channels/orders/messages/OrderCreated}); its payload is an AsyncAPI schema (validated as
 *       JSON Schema draft-07, of which it is a superset), a JSON Schema, an OpenAPI 3.0 schema or
 *       Avro, per the message's {@code schemaFormat}. Local and relative-file {@code $ref}s are
 *       resolved; remote ones are refused.
 * </ul>
 *
 * <p>Loading fails at once with a {@link SchemaLoadException} naming the file, the place in it and
 * what was wrong. Documents and schemas are cached per loader instance, so one AsyncAPI file serves
 * many messages and is read once. Thread-safe; the schemas it returns are immutable and
 * thread-safe.
 */
public final class SchemaLoader {
  /** The dialect of JSON Schema files without {@code $schema}. */
  static final Dialect DEFAULT_FILE_DIALECT = Dialect.DRAFT_2020_12;

  /** The dialect of AsyncAPI schema objects: a superset of JSON Schema draft-07. */
  static final Dialect ASYNCAPI_SCHEMA_DIALECT = Dialect.DRAFT_7;

  private final Documents documents = new Documents();
  private final JsonSchemaCompiler compiler = new JsonSchemaCompiler();
  private final SchemaShapes shapes = new SchemaShapes(documents);
  private final Map<Path, AsyncApiDocument> asyncApis = new HashMap<>();
  private final Map<Key, PayloadSchema> loaded = new HashMap<>();
  private int anonymousSchemas;

  private record Key(Path file, String fragment, Set<Long> avroIds) {}

  /** Creates a loader with empty caches. */
  public SchemaLoader() {}

  /**
   * A schema that only decodes: JSON is parsed (a parse failure is a problem) but not validated;
   * Avro cannot be decoded without a schema, so every Avro payload gets a problem saying so.
   */
  public static PayloadSchema none(PayloadFormat format) {
    requireNonNull(format, "format");
    return switch (format) {
      case JSON -> NoSchemaPayload.JSON;
      case AVRO -> NoSchemaPayload.AVRO;
      case BINARY -> NoSchemaPayload.BINARY;
    };
  }

  /**
   * Avro payloads decoded with the schema a registry holds for the id each payload carries
   * (Confluent magic byte + 4-byte id, or an Apicurio id header / 8-byte id). With {@code ids}, only
   * those ids are expected. Look-ups happen when payloads are decoded, and a failed one is a problem
   * of that payload naming the registry URL and the id.
   */
  public static PayloadSchema fromRegistry(SchemaRegistryClient registry, Set<Long> ids) {
    return new RegistryAvroPayload(registry, requireNonNull(ids, "ids"));
  }

  /**
   * Loads the schema {@code ref} declares.
   *
   * @param baseDir the directory {@code ref.file()} is relative to (the flow spec's)
   * @throws SchemaLoadException if the file is missing or unreadable, is no schema, or has no such
   *     message or fragment; the message names the file and says what was wrong
   */
  public synchronized PayloadSchema load(Path baseDir, SchemaRef ref) throws SchemaLoadException {
    requireNonNull(baseDir, "baseDir");
    requireNonNull(ref, "ref");
    Path file = baseDir.resolve(ref.file()).toAbsolutePath().normalize();
    Key key = new Key(file, ref.fragment(), ref.avroIds());
    PayloadSchema schema = loaded.get(key);
    if (schema == null) {
      schema = read(baseDir, file, ref);
      loaded.put(key, schema);
    }
    return schema;
  }

  private PayloadSchema read(Path baseDir, Path file, SchemaRef ref) throws SchemaLoadException {
    String display = Documents.display(baseDir, file);
    JsonNode tree = documents.read(file, display);
    if (Documents.isAvroFile(file) || looksLikeAvro(tree)) {
      if (ref.fragment() != null) {
        throw new SchemaLoadException(
            display, "an Avro schema file has no fragments (was '#" + ref.fragment() + "')");
      }
      org.apache.avro.Schema avro = parseAvro(tree, display, null);
      return new AvroPayload(
          "Avro schema " + avro.getFullName() + " (" + display + ")", avro, ref.avroIds());
    }
    if (AsyncApiDocument.isAsyncApi(tree)) {
      return readAsyncApi(baseDir, file, display, tree, ref);
    }
    return readJsonSchema(file, display, tree, ref.fragment());
  }

  private static boolean looksLikeAvro(JsonNode tree) {
    if (tree.isArray()) {
      return true; // a top-level union; a JSON Schema is never an array
    }
    JsonNode type = tree.get("type");
    return tree.isObject()
        && !tree.has("$schema")
        && type != null
        && type.isString()
        && Set.of("record", "enum", "fixed").contains(type.stringValue());
  }

  private static org.apache.avro.Schema parseAvro(JsonNode tree, String display, String what)
      throws SchemaLoadException {
    try {
      return new Parser().parse(tree.toString());
    } catch (RuntimeException e) {
      String subject = what == null ? "not an Avro schema: " : what + " is not an Avro schema: ";
      throw new SchemaLoadException(display, subject + e.getMessage(), e);
    }
  }

  private PayloadSchema readJsonSchema(Path file, String display, JsonNode tree, String fragment)
      throws SchemaLoadException {
    String pointer = null;
    if (fragment != null) {
      pointer = fragment.startsWith("/") ? fragment : namedDefinition(tree, fragment, display);
      if (tree.at(pointer).isMissingNode()) {
        throw new SchemaLoadException(display, "no node at JSON pointer " + fragment);
      }
    }
    Schema schema =
        compiler.compile(
            DEFAULT_FILE_DIALECT, file.toUri().toString(), tree, pointer, display, null);
    return new JsonSchemaPayload(
        "JSON Schema " + display + (fragment == null ? "" : "#" + fragment), schema,
        shapes.ofJsonSchema(file, tree, pointer == null ? tree : tree.at(pointer)));
  }

  private static String namedDefinition(JsonNode tree, String name, String display)
      throws SchemaLoadException {
    for (String keyword : new String[] {"$defs", "definitions"}) {
      JsonNode definitions = tree.get(keyword);
      if (definitions != null && definitions.has(name)) {
        return "/" + keyword + "/" + RefResolver.escape(name);
      }
    }
    List<String> have = new ArrayList<>();
    for (String keyword : new String[] {"$defs", "definitions"}) {
      JsonNode definitions = tree.get(keyword);
      if (definitions != null && definitions.isObject()) {
        have.addAll(definitions.propertyNames());
      }
    }
    throw new SchemaLoadException(
        display,
        "no schema '"
            + name
            + "' under $defs or definitions (have: "
            + (have.isEmpty() ? "none" : String.join(", ", have))
            + ")");
  }

  private PayloadSchema readAsyncApi(
      Path baseDir, Path file, String display, JsonNode tree, SchemaRef ref)
      throws SchemaLoadException {
    AsyncApiDocument doc = asyncApis.get(file);
    if (doc == null) {
      doc = AsyncApiDocument.read(display, tree);
      asyncApis.put(file, doc);
    }
    RefResolver resolver = new RefResolver(baseDir, documents, file);
    Map<String, Object> messages = doc.messages();
    List<String> names = doc.messageNames(tree);
    String have = names.isEmpty() ? "the document has none" : "have: " + String.join(", ", names);
    String fragment = ref.fragment();
    if (fragment == null) {
      throw new SchemaLoadException(
          display,
          "name the message: a fragment such as "
              + display
              + "#MessageName or a JSON pointer ("
              + have
              + ")");
    }

    Object modelEntry;
    String label;
    Located messageAt;
    if (fragment.startsWith("/")) {
      label = "message at #" + fragment;
      Located at = resolver.at(file, fragment);
      if (at == null) {
        throw new SchemaLoadException(display, "no node at JSON pointer " + fragment);
      }
      messageAt = resolver.follow(at);
      String prefix = "/components/messages/";
      String rest = fragment.startsWith(prefix) ? fragment.substring(prefix.length()) : null;
      modelEntry = null;
      if (rest != null && !rest.contains("/")) {
        String name = RefResolver.unescape(rest);
        modelEntry = messages.get(name);
        if (modelEntry == null) {
          doc.checkDroppedMessage(name, at.node(), display);
        }
      }
    } else {
      label = "message '" + fragment + "'";
      Located at = resolver.at(file, "/components/messages/" + RefResolver.escape(fragment));
      if (at == null) {
        throw new SchemaLoadException(
            display, "no message '" + fragment + "' under components.messages (" + have + ")");
      }
      modelEntry = messages.get(fragment);
      if (modelEntry == null) {
        doc.checkDroppedMessage(fragment, at.node(), display);
      } else if (!doc.isMessageOrReference(modelEntry)) {
        throw new SchemaLoadException(
            display, "components.messages." + fragment + " is not a message or a $ref");
      }
      messageAt = resolver.follow(at);
    }
    if (!messageAt.node().isObject()) {
      throw new SchemaLoadException(display, label + " is not an object");
    }
    if (messageAt.node().get("payload") == null) {
      throw new SchemaLoadException(display, label + " has no payload");
    }
    Located payloadAt = resolver.follow(messageAt.child("payload"));

    String schemaFormat = AsyncApiDocument.schemaFormat(modelEntry);
    Located schemaAt = payloadAt;
    if (doc.isV3()) {
      JsonNode payload = payloadAt.node();
      if (payload.isObject() && payload.has("schemaFormat") && payload.has("schema")) {
        if (schemaFormat == null) {
          schemaFormat = payload.get("schemaFormat").asString();
        }
        schemaAt = resolver.follow(payloadAt.child("schema"));
      }
    } else if (schemaFormat == null && messageAt.node().has("schemaFormat")) {
      schemaFormat = messageAt.node().get("schemaFormat").asString();
    }

    String description = "AsyncAPI " + doc.version() + " " + label + " in " + display;
    if (isAvroFormat(schemaFormat)) {
      JsonNode avroTree = resolver.inlined(schemaAt);
      org.apache.avro.Schema avro = parseAvro(avroTree, display, label + " payload");
      return new AvroPayload(
          description + " (Avro " + avro.getFullName() + ")", avro, ref.avroIds());
    }
    Dialect dialect = dialectOf(schemaFormat, display, label);
    JsonNode declared = schemaAt.node().isObject() ? schemaAt.node().get("$schema") : null;
    Dialect effective = dialect;
    if (declared != null && declared.isString()) {
      Optional<SpecificationVersion> version = SpecificationVersion.fromDialectId(declared.stringValue());
      if (version.isPresent()) {
        effective = Dialect.valueOf(version.get().name());
      }
    }
    JsonNode selfContained = resolver.selfContained(schemaAt, effective.definitionsKeyword());
    Schema schema =
        compiler.compile(
            dialect,
            "urn:flowtrace:payload:" + (++anonymousSchemas),
            selfContained,
            null,
            display,
            label + " payload");
    return new JsonSchemaPayload(description + " (JSON Schema payload)", schema,
        shapes.ofJsonSchema(null, selfContained, selfContained));
  }

  private static boolean isAvroFormat(String schemaFormat) {
    return schemaFormat != null
        && schemaFormat.strip().toLowerCase(Locale.ROOT).startsWith("application/vnd.apache.avro");
  }

  /** The JSON Schema dialect a message's {@code schemaFormat} stands for. */
  private static Dialect dialectOf(String schemaFormat, String display, String label)
      throws SchemaLoadException {
    if (schemaFormat == null) {
      return ASYNCAPI_SCHEMA_DIALECT;
    }
    String format = schemaFormat.toLowerCase(Locale.ROOT).replace(" ", "");
    String version = "";
    int at = format.indexOf(";version=");
    if (at >= 0) {
      version = format.substring(at + ";version=".length());
      int end = version.indexOf(';');
      version = end >= 0 ? version.substring(0, end) : version;
    }
    if (format.startsWith("application/vnd.aai.asyncapi")) {
      return ASYNCAPI_SCHEMA_DIALECT;
    }
    if (format.startsWith("application/schema+json") || format.startsWith("application/schema+yaml")) {
      switch (version) {
        case "draft-04":
          return Dialect.DRAFT_4;
        case "draft-06":
          return Dialect.DRAFT_6;
        case "":
        case "draft-07":
          return Dialect.DRAFT_7;
        case "2019-09":
        case "draft-2019-09":
          return Dialect.DRAFT_2019_09;
        case "2020-12":
        case "draft-2020-12":
          return Dialect.DRAFT_2020_12;
        default:
          break;
      }
    }
    if (format.startsWith("application/vnd.oai.openapi")) {
      return version.startsWith("3.1") ? Dialect.DRAFT_2020_12 : Dialect.OPENAPI_3_0;
    }
    throw new SchemaLoadException(
        display,
        label
            + " has unsupported schemaFormat '"
            + schemaFormat
            + "' (supported: AsyncAPI schema, JSON Schema draft-04 to 2020-12, OpenAPI 3.0/3.1, Avro)");
  }
}
