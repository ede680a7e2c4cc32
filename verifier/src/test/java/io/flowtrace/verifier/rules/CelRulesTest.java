package io.flowtrace.verifier.rules;

import static io.flowtrace.verifier.rules.OrderPayloads.authorizedFlow;
import static io.flowtrace.verifier.rules.OrderPayloads.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;

class CelRulesTest {

  private static final String TOTAL_RULE =
      "money_eq(orders_created.total, orders_created.items.map(i, i.unitPrice * i.quantity).sum())";

  private final CelRules rules = CelRules.forVariables(OrderPayloads.EVENT_IDS);

  private Evaluation eval(String expression, Map<String, JsonNode> bindings) throws RuleSyntaxException {
    return rules.compile(expression).evaluate(bindings);
  }

  @Nested
  class ContractRules {

    @ParameterizedTest
    @ValueSource(
        strings = {
          TOTAL_RULE,
          "money_eq(orders_created.total, sum(orders_created.items.map(i, i.unitPrice * i.quantity)))",
          "money_eq(payment_request.amount, orders_created.total)",
          "payment_request.currency == orders_created.currency",
          "payment_request.orderId == orders_created.orderId",
          "orders_confirmed.transactionId == payment_response.transactionId",
          "email.to == orders_created.userEmail",
          "email.data.customerName == orders_created.userName",
          "email.data.orderId == orders_created.orderId",
          "money_eq(email.data.total, orders_created.total)",
          "payment_response.status == \"declined\" ? email.template == \"order_cancelled\""
              + " : email.template == \"order_confirmation\"",
          "email.template == (payment_response.status == \"declined\"\n"
              + "    ? \"order_cancelled\" : \"order_confirmation\")",
          "orders_created.items.all(i, i.quantity >= 1)",
        })
    void holdOnAConsistentAuthorizedFlow(String rule) throws RuleSyntaxException {
      Evaluation result = rules.compileCondition(rule).evaluate(authorizedFlow());

      assertThat(result.error()).isNull();
      assertThat(result.isTrue()).isTrue();
    }

    @Test
    void templateRuleFollowsADeclinedPayment() throws RuleSyntaxException {
      CompiledExpression rule =
          rules.compileCondition(
              "payment_response.status == \"declined\" ? email.template == \"order_cancelled\""
                  + " : email.template == \"order_confirmation\"");
      Map<String, JsonNode> declined = authorizedFlow();
      declined.put("payment_response", OrderPayloads.paymentResponse("declined"));

      assertThat(rule.evaluate(declined).isFalse()).isTrue();

      declined.put("email", OrderPayloads.email("order_cancelled"));
      assertThat(rule.evaluate(declined).isTrue()).isTrue();
    }

    @Test
    void aWrongTotalIsFalseAndShowsWhatTheRuleSaw() throws RuleSyntaxException {
      Map<String, JsonNode> b = authorizedFlow();
      b.put(
          "orders_created",
          json(
              """
              {"total": 100.0, "items": [{"productId": "p-1", "quantity": 2, "unitPrice": 12.5},
                                         {"productId": "p-2", "quantity": 1, "unitPrice": 74.5}]}
              """));

      Evaluation result = eval(TOTAL_RULE, b);

      assertThat(result.isFalse()).isTrue();
      assertThat(result.error()).isNull();
      assertThat(result.observed())
          .containsExactly(
              entry("orders_created.total", "100.0"),
              entry(
                  "orders_created.items",
                  "[{\"productId\":\"p-1\",\"quantity\":2,\"unitPrice\":12.5},"
                      + "{\"productId\":\"p-2\",\"quantity\":1,\"unitPrice\":74.5}]"));
    }

