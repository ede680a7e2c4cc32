package io.flowtrace.verifier.infer;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

class SchemaInferrerTest {

  @Test
  void aLoneValueOfAFewDozenPayloadsIsNotPinned() {
    ObjectNode schema = draft("payouts_executed", 30, i -> "{\"currency\":\"EUR\",\"amount\":" + i + "}");

    JsonNode currency = schema.at("/properties/currency");
    assertThat(currency.has("enum")).as(currency.toString()).isFalse();
    assertThat(currency.get("$comment").asString()).startsWith("always \"EUR\" in 30 payloads; not pinned");
  }

  @Test
  void aLoneValueOfManyPayloadsIsPinned() {
    ObjectNode schema = draft("payouts_executed", 150, i -> "{\"currency\":\"EUR\"}");

    assertThat(schema.at("/properties/currency/enum").toString()).isEqualTo("[\"EUR\"]");
  }

  @Test
  void aLoneValueThatEchoesTheEventsNameIsPinnedFromFewPayloads() {
    ObjectNode schema = draft("claims_settled", 12, i -> "{\"status\":\"SETTLED\"}");

    assertThat(schema.at("/properties/status/enum").toString()).isEqualTo("[\"SETTLED\"]");
  }

  @Test
  void aSetOfSeveralCodesEachSeenOftenIsAnEnumFromFewPayloads() {
    ObjectNode schema = draft("claims_scored", 12, i -> "{\"risk\":\"" + (i % 2 == 0 ? "LOW" : "HIGH") + "\"}");

    assertThat(schema.at("/properties/risk/enum").toString()).isEqualTo("[\"HIGH\",\"LOW\"]");
  }

  /** A trial's triage sent {@code "urgency": "high"} once in 400: the drafted type took it in, and the defect went unseen. */
  @Test
  void aKindOfValueSeenInAFewPayloadsOfManyIsLeftOutAndNamed() {
    ObjectNode schema = draft("appointments_triaged", 400, i -> "{\"urgency\":" + (i == 291 ? "\"high\"" : i % 3 + 1) + "}");

    JsonNode urgency = schema.at("/properties/urgency");
    assertThat(urgency.get("type").asString()).as(urgency.toString()).isEqualTo("integer");
    assertThat(urgency.get("minimum").asInt()).isEqualTo(1);
    assertThat(urgency.get("$comment").asString())
        .isEqualTo("also seen as string in 1 of 400 payloads (\"high\"), left out as too rare to belong");
  }

  @Test
  void kindsOfValueThatShareAFieldOftenAreAllKept() {
    ObjectNode schema = draft("parcels_weighed", 400, i -> "{\"weight\":" + (i % 10 == 0 ? "\"n/a\"" : i) + "}");

    assertThat(schema.at("/properties/weight/type").toString()).isEqualTo("[\"string\",\"integer\"]");
  }

  /** A trial's bank callbacks had three value dates in a week of traffic; the next week's all failed. */
  @Test
  void datesTakenInOneWeekAreADateNotAnEnum() {
    ObjectNode schema = draft("payments_bank_callbacks", 300,
        i -> "{\"valueDate\":\"2026-11-2" + i % 3 + "\",\"bookedAt\":\"10:0" + i % 2 + "\"}");

    JsonNode valueDate = schema.at("/properties/valueDate");
    assertThat(valueDate.has("enum")).as(valueDate.toString()).isFalse();
    assertThat(valueDate.get("format").asString()).isEqualTo("date");
    JsonNode bookedAt = schema.at("/properties/bookedAt");
    assertThat(bookedAt.has("enum")).as(bookedAt.toString()).isFalse();
    assertThat(bookedAt.get("$comment").asString()).contains("not pinned: dates, times and numbers");
  }

  /** A trial's lab had four analyzers: the fifth commissioned would have failed every order it ran. */
  @Test
  void identifiersAndNumberedSeriesAreNoEnum() {
    ObjectNode schema = draft("lab_results_verified", 400, i -> "{\"analyzerId\":\"A" + i % 4 + "\",\"analyzer_ref\":\"X\","
        + "\"instrument\":\"ATELLICA-0" + i % 3 + "\",\"flag\":\"" + (i % 2 == 0 ? "HH" : "N") + "\",\"paid\":\""
        + (i % 2 == 0 ? "yes" : "no") + "\"}");

    assertThat(schema.at("/properties/analyzerId").has("enum")).isFalse();
    assertThat(schema.at("/properties/analyzerId/$comment").asString()).contains("'analyzerId' is an identifier");
    assertThat(schema.at("/properties/analyzer_ref").has("enum")).isFalse();
    assertThat(schema.at("/properties/instrument").has("enum")).isFalse();
    assertThat(schema.at("/properties/instrument/$comment").asString()).contains("a numbered series");
    assertThat(schema.at("/properties/flag/enum").toString()).isEqualTo("[\"HH\",\"N\"]");
    assertThat(schema.at("/properties/paid/enum").toString()).isEqualTo("[\"no\",\"yes\"]");
  }

  private static ObjectNode draft(String event, int n, java.util.function.IntFunction<String> payload) {
    SchemaInferrer inferrer = new SchemaInferrer();
    for (int i = 0; i < n; i++) {
      inferrer.add(SchemaInferrer.JSON.readTree(payload.apply(i)));
    }
    return inferrer.schema(event);
  }
}
