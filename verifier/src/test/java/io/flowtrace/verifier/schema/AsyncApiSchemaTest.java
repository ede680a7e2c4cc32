package io.flowtrace.verifier.schema;

import static io.flowtrace.verifier.schema.TestSchemas.NO_HEADERS;
import static io.flowtrace.verifier.schema.TestSchemas.VALID_ORDERS_CREATED;
import static io.flowtrace.verifier.schema.TestSchemas.confluent;
import static io.flowtrace.verifier.schema.TestSchemas.email;
import static io.flowtrace.verifier.schema.TestSchemas.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AsyncApiSchemaTest {
  private final SchemaLoader loader = new SchemaLoader();

  private PayloadSchema load(String file, String fragment) throws SchemaLoadException {
    return loader.load(TestSchemas.dir(), new SchemaRef(file, fragment, Set.of(1L)));
  }

  private static List<String> problems(PayloadSchema schema, String json) {
    return schema.decode(utf8(json), NO_HEADERS).problems().stream()
        .map(SchemaProblem::toString)
        .toList();
  }

  @Test
  void anAsyncApi3MessageIsFoundByNameAndDescribed() throws SchemaLoadException {
    PayloadSchema orderCreated = load("asyncapi-3.yaml", "OrderCreated");

    assertThat(orderCreated.description())
        .isEqualTo("AsyncAPI 3.0.0 message 'OrderCreated' in asyncapi-3.yaml (JSON Schema payload)");
    assertThat(orderCreated.format()).isEqualTo(PayloadFormat.JSON);
    assertThat(problems(orderCreated, VALID_ORDERS_CREATED)).isEmpty();
  }

  @Test
  void payloadRefsAreResolvedThroughComponentsAndRelativeFiles() throws SchemaLoadException {
    PayloadSchema orderCreated = load("asyncapi-3.yaml", "OrderCreated");
    String payload =
        VALID_ORDERS_CREATED
            .replace("\"quantity\": 2", "\"quantity\": 0")
            .replace("19.99", "-1")
            .replace("6f1c2e1a-3b4d-4c5e-8f90-123456789abc", "x")
            .replace("39.98", "\"39.98\"");

    assertThat(problems(orderCreated, payload))
        .containsExactlyInAnyOrder(
            "$.requestId: must be a UUID (was \"x\")",
            "$.items[0].quantity: must be >= 1 (was 0)",
            "$.items[0].unitPrice: must be >= 0 (was -1)",
            "$.total: expected number, was string \"39.98\"");
  }

  @Test
  void aRecursiveSchemaValidatesEveryLevel() throws SchemaLoadException {
    PayloadSchema tree = load("asyncapi-3.yaml", "CategoryTree");

    assertThat(problems(tree, "{\"name\": \"a\", \"children\": [{\"name\": \"b\", \"children\": [{}]}]}"))
        .containsExactly("$.children[0].children[0].name: required property missing");
  }

  @Test
  void aMessageMayBeAJsonPointerIntoTheChannels() throws SchemaLoadException {
    PayloadSchema viaChannel = load("asyncapi-3.yaml", "/channels/ordersCreated/messages/OrderCreated");

    assertThat(viaChannel.description())
        .isEqualTo(
            "AsyncAPI 3.0.0 message at #/channels/ordersCreated/messages/OrderCreated in asyncapi-3.yaml (JSON Schema payload)");
    assertThat(problems(viaChannel, "{}")).contains("$.orderId: required property missing");
  }

  @Test
  void aMessageThatIsARefToAnotherMessageUsesItsPayload() throws SchemaLoadException {
    PayloadSchema aliased = load("asyncapi-3.yaml", "Aliased");

    assertThat(
            problems(
                aliased,
                "{\"orderId\": \"o\", \"transactionId\": \"t\", \"status\": \"confirmed\", \"confirmedAt\": \"yesterday\"}"))
        .containsExactly("$.confirmedAt: must be an RFC 3339 date-time (was \"yesterday\")");
  }

  @Test
  void anAsyncApi3AvroMultiFormatPayloadDecodesConfluentBytes() throws SchemaLoadException {
    PayloadSchema emailSchema = load("asyncapi-3.yaml", "EmailNotification");

    assertThat(emailSchema.format()).isEqualTo(PayloadFormat.AVRO);
    assertThat(emailSchema.description())
        .isEqualTo(
            "AsyncAPI 3.0.0 message 'EmailNotification' in asyncapi-3.yaml (Avro shop.notifications.EmailNotification)");
    DecodedPayload decoded = emailSchema.decode(confluent(1, email("a@b.c", "A B", 1.5)), NO_HEADERS);
    assertThat(decoded.problems()).isEmpty();
    assertThat(decoded.tree().get("data").get("customerName").asString()).isEqualTo("A B");
    assertThat(problems(emailSchema, "{}"))
        .containsExactly(
            "$: no magic byte: expected 0x00 then a 4-byte schema id (Confluent framing), found 0x7b (looks like JSON text)");
  }

  @Test
  void anAsyncApi26MessageIsValidated() throws SchemaLoadException {
    PayloadSchema cancelled = load("asyncapi-2.6.yaml", "OrderCancelled");

    assertThat(cancelled.description())
        .isEqualTo("AsyncAPI 2.6.0 message 'OrderCancelled' in asyncapi-2.6.yaml (JSON Schema payload)");
    assertThat(
            problems(
                cancelled,
                "{\"orderId\": \"o\", \"reason\": \"payment_declined\", \"cancelledAt\": \"2024-05-01T10:00:00+02:00\"}"))
        .isEmpty();
    assertThat(problems(cancelled, "{\"orderId\": \"o\", \"reason\": \"changed_mind\"}"))
        .containsExactlyInAnyOrder(
            "$.reason: must be one of [\"payment_declined\"] (was \"changed_mind\")",
            "$.cancelledAt: required property missing");
  }

  @Test
  void anAsyncApi26AvroSchemaFormatGivesAnAvroSchema() throws SchemaLoadException {
    PayloadSchema emailSchema = load("asyncapi-2.6.yaml", "EmailNotification");

    assertThat(emailSchema.format()).isEqualTo(PayloadFormat.AVRO);
    assertThat(emailSchema.decode(confluent(1, email("a@b.c", "A B", 1.5)), NO_HEADERS).problems()).isEmpty();
    assertThat(emailSchema.decode(confluent(2, email("a@b.c", "A B", 1.5)), NO_HEADERS).problems())
        .containsExactly(
            new SchemaProblem(
                "$",
                "schema id 2 is not a declared id of shop.notifications.EmailNotification (declared: 1)"));
  }

  @Test
  void anUnknownMessageNameListsTheMessagesThereAre() {
    assertThatThrownBy(() -> load("asyncapi-3.yaml", "OrderCreatd"))
        .isInstanceOf(SchemaLoadException.class)
        .hasMessage(
            "asyncapi-3.yaml: no message 'OrderCreatd' under components.messages (have: OrderCreated,"
                + " OrderConfirmed, EmailNotification, CategoryTree, Looping, Dangling, Aliased)");
  }

  @Test
  void aRefCycleIsALoadError() {
    assertThatThrownBy(() -> load("asyncapi-3.yaml", "Looping"))
        .isInstanceOf(SchemaLoadException.class)
        .hasMessage(
            "asyncapi-3.yaml: $ref cycle: #/components/messages/Looping/payload -> #/components/schemas/LoopA"
                + " -> #/components/schemas/LoopB -> #/components/schemas/LoopA");
  }

  @Test
  void aRefToNothingIsALoadError() {
    assertThatThrownBy(() -> load("asyncapi-3.yaml", "Dangling"))
        .hasMessage(
            "asyncapi-3.yaml: $ref '#/components/schemas/Nope' at #/components/messages/Dangling/payload points to nothing");
  }

  @Test
  void onlyAsyncApi26And30AreRead() {
    assertThatThrownBy(() -> load("asyncapi-2.0.yaml", "Anything"))
        .hasMessage("asyncapi-2.0.yaml: unsupported AsyncAPI version '2.0.0' (supported: 2.6.x, 3.0.x)");
  }

  @Test
  void aMessageMustBeNamed() {
    assertThatThrownBy(() -> load("asyncapi-2.6.yaml", null))
        .hasMessage(
            "asyncapi-2.6.yaml: name the message: a fragment such as asyncapi-2.6.yaml#MessageName"
                + " or a JSON pointer (have: OrderCancelled, EmailNotification)");
  }

  @Test
  void aPointerToNothingIsALoadError() {
    assertThatThrownBy(() -> load("asyncapi-3.yaml", "/components/messages/Nope"))
        .hasMessage("asyncapi-3.yaml: no node at JSON pointer /components/messages/Nope");
  }

  @Test
  void oneDocumentServesManyMessagesAndEachIsLoadedOnce() throws SchemaLoadException {
    PayloadSchema first = load("asyncapi-3.yaml", "OrderCreated");
    PayloadSchema other = load("asyncapi-3.yaml", "OrderConfirmed");

    assertThat(load("asyncapi-3.yaml", "OrderCreated")).isSameAs(first);
    assertThat(other).isNotSameAs(first);
  }

  @Test
  void asyncApiCoreRejectsAMalformedDocument(@TempDir Path dir) throws IOException {
    Files.writeString(
        dir.resolve("api.yaml"),
        """
        asyncapi: 3.0.0
        info: {title: t, version: '1'}
        bogus: true
        components:
          messages:
            M: {payload: {type: object}}
        """);

    assertThatThrownBy(() -> loader.load(dir, new SchemaRef("api.yaml", "M", null)))
        .hasMessage("api.yaml: not a valid AsyncAPI 3.0 document: \"bogus\" is not valid extension property (at bogus)");
  }

  @Test
  void aMalformedMessageThatAsyncApiCoreDropsIsStillReported(@TempDir Path dir) throws IOException {
    Files.writeString(
        dir.resolve("api.yaml"),
        """
        asyncapi: 3.0.0
        info: {title: t, version: '1'}
        components:
          messages:
            M:
              bogus: 1
              payload: {type: object}
        """);

    assertThatThrownBy(() -> loader.load(dir, new SchemaRef("api.yaml", "M", null)))
        .hasMessage("api.yaml: components.messages.M is not a valid AsyncAPI 3.0 message: \"bogus\" is not valid extension property (at bogus)");
  }

  @Test
  void aPayloadThatIsNotAJsonSchemaIsALoadError(@TempDir Path dir) throws IOException {
    Files.writeString(
        dir.resolve("api.yaml"),
        """
        asyncapi: 2.6.0
        info: {title: t, version: '1'}
        channels: {}
        components:
          messages:
            M:
              payload:
                type: object
                required: orderId
        """);

    assertThatThrownBy(() -> loader.load(dir, new SchemaRef("api.yaml", "M", null)))
        .hasMessage(
            "api.yaml: message 'M' payload is not a JSON Schema: $.required: expected array, was string \"orderId\"");
  }

  @Test
  void anUnsupportedSchemaFormatIsALoadError(@TempDir Path dir) throws IOException {
    Files.writeString(
        dir.resolve("api.yaml"),
        """
        asyncapi: 2.6.0
        info: {title: t, version: '1'}
        channels: {}
        components:
          messages:
            M:
              schemaFormat: application/vnd.google.protobuf;version=3
              payload: {type: object}
        """);

    assertThatThrownBy(() -> loader.load(dir, new SchemaRef("api.yaml", "M", null)))
        .hasMessage(
            "api.yaml: message 'M' has unsupported schemaFormat 'application/vnd.google.protobuf;version=3'"
                + " (supported: AsyncAPI schema, JSON Schema draft-04 to 2020-12, OpenAPI 3.0/3.1, Avro)");
  }

  @Test
  void aJsonSchemaFormatPicksItsDialect(@TempDir Path dir) throws IOException, SchemaLoadException {
    Files.writeString(
        dir.resolve("api.json"),
        """
        {"asyncapi": "3.0.0", "info": {"title": "t", "version": "1"},
         "components": {
           "messages": {"M": {"payload": {
             "schemaFormat": "application/schema+json;version=2020-12",
             "schema": {"type": "array", "prefixItems": [{"type": "integer"}], "items": false}}}}}}
        """);

    PayloadSchema schema = loader.load(dir, new SchemaRef("api.json", "M", null));

    assertThat(problems(schema, "[1]")).isEmpty();
    assertThat(problems(schema, "[\"a\", 2]"))
        .containsExactlyInAnyOrder(
            "$[0]: expected integer, was string \"a\"", "$[1]: array item not allowed (the schema allows no further items)");
  }
}
