package io.flowtrace.verifier.rules;

import static io.flowtrace.verifier.rules.OrderPayloads.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cel.common.values.NullValue;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

class JsonCelValuesTest {

  @Test
  void objectsAreMapsArraysAreListsAndEveryNumberIsADouble() {
    JsonNode node = json("{\"q\": 2, \"p\": 12.5, \"s\": \"x\", \"b\": true, \"n\": null, \"a\": [1, {\"k\": 3}]}");

    Object value = JsonCelValues.toCel(node);

    assertThat(value).isInstanceOf(Map.class);
    Map<?, ?> map = (Map<?, ?>) value;
    assertThat(map.get("q")).isEqualTo(2.0);
    assertThat(map.get("p")).isEqualTo(12.5);
    assertThat(map.get("s")).isEqualTo("x");
    assertThat(map.get("b")).isEqualTo(true);
    assertThat(map.get("n")).isSameAs(NullValue.NULL_VALUE);
    assertThat(map.containsKey("n")).isTrue();
    assertThat(map.containsKey("zz")).isFalse();
    assertThat(map.get("zz")).isNull();
    assertThat(map.get("a")).isEqualTo(List.of(1.0, Map.of("k", 3.0)));
    assertThat(map).hasSize(6);
  }

  @Test
  void listViewsRejectIndexesOutOfRange() {
    List<?> list = (List<?>) JsonCelValues.toCel(json("[1]"));

    assertThatThrownBy(() -> list.get(1)).isInstanceOf(IndexOutOfBoundsException.class);
  }

  @Test
  void renderingIsCompactJson() {
    assertThat(JsonCelValues.render(json("{\"a\": [1, 2.5, \"q\\\"uote\"], \"b\": {\"c\": null}}")))
        .isEqualTo("{\"a\":[1,2.5,\"q\\\"uote\"],\"b\":{\"c\":null}}");
    assertThat(JsonCelValues.render(json("\"USD\""))).isEqualTo("\"USD\"");
    assertThat(JsonCelValues.render(json("99.5"))).isEqualTo("99.5");
    assertThat(JsonCelValues.render(null)).isEqualTo("<missing>");
  }

  @Test
  void renderingCutsLongTextsTo120Characters() {
    String longText = "x".repeat(300);

    assertThat(JsonCelValues.render(json("\"" + longText + "\"")))
        .isEqualTo("\"" + "x".repeat(116) + "...");
    assertThat(JsonCelValues.render(json("[\"" + longText + "\"]"))).hasSize(120).endsWith("...");
  }

  @Test
  void pathsWalkObjectsOnly() {
    JsonNode node = json("{\"data\": {\"total\": 99.5}, \"items\": [1]}");

    assertThat(JsonCelValues.at(node, List.of("email", "data", "total"), 1).doubleValue()).isEqualTo(99.5);
    assertThat(JsonCelValues.at(node, List.of("email", "data", "nope"), 1)).isNull();
    assertThat(JsonCelValues.at(node, List.of("email", "items", "0"), 1)).isNull();
  }
}
