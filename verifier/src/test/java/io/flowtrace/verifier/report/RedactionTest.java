package io.flowtrace.verifier.report;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.verifier.check.Evidence;
import io.flowtrace.verifier.check.Unverified;
import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.check.ViolationKind;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** What {@link Redaction} masks in payloads, texts and keys, and what it leaves alone. */
class RedactionTest {

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String MARKER = "‹redacted:[0-9a-f]{8}›";

  private static final String FLOW = """
      flow: shop
      keys: [orderId, customerEmail]
      redact: [userEmail, shipping.address, "items[].sku", card]
      stages:
        - id: placed
          events:
            - id: placed_msg
              topic: t.placed
        - id: mailed
          after: placed
          terminal: true
          events:
            - id: receipt
              topic: t.receipt
              redact: [data.to]
              keys: {orderId: data.orderId, customerEmail: data.to}
      """;

  @TempDir
  Path dir;
  FlowSpec spec;

  @BeforeEach
  void load() throws Exception {
    Path file = dir.resolve("shop.flow.yaml");
    Files.writeString(file, FLOW);
    List<io.flowtrace.verifier.spec.SpecProblem> problems = new java.util.ArrayList<>();
    List<FlowSpec> specs = new FlowSpecLoader().loadAll(file, problems);
    assertThat(problems).allMatch(p -> !p.isError(), "no errors");
    spec = specs.get(0);
  }

  private static JsonNode json(String text) {
    return JSON.readTree(text);
  }

  private static final JsonNode PLACED = json("""
      {"orderId": "ord-1", "userEmail": "hedy.lamarr@example.com", "total": 42,
       "shipping": {"address": "Kalverstraat 92", "city": "Amsterdam"},
       "items": [{"sku": "SKU-1003", "qty": 2}, {"sku": "SKU-1042", "qty": 1}, {"qty": 5}],
       "card": {"number": "4111111111111111", "expiry": {"month": 12, "year": 2030}, "holder": null}}
      """);

  private Redaction redaction(JsonNode... payloads) {
    return Redaction.of(spec, List.of(payloads));
  }

  @Test
  void masksNestedFieldsAndEachArrayElementKeepingTheShape() {
    JsonNode masked = redaction(PLACED).payload("placed_msg", PLACED);

    assertThat(masked.get("userEmail").asString()).matches(MARKER);
    assertThat(masked.at("/shipping/address").asString()).matches(MARKER);
    assertThat(masked.at("/shipping/city").asString()).isEqualTo("Amsterdam");
    assertThat(masked.at("/items/0/sku").asString()).matches(MARKER);
    assertThat(masked.at("/items/1/sku").asString()).matches(MARKER);
    assertThat(masked.at("/items/0/qty").asInt()).isEqualTo(2);
    assertThat(masked.get("items").get(2).toString()).isEqualTo("{\"qty\":5}");
    assertThat(masked.get("total").asInt()).isEqualTo(42);
  }

  @Test
  void aRedactedObjectKeepsItsFieldNamesAndNullsWithEveryValueMasked() {
    JsonNode card = redaction(PLACED).payload("placed_msg", PLACED).get("card");

    assertThat(card.propertyNames()).containsExactly("number", "expiry", "holder");
    assertThat(card.get("number").asString()).matches(MARKER);
    assertThat(card.at("/expiry/month").asString()).matches(MARKER);
    assertThat(card.get("holder").isNull()).isTrue();
  }

  @Test
  void theRealPayloadIsNotChanged() {
    String before = PLACED.toString();

    redaction(PLACED).payload("placed_msg", PLACED);

    assertThat(PLACED.toString()).isEqualTo(before);
  }

  @Test
  void equalValuesGetEqualMarkersAndDifferentValuesDifferentOnes() {
    JsonNode other = json("{\"userEmail\": \"hedy.lamarr@example.com\", \"items\": [{\"sku\": \"SKU-1003\"}]}");
    Redaction r = redaction(PLACED, other);

    JsonNode a = r.payload("placed_msg", PLACED);
    JsonNode b = r.payload("placed_msg", other);

    assertThat(b.get("userEmail")).isEqualTo(a.get("userEmail"));
    assertThat(b.at("/items/0/sku")).isEqualTo(a.at("/items/0/sku"));
    assertThat(a.at("/items/1/sku")).isNotEqualTo(a.at("/items/0/sku"));
    assertThat(Redaction.marker("178")).isEqualTo(Redaction.marker("178")).isNotEqualTo(Redaction.marker("179"));
  }

  @Test
  void missingFieldsAndPayloadsThatAreNotObjectsAreLeftAsTheyAre() {
    JsonNode without = json("{\"orderId\": \"ord-1\", \"shipping\": \"by sea\", \"items\": {\"sku\": \"x\"}}");
    JsonNode text = json("\"not an object\"");
    Redaction r = redaction(without, text);

    assertThat(r.payload("placed_msg", without)).isEqualTo(without);
    assertThat(r.payload("placed_msg", text)).isEqualTo(text);
    assertThat(r.payload("placed_msg", null)).isNull();
  }