    @Test
    void aFalseRuleAlsoShowsWhatEachComputedSideCameTo() throws RuleSyntaxException {
      Map<String, JsonNode> b = authorizedFlow();
      b.put("orders_created", json("""
          {"total": 100.0, "currency": "USD", "items": [{"quantity": 2, "unitPrice": 12.5}, {"quantity": 1, "unitPrice": 74.5}]}
          """));

      Evaluation result = rules.compileCondition(TOTAL_RULE).evaluate(b);

      assertThat(result.isFalse()).isTrue();
      assertThat(result.observed()).containsExactly(
          entry("orders_created.total", "100.0"),
          entry("orders_created.items.map(i, i.unitPrice * i.quantity).sum()", "99.5"),
          entry("orders_created.items", "[{\"quantity\":2,\"unitPrice\":12.5},{\"quantity\":1,\"unitPrice\":74.5}]"));
    }

    @Test
    void eachComparisonJoinedByAndShowsItsComputedSidesButPathsOnlyOnce() throws RuleSyntaxException {
      Map<String, JsonNode> b = authorizedFlow();
      b.put("payment_request", json("{\"amount\": 99.5, \"currency\": \"eur\", \"orderId\": \"ord-7\"}"));

      Evaluation result = rules.compileCondition("payment_request.currency.upperAscii() == orders_created.currency"
          + " && size(payment_request.orderId) > 3 && payment_request.amount == 99.5").evaluate(b);

      assertThat(result.isFalse()).isTrue();
      assertThat(result.observed()).containsExactly(
          entry("payment_request.currency.upperAscii()", "\"EUR\""),
          entry("orders_created.currency", "\"USD\""),
          entry("size(payment_request.orderId)", "5"),
          entry("payment_request.amount", "99.5"),
          entry("payment_request.currency", "\"eur\""),
          entry("payment_request.orderId", "\"ord-7\""));
    }

    @Test
    void aSideThatCannotBeComputedSaysSoAndTheRuleStillHasItsValue() throws RuleSyntaxException {
      Map<String, JsonNode> b = authorizedFlow();
      b.put("orders_created", json("{\"total\": 10, \"items\": [{\"quantity\": 2}]}"));

      Evaluation result = rules.compileCondition("orders_created.total == 0 || "
          + "orders_created.total == orders_created.items.map(i, i.unitPrice * i.quantity).sum()").evaluate(b);

      assertThat(result.failed()).isTrue();
      assertThat(result.error()).contains("unitPrice");
    }

    @Test
    void moneyIsComparedToTheCent() throws RuleSyntaxException {
      assertThat(eval("money_eq(0.1 + 0.2, 0.3)", Map.of()).isTrue()).isTrue();
      assertThat(eval("money_eq(10.004, 10)", Map.of()).isTrue()).isTrue();
      assertThat(eval("money_eq(10.006, 10)", Map.of()).isFalse()).isTrue();
      // an amount rounded to the cent, half up or half to even, equals the exact one
      assertThat(eval("money_eq(38.13, 122.0 * 0.3125)", Map.of()).isTrue()).isTrue();
      assertThat(eval("money_eq(38.12, 122.0 * 0.3125)", Map.of()).isTrue()).isTrue();
      assertThat(eval("money_eq(38.14, 122.0 * 0.3125)", Map.of()).isFalse()).isTrue();
      assertThat(eval("money_eq(1000000.01, 1000000.0)", Map.of()).isFalse()).isTrue();
      assertThat(eval("approx_eq(orders_created.total, 100, 0.5)", authorizedFlow()).isTrue()).isTrue();
      assertThat(eval("approx_eq(orders_created.total, 100, 0.4)", authorizedFlow()).isFalse()).isTrue();
    }

    @Test
    void aMismatchedCurrencyIsFalseWithBothValuesObserved() throws RuleSyntaxException {
      Map<String, JsonNode> b = authorizedFlow();
      b.put("payment_request", json("{\"amount\": 99.5, \"currency\": \"EUR\", \"orderId\": \"ord-7\"}"));

      Evaluation result = eval("payment_request.currency == orders_created.currency", b);

      assertThat(result.isFalse()).isTrue();
      assertThat(result.observed())
          .containsExactly(
              entry("payment_request.currency", "\"EUR\""), entry("orders_created.currency", "\"USD\""));
    }
  }

  @Nested
  class Numbers {

