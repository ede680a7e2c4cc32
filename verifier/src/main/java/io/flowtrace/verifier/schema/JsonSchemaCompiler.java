package io.flowtrace.verifier.schema;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.SpecificationVersion;
import com.networknt.schema.dialect.Dialects;
import com.networknt.schema.path.PathType;
import com.networknt.schema.resource.InputStreamSource;
import com.networknt.schema.resource.ResourceLoader;
import java.io.FileNotFoundException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import tools.jackson.databind.JsonNode;

/**
 * Builds networknt {@link Schema}s, once, ready for the hot path: refs are resolved and validators
 * created up front ({@code preloadSchema}), formats are asserted (the contract needs RFC 3339
 * {@code date-time} and {@code uuid}), and the document is first checked against its dialect's
 * meta-schema so that a broken schema fails at load time rather than passing every payload.
 * Relative {@code $ref}s are read from local files; nothing is fetched over the network. Not
 * thread-safe (used under {@link SchemaLoader}'s lock); the schemas it returns are.
 */
final class JsonSchemaCompiler {
  /** Problems quoted when a schema fails its meta-schema. */
  private static final int MAX_QUOTED_PROBLEMS = 5;

  private static final SchemaRegistryConfig CONFIG =
      SchemaRegistryConfig.builder()
          .formatAssertionsEnabled(true)
          .pathType(PathType.JSON_PATH)
          .preloadSchema(true)
          .build();

  /** Serves {@code file:} IRIs from the local file system; everything else is left to others. */
  private static final ResourceLoader LOCAL_FILES =
      iri -> {
        String text = iri.toString();
        if (!text.startsWith("file:")) {
          return null;
        }
        Path path;
        try {
          path = Path.of(URI.create(text));
        } catch (RuntimeException e) {
          return null;
        }
        if (!Files.isRegularFile(path)) {
          return null;
        }
        InputStreamSource source = () -> Files.newInputStream(path);
        return source;
      };

  private final Map<SpecificationVersion, SchemaRegistry> registries =
      new EnumMap<>(SpecificationVersion.class);
  private SchemaRegistry openApi30;

  /** Which dialect a document uses when it has no {@code $schema}. */
  enum Dialect {
    DRAFT_4(SpecificationVersion.DRAFT_4),
    DRAFT_6(SpecificationVersion.DRAFT_6),
    DRAFT_7(SpecificationVersion.DRAFT_7),
    DRAFT_2019_09(SpecificationVersion.DRAFT_2019_09),
    DRAFT_2020_12(SpecificationVersion.DRAFT_2020_12),
    OPENAPI_3_0(null);

    final SpecificationVersion version;

    Dialect(SpecificationVersion version) {
      this.version = version;
    }

    /** Where the dialect keeps reusable schemas ({@code definitions} before 2019-09). */
    String definitionsKeyword() {
      return this == DRAFT_2019_09 || this == DRAFT_2020_12 ? "$defs" : "definitions";
    }
  }

  private SchemaRegistry registry(Dialect dialect) {
    if (dialect.version == null) {
      if (openApi30 == null) {
        openApi30 = SchemaRegistry.withDefaultDialect(Dialects.getOpenApi30(), this::configure);
      }
      return openApi30;
    }
    return registries.computeIfAbsent(
        dialect.version, v -> SchemaRegistry.withDefaultDialect(v, this::configure));
  }

  private void configure(SchemaRegistry.Builder builder) {
    builder
        .schemaRegistryConfig(CONFIG)
        .schemaLoader(loader -> loader.resourceLoaders(loaders -> loaders.add(LOCAL_FILES)));
  }

  /**
   * Compiles {@code document} (its sub-schema at {@code pointer} when that is not null).
   *
   * @param iri the document's base IRI, against which relative refs resolve
   * @param file how errors name the file
   * @param what how errors name the schema inside the file, e.g. {@code "message 'X' payload"}; or
   *     null for the file itself
   */
  Schema compile(
      Dialect defaultDialect, String iri, JsonNode document, String pointer, String file, String what)
      throws SchemaLoadException {
    String subject = what == null ? "not a JSON Schema: " : what + " is not a JSON Schema: ";
    if (!document.isObject() && !document.isBoolean()) {
      throw new SchemaLoadException(
          file, subject + "expected an object, found " + document.getNodeType().toString().toLowerCase(Locale.ROOT));
    }
    SchemaRegistry registry = registry(defaultDialect);
    checkAgainstMetaSchema(registry, defaultDialect, document, file, subject);
    try {
      Schema schema;
      if (pointer == null) {
        schema = registry.getSchema(SchemaLocation.of(iri), document);
      } else {
        registry.getSchema(SchemaLocation.of(iri), document);
        schema = registry.getSchema(SchemaLocation.of(iri + "#" + pointer));
      }
      schema.initializeValidators();
      return schema;
    } catch (RuntimeException e) {
      throw new SchemaLoadException(file, subject + describe(e), e);
    }
  }

  private void checkAgainstMetaSchema(
      SchemaRegistry registry, Dialect defaultDialect, JsonNode document, String file, String subject)
      throws SchemaLoadException {
    JsonNode declared = document.isObject() ? document.get("$schema") : null;
    String dialectId;
    if (declared != null) {
      if (!declared.isString()) {
        throw new SchemaLoadException(file, subject + "$schema must be a string, found " + Json.brief(declared));
      }
      dialectId = declared.stringValue();
      Optional<SpecificationVersion> known = SpecificationVersion.fromDialectId(dialectId);
      if (known.isEmpty() && !dialectId.endsWith("#")) {
        known = SpecificationVersion.fromDialectId(dialectId + "#");
      }
      if (known.isEmpty()) {
        throw new SchemaLoadException(
            file,
            subject
                + "unknown $schema '"
                + dialectId
                + "' (known: draft-04, draft-06, draft-07, 2019-09, 2020-12)");
      }
      dialectId = known.get().getDialectId();
    } else if (defaultDialect.version != null) {
      dialectId = defaultDialect.version.getDialectId();
    } else {
      return; // OpenAPI 3.0 schema objects: no meta-schema shipped with networknt
    }
    List<Error> errors;
    try {
      errors = registry.getSchema(SchemaLocation.of(dialectId)).validate(document);
    } catch (RuntimeException e) {
      throw new SchemaLoadException(file, subject + describe(e), e);
    }
    if (!errors.isEmpty()) {
      List<SchemaProblem> problems = JsonProblems.of(errors);
      String quoted =
          problems.stream()
              .limit(MAX_QUOTED_PROBLEMS)
              .map(SchemaProblem::toString)
              .collect(Collectors.joining("; "));
      if (problems.size() > MAX_QUOTED_PROBLEMS) {
        quoted += "; and " + (problems.size() - MAX_QUOTED_PROBLEMS) + " more";
      }
      throw new SchemaLoadException(file, subject + quoted);
    }
  }

  private static String describe(RuntimeException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof FileNotFoundException) {
        return "cannot load "
            + t.getMessage()
            + " (only local files are read; remote schemas are not fetched)";
      }
    }
    String message = e.getMessage();
    return message == null ? e.getClass().getSimpleName() : message;
  }
}
