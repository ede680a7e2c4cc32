package io.flowtrace.tracer.correlation;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.SpanLink;
import io.flowtrace.tracer.model.TraceContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * Whatever spans arrive — ids repeated across traces, delivered twice, many to one partition and
 * offset, linked, evicted part way — the index answers as a plain list of the held spans, read in
 * arrival order, would: the index's own tables (chained through their entries, grown as they fill)
 * are an optimisation of that list, not a second meaning.
 */
class MessageSpanIndexProperties {

  private static final List<String> TOPICS = List.of("orders.created", "payments.completed");

  @Property(tries = 300)
  void answersAsAListOfTheHeldSpansInArrivalOrderWould(@ForAll long seed) {
    Random random = new Random(seed);
    List<String> traces = ids(random, 4, 32);
    List<String> spanIds = ids(random, 60, 16);
    MessageSpanIndex index = new MessageSpanIndex();
    List<Held> model = new ArrayList<>();
    long clock = 0;

    for (int step = 0; step < 400; step++) {
      if (random.nextInt(40) == 0) {
        long horizon = clock - random.nextInt(50);
        index.evictBefore(horizon);
        while (!model.isEmpty() && model.get(0).span().endEpochNanos() < horizon) {
          model.remove(0);
        }
      } else {
        clock += random.nextInt(3);
        Span span = span(random, traces, spanIds, clock);
        boolean stripped = random.nextBoolean();
        String topic = MessagingAttributes.topic(span);
        boolean added = stripped ? index.addStripped(span, topic) : index.add(span, topic);
        assertThat(added).as("seed %d step %d: add %s", seed, step, span).isEqualTo(modelAdd(model, span, topic));
      }
      assertThat(index.size()).as("seed %d step %d", seed, step).isEqualTo(model.size());
      for (int probe = 0; probe < 4; probe++) {
        KafkaRecord record = record(random, traces, spanIds);
        TraceContext context = record.traceContext().orElse(null);
        assertThat(index.producerOf(record, context).map(Span::spanId))
            .as("seed %d step %d: producer of %s", seed, step, record)
            .isEqualTo(Optional.ofNullable(modelProducer(model, record, context)).map(Span::spanId));
        assertThat(index.consumersOf(record, context)).extracting(Span::spanId, Span::traceId)
            .as("seed %d step %d: consumers of %s", seed, step, record)
            .containsExactlyElementsOf(modelConsumers(model, record, context).stream()
                .map(s -> org.assertj.core.groups.Tuple.tuple(s.spanId(), s.traceId())).toList());
        String id = spanIds.get(random.nextInt(spanIds.size()));
        assertThat(index.holds(id)).isEqualTo(model.stream().anyMatch(h -> h.span().spanId().equals(id)));
      }
    }
  }

  private record Held(Span span, String topic, boolean send, Integer partition, Long offset) {}

  private static boolean modelAdd(List<Held> model, Span span, String topic) {
    if (topic == null) {
      return false;
    }
    if (model.stream().anyMatch(h -> h.span().spanId().equals(span.spanId()) && h.span().traceId().equals(span.traceId()))) {
      return true;
    }
    boolean send = MessagingAttributes.isSend(span);
    if (!send && !MessagingAttributes.isReceive(span)) {
      return false;
    }
    model.add(new Held(span, topic, send, MessagingAttributes.partition(span), MessagingAttributes.offset(span)));
    return true;
  }

  private static boolean at(Held h, KafkaRecord record) {
    return h.partition() != null && h.offset() != null && h.topic().equals(record.topic())
        && h.partition() == record.partition() && h.offset() == record.offset();
  }

  private static Span modelProducer(List<Held> model, KafkaRecord record, TraceContext context) {
    if (context != null) {
      for (Held h : model) {
        if (h.send() && h.span().spanId().equals(context.spanId()) && h.span().traceId().equals(context.traceId())) {
          return h.span();
        }
      }
    }
    Span last = null;
    for (Held h : model) {
      if (h.send() && at(h, record)) {
        last = h.span();
      }
    }
    return last;
  }

