package io.flowtrace.verifier.spec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code flowtrace lint} catches that would otherwise misbehave only at run time: field paths
 * and rules checked against the events' schemas, CEL in plain words at its place in the YAML
 * file, and one problem for one mistake.
 */
class LintAgainstSchemasTest {

  private static final String PLACED_SCHEMA = """
      {"type": "object", "required": ["orderId", "total", "status", "items", "customer"],
       "properties": {
         "orderId": {"type": "string"},
         "total": {"type": "number"},
         "status": {"enum": ["placed", "paid"]},
         "items": {"type": "array", "items": {"type": "object",
           "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}}}},
         "customer": {"type": "object", "properties": {"email": {"type": "string"}}}}}
      """;

  private static final String DONE_SCHEMA = """
      {"type": "object", "properties": {"orderId": {"type": "string"}, "total": {"type": "number"},
        "email": {"type": "string"}}}
      """;

  private static final String RECEIPT_AVRO = """
      {"type": "record", "name": "Receipt", "namespace": "shop", "fields": [
        {"name": "orderId", "type": "string"},
        {"name": "data", "type": {"type": "record", "name": "Data", "fields": [{"name": "amount", "type": "double"}]}}]}
      """;

  /** 24 lines; what a test adds starts on line 25. */
  private static final String BASE = """
      flow: shop
      keys: [orderId]
      stages:
        - id: placed
          events:
            - id: request
              span: {service: shop, kind: SERVER, name: POST /orders}
              payload: {attribute: http.request.body}
              schema: schemas/placed.schema.json
            - id: placed_msg
              topic: t.placed
              schema: schemas/placed.schema.json
        - id: done
          after: placed
          terminal: true
          events:
            - id: done_msg
              topic: t.done
              schema: schemas/done.schema.json
            - id: raw
              topic: t.raw
            - id: receipt
              topic: t.receipt
              schema: {avro: schemas/receipt.avsc, ids: [1]}
      """;

  private static final String PLACED = "JSON Schema schemas/placed.schema.json";
  private static final String DONE = "JSON Schema schemas/done.schema.json";
  private static final String RECEIPT = "Avro schema shop.Receipt (schemas/receipt.avsc)";

  @TempDir
  Path dir;