    @ParameterizedTest
    @ValueSource(
        strings = {
          "orders_created.items[0].quantity == 2",
          "orders_created.items[0].quantity >= 1",
          "orders_created.items[0].quantity > 1.5",
          "size(orders_created.items) == 2",
          "orders_created.items.map(i, i.quantity).sum() == 3",
          "orders_created.total * 2 == 199",
          "2 * orders_created.total == 199.0",
          "orders_created.total - 1 == 98.5",
          "orders_created.total / 2 == 49.75",
          "orders_created.items[1].quantity in [1, 5]",
          "type(orders_created.items[0].quantity) == double",
          "int(orders_created.items[0].quantity) == 2",
          "2.5 * 2 == 5.0",
        })
    void jsonNumbersAreDoublesThatMixWithIntegerLiterals(String expression) throws RuleSyntaxException {
      Evaluation result = eval(expression, authorizedFlow());

      assertThat(result.error()).isNull();
      assertThat(result.value()).isEqualTo(true);
    }

    @Test
    void integerArithmeticStaysInteger() throws RuleSyntaxException {
      assertThat(eval("7 / 2", Map.of()).value()).isEqualTo(3L);
      assertThat(eval("size(orders_created.items) * 2", authorizedFlow()).value()).isEqualTo(4L);
    }
  }

  @Nested
  class StandardLibrary {

    @ParameterizedTest
    @ValueSource(
        strings = {
          "orders_created.items.exists(i, i.productId == 'p-2')",
          "orders_created.items.exists_one(i, i.unitPrice > 50)",
          "orders_created.items.filter(i, i.quantity > 1).map(i, i.productId) == ['p-1']",
          "has(payment_response.authCode)",
          "!has(payment_response.declineReason)",
          "orders_created.currency in ['USD', 'EUR']",
          "'total' in orders_created",
          "orders_created.userEmail.endsWith('@example.com')",
          "orders_created.userEmail.contains('@')",
          "orders_created.orderId.startsWith('ord-')",
          "orders_created.requestId.matches('^[0-9a-f-]{36}$')",
          "size(orders_created.userName) == 7",
          "orders_created.currency.lowerAscii() == 'usd'",
          "orders_created.userName.split(' ')[0] == 'Ann'",
          "orders_created.items[0] == {'productId': 'p-1', 'quantity': 2, 'unitPrice': 12.5}",
          "email.data.total == orders_created.total",
          "orders_created.items.all(orders_created, orders_created.quantity >= 1)",
        })
    void macrosAndStringFunctionsWork(String expression) throws RuleSyntaxException {
      Evaluation result = eval(expression, authorizedFlow());

      assertThat(result.error()).isNull();
      assertThat(result.value()).isEqualTo(true);
    }

    @Test
    void jsonNullIsCelNull() throws RuleSyntaxException {
      Map<String, JsonNode> b = Map.of("payment_response", json("{\"authCode\": null}"));

      Evaluation holds = eval("has(payment_response.authCode) && payment_response.authCode == null", b);
      Evaluation fails = eval("payment_response.authCode != null", b);

      assertThat(holds.isTrue()).isTrue();
      assertThat(holds.observed()).as("observed is filled only when a result does not hold").isEmpty();
      assertThat(fails.isFalse()).isTrue();
      assertThat(fails.observed()).containsExactly(entry("payment_response.authCode", "null"));
    }
  }

  /** A trial's messages kept the newlines of a rule written as a folded YAML block. */
  @Test
  void aRuleWrittenOverSeveralLinesIsQuotedOnOne() throws RuleSyntaxException {
    CompiledExpression rule = rules.compile("money_eq(orders_created.total,\n    orders_created.items.map(i,\n"
        + "      i.unitPrice * i.quantity).sum())\n");

    assertThat(rule.oneLine())
        .isEqualTo("money_eq(orders_created.total, orders_created.items.map(i, i.unitPrice * i.quantity).sum())");
    assertThat(rules.compile("email.to  ==  'a\tb'").oneLine()).isEqualTo("email.to  ==  'a\tb'");
  }

