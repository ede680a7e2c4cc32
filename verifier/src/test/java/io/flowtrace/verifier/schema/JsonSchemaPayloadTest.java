package io.flowtrace.verifier.schema;

import static io.flowtrace.verifier.schema.TestSchemas.NO_HEADERS;
import static io.flowtrace.verifier.schema.TestSchemas.VALID_ORDERS_CREATED;
import static io.flowtrace.verifier.schema.TestSchemas.VALID_ORDERS_REQUESTED;
import static io.flowtrace.verifier.schema.TestSchemas.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class JsonSchemaPayloadTest {
  private final SchemaLoader loader = new SchemaLoader();
  private PayloadSchema ordersRequested;

  @BeforeEach
  void load() throws SchemaLoadException {
    ordersRequested =
        loader.load(TestSchemas.dir(), new SchemaRef("orders-requested.schema.json", null, null));
  }

  private List<String> problems(PayloadSchema schema, String json) {
    return schema.decode(utf8(json), NO_HEADERS).problems().stream()
        .map(SchemaProblem::toString)
        .toList();
  }

  private String ordersRequestedWith(String from, String to) {
    String payload = VALID_ORDERS_REQUESTED.replace(from, to);
    assertThat(payload).isNotEqualTo(VALID_ORDERS_REQUESTED);
    return payload;
  }

  @Test
  void describesTheSchemaByItsFile() {
    assertThat(ordersRequested.description()).isEqualTo("JSON Schema orders-requested.schema.json");
    assertThat(ordersRequested.format()).isEqualTo(PayloadFormat.JSON);
  }

  @Test
  void aValidPayloadDecodesWithoutProblems() {
    DecodedPayload decoded = ordersRequested.decode(utf8(VALID_ORDERS_REQUESTED), NO_HEADERS);

    assertThat(decoded.decoded()).isTrue();
    assertThat(decoded.problems()).isEmpty();
    assertThat(decoded.tree().get("items").get(0).get("quantity").asInt()).isEqualTo(2);
  }

  @Test
  void aMissingRequiredFieldIsReportedAtTheFieldsPath() {
    String payload = ordersRequestedWith("\"userId\": \"user-42\",", "");

    assertThat(problems(ordersRequested, payload)).containsExactly("$.userId: required property missing");
  }

  @Test
  void aMissingNestedFieldIsReportedWithItsFullPath() {
    String payload = ordersRequestedWith(", \"zipCode\": \"12345\"", "");

    assertThat(problems(ordersRequested, payload))
        .containsExactly("$.shipping.zipCode: required property missing");
  }

  @Test
  void aWrongTypeSaysWhatWasExpectedAndWhatWasFound() {
    String payload = ordersRequestedWith("\"quantity\": 2", "\"quantity\": \"2\"");

    assertThat(problems(ordersRequested, payload))
        .containsExactly("$.items[0].quantity: expected integer, was string \"2\"");
  }

  @Test
  void aValueBelowTheMinimumSaysTheLimitAndTheValue() {
    String payload = ordersRequestedWith("\"quantity\": 2", "\"quantity\": 0");

    assertThat(problems(ordersRequested, payload))
        .containsExactly("$.items[0].quantity: must be >= 1 (was 0)");
  }

  @Test
  void dateTimeFormatIsAsserted() {
    String payload = ordersRequestedWith("2024-05-01T10:00:00.123Z", "2024-05-01 10:00");

    assertThat(problems(ordersRequested, payload))
        .containsExactly("$.timestamp: must be an RFC 3339 date-time (was \"2024-05-01 10:00\")");
  }

  @Test
  void uuidFormatIsAsserted() {
    String payload = ordersRequestedWith("6f1c2e1a-3b4d-4c5e-8f90-123456789abc", "req-1");

    assertThat(problems(ordersRequested, payload))
        .containsExactly("$.requestId: must be a UUID (was \"req-1\")");
  }

  @Test
  void everyProblemOfAPayloadIsReported() {
    String payload =
        "{\"items\": [], \"shipping\": {\"address\": \"a\", \"city\": \"c\", \"zipCode\": 1},"
            + " \"userId\": \"u\", \"timestamp\": \"2024-05-01T10:00:00Z\"}";

    assertThat(problems(ordersRequested, payload))
        .containsExactlyInAnyOrder(
            "$.items: must have at least 1 items (was 0)",
            "$.shipping.zipCode: expected string, was integer 1",
            "$.requestId: required property missing");
  }

  @Test
  void textThatIsNotJsonIsReportedWithLineAndColumnAndNoTree() {
    DecodedPayload decoded = ordersRequested.decode(utf8("{\"items\": [\n  {\"productId\": }"), NO_HEADERS);

    assertThat(decoded.decoded()).isFalse();
    assertThat(decoded.problems())
        .containsExactly(
            new SchemaProblem(
                "$",
                "not valid JSON: Unexpected character ('}' (code 125)): expected a value (line 2, column 17)"));
  }

  @Test
  void anEmptyPayloadIsNotJson() {
    assertThat(problems(ordersRequested, "")).containsExactly("$: not valid JSON: empty payload");
    assertThat(problems(ordersRequested, "  \n")).containsExactly("$: not valid JSON: empty payload");
  }

  @Test
  void dataAfterTheJsonValueIsNotJson() {
    assertThat(problems(ordersRequested, VALID_ORDERS_REQUESTED + " {}"))
        .containsExactly("$: not valid JSON: unexpected data after the JSON value (line 6, column 2)");
  }

  @Test
  void theSchemasDollarSchemaIsHonouredDraft07WithDefinitions() throws SchemaLoadException {
    PayloadSchema ordersCreated =
        loader.load(TestSchemas.dir(), new SchemaRef("orders-created.draft7.schema.json", null, null));
    String payload =
        VALID_ORDERS_CREATED
            .replace("\"USD\"", "\"GBP\"")
            .replace("\"pending\"", "\"paid\"")
            .replace("19.99", "0");

    assertThat(problems(ordersCreated, VALID_ORDERS_CREATED)).isEmpty();
    assertThat(problems(ordersCreated, payload))
        .containsExactlyInAnyOrder(
            "$.items[0].unitPrice: must be > 0 (was 0)",
            "$.currency: must be one of [\"USD\",\"EUR\"] (was \"GBP\")",
            "$.status: must be \"pending\" (was \"paid\")");
  }

  @Test
  void aFragmentNamesADefinitionOfTheFile() throws SchemaLoadException {
    PayloadSchema item =
        loader.load(TestSchemas.dir(), new SchemaRef("orders-requested.schema.json", "item", null));

    assertThat(item.description()).isEqualTo("JSON Schema orders-requested.schema.json#item");
    assertThat(problems(item, "{\"productId\": \"p\", \"quantity\": 0}"))
        .containsExactly("$.quantity: must be >= 1 (was 0)");
  }

  @Test
  void aFragmentMayBeAJsonPointer() throws SchemaLoadException {
    PayloadSchema item =
        loader.load(
            TestSchemas.dir(), new SchemaRef("orders-requested.schema.json", "/$defs/item", null));

    assertThat(problems(item, "{\"quantity\": 3}")).containsExactly("$.productId: required property missing");
  }

  @Test
  void theSameRefLoadsTheSameSchemaInstance() throws SchemaLoadException {
    assertThat(loader.load(TestSchemas.dir(), new SchemaRef("orders-requested.schema.json", null, null)))
        .isSameAs(ordersRequested);
  }

  @Test
  void noneParsesJsonButDoesNotValidate() {
    PayloadSchema none = SchemaLoader.none(PayloadFormat.JSON);

    assertThat(none.decode(utf8("{\"anything\": 1}"), NO_HEADERS))
        .satisfies(d -> assertThat(d.problems()).isEmpty())
        .satisfies(d -> assertThat(d.tree().get("anything").asInt()).isEqualTo(1));
    assertThat(problems(none, "{oops"))
        .containsExactly(
            "$: not valid JSON: Unexpected character ('o' (code 111)): was expecting double-quote to start property name (line 1, column 2)");
  }

  @Test
  void noneCannotDecodeAvro() {
    DecodedPayload decoded = SchemaLoader.none(PayloadFormat.AVRO).decode(new byte[] {0, 0, 0, 0, 1, 2}, NO_HEADERS);

    assertThat(decoded.decoded()).isFalse();
    assertThat(decoded.problems())
        .containsExactly(new SchemaProblem("$", "no Avro schema declared: cannot decode 6 bytes"));
  }
}