  @Test
  void anEventsOwnPathsApplyToItsPayloadsOnlyAsAvroDecodesThem() {
    // an Avro record decodes to the same tree as JSON: nested records are objects, bytes base64 text
    JsonNode receipt = json("""
        {"to": "hedy.lamarr@example.com", "data": {"orderId": "ord-1", "to": "hedy@lamarr.example"},
         "attachment": "aGVsbG8="}
        """);
    JsonNode placed = json("{\"data\": {\"to\": \"someone@example.com\"}}");
    Redaction r = redaction(receipt, placed);

    JsonNode masked = r.payload("receipt", receipt);

    assertThat(masked.at("/data/to").asString()).matches(MARKER);
    assertThat(masked.get("to").asString()).isEqualTo("hedy.lamarr@example.com");
    assertThat(r.payload("placed_msg", placed)).isEqualTo(placed);
  }

  @Test
  void textsLoseEveryRedactedValueStandingAsAWholeWord() {
    Redaction r = redaction(PLACED);
    String marker = r.payload("placed_msg", PLACED).get("userEmail").asString();

    assertThat(r.text("expected orders_created.userEmail = \"hedy.lamarr@example.com\", got \"x\""))
        .isEqualTo("expected orders_created.userEmail = \"" + marker + "\", got \"x\"");
    assertThat(r.text("ships to Kalverstraat 92, Amsterdam")).matches("ships to " + MARKER + ", Amsterdam");
    assertThat(r.text("SKU-1003 and SKU-10031")).matches(MARKER + " and SKU-10031");
    assertThat(r.text("card 4111111111111111")).matches("card " + MARKER);
  }

  @Test
  void maskingTwiceIsMaskingOnce() {
    Redaction r = redaction(PLACED);
    String once = r.text("to hedy.lamarr@example.com");
    JsonNode masked = r.payload("placed_msg", PLACED);

    assertThat(r.text(once)).isEqualTo(once);
    assertThat(redaction(PLACED, masked).payload("placed_msg", masked)).isEqualTo(masked);
  }

  @Test
  void aVerdictShowsViolationsKeysAndPayloadsMasked() {
    JsonNode receipt = json("{\"data\": {\"orderId\": \"ord-1\", \"to\": \"hedy@lamarr.example\"}}");
    Redaction r = redaction(PLACED, receipt);
    Violation v = Violation.builder(ViolationKind.BAD_TRANSFORMATION, "mailed").event("receipt").field("data.to")
        .message("rule 'mail goes to the customer' is false: receipt.data.to = \"hedy@lamarr.example\","
            + " placed_msg.userEmail = \"hedy.lamarr@example.com\"")
        .expected("\"hedy.lamarr@example.com\"").actual("\"hedy@lamarr.example\"")
        .evidence(new Evidence("t1", "s1", "t.receipt", 0, 7L)).build();
    Verdict verdict = new Verdict("shop", Map.of("orderId", "ord-1", "customerEmail", "hedy@lamarr.example"),
        VerdictStatus.FAILED, List.of(v), List.of("t1"), 0, 1, 0, "",
        List.of(new TimelineEntry("mailed", "receipt", "t.receipt[0]@7", 5, "t1",
            new TimelineEntry.Detail(null, null, null, null, null, 0, "t.receipt", 0, 7L, 0, List.of(), receipt,
                List.of("$.data.to: hedy@lamarr.example is not an address"), true, false, null, null))),
        List.of(new Unverified("rule", "mailed", "r", "read hedy.lamarr@example.com")), List.of());

    Verdict shown = r.apply(verdict);

    String all = shown.toString();
    assertThat(all).doesNotContain("hedy@lamarr.example").doesNotContain("hedy.lamarr@example.com");
    assertThat(shown.keys().get("orderId")).isEqualTo("ord-1");
    assertThat(shown.keys().get("customerEmail")).matches(MARKER);
    Violation masked = shown.violations().get(0);
    assertThat(masked.message()).matches("rule 'mail goes to the customer' is false: receipt.data.to = \"" + MARKER
        + "\", placed_msg.userEmail = \"" + MARKER + "\"");
    assertThat(masked.expected()).matches("\"" + MARKER + "\"");
    assertThat(masked.field()).isEqualTo("data.to");
    assertThat(masked.evidence()).isEqualTo(v.evidence());
    assertThat(shown.timeline().get(0).detail().payload().at("/data/orderId").asString()).isEqualTo("ord-1");
    assertThat(shown.timeline().get(0).detail().schemaProblems().get(0)).matches("\\$\\.data\\.to: " + MARKER
        + " is not an address");
  }

  @Test
  void aFlowThatRedactsNothingShowsVerdictsAsTheyAre() throws IOException {
    Path file = dir.resolve("plain.flow.yaml");
    Files.writeString(file, FLOW.replace("flow: shop", "flow: plain").replace("redact: [data.to]", "")
        .replace("redact: [userEmail, shipping.address, \"items[].sku\", card]\n", ""));
    FlowSpec plain = new FlowSpecLoader().loadAll(file, new java.util.ArrayList<>()).get(0);

    assertThat(Redaction.of(plain, List.of(PLACED))).isSameAs(Redaction.none());
    assertThat(Redaction.none().payload("placed_msg", PLACED)).isSameAs(PLACED);
  }
}