  @Nested
  class Paths {

    @Test
    void loopVariablesAreNotPathsButTheListTheyRangeOverIs() throws RuleSyntaxException {
      CompiledExpression rule = rules.compile(TOTAL_RULE);

      assertThat(rule.observedPaths()).containsExactly("orders_created.total", "orders_created.items");
      assertThat(rule.referencedVariables()).containsExactly("orders_created");
    }

    @Test
    void pathsFollowTheOrderOfTheSourceAndAreListedOnce() throws RuleSyntaxException {
      CompiledExpression rule =
          rules.compile(
              "email.data.customerName == orders_created.userName"
                  + " && email.data.customerName != '' && has(payment_response.authCode)");

      assertThat(rule.observedPaths())
          .containsExactly("email.data.customerName", "orders_created.userName", "payment_response.authCode");
      assertThat(rule.referencedVariables()).containsExactly("email", "orders_created", "payment_response");
    }

    @Test
    void aVariableUsedWholeIsItsOwnPath() throws RuleSyntaxException {
      CompiledExpression rule = rules.compile("size(inventory_reply) > 0 && inventory_reply.available");

      assertThat(rule.observedPaths()).containsExactly("inventory_reply", "inventory_reply.available");
    }

    @Test
    void anIndexEndsTheChain() throws RuleSyntaxException {
      CompiledExpression rule = rules.compile("orders_created.items[0].unitPrice > 0");

      assertThat(rule.observedPaths()).containsExactly("orders_created.items");
    }

    @Test
    void longObservedValuesAreCut() throws RuleSyntaxException {
      StringBuilder items = new StringBuilder("[");
      for (int i = 0; i < 20; i++) {
        items.append(i == 0 ? "" : ",").append("{\"productId\":\"p-").append(i).append("\",\"quantity\":1}");
      }
      Map<String, JsonNode> b = Map.of("orders_created", json("{\"items\": " + items + "]}"));

      String observed = eval("size(orders_created.items) == 0", b).observed().get("orders_created.items");

      assertThat(observed)
          .hasSize(120)
          .startsWith("[{\"productId\":\"p-0\",\"quantity\":1},{\"productId\":\"p-1\"")
          .endsWith("...");
    }
  }

  @Nested
  class EvaluationErrors {

    @Test
    void aMissingFieldIsAnErrorNamingTheField() throws RuleSyntaxException {
      Evaluation result = eval("orders_created.totl == 99.5", authorizedFlow());

      assertThat(result.failed()).isTrue();
      assertThat(result.value()).isNull();
      assertThat(result.error()).isEqualTo("no such field 'totl' in orders_created");
      assertThat(result.observed()).containsExactly(entry("orders_created.totl", "<missing>"));
    }

    @Test
    void aMissingNestedFieldNamesItsParent() throws RuleSyntaxException {
      Map<String, JsonNode> b = authorizedFlow();
      b.put("email", json("{\"to\": \"ann@example.com\", \"data\": {\"orderId\": \"ord-7\"}}"));

      Evaluation result = eval("email.data.customerName == orders_created.userName", b);

      assertThat(result.error()).isEqualTo("no such field 'customerName' in email.data");
      assertThat(result.observed())
          .containsExactly(
              entry("email.data.customerName", "<missing>"), entry("orders_created.userName", "\"Ann Lee\""));
    }

    @Test
    void aMissingFieldInsideALoopNamesTheLoopVariable() throws RuleSyntaxException {
      Evaluation result =
          eval("orders_created.items.map(i, i.unitPrce * i.quantity).sum() > 0", authorizedFlow());

      assertThat(result.error()).isEqualTo("no such field 'unitPrce' in i");
    }

    @Test
    void aMissingKeyByIndexNamesTheKey() throws RuleSyntaxException {
      Evaluation result = eval("orders_created['totl'] == 1", authorizedFlow());

      assertThat(result.error()).isEqualTo("no such key 'totl' in orders_created");
    }

