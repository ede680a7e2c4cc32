package io.flowtrace.tracer.otlp;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.Span;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class StringCacheTest {

  @Test
  void aStringMetAgainIsTheCopyKept() {
    StringCache cache = new StringCache(16, 32, null);
    char[] text = "xx kafka xx".toCharArray();

    String first = cache.get(text, 3, 5);
    String again = cache.get("kafka".toCharArray(), 0, 5);

    assertThat(first).isEqualTo("kafka");
    assertThat(again).isSameAs(first);
  }

  @Test
  void stringsThatShareASlotAreEachReadRight() {
    StringCache oneSlot = new StringCache(1, 32, null);
    String[] words = {"POST", "GET", "POST", "kafka", "", "GET", "kafkb"};

    for (String w : words) {
      assertThat(oneSlot.get(w.toCharArray(), 0, w.length())).isEqualTo(w);
    }
  }

  @Test
  void asciiBytesFindTheStringTheCharactersMade() {
    StringCache cache = new StringCache(16, 32, null);
    String made = cache.get("4bf92f3577b34da6a3ce929d0e0e4736".toCharArray(), 0, 32);
    byte[] bytes = "..4bf92f3577b34da6a3ce929d0e0e4736".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    assertThat(cache.getAscii(bytes, 2, 32)).isSameAs(made);
    assertThat(cache.getAscii(bytes, 2, 31)).isEqualTo("4bf92f3577b34da6a3ce929d0e0e473");
    assertThat(cache.getAscii(bytes, 0, 0)).isEmpty();
  }

  @Test
  void longStringsAreMadeAnew() {
    StringCache cache = new StringCache(16, 4, null);

    String a = cache.get("orders".toCharArray(), 0, 6);
    String b = cache.get("orders".toCharArray(), 0, 6);

    assertThat(a).isEqualTo(b).isNotSameAs(b);
  }

  @Test
  void namesAreKeptAsTheSharedCopy() {
    Names names = new Names(16, 64);
    String shared = names.canonical(new String("messaging.system"));
    StringCache cache = new StringCache(16, 64, names);

    assertThat(cache.get("messaging.system".toCharArray(), 0, 16)).isSameAs(shared);
  }

  @Test
  void threadsWritingTheSameSlotsReadOnlyWhatTheyAskedFor() throws Exception {
    StringCache fewSlots = new StringCache(4, 32, null);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Integer>> wrong = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int seed = t;
        Callable<Integer> reader = () -> {
          int mismatches = 0;
          for (int i = 0; i < 200_000; i++) {
            String w = "id-" + ((i * 7 + seed) % 37);
            if (!fewSlots.get(w.toCharArray(), 0, w.length()).equals(w)) {
              mismatches++;
            }
          }
          return mismatches;
        };
        wrong.add(pool.submit(reader));
      }
      for (Future<Integer> f : wrong) {
        assertThat(f.get()).isZero();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void spansOfOneTraceDecodedApartShareTheirIdsAndValues() throws Exception {
    String line = OtlpJsonDecoderTest.line(OtlpJsonDecoderTest.span("\"name\":\"orders.created publish\","
        + "\"attributes\":[{\"key\":\"messaging.system\",\"value\":{\"stringValue\":\"kafka\"}}]"));
    List<Span> spans = new ArrayList<>();
    new OtlpJsonDecoder().decode(line, spans::add, id -> {});
    byte[] bytes = line.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    new OtlpJsonDecoder().decode(bytes, 0, bytes.length, spans::add, id -> {});

    assertThat(spans).hasSize(2);
    assertThat(spans.get(0).traceId()).isSameAs(spans.get(1).traceId());
    assertThat(spans.get(0).attributes().get("messaging.system")).isEqualTo("kafka")
        .isSameAs(spans.get(1).attributes().get("messaging.system"));
  }

  @Test
  void protobufSpansShareTheirIdsAndShortValuesToo() throws Exception {
    var value = io.opentelemetry.proto.common.v1.AnyValue.newBuilder().setStringValue("kafka").build();
    var nonAscii = io.opentelemetry.proto.common.v1.AnyValue.newBuilder().setStringValue("Zoë").build();
    var id = com.google.protobuf.ByteString.copyFrom(new byte[] {0x4b, (byte) 0xf9, 0x2f, 0x35, 0x77, (byte) 0xb3, 0x4d, (byte) 0xa6});

    var parsedOnce = io.opentelemetry.proto.common.v1.AnyValue.parseFrom(value.toByteArray());
    var parsedAgain = io.opentelemetry.proto.common.v1.AnyValue.parseFrom(value.toByteArray());

    assertThat(OtlpSpans.value(parsedOnce)).isEqualTo("kafka").isSameAs(OtlpSpans.value(parsedAgain));
    assertThat(OtlpSpans.value(nonAscii)).isEqualTo("Zoë");
    assertThat(OtlpSpans.hex(id)).isEqualTo("4bf92f3577b34da6").isSameAs(OtlpSpans.hex(com.google.protobuf.ByteString.copyFrom(id.toByteArray())));
  }
}
