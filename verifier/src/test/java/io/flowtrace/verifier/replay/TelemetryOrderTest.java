package io.flowtrace.verifier.replay;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.Telemetry;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TelemetryOrderTest {

  /**
   * Two different records at the same coordinates (a producer that rewrote its log, a hand-edited
   * dump): which comes first must not depend on which was read first, or a recording read on
   * several threads could give other verdicts from run to run.
   */
  @Test
  void differentRecordsAtTheSameCoordinatesAreOrderedByContentNotByReadingOrder() {
    Telemetry total62 = record("{\"total\":62.89}", "k", List.of());
    Telemetry total63 = record("{\"total\":63.89}", "k", List.of());
    Telemetry otherKey = record("{\"total\":62.89}", "j", List.of());
    Telemetry noKey = record("{\"total\":62.89}", null, List.of());
    Telemetry withHeader = record("{\"total\":62.89}", "k", List.of(new RecordHeader("h", new byte[] {1})));

    assertSameOrderWhateverTheInputOrder(total62, total63, otherKey, noKey, withHeader);
    assertThat(TelemetryOrder.INSTANCE.compare(total62, record("{\"total\":62.89}", "k", List.of()))).isZero();
  }

  @Test
  void differentSpansUnderTheSameIdsAreOrderedByContentNotByReadingOrder() {
    Telemetry a = span("POST /orders", Map.of("http.status_code", 200L));
    Telemetry b = span("POST /orders", Map.of("http.status_code", 500L));
    Telemetry c = span("GET /orders", Map.of("http.status_code", 200L));

    assertSameOrderWhateverTheInputOrder(a, b, c);
    assertThat(TelemetryOrder.INSTANCE.compare(a, span("POST /orders", Map.of("http.status_code", 200L)))).isZero();
  }

  private static void assertSameOrderWhateverTheInputOrder(Telemetry... items) {
    List<Telemetry> forward = new ArrayList<>(List.of(items));
    List<Telemetry> backward = new ArrayList<>(List.of(items));
    java.util.Collections.reverse(backward);
    forward.sort(TelemetryOrder.INSTANCE);
    backward.sort(TelemetryOrder.INSTANCE);
    assertThat(backward).containsExactlyElementsOf(forward);
    for (Telemetry x : items) {
      for (Telemetry y : items) {
        assertThat(Integer.signum(TelemetryOrder.INSTANCE.compare(x, y)))
            .isEqualTo(-Integer.signum(TelemetryOrder.INSTANCE.compare(y, x)))
            .isEqualTo(x == y ? 0 : Integer.signum(TelemetryOrder.INSTANCE.compare(x, y)));
        if (x != y) {
          assertThat(TelemetryOrder.INSTANCE.compare(x, y)).isNotZero();
        }
      }
    }
  }

  private static Telemetry record(String value, String key, List<RecordHeader> headers) {
    return Telemetry.of(new KafkaRecord("orders.created", 1, 42, 1_700_000_000_000L, key, headers,
        value.getBytes(StandardCharsets.UTF_8)));
  }

  private static Telemetry span(String name, Map<String, Object> attributes) {
    return Telemetry.of(new Span("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "", name, SpanKind.SERVER,
        "gateway", 1_000, 2_000, attributes, List.of(), false));
  }
}
