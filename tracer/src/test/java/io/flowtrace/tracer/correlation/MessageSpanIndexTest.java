package io.flowtrace.tracer.correlation;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.SpanLink;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MessageSpanIndexTest {

  private static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String OTHER_TRACE = "0af7651916cd43dd8448eb211c80319c";
  private static final String PRODUCER = "00f067aa0ba902b7";

  private final MessageSpanIndex index = new MessageSpanIndex();

  @Test
  void findsTheProducerNamedByTheTraceparentHeader() {
    Span producer = span(TRACE, PRODUCER, "", "send orders.created", SpanKind.PRODUCER,
        Map.of("messaging.destination.name", "orders.created"), 100);
    index.add(producer);

    assertThat(index.producerOf(record(TRACE, PRODUCER, 7))).contains(producer);
  }

  @Test
  void findsTheProducerByTopicPartitionAndOffsetUnderTheOlderConventions() {
    Span producer = span(TRACE, PRODUCER, "", "orders.created publish", SpanKind.PRODUCER,
        Map.of("messaging.destination.name", "orders.created", "messaging.operation", "publish",
            "messaging.kafka.destination.partition", 2L, "messaging.kafka.message.offset", 7L), 100);
    index.add(producer);

    assertThat(index.producerOf(record(null, null, 7))).contains(producer);
    assertThat(index.producerOf(record(null, null, 8))).isEmpty();
  }

  @Test
  void consumersAreChildrenLinkersOrSpansNamingTheRecord() {
    Span child = span(TRACE, "1111111111111111", PRODUCER, "process orders.created", SpanKind.CONSUMER,
        Map.of("messaging.destination.name", "orders.created", "messaging.kafka.offset", 7L), 200);
    Span linker = new Span(OTHER_TRACE, "2222222222222222", "", "orders.created process", SpanKind.CONSUMER, "n",
        200, 300, Map.of("messaging.destination.name", "orders.created"),
        List.of(new SpanLink(TRACE, PRODUCER, Map.of())), false);
    Span byOffset = span(OTHER_TRACE, "3333333333333333", "", "orders.created process", SpanKind.CONSUMER,
        Map.of("messaging.destination.name", "orders.created", "messaging.destination.partition.id", "2",
            "messaging.kafka.offset", "7"), 200);
    Span otherTopic = span(TRACE, "4444444444444444", PRODUCER, "process orders.confirmed", SpanKind.CONSUMER,
        Map.of("messaging.destination.name", "orders.confirmed", "messaging.kafka.offset", 7L), 200);
    Span otherOffset = span(OTHER_TRACE, "5555555555555555", "", "orders.created process", SpanKind.CONSUMER,
        Map.of("messaging.destination.name", "orders.created", "messaging.destination.partition.id", "2",
            "messaging.kafka.offset", "8"), 200);
    List.of(child, linker, byOffset, otherTopic, otherOffset).forEach(index::add);

    assertThat(index.consumersOf(record(TRACE, PRODUCER, 7))).containsExactly(child, linker, byOffset);
  }

  @Test
  void aStrippedSpanIsJoinedByWhatItsAttributesSaidAndHeldWithoutThem() {
    Span producer = span(TRACE, PRODUCER, "", "orders.created publish", SpanKind.PRODUCER,
        Map.of("messaging.destination.name", "orders.created", "messaging.kafka.destination.partition", 2L,
            "messaging.kafka.message.offset", 7L, "peer.service", "broker"), 100);
    Span consumer = span(OTHER_TRACE, "3333333333333333", "", "orders.created process", SpanKind.INTERNAL,
        Map.of("messaging.destination.name", "orders.created", "messaging.operation", "process",
            "messaging.destination.partition.id", "2", "messaging.kafka.offset", "7"), 200);
    index.addStripped(producer, "orders.created");
    index.addStripped(consumer, "orders.created");

    Span held = index.producerOf(record(null, null, 7)).orElseThrow();
    assertThat(held.attributes()).isEmpty();
    assertThat(held).usingRecursiveComparison().ignoringFields("attributes").isEqualTo(producer);
    assertThat(index.consumersOf(record(null, null, 7))).singleElement()
        .satisfies(c -> assertThat(c.spanId()).isEqualTo("3333333333333333"))
        .satisfies(c -> assertThat(c.attributes()).isEmpty());
    assertThat(index.consumersOf(record(null, null, 8))).isEmpty();
  }

  @Test
  void recordsOfEveryPartitionAndOffsetFindTheirOwnSpans() {
    for (int p = 0; p < 4; p++) {
      for (long o = 0; o < 200; o++) {
        index.add(span(TRACE, String.format("%08x%08x", p, o), "", "orders.created publish", SpanKind.PRODUCER,
            Map.of("messaging.destination.name", "orders.created", "messaging.destination.partition.id", (long) p,
                "messaging.kafka.offset", o), 100));
      }
    }
    for (int p = 0; p < 4; p++) {
      for (long o = 0; o < 200; o++) {
        KafkaRecord r = new KafkaRecord("orders.created", p, o, 1_000, null, List.of(), new byte[] {'{', '}'});
        assertThat(index.producerOf(r)).map(Span::spanId).contains(String.format("%08x%08x", p, o));
      }
    }
  }

  @Test
  void evictionDropsSpansThatEndedBeforeTheHorizon() {
    index.add(span(TRACE, PRODUCER, "", "send orders.created", SpanKind.PRODUCER,
        Map.of("messaging.destination.name", "orders.created"), 100));
    index.add(span(TRACE, "1111111111111111", PRODUCER, "process orders.created", SpanKind.CONSUMER,
        Map.of("messaging.destination.name", "orders.created"), 500));

    index.evictBefore(300);

    assertThat(index.size()).isEqualTo(1);
    assertThat(index.producerOf(record(TRACE, PRODUCER, 7))).isEmpty();
    assertThat(index.consumersOf(record(TRACE, PRODUCER, 7))).hasSize(1);
  }

  @Test
  void aSpanDeliveredTwiceIsHeldOnce() {
    Span consumer = span(TRACE, "1111111111111111", PRODUCER, "process orders.created", SpanKind.CONSUMER,
        Map.of("messaging.destination.name", "orders.created"), 200);
    index.add(consumer);
    index.add(span(TRACE, "1111111111111111", PRODUCER, "process orders.created", SpanKind.CONSUMER,
        Map.of("messaging.destination.name", "orders.created"), 200));

    assertThat(index.size()).isEqualTo(1);
    assertThat(index.consumersOf(record(TRACE, PRODUCER, 7))).containsExactly(consumer);
  }

  @Test
  void learnsWhichTopicsHaveTracedProducersAndConsumers() {
    index.add(span(TRACE, PRODUCER, "", "send orders.created", SpanKind.PRODUCER,
        Map.of("messaging.destination.name", "orders.created"), 100));
    index.add(span(TRACE, "1111111111111111", PRODUCER, "process orders.confirmed", SpanKind.CONSUMER,
        Map.of("messaging.destination.name", "orders.confirmed"), 200));

    assertThat(index.sendsTraced("orders.created")).isTrue();
    assertThat(index.receivesTraced("orders.created")).isFalse();
    assertThat(index.receivesTraced("orders.confirmed")).isTrue();
    assertThat(index.holds("1111111111111111")).isTrue();
    assertThat(index.holds("2222222222222222")).isFalse();
  }

  @Test
  void ignoresSpansThatAreNotMessaging() {
    assertThat(index.add(span(TRACE, PRODUCER, "", "GET /x", SpanKind.SERVER, Map.of(), 1))).isFalse();
    assertThat(index.size()).isZero();
  }

  private static Span span(String trace, String id, String parent, String name, SpanKind kind,
      Map<String, Object> attributes, long end) {
    return new Span(trace, id, parent, name, kind, "svc", end - 10, end, attributes, List.of(), false);
  }

  private static KafkaRecord record(String trace, String span, long offset) {
    List<RecordHeader> headers = trace == null ? List.of()
        : List.of(RecordHeader.ofString("traceparent", "00-" + trace + "-" + span + "-03"));
    return new KafkaRecord("orders.created", 2, offset, 1_000, "o-1", headers, new byte[] {'{', '}'});
  }
}
