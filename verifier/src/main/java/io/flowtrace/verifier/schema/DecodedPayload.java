package io.flowtrace.verifier.schema;

import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * A payload decoded to a JSON tree, with what was wrong with it. {@code tree} is {@code null} when
 * the bytes could not be decoded at all (then {@code problems} says why); otherwise problems are
 * schema violations of a readable payload, each naming the field path, e.g.
 * {@code "$.items[0].quantity: must be >= 1 (was 0)"}.
 */
public record DecodedPayload(JsonNode tree, List<SchemaProblem> problems) {
  public DecodedPayload {
    problems = problems == null ? List.of() : List.copyOf(problems);
  }

  public boolean decoded() {
    return tree != null;
  }
}
