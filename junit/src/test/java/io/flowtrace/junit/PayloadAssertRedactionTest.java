package io.flowtrace.junit;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowtrace.verifier.report.Redaction;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Payload assertions compare real values and show the spec's redacted fields masked when they fail. */
class PayloadAssertRedactionTest {

  private static final JsonNode PAYLOAD = JsonMapper.builder().build().readTree(
      "{\"paymentId\": \"pay-1\", \"amount\": 7.25, \"card\": {\"holder\": \"Hedy Lamarr\", \"last4\": \"1111\"}}");
  private static final String MARKER = "‹redacted:[0-9a-f]{8}›";

  @TempDir
  Path dir;

  private PayloadAssert assertThatPayload() throws Exception {
    Path file = dir.resolve("pay.flow.yaml");
    Files.writeString(file, """
        flow: pay
        keys: [paymentId]
        redact: [card.holder]
        stages:
          - id: booked
            terminal: true
            events:
              - id: ledger_entry
                topic: ledger.entries
        """);
    FlowSpec spec = new FlowSpecLoader().load(file).get(0);
    return new PayloadAssert(PAYLOAD, "ledger_entry of flow pay [paymentId=pay-1]", "ledger_entry",
        Redaction.of(spec, List.of(PAYLOAD)));
  }

  @Test
  void aRedactedFieldIsComparedByItsRealValue() throws Exception {
    assertThatPayload().hasFieldEqualTo("card.holder", "Hedy Lamarr").field("card.holder").isEqualTo("Hedy Lamarr");
  }

  @Test
  void aFailureOnARedactedFieldShowsNeitherValue() throws Exception {
    PayloadAssert payload = assertThatPayload();

    assertThatThrownBy(() -> payload.hasFieldEqualTo("card.holder", "Greta Garbo"))
        .hasMessageMatching("Expected ledger_entry of flow pay \\[paymentId=pay-1] to have card.holder = " + MARKER
            + ", but it is \"" + MARKER + "\" in \\{\"paymentId\":\"pay-1\",\"amount\":7.25,\"card\":\\{\"holder\":\""
            + MARKER + "\",\"last4\":\"1111\"}}")
        .message().doesNotContain("Hedy").doesNotContain("Greta");
    assertThatThrownBy(() -> payload.field("card.holder").isEqualTo("Greta Garbo"))
        .message().doesNotContain("Hedy").doesNotContain("Greta").containsPattern(MARKER);
    assertThatThrownBy(() -> payload.hasField("card.number"))
        .message().doesNotContain("Hedy").contains("\"last4\":\"1111\"");
  }

  @Test
  void aFailureOnAnotherFieldStillSaysItsValues() throws Exception {
    PayloadAssert payload = assertThatPayload();

    assertThatThrownBy(() -> payload.hasFieldEqualTo("amount", 8))
        .message().startsWith("Expected ledger_entry of flow pay [paymentId=pay-1] to have amount = 8, but it is 7.25 in ")
        .doesNotContain("Hedy");
  }
}
