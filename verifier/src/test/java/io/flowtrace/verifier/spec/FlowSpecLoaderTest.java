package io.flowtrace.verifier.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FlowSpecLoaderTest {

  private static final Path REFERENCE = Path.of("../flows/order-creation");

  @Test
  void referenceOrderFlowLoadsWithItsGraphSchemasAndRules() throws Exception {
    List<FlowSpec> flows = new FlowSpecLoader().load(REFERENCE);

    assertThat(flows).hasSize(1);
    FlowSpec flow = flows.get(0);
    assertThat(flow.name()).isEqualTo("order-creation");
    assertThat(flow.keys()).containsExactly("requestId", "orderId");
    assertThat(flow.deadline()).isEqualTo(Duration.ofSeconds(30));
    assertThat(flow.stages()).extracting(StageSpec::id).containsExactly("order-requested", "inventory-reserved",
        "order-created", "payment-authorized", "payment-captured", "order-cancelled", "notification-sent");
    assertThat(flow.entryStages()).extracting(StageSpec::id).containsExactly("order-requested");
    assertThat(flow.terminalStages()).extracting(StageSpec::id).containsExactly("notification-sent");
    assertThat(flow.stage("notification-sent").after()).containsExactly("payment-captured", "order-cancelled");
    assertThat(flow.event("email").schema().description()).contains("EmailNotification");
    assertThat(flow.event("orders_created").schema().description()).contains("OrderCreated");
    assertThat(flow.event("webhook").newTrace()).isTrue();
    assertThat(flow.event("email").keys().get("orderId").text()).isEqualTo("data.orderId");
    assertThat(flow.rules()).hasSize(11);
  }

  @Test
  void everyProblemIsReportedWithFileLineAndColumn(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("broken.flow.yaml");
    Files.writeString(file, String.join("\n",
        "flow: broken",
        "keys: [orderId]",
        "deadline: soon",
        "stages:",
        "  - id: placed",
        "    events:",
        "      - id: placed_msg",
        "        topic: t.placed",
        "        colour: red",
        "  - id: done",
        "    after: placd",
        "    terminal: true",
        "    events:",
        "      - id: done_msg",
        "        topic: t.done",
        "rules:",
        "  - name: bad cel",
        "    expr: done_msg.total == ",
        "  - name: unknown variable",
        "    expr: nothing.total == 1",
        "budgets:",
        "  - {from: placed_msg, to: dne_msg, within: 2s}",
        ""));
    List<SpecProblem> problems = new ArrayList<>();

    new FlowSpecLoader().loadAll(dir, problems);

    assertThat(problems).extracting(SpecProblem::toString).containsExactly(
        file + ":3:11: 'soon' is not a duration (like 250ms, 2s, 5m)",
        file + ":9:9: unknown key 'colour' in an event (expected one of: description, headers, id, keys, payload, recordKey, redact, schema, span, topic, trace, where)",
        file + ":11:12: 'after' names unknown stage 'placd' (did you mean 'placed'?)",
        file + ":18:28: CEL: the expression ends where a value should follow",
        file + ":20:11: CEL: 'nothing' is not an event of this flow (its events: done_msg, placed_msg)",
        file + ":22:28: 'to' names no event or stage 'dne_msg' (did you mean 'done_msg'?)");
  }

  @Test
  void aFlowKeyTheEventsCallByAnotherNameIsOneProblemAtTheKeyAndAStrayRecordKeyOneAtItsEvent(@TempDir Path dir)
      throws IOException {
    Path file = dir.resolve("loan.flow.yaml");
    Files.writeString(file, String.join("\n",
        "flow: loan",
        "keys: [requestId, loanID]",
        "stages:",
        "  - id: reserved",
        "    events:",
        "      - {id: a, topic: t.a, recordKey: loanId}",
        "      - {id: b, topic: t.b, recordKey: loanId}",
        "  - id: paid",
        "    after: reserved",
        "    terminal: true",
        "    events:",
        "      - {id: c, topic: t.c, recordKey: loanId}",
        "      - {id: d, topic: t.d, recordKey: requestID}",
        "      - {id: e, topic: t.e, recordKey: shelf}",
        ""));
    List<SpecProblem> problems = new ArrayList<>();

    new FlowSpecLoader().loadAll(dir, problems);

    assertThat(problems).extracting(SpecProblem::toString).containsExactly(
        file + ":2:19: the flow's key 'loanID' is not what its events call it: 3 events name 'loanId' as their"
            + " recordKey (lines 6, 7, 12); did you mean 'loanId'?",
        file + ":13:40: 'recordKey' must name one of the flow's keys [requestId, loanID], not 'requestID'"
            + " (did you mean 'requestId'?)",
        file + ":14:40: 'recordKey' must name one of the flow's keys [requestId, loanID], not 'shelf'");
  }

  @Test
  void aFlowWithoutTerminalStageIsRejected(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("a.flow.yaml");
    Files.writeString(file, "flow: a\nkeys: [id]\nstages:\n  - id: s\n    events:\n      - id: e\n        topic: t\n");

    assertThatThrownBy(() -> new FlowSpecLoader().load(dir))
        .isInstanceOf(FlowSpecException.class)
        .hasMessage(file + ":4:3: no stage is 'terminal: true': flowtrace needs to know when an instance is complete");
  }

  @Test
  void atLeastOnceIsTrueOrFalse(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("a.flow.yaml");
    String spec = "flow: a\nkeys: [id]\nstages:\n  - id: s\n    terminal: true\n    events:\n      - {id: hook, span: {service:"
        + " a, kind: SERVER, name: POST /hook}, trace: new}\n      - {id: e, topic: t}\n"
        + "idempotency:\n  - {trigger: hook, effects: [e], atLeastOnce: %s}\n";
    Files.writeString(file, spec.formatted("true"));
    assertThat(new FlowSpecLoader().load(dir).get(0).idempotency().get(0).atLeastOnce()).isTrue();

    Files.writeString(file, spec.formatted("yes please"));
    assertThatThrownBy(() -> new FlowSpecLoader().load(dir))
        .isInstanceOf(FlowSpecException.class)
        .hasMessageContaining("'atLeastOnce' must be true or false, not \"yes please\"");
  }

  @Test
  void yamlSyntaxErrorsPointAtTheLine(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("a.flow.yaml");
    Files.writeString(file, "flow: a\nkeys: [id\nstages: []\n");

    assertThatThrownBy(() -> new FlowSpecLoader().load(dir))
        .isInstanceOf(FlowSpecException.class)
        .hasMessageStartingWith(file + ":")
        .hasMessageContaining("not valid YAML");
  }

  @Test
  void aKeyGivenTwiceIsAnErrorAtTheSecondNotASilentReplacement(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("a.flow.yaml");
    Files.writeString(file, "flow: a\nrules:\n  - id: first\nkeys: [id]\nrules:\n  - id: second\n");

    assertThatThrownBy(() -> new FlowSpecLoader().load(dir))
        .isInstanceOf(FlowSpecException.class)
        .hasMessageStartingWith(file + ":5:1: ")
        .hasMessageContaining("duplicate key 'rules' (first at line 2); the second would silently replace the first");
  }

  @Test
  void durationsReadInTheirUnits() {
    assertThat(FlowSpecLoader.parseDuration("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(FlowSpecLoader.parseDuration("1.5s")).isEqualTo(Duration.ofMillis(1500));
    assertThat(FlowSpecLoader.parseDuration("2m")).isEqualTo(Duration.ofMinutes(2));
  }

  @Test
  void eventsOnOneTopicAreToldApartByWhereAndHeaders(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("order.flow.yaml"), String.join("\n",
        "flow: order",
        "keys: [orderId]",
        "stages:",
        "  - id: created",
        "    events:",
        "      - {id: created, topic: orders, where: {type: OrderCreated, 'meta.version': 2}}",
        "  - id: paid",
        "    after: created",
        "    terminal: true",
        "    events:",
        "      - {id: paid, topic: orders, headers: {ce_type: {regex: 'Paid$'}}}",
        ""));

    FlowSpec flow = new FlowSpecLoader().load(dir).get(0);

    assertThat(flow.event("created").describeSource()).isEqualTo("topic orders where meta.version = '2', type = 'OrderCreated'");
    assertThat(flow.event("paid").describeSource()).isEqualTo("topic orders where header ce_type matching \"Paid$\"");
    assertThat(flow.event("created").select().selects(tools.jackson.databind.json.JsonMapper.shared()
        .readTree("{\"type\":\"OrderCreated\",\"meta\":{\"version\":2}}"), List.of())).isTrue();
    assertThat(flow.event("created").select().selects(tools.jackson.databind.json.JsonMapper.shared()
        .readTree("{\"type\":\"OrderCreated\",\"meta\":{\"version\":3}}"), List.of())).isFalse();
  }

  @Test
  void twoEventsOfATopicThatNothingTellsApartAndAConditionOnItsOwnEventAreWarnings(@TempDir Path dir)
      throws IOException {
    Path file = dir.resolve("loan.flow.yaml");
    Files.writeString(file, String.join("\n",
        "flow: loan",
        "keys: [loanId]",
        "stages:",
        "  - id: applied",
        "    events:",
        "      - {id: applied, topic: loan.applied}",
        "  - id: approved",
        "    after: applied",
        "    when: approved.type == 'APPROVED'",
        "    events:",
        "      - {id: approved, topic: loan.events}",
        "  - id: declined",
        "    after: applied",
        "    terminal: true",
        "    events:",
        "      - {id: declined, topic: loan.events}",
        "  - id: paid",
        "    after: approved",
        "    terminal: true",
        "    events:",
        "      - {id: paid, topic: loan.paid, headers: {x: y}}",
        "      - {id: call, span: {service: bank}, payload: {attribute: b}, headers: {x: y}, where: {'items[].id': 1}}",
        ""));
    List<SpecProblem> problems = new ArrayList<>();

    new FlowSpecLoader().loadAll(dir, problems);

    assertThat(problems).extracting(SpecProblem::toString).containsExactly(
        file + ":22:107: 'where' names 'items[].id', which walks an array: name one field (like type or meta.kind)",
        file + ":22:77: 'headers' applies to topic events (the Kafka record's headers); a span event is told apart"
            + " by its span matcher or 'where'",
        file + ":16:9: warning: events 'approved' and 'declined' both take every record of topic loan.events, so each"
            + " record stands for both; where the topic carries several kinds of record, give each event a 'where'"
            + " (payload fields, like where: {type: APPROVED}) or 'headers' that selects its own",
        file + ":9:11: warning: stage 'approved''s condition reads only its own event approved, which is there only"
            + " once the stage happened: where the stage does not happen, the condition cannot be read and the stage is"
            + " waited for until the deadline, which then fails the instance. Read an event of an earlier stage (a"
            + " decision recorded once, its stages after it each with a when on it), tell the records of a topic that"
            + " carries several kinds apart with 'where' on the events, or, for ways on topics of their own one of"
            + " which always comes (accepted or rejected), give each the same 'choice: NAME' instead");
  }

  /** Trial O: a rule read assigned.courier.courierId where the schema lets courier be null; lint said ok, and the rule failed. */
  @Test
  void aReadThroughAnObjectTheSchemaLetsBeNullIsAWarningUnlessTheExpressionTestsIt(@TempDir Path dir)
      throws IOException {
    Files.writeString(dir.resolve("assigned.schema.json"), "{\"type\":\"object\",\"properties\":{"
        + "\"status\":{\"type\":\"string\"},\"courier\":{\"type\":[\"object\",\"null\"],"
        + "\"properties\":{\"courierId\":{\"type\":\"string\"}}}}}");
    Path file = dir.resolve("delivery.flow.yaml");
    Files.writeString(file, String.join("\n",
        "flow: delivery",
        "keys: [orderId]",
        "stages:",
        "  - id: assigned",
        "    events:",
        "      - {id: assigned, topic: couriers.assigned, schema: assigned.schema.json}",
        "  - id: picked-up",
        "    after: assigned",
        "    terminal: true",
        "    events:",
        "      - {id: picked_up, topic: deliveries.picked-up}",
        "rules:",
        "  - name: unguarded",
        "    expr: picked_up.courierId == assigned.courier.courierId",
        "  - name: tested",
        "    expr: has(assigned.courier) && assigned.courier != null && picked_up.courierId == assigned.courier.courierId",
        "  - name: guarded by another field",
        "    expr: assigned.status != 'ASSIGNED' || picked_up.courierId == assigned.courier.courierId",
        ""));
    List<SpecProblem> problems = new ArrayList<>();

    new FlowSpecLoader().loadAll(dir, problems);

    assertThat(problems).extracting(SpecProblem::toString).containsExactly(
        file + ":14:34: warning: CEL: reads assigned.courier.courierId through assigned.courier, which JSON Schema"
            + " assigned.schema.json lets be null: where it is, this cannot be evaluated and fails; if a right flow"
            + " can have it so, test it first (has(assigned.courier) && assigned.courier != null && …)");
  }

  /** A trial's payment-captured stage read the loyalty points awarded after it: lint said ok, and declined bookings never completed. */
  @Test
  void aConditionThatReadsAnEventOfALaterStageIsAnError(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("booking.flow.yaml");
    Files.writeString(file, String.join("\n",
        "flow: booking",
        "keys: [bookingId]",
        "stages:",
        "  - id: charged",
        "    events: [{id: charge, topic: charges}]",
        "  - id: captured",
        "    after: charged",
        "    when: points.points > 0.0",
        "    events: [{id: captured_msg, topic: captured}]",
        "  - id: awarded",
        "    after: captured",
        "    terminal: true",
        "    events: [{id: points, topic: loyalty}]",
        "  - id: failed",
        "    after: charged",
        "    when: charge.status == 'declined'",
        "    terminal: true",
        "    events: [{id: failed_msg, topic: failed}]",
        ""));
    List<SpecProblem> problems = new ArrayList<>();

    new FlowSpecLoader().loadAll(dir, problems);

    assertThat(problems).extracting(SpecProblem::toString).containsExactly(
        file + ":8:11: stage 'captured''s condition reads points, an event of stage 'awarded', which comes after it: the"
            + " condition can be known only once 'captured' happened, so where it does not, no instance ever completes."
            + " A condition reads what happened before its stage (the event that decides it, such as a payment response)");
  }

  /** A trial's typo in the flow's keys (paymentID) was blamed on the one event that named it right. */
  @Test
  void aFlowKeyNoEventGivesIsTheTypoThoughOnlyOneEventNamesItRight(@TempDir Path dir) throws IOException {
    Files.createDirectories(dir.resolve("schemas"));
    Files.writeString(dir.resolve("schemas/paid.schema.json"),
        "{\"type\": \"object\", \"properties\": {\"bookingId\": {\"type\": \"string\"}, \"paymentId\": {\"type\": \"string\"}}}");
    Path file = dir.resolve("booking.flow.yaml");
    Files.writeString(file, String.join("\n",
        "flow: booking",
        "keys: [bookingId, paymentID]",
        "stages:",
        "  - id: paid",
        "    terminal: true",
        "    events:",
        "      - {id: paid_msg, topic: t.paid, recordKey: paymentId, schema: schemas/paid.schema.json}",
        ""));
    List<SpecProblem> problems = new ArrayList<>();

    new FlowSpecLoader().loadAll(dir, problems);

    assertThat(problems).extracting(SpecProblem::toString).containsExactly(
        file + ":2:19: the flow's key 'paymentID' is not what its events call it: an event names 'paymentId' as its"
            + " recordKey (line 7) and none gives 'paymentID'; did you mean 'paymentId'?");
  }
}
