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

  private static ObjectNode draft(String event, int n, java.util.function.IntFunction<String> payload) {
    SchemaInferrer inferrer = new SchemaInferrer();
    for (int i = 0; i < n; i++) {
      inferrer.add(SchemaInferrer.JSON.readTree(payload.apply(i)));
    }
    return inferrer.schema(event);
  }
}