  private static List<Span> modelConsumers(List<Held> model, KafkaRecord record, TraceContext context) {
    Span producer = context == null ? modelProducer(model, record, null) : null;
    String producerId = context != null ? context.spanId() : producer == null ? null : producer.spanId();
    List<Span> out = new ArrayList<>();
    for (Held h : model) {
      if (!h.send() && producerId != null && h.span().parentSpanId().equals(producerId) && h.topic().equals(record.topic())) {
        addOnce(out, h.span());
      }
    }
    for (Held h : model) {
      if (!h.send() && producerId != null && h.topic().equals(record.topic())
          && h.span().links().stream().anyMatch(l -> l.spanId().equals(producerId))) {
        addOnce(out, h.span());
      }
    }
    for (Held h : model) {
      if (!h.send() && at(h, record)) {
        addOnce(out, h.span());
      }
    }
    return out;
  }

  private static void addOnce(List<Span> out, Span span) {
    if (out.stream().noneMatch(s -> s.spanId().equals(span.spanId()) && s.traceId().equals(span.traceId()))) {
      out.add(span);
    }
  }

  private static Span span(Random random, List<String> traces, List<String> spanIds, long end) {
    SpanKind kind = List.of(SpanKind.PRODUCER, SpanKind.CONSUMER, SpanKind.CONSUMER, SpanKind.SERVER)
        .get(random.nextInt(4));
    Map<String, Object> attributes = new HashMap<>();
    if (random.nextInt(10) > 0) {
      attributes.put("messaging.destination.name", TOPICS.get(random.nextInt(TOPICS.size())));
    }
    if (random.nextInt(4) > 0) {
      attributes.put("messaging.destination.partition.id", (long) random.nextInt(2));
      attributes.put(random.nextBoolean() ? "messaging.kafka.offset" : "messaging.kafka.message.offset",
          random.nextBoolean() ? (Object) (long) random.nextInt(4) : String.valueOf(random.nextInt(4)));
    }
    List<SpanLink> links = new ArrayList<>();
    if (random.nextInt(6) == 0) {
      links.add(link(random, traces, spanIds));
      if (random.nextBoolean()) { // a batch of two records, or of one named twice
        links.add(random.nextBoolean() ? links.get(0) : link(random, traces, spanIds));
      }
    }
    String parent = random.nextInt(3) == 0 ? "" : spanIds.get(random.nextInt(spanIds.size()));
    return new Span(traces.get(random.nextInt(traces.size())), spanIds.get(random.nextInt(spanIds.size())), parent,
        "work", kind, "svc", end - 1, end, attributes, links, false);
  }

  private static SpanLink link(Random random, List<String> traces, List<String> spanIds) {
    return new SpanLink(traces.get(random.nextInt(traces.size())), spanIds.get(random.nextInt(spanIds.size())), Map.of());
  }

  private static KafkaRecord record(Random random, List<String> traces, List<String> spanIds) {
    List<RecordHeader> headers = random.nextBoolean() ? List.of()
        : List.of(RecordHeader.ofString("traceparent", "00-" + traces.get(random.nextInt(traces.size())) + "-"
            + spanIds.get(random.nextInt(spanIds.size())) + "-01"));
    return new KafkaRecord(TOPICS.get(random.nextInt(TOPICS.size())), random.nextInt(2), random.nextInt(4), 1, null,
        headers, new byte[] {'{', '}'});
  }

  private static List<String> ids(Random random, int count, int hexDigits) {
    List<String> ids = new ArrayList<>();
    while (ids.size() < count) {
      StringBuilder id = new StringBuilder();
      for (int i = 0; i < hexDigits; i++) {
        id.append(Character.forDigit(random.nextInt(16), 16));
      }
      if (!ids.contains(id.toString())) {
        ids.add(id.toString());
      }
    }
    return ids;
  }
}
