package io.flowtrace.verifier.check;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/** Where a carried value first differs between source and target ({@link EnrichmentCheck#firstDifference}). */
class EnrichmentDifferenceTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void aNullTheTargetLeftOutIsNoDifferenceAndTheFieldsAfterItAreStillCompared() {
    JsonNode source = JSON.readTree("{\"middleName\": null, \"email\": \"a@example.com\"}");

    assertThat(EnrichmentCheck.firstDifference("customer", source, JSON.readTree("{\"email\": \"b@example.com\"}")))
        .isEqualTo("customer.email");
    assertThat(EnrichmentCheck.firstDifference("customer", source, JSON.readTree("{\"email\": \"a@example.com\"}")))
        .isNull();
  }

  @Test
  void numbersAreComparedByValueAndTheFirstDifferingLeafIsNamed() {
    assertThat(EnrichmentCheck.firstDifference("total", JSON.readTree("12.50"), JSON.readTree("12.5"))).isNull();
    assertThat(EnrichmentCheck.firstDifference("lines", JSON.readTree("[{\"qty\": 1}, {\"qty\": 2}]"),
        JSON.readTree("[{\"qty\": 1}, {\"qty\": 3}]"))).isEqualTo("lines[1].qty");
    assertThat(EnrichmentCheck.firstDifference("lines", JSON.readTree("[1, 2]"), JSON.readTree("[1]")))
        .isEqualTo("lines[1]");
    assertThat(EnrichmentCheck.firstDifference("address", JSON.readTree("{\"city\": \"Oslo\"}"),
        JSON.readTree("{}"))).isEqualTo("address.city");
  }
}
