package io.flowtrace.verifier.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowtrace.verifier.schema.SchemaLoadException;
import io.flowtrace.verifier.schema.SchemaLoader;
import io.flowtrace.verifier.schema.SchemaRef;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Rules checked against the reference flow's schemas: what would fail at run time fails to compile. */
class SchemaTypeCheckTest {

  private static final String ORDER_CREATED =
      "AsyncAPI 3.0.0 message 'OrderCreated' in asyncapi.yaml (JSON Schema payload)";
  private static final String PAYMENT_RESPONSE = "JSON Schema schemas/payment-response.schema.json";
  private static final String EMAIL =
      "Avro schema shop.notifications.EmailNotification (schemas/email-notification.avsc)";

  private final CelRules rules = CelRules.forVariables(referenceTypes());

  /** The reference flow's events typed by their schemas; webhook pretends to have no payload. */
  static Map<String, VariableType> referenceTypes() {
    SchemaLoader loader = new SchemaLoader();
    Path dir = Path.of("../flows/order-creation");
    Map<String, VariableType> types = new LinkedHashMap<>();
    OrderPayloads.EVENT_IDS.forEach(id -> types.put(id, VariableType.unknown()));
    try {
      for (Object[] e : new Object[][] {
          {"orders_requested", new SchemaRef("asyncapi.yaml", "OrderRequested", Set.of())},
          {"orders_created", new SchemaRef("asyncapi.yaml", "OrderCreated", Set.of())},
          {"payment_request", new SchemaRef("schemas/payment-request.schema.json", null, Set.of())},
          {"payment_response", new SchemaRef("schemas/payment-response.schema.json", null, Set.of())},
          {"email", new SchemaRef("schemas/email-notification.avsc", null, Set.of(1L))}}) {
        var schema = loader.load(dir, (SchemaRef) e[1]);
        types.put((String) e[0], VariableType.of(schema.shape(), schema.description()));
      }
    } catch (SchemaLoadException ex) {
      throw new AssertionError(ex);
    }
    types.put("webhook", VariableType.noPayload("a span event without 'payload: {attribute: …}'"));
    return types;
  }

  private List<RuleSyntaxException.Problem> problems(String expression) {
    try {
      rules.compileCondition(expression);
      return List.of();
    } catch (RuleSyntaxException e) {
      return e.problems();
    }
  }

  private static RuleSyntaxException.Problem problem(int column, String message) {
    return new RuleSyntaxException.Problem(column, message);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "money_eq(orders_created.total, orders_created.items.map(i, i.unitPrice * i.quantity).sum())",
      "orders_created.total == 2",
      "orders_created.total * 2 > orders_created.total",
      "orders_created.total in [1, 2]",
      "size(orders_created.items) == 2 && orders_created.items[0].quantity >= 1",
      "orders_created.items.all(i, i.quantity >= 1 && i.productId.startsWith('P-'))",
      "orders_created['total'] > 0 && size(orders_created) > 3 && 'total' in orders_created",
      "orders_requested.shipping == orders_created",
      "orders_requested.items == orders_created.items",
      "orders_created.all(k, k != '')",
      "has(orders_created.userEmail) && orders_created.currency == 'EUR'",
      "email.to == orders_created.userEmail && money_eq(email.data.total, orders_created.total)",
      "payment_response.status == 'authorized' ? true : orders_created.total > 1",
      "payment_request.amount == orders_created.total && client_request.whatever == 1",
      "timestamp(orders_requested.timestamp) < timestamp('2030-01-01T00:00:00Z')"})
  void whatWorksAtRunTimeCompiles(String expression) {
    assertThat(problems(expression)).isEmpty();
  }

  @Test
  void aFieldTheSchemaDoesNotHaveNamesTheSchemaAndTheClosestField() {
    assertThat(problems("orders_created.totl > 0")).containsExactly(problem(16,
        "orders_created has no field 'totl' (did you mean 'total'?); schema: " + ORDER_CREATED));
  }

  @Test
  void aFieldOfAnArrayElementIsFollowedThroughTheLoopVariable() {
    assertThat(problems("orders_created.items.all(i, i.unitPric > 0)")).containsExactly(problem(31,
        "orders_created.items[] has no field 'unitPric' (did you mean 'unitPrice'?); schema: " + ORDER_CREATED));
  }

  @Test
  void avroRecordsHaveExactlyTheirFields() {
    assertThat(problems("email.data.totl > 0")).containsExactly(problem(12,
        "email.data has no field 'totl' (did you mean 'total'?); schema: " + EMAIL));
  }

  @Test
  void aStringPlusANumberCannotEvaluate() {
    assertThat(problems("orders_created.currency + 1 == 'USD1'")).containsExactly(problem(25,
        "cannot apply '+' to orders_created.currency (string) and 1 (int)"));
  }

  @Test
  void aValueTheEnumNeverTakesIsNeverEqual() {
    assertThat(problems("payment_response.status == \"authorised\"")).containsExactly(problem(28,
        "payment_response.status is never \"authorised\": its schema allows \"authorized\", \"declined\""
            + " (did you mean \"authorized\"?); schema: " + PAYMENT_RESPONSE));
  }

  @Test
  void valuesOfDifferentTypesAreNeverEqual() {
    assertThat(problems("orders_created.currency == 1")).containsExactly(problem(25,
        "cannot compare orders_created.currency (string) with 1 (int): values of different types are never equal"));
  }

  @Test
  void aRequiredScalarIsNeverNull() {
    assertThat(problems("orders_created.total != null")).containsExactly(problem(22,
        "orders_created.total is never null (its schema says it is a number); test whether it is there with"
            + " has(orders_created.total)"));
  }

  @Test
  void aConditionOfAnotherTypeIsKnownFromTheSchema() {
    assertThat(problems("payment_response.status")).containsExactly(problem(1,
        "expected a bool expression, but its type is string"));
  }

  @Test
  void iteratingOverANumberCannotEvaluate() {
    assertThat(problems("orders_created.total.all(x, x > 0)")).containsExactly(problem(1,
        "cannot iterate over orders_created.total (double): all, exists, map and filter need a list or a map"));
  }

  @Test
  void anEventWithoutPayloadMakesTheRuleNeverRun() {
    assertThat(problems("webhook.status == 'captured'")).containsExactly(problem(1,
        "webhook has no payload to read (a span event without 'payload: {attribute: …}'), so this is never evaluated"));
  }

  @Test
  void everyMistakeIsOneProblemAndNoneCascades() {
    assertThat(problems("orders_created.totl > 0 && payment_response.stat == 'x' && email.to + 1 == ''"))
        .containsExactly(
            problem(16, "orders_created has no field 'totl' (did you mean 'total'?); schema: " + ORDER_CREATED),
            problem(45, "payment_response has no field 'stat' (did you mean 'status'?); schema: " + PAYMENT_RESPONSE),
            problem(69, "cannot apply '+' to email.to (string) and 1 (int)"));
  }

  @Test
  void withoutSchemasEverythingThatParsesCompiles() throws RuleSyntaxException {
    CelRules untyped = CelRules.forVariables(OrderPayloads.EVENT_IDS);
    assertThat(untyped.compileCondition("orders_created.totl + 1 == payment_response.stat")).isNotNull();
    assertThatThrownBy(() -> rules.compileCondition("orders_created.totl + 1 == payment_response.stat"))
        .isInstanceOf(RuleSyntaxException.class);
  }
}