  /** The problems of BASE plus {@code more}, as {@code line:col: message}. */
  private List<String> lint(String yaml) {
    try {
      Files.createDirectories(dir.resolve("schemas"));
      Files.writeString(dir.resolve("schemas/placed.schema.json"), PLACED_SCHEMA);
      Files.writeString(dir.resolve("schemas/done.schema.json"), DONE_SCHEMA);
      Files.writeString(dir.resolve("schemas/receipt.avsc"), RECEIPT_AVRO);
      Path file = dir.resolve("shop.flow.yaml");
      Files.writeString(file, yaml);
      List<SpecProblem> problems = new ArrayList<>();
      new FlowSpecLoader().loadAll(file, problems);
      return problems.stream().map(p -> p.line() + ":" + p.column() + ": " + p.message()).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private List<String> lintBasePlus(String more) {
    return lint(BASE + more);
  }

  @Test
  void theBaseFlowIsClean() {
    assertThat(lintBasePlus("")).isEmpty();
  }

  @Test
  void aFlowKeyNoEventGivesIsOneProblemAtTheKey() {
    String schemasOnly = BASE.replace("      - id: raw\n        topic: t.raw\n", "");

    assertThat(lint(schemasOnly.replace("keys: [orderId]", "keys: [orderId, customerID]"))).containsExactly(
        "2:17: no event gives the key 'customerID': none names it in its 'keys' or as its recordKey, and no"
            + " event's schema has a field 'customerID' to read it from by default");
    assertThat(lint(schemasOnly.replace("keys: [orderId]", "keys: [orderId, customerID]")
        .replace("topic: t.placed\n", "topic: t.placed\n        keys: {customerID: customer.email}\n")))
        .as("mapped by one event").isEmpty();
    assertThat(lint(BASE.replace("keys: [orderId]", "keys: [orderId, customerID]")))
        .as("an event without a schema may carry it").isEmpty();
  }

  /** infer writes traceId where no field identifies an instance; the instance is then its trace. */
  @Test
  void traceIdIsAKeyNoPayloadNeedsToCarry() {
    String schemasOnly = BASE.replace("      - id: raw\n        topic: t.raw\n", "");

    assertThat(lint(schemasOnly.replace("keys: [orderId]", "keys: [traceId]"))).isEmpty();
  }

  @Test
  void aMisspelledCarryFieldNamesTheSchemaAndTheClosestField() {
    assertThat(lintBasePlus("""
        enrichment:
          - {from: request, to: placed_msg, carry: [orderId, totl]}
        """)).containsExactly(
        "26:54: 'carry' names 'totl', which is not a field of request (did you mean 'total'?); schema: " + PLACED);
  }

  @Test
  void aCarriedFieldMustAlsoBeInTheTargetsSchema() {
    assertThat(lintBasePlus("""
        enrichment:
          - {from: placed_msg, to: done_msg, carry: [status]}
        """)).containsExactly(
        "26:46: 'carry' names 'status', which is not a field of done_msg (its fields: orderId, total, email);"
            + " schema: " + DONE);
  }

  @Test
  void carryPathsWalkArraysWithBrackets() {
    assertThat(lintBasePlus("""
        enrichment:
          - from: request
            to: placed_msg
            carry: ["items.sku", "items[].skew", "orderId[]"]
        """)).containsExactly(
        "28:13: 'carry' names 'items.sku', but items is an array in request: write 'items[].sku'; schema: " + PLACED,
        "28:26: 'carry' names 'items[].skew', which is not a field of request (did you mean 'items[].sku'?);"
            + " schema: " + PLACED,
        "28:42: 'carry' names 'orderId[]', but orderId is a string, not an array, in request; schema: " + PLACED);
  }

  /** A flow whose every event has a schema: 'redact' paths can be checked against all of them. */
  private static final String SCHEMED = """
      flow: shop
      keys: [orderId]
      redact: [customer.emial, "items[].sku", email]
      stages:
        - id: placed
          events:
            - id: placed_msg
              topic: t.placed
              schema: schemas/placed.schema.json
        - id: done
          after: placed
          terminal: true
          events:
            - id: done_msg
              topic: t.done
              schema: schemas/done.schema.json
              redact: [emial]
            - id: receipt
              topic: t.receipt
              schema: {avro: schemas/receipt.avsc, ids: [1]}
              redact: [data.amount]
      """;

  @Test
  void aRedactPathMustBeAFieldOfSomeEventAndAnEventsOwnOfThatEvent() {
    assertThat(lint(SCHEMED)).containsExactly(
        "17:18: 'redact' names 'emial', which is not a field of done_msg (did you mean 'email'?); schema: " + DONE,
        "3:10: 'redact' names 'customer.emial', which is a field of none of the flow's events"
            + " (did you mean 'customer.email'?)");
  }

  @Test
  void aRedactPathAnEventWithoutSchemaMightHaveIsNotAProblem() {
    assertThat(lintBasePlus("redact: [anything.at.all]\n")).isEmpty();
  }

  @Test
  void aRedactedKeyIsAWarningAndTheSpecStillLoads() throws Exception {
    Files.createDirectories(dir.resolve("schemas"));
    Files.writeString(dir.resolve("schemas/placed.schema.json"), PLACED_SCHEMA);
    Files.writeString(dir.resolve("schemas/done.schema.json"), DONE_SCHEMA);
    Files.writeString(dir.resolve("schemas/receipt.avsc"), RECEIPT_AVRO);
    Path file = dir.resolve("shop.flow.yaml");
    Files.writeString(file, BASE.replace("keys: [orderId]", "keys: [orderId]\nredact: [orderId, customer]"));
    List<SpecProblem> problems = new ArrayList<>();

    List<FlowSpec> specs = new FlowSpecLoader().loadAll(file, problems);

    assertThat(problems).extracting(SpecProblem::toString).containsExactly(file + ":3:10: warning: 'redact' names"
        + " 'orderId', which holds the instance key 'orderId': reports show the key masked too (instances stay"
        + " apart: equal values get equal markers)");
    assertThat(specs).singleElement().satisfies(s ->
        assertThat(s.redact()).extracting(FieldPath::text).containsExactly("orderId", "customer"));
    assertThat(new FlowSpecLoader().load(file)).hasSize(1);
  }

  @Test
  void aMisspelledAddField() {
    assertThat(lintBasePlus("""
        enrichment:
          - {from: placed_msg, to: done_msg, add: [emial]}
        """)).containsExactly(
        "26:44: 'add' names 'emial', which is not a field of done_msg (did you mean 'email'?); schema: " + DONE);
  }

  @Test
  void eventKeysAreCheckedAgainstTheEventsSchema() {
    assertThat(lint(BASE.replace("        topic: t.done\n", "        topic: t.done\n        keys: {orderId: order.id}\n")))
        .containsExactly(
        "19:25: 'keys' names 'order.id', which is not a field of done_msg (its fields: orderId, total, email);"
            + " schema: " + DONE);
  }

  @Test
  void anAvroRecordsFieldsAreKnownToo() {
    assertThat(lint(BASE + "        keys: {orderId: data.orderId}\n")).containsExactly(
        "25:25: 'keys' names 'data.orderId', which is not a field of receipt (data has: amount); schema: " + RECEIPT);
  }

  @Test
  void aDedupKeyIsAFieldOfTheTrigger() {
    assertThat(lintBasePlus("""
        idempotency:
          - {trigger: request, dedupKey: eventId, effects: [done_msg]}
        """)).containsExactly(
        "26:34: 'dedupKey' names 'eventId', which is not a field of request (its fields: orderId, total, status,"
            + " items, customer); schema: " + PLACED);
  }

  @Test
  void aRuleFieldIsAFieldOfAnEventTheRuleReads() {
    assertThat(lintBasePlus("""
        rules:
          - name: totals agree
            field: totl
            expr: money_eq(done_msg.total, placed_msg.total)
        """)).containsExactly(
        "27:12: 'field' names 'totl', which is a field of none of the events the rule reads (done_msg,"
            + " placed_msg) (did you mean 'total'?)");
  }

  @Test
  void eventsWithoutASchemaOrWithABinaryOneAreNotChecked() {
    assertThat(lint(BASE.replace("        schema: {avro: schemas/receipt.avsc, ids: [1]}\n", "        schema: binary\n")
        + """
        enrichment:
          - {from: raw, to: receipt, carry: [anything], add: [at.all]}
        idempotency:
          - {trigger: raw, dedupKey: whatever, effects: [done_msg]}
        rules:
          - name: raw total
            field: nothing
            expr: raw.total.size() == raw.anything
        """)).isEmpty();
  }

  @Test
  void aRuleReadingAFieldTheSchemaDoesNotHave() {
    assertThat(lintBasePlus("""
        rules:
          - name: totals agree
            expr: money_eq(done_msg.totl, placed_msg.items.map(i, i.qty * 2.5).sum())
        """)).containsExactly(
        "27:29: CEL: done_msg has no field 'totl' (did you mean 'total'?); schema: " + DONE);
  }

  @Test
  void aRuleThatCannotEvaluateIsASpecError() {
    assertThat(lintBasePlus("""
        rules:
          - name: e-mail
            expr: done_msg.email + 1 == placed_msg.customer.email
        """)).containsExactly("27:26: CEL: cannot apply '+' to done_msg.email (string) and 1 (int)");
  }

  @Test
  void aConditionOnAValueTheEnumNeverTakes() {
    assertThat(lint(BASE.replace("    terminal: true\n", "    terminal: true\n    when: placed_msg.status == \"Paid\"\n")))
        .containsExactly("16:32: CEL: placed_msg.status is never \"Paid\": its schema allows \"placed\", \"paid\""
            + " (did you mean \"paid\"?); schema: " + PLACED);
  }

  @Test
  void aConditionOfTheWrongType() {
    assertThat(lint(BASE.replace("    terminal: true\n", "    terminal: true\n    when: placed_msg.total\n")))
        .containsExactly("16:11: CEL: expected a bool expression, but its type is double");
  }

  @Test
  void anUnknownEventAndAnUnknownFunctionGetTheClosestName() {
    assertThat(lintBasePlus("""
        rules:
          - name: typos
            expr: mony_eq(done_mgs.total, 1)
        """)).containsExactly(
        "27:18: CEL: unknown function 'mony_eq' (did you mean 'money_eq'?)",
        "27:19: CEL: 'done_mgs' is not an event of this flow (did you mean 'done_msg'?)");
  }

  @Test
  void celSyntaxErrorsAreInPlainWordsWhereTheyAreInTheFile() {
    assertThat(lintBasePlus("""
        rules:
          - name: plain
            expr: done_msg.total = 1
          - name: quoted
            expr: "done_msg.email == \\"a\\" && (done_msg.total > 1"
          - name: literal block
            expr: |
              done_msg.total > 1 &&
                done_msg.total < 10 &&&
                done_msg.total != 5
          - name: folded block
            expr: >
              done_msg.total > 1 &&
              done_msg.total <
        """)).containsExactly(
        "27:26: CEL: '=' is not a CEL operator (did you mean '=='?)",
        "29:58: CEL: the expression ends before its closing ')'",
        "33:31: CEL: '&' is not a CEL operator (did you mean '&&'?)",
        "38:23: CEL: the expression ends where a value should follow");
  }

  @Test
  void aSchemaOnASpanEventWithoutPayloadIsAnError() {
    assertThat(lint(BASE.replace("        payload: {attribute: http.request.body}\n", "") + """
        rules:
          - name: the forgotten payload is said once, at the event
            expr: request.total > 0
        """)).containsExactly(
        "8:17: event 'request' has a 'schema' but no payload: a span event's payload is one of its attributes,"
            + " named by 'payload: {attribute: …}' (e.g. http.request.body)");
  }

  @Test
  void aRuleReadingASpanEventWithoutPayloadWouldNeverRun() {
    assertThat(lint(BASE.replace("        payload: {attribute: http.request.body}\n        schema: schemas/placed.schema.json\n", "")
        + """
        rules:
          - name: never
            expr: request.total > 0
        """)).containsExactly(
        "25:11: CEL: request has no payload to read (a span event without 'payload: {attribute: …}'),"
            + " so this is never evaluated");
  }

  @Test
  void aDurationWithoutUnitIsOneProblem() {
    assertThat(lintBasePlus("""
        budgets:
          - {from: request, to: done_msg, within: 10}
        """)).containsExactly("26:43: '10' is not a duration: give it a unit, like 10s or 10ms");
  }

  @Test
  void aYamlSyntaxErrorHasOnePosition() {
    assertThat(lint("flow: shop\nkeys: [orderId\nstages: []\n")).containsExactly(
        "2:7: not valid YAML: this '[' is not closed by a ']' (expected ',' or ']', but got :)");
    assertThat(lint("flow: shop\n\tkeys: [orderId]\n")).containsExactly(
        "2:1: not valid YAML: a tab cannot indent YAML: indent with spaces");
    assertThat(lint("flow: shop\nkeys: [orderId]\nstages:\n  - id: x\n    when: a: b\n")).containsExactly(
        "5:12: not valid YAML: a ': ' inside a plain value: put the value in quotes");
    assertThat(lint("flow: shop\nkeys: [orderId] extra\nstages: []\n")).as("once blamed on indentation").containsExactly(
        "2:17: not valid YAML: text after the closing ']' of a list: remove it, or put it inside");
    assertThat(lint("flow: shop\nkeys: [orderId]\nstages:\n  - id: x\n  when: a\n")).containsExactly(
        "5:3: not valid YAML: this line is indented differently from the lines of its block");
  }
}