    @Test
    void anIndexOutOfBoundsNamesTheList() throws RuleSyntaxException {
      Evaluation result = eval("orders_created.items[5].quantity == 1", authorizedFlow());

      assertThat(result.error()).isEqualTo("index 5 is out of bounds for orders_created.items");
    }

    @Test
    void selectingFromANumberIsAnError() throws RuleSyntaxException {
      Evaluation result = eval("orders_created.total.amount == 1", authorizedFlow());

      assertThat(result.error()).isEqualTo("cannot read field 'amount' of orders_created.total: not an object");
    }

    @Test
    void aTypeMismatchIsAnErrorWithItsColumn() throws RuleSyntaxException {
      Evaluation result = eval("orders_created.total + orders_created.currency == 'x'", authorizedFlow());

      assertThat(result.error())
          .isEqualTo(
              "No matching overload for function '_+_' (at column 22)");
    }

    @Test
    void summingSomethingThatIsNotANumberIsAnError() throws RuleSyntaxException {
      Evaluation result = eval("orders_created.items.map(i, i.productId).sum() > 0", authorizedFlow());

      assertThat(result.error()).isEqualTo("sum() needs a list of numbers, but element 0 is \"p-1\"");
    }

    @Test
    void anUnboundVariableIsAnErrorNamingIt() throws RuleSyntaxException {
      Map<String, JsonNode> b = Map.of("orders_created", OrderPayloads.ordersCreated());

      Evaluation result = eval("email.to == orders_created.userEmail", b);

      assertThat(result.error()).isEqualTo("no payload for email");
      assertThat(result.observed())
          .containsExactly(entry("email.to", "<missing>"), entry("orders_created.userEmail", "\"ann@example.com\""));
    }

    @Test
    void anUnboundVariableThatDoesNotDecideTheResultIsNoError() throws RuleSyntaxException {
      Evaluation result =
          eval("orders_created.currency == 'USD' || email.to == ''", Map.of("orders_created", OrderPayloads.ordersCreated()));

      assertThat(result.isTrue()).isTrue();
    }

    @Test
    void nullBindingsAreNoBindings() throws RuleSyntaxException {
      assertThat(rules.compile("email.to == ''").evaluate(null).error()).isEqualTo("no payload for email");
    }

    @Test
    void aConditionThatGivesANonBoolAtRunTimeIsAnError() throws RuleSyntaxException {
      Evaluation result = rules.compileCondition("payment_response.status").evaluate(authorizedFlow());

      assertThat(result.error()).isEqualTo("expected a bool result, but got \"authorized\"");
    }

    @Test
    void aGeneralExpressionMayGiveAnyValue() throws RuleSyntaxException {
      assertThat(eval("payment_response.status", authorizedFlow()).value()).isEqualTo("authorized");
      assertThat(eval("orders_created.items.map(i, i.quantity)", authorizedFlow()).value())
          .isEqualTo(List.of(2.0, 1.0));
    }
  }

  @Nested
  class CompileErrors {

    @Test
    void aSyntaxErrorIsSaidInPlainWordsWithItsColumn() {
      assertThatThrownBy(() -> rules.compile("orders_created.total == )"))
          .isInstanceOfSatisfying(RuleSyntaxException.class, e -> assertThat(e.column()).isEqualTo(25))
          .hasMessage("expected a value here, found ')'");
      assertThatThrownBy(() -> rules.compile("orders_created.total =="))
          .hasMessage("the expression ends where a value should follow");
      assertThatThrownBy(() -> rules.compile("orders_created.items.all(i, i.quantity > 0"))
          .hasMessage("the expression ends before its closing ')'");
      assertThatThrownBy(() -> rules.compile("orders_created.total == 1)"))
          .hasMessage("unexpected ')' after the end of the expression");
      assertThatThrownBy(() -> rules.compile("'abc"))
          .hasMessage("this string is not closed");
    }

    @Test
    void oneSyntaxMistakeIsOneProblem() {
      assertThatThrownBy(() -> rules.compile("orders_created.total = 1"))
          .isInstanceOfSatisfying(RuleSyntaxException.class, e -> assertThat(e.problems())
              .containsExactly(new RuleSyntaxException.Problem(22, "'=' is not a CEL operator (did you mean '=='?)")));
    }

