package io.flowtrace.verifier.schema;

import static io.flowtrace.verifier.schema.TestSchemas.NO_HEADERS;
import static io.flowtrace.verifier.schema.TestSchemas.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading fails at once, naming the file and what was wrong. */
class SchemaLoadErrorsTest {
  private final SchemaLoader loader = new SchemaLoader();

  private void load(String file, String fragment) throws SchemaLoadException {
    loader.load(TestSchemas.dir(), new SchemaRef(file, fragment, null));
  }

  @Test
  void aMissingFileIsNamed() {
    assertThatThrownBy(() -> load("schemas/missing.json", null))
        .isInstanceOf(SchemaLoadException.class)
        .hasMessageStartingWith("schemas/missing.json: no such file (looked for ")
        .satisfies(
            e -> {
              SchemaLoadException error = (SchemaLoadException) e;
              assertThat(error.file()).isEqualTo("schemas/missing.json");
              assertThat(error.detail()).startsWith("no such file");
            });
  }

  @Test
  void invalidJsonIsReportedWithLineAndColumn() {
    assertThatThrownBy(() -> load("broken.json", null))
        .hasMessage(
            "broken.json: not valid JSON: Unexpected character ('}' (code 125)): was expecting double-quote"
                + " to start property name (line 5, column 3)");
  }

  @Test
  void aCutOffSchemaIsReportedWithoutTheParsersInternals(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("cut.json"), "{\"type\": \"object\"\n");

    assertThatThrownBy(() -> loader.load(dir, new SchemaRef("cut.json", null, null)))
        .hasMessageStartingWith("cut.json: not valid JSON: Unexpected end-of-input: expected close marker for Object")
        .hasMessageEndingWith(" (line 2, column 1)")
        .message().doesNotContain("Source", "REDACTED", "#UNKNOWN", "StreamReadFeature");
  }

  @Test
  void invalidYamlIsReportedWithLineAndColumn(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("api.yaml"), "asyncapi: 3.0.0\ninfo: [1, 2\nx: 3\n");

    assertThatThrownBy(() -> loader.load(dir, new SchemaRef("api.yaml", "M", null)))
        .hasMessage(
            "api.yaml: not valid YAML: while parsing a flow sequence, expected ',' or ']', but got : (line 3, column 2)");
  }

  @Test
  void aDocumentThatBreaksItsMetaSchemaIsNotAJsonSchema() {
    assertThatThrownBy(() -> load("not-a-schema.json", null))
        .hasMessage(
            "not-a-schema.json: not a JSON Schema: "
                + "$.properties.quantity.type: must be one of [\"array\",\"boolean\",\"integer\",\"null\",\"number\",\"object\",\"string\"] (was \"integr\"); "
                + "$.properties.quantity.type: expected array, was string \"integr\"; "
                + "$.required: expected array, was string \"quantity\"");
  }

  @Test
  void anUnknownDollarSchemaIsRefused() {
    assertThatThrownBy(() -> load("unknown-dialect.schema.json", null))
        .hasMessage(
            "unknown-dialect.schema.json: not a JSON Schema: unknown $schema 'https://example.com/my-dialect'"
                + " (known: draft-04, draft-06, draft-07, 2019-09, 2020-12)");
  }

  @Test
  void aBrokenAvroSchemaIsNotAnAvroSchema() {
    assertThatThrownBy(() -> load("not-avro.avsc", null))
        .hasMessage("not-avro.avsc: not an Avro schema: Undefined schema: strin");
  }

  @Test
  void anAvroFileHasNoFragments() {
    assertThatThrownBy(() -> load("email.avsc", "EmailNotification"))
        .hasMessage("email.avsc: an Avro schema file has no fragments (was '#EmailNotification')");
  }

  @Test
  void anUnknownDefinitionNameListsTheDefinitions() {
    assertThatThrownBy(() -> load("orders-requested.schema.json", "itme"))
        .hasMessage("orders-requested.schema.json: no schema 'itme' under $defs or definitions (have: item)");
  }

  @Test
  void relativeFileRefsOfAJsonSchemaAreReadLocally(@TempDir Path dir)
      throws IOException, SchemaLoadException {
    Files.writeString(dir.resolve("common.json"), "{\"$defs\": {\"qty\": {\"type\": \"integer\", \"minimum\": 1}}}");
    Files.writeString(
        dir.resolve("main.json"), "{\"properties\": {\"q\": {\"$ref\": \"common.json#/$defs/qty\"}}}");

    PayloadSchema schema = loader.load(dir, new SchemaRef("main.json", null, null));

    assertThat(schema.decode(utf8("{\"q\": 0}"), NO_HEADERS).problems())
        .containsExactly(new SchemaProblem("$.q", "must be >= 1 (was 0)"));
  }

  @Test
  void remoteRefsAreNotFetched(@TempDir Path dir) throws IOException {
    Files.writeString(
        dir.resolve("main.json"), "{\"properties\": {\"q\": {\"$ref\": \"https://example.com/qty.json\"}}}");

    assertThatThrownBy(() -> loader.load(dir, new SchemaRef("main.json", null, null)))
        .hasMessage(
            "main.json: not a JSON Schema: cannot load https://example.com/qty.json"
                + " (only local files are read; remote schemas are not fetched)");
  }

  @Test
  void remoteRefsInAsyncApiAreRefused(@TempDir Path dir) throws IOException {
    Files.writeString(
        dir.resolve("api.yaml"),
        """
        asyncapi: 3.0.0
        info: {title: t, version: '1'}
        components:
          messages:
            M:
              payload:
                $ref: 'https://example.com/schemas/order.json'
        """);

    assertThatThrownBy(() -> loader.load(dir, new SchemaRef("api.yaml", "M", null)))
        .hasMessage(
            "api.yaml: $ref 'https://example.com/schemas/order.json' at #/components/messages/M/payload"
                + " is not supported: only local (#/...) and relative-file refs are resolved");
  }
}
