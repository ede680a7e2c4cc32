package io.flowtrace.tracer.otlp;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.Span;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NamesTest {

  @Test
  void spansDecodedApartShareTheirAttributeKeysAndNames() throws Exception {
    String line = OtlpJsonDecoderTest.line(OtlpJsonDecoderTest.span("\"name\":\"orders.created publish\","
        + "\"attributes\":[{\"key\":\"messaging.destination.name\",\"value\":{\"stringValue\":\"orders.created\"}}]"));
    List<Span> spans = new ArrayList<>();
    new OtlpJsonDecoder().decode(line, spans::add, id -> {});
    new OtlpJsonDecoder().decode(line, spans::add, id -> {});

    assertThat(spans).hasSize(2);
    assertThat(key(spans.get(0))).isEqualTo("messaging.destination.name").isSameAs(key(spans.get(1)));
    assertThat(spans.get(0).name()).isEqualTo("orders.created publish").isSameAs(spans.get(1).name());
  }

  @Test
  void protobufAttributesShareTheirKeysToo() {
    var kv = io.opentelemetry.proto.common.v1.KeyValue.newBuilder().setKey("messaging.system")
        .setValue(io.opentelemetry.proto.common.v1.AnyValue.newBuilder().setStringValue("kafka")).build();
    var parsedAgain = io.opentelemetry.proto.common.v1.KeyValue.newBuilder().setKey(new String("messaging.system"))
        .setValue(io.opentelemetry.proto.common.v1.AnyValue.newBuilder().setStringValue("kafka")).build();

    Map<String, Object> one = OtlpSpans.attributes(List.of(kv));
    Map<String, Object> two = OtlpSpans.attributes(List.of(parsedAgain));

    assertThat(one.keySet().iterator().next()).isSameAs(two.keySet().iterator().next());
  }

  @Test
  void keepsAtMostItsBoundAndPassesLongOrLateNamesThrough() {
    Names names = new Names(2, 8);
    String a = names.canonical(new String("a"));
    String b = names.canonical(new String("b"));
    String c = new String("c");
    String longName = new String("longer-than-8");

    assertThat(names.canonical(new String("a"))).isSameAs(a);
    assertThat(names.canonical(new String("b"))).isSameAs(b);
    assertThat(names.canonical(c)).as("past the bound: itself").isSameAs(c);
    assertThat(names.canonical(new String("c"))).isNotSameAs(c);
    assertThat(names.canonical(longName)).isSameAs(longName);
    assertThat(names.canonical(null)).isNull();
  }

  private static String key(Span span) {
    return span.attributes().keySet().iterator().next();
  }
}