    @Test
    void anUndeclaredVariableIsRejected() {
      assertThatThrownBy(() -> rules.compile("payment_request.amount == orders_creatd.total"))
          .isInstanceOfSatisfying(RuleSyntaxException.class, e -> assertThat(e.column()).isEqualTo(27))
          .hasMessage("'orders_creatd' is not an event of this flow (did you mean 'orders_created'?)");
    }

    @Test
    void theColumnCountsFromTheStartOfAMultiLineExpression() {
      assertThatThrownBy(() -> rules.compile("orders_created.total > 0 &&\n  emial.to == ''"))
          .isInstanceOfSatisfying(RuleSyntaxException.class, e -> assertThat(e.column()).isEqualTo(31))
          .hasMessage("'emial' is not an event of this flow (did you mean 'email'?)");
    }

    @Test
    void anUnknownFunctionIsRejected() {
      assertThatThrownBy(() -> rules.compile("total(orders_created.items) > 0"))
          .isInstanceOf(RuleSyntaxException.class)
          .hasMessage("unknown function 'total'");
      assertThatThrownBy(() -> rules.compile("mony_eq(orders_created.total, 1)"))
          .hasMessage("unknown function 'mony_eq' (did you mean 'money_eq'?)");
    }

    @Test
    void aStaticTypeErrorIsRejected() {
      assertThatThrownBy(() -> rules.compile("money_eq('a', 1)"))
          .isInstanceOfSatisfying(RuleSyntaxException.class, e -> assertThat(e.column()).isEqualTo(9))
          .hasMessage("cannot call money_eq with \"a\" (string) and 1 (int)");
    }

    @Test
    void aConditionMustBeBool() throws RuleSyntaxException {
      assertThatThrownBy(() -> rules.compileCondition("size(orders_created.items)"))
          .isInstanceOfSatisfying(RuleSyntaxException.class, e -> assertThat(e.column()).isEqualTo(1))
          .hasMessage("expected a bool expression, but its type is int");
      assertThat(rules.compile("size(orders_created.items)").source()).isEqualTo("size(orders_created.items)");
      assertThat(rules.compileCondition("orders_created.items.all(i, i.quantity >= 1)")).isNotNull();
    }

    @Test
    void variablesMustBeCelIdentifiers() {
      assertThatThrownBy(() -> CelRules.forVariables(Set.of("orders_created", "order-created")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "'order-created' cannot be a CEL variable: use letters, digits and '_', not starting"
                  + " with a digit, and not a reserved word");
      assertThat(CelRules.isVariableName("payment_response")).isTrue();
      assertThat(CelRules.isVariableName("in")).isFalse();
      assertThat(CelRules.isVariableName("2fa")).isFalse();
    }
  }

  @Test
  void evaluationIsThreadSafe() throws Exception {
    CompiledExpression rule = rules.compile(TOTAL_RULE);
    int threads = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int quantity = t + 1;
        double total = 12.5 * quantity + (t % 2 == 0 ? 0 : 1); // odd threads carry a wrong total
        Map<String, JsonNode> b =
            Map.of(
                "orders_created",
                json(
                    "{\"total\": %s, \"items\": [{\"quantity\": %d, \"unitPrice\": 12.5}]}"
                        .formatted(total, quantity)));
        boolean expected = t % 2 == 0;
        Callable<Integer> task =
            () -> {
              int wrong = 0;
              for (int i = 0; i < 5_000; i++) {
                Evaluation e = rule.evaluate(b);
                String seen = e.observed().get("orders_created.total");
                if (!Boolean.valueOf(expected).equals(e.value())
                    || !(expected ? seen == null : String.valueOf(total).equals(seen))) {
                  wrong++;
                }
              }
              return wrong;
            };
        results.add(pool.submit(task));
      }
      for (Future<Integer> f : results) {
        assertThat(f.get(60, TimeUnit.SECONDS)).isZero();
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
