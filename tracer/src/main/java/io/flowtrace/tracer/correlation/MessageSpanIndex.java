package io.flowtrace.tracer.correlation;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanLink;
import io.flowtrace.tracer.model.TraceContext;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Joins Kafka records to the spans that produced and consumed them, as telemetry streams in.
 *
 * <p>A record's producer span is the span its {@code traceparent} header names, or else the
 * producer span whose topic/partition/offset attributes name the record. Its consumer spans are
 * the spans that are children of the producer span, carry a link to it (batch receive), or name the
 * record's topic/partition/offset. Both OpenTelemetry messaging convention sets are understood.
 *
 * <p>Memory is bounded by {@link #evictBefore}: callers drop spans older than their horizon.
 * Not thread-safe; one assembly thread owns it.
 */
public final class MessageSpanIndex {

  /** Topics learned from spans beyond this many are not remembered (span attributes are input). */
  private static final int MAX_TOPICS_LEARNED = 10_000;

  private final Map<String, Span> sendBySpanId = new HashMap<>();
  private final Map<Coordinates, Span> sendByCoordinates = new HashMap<>();
  private final Map<String, Span> receiveBySpanId = new HashMap<>();
  private final Map<String, List<Entry>> receiveByParent = new HashMap<>();
  private final Map<String, List<Entry>> receiveByLinked = new HashMap<>();
  private final Map<Coordinates, List<Entry>> receiveByCoordinates = new HashMap<>();
  private final ArrayDeque<Entry> byArrival = new ArrayDeque<>();
  /** Topics any producer span named, and any consumer span: where such spans are exported at all. */
  private final Set<String> sentTopics = new HashSet<>();
  private final Set<String> receivedTopics = new HashSet<>();

  private record Entry(Span span, String topic, Long offset, Coordinates coordinates, boolean send) {}

  /**
   * Where a record sits: the key of the coordinate joins. Hashed by mixing, not a record's
   * {@code 31 * h + offset}: under that, partition {@code p} offset {@code o} and partition
   * {@code p + 1} offset {@code o - 31} collide, and a topic's partitions hold runs of both.
   */
  private record Coordinates(String topic, int partition, long offset) {
    Coordinates(KafkaRecord record) {
      this(record.topic(), record.partition(), record.offset());
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Coordinates c && c.offset == offset && c.partition == partition && c.topic.equals(topic);
    }

    @Override
    public int hashCode() {
      long x = offset * 0x9E3779B97F4A7C15L + (topic.hashCode() * 31L + partition) * 0xC2B2AE3D27D4EB4FL;
      return (int) (x ^ (x >>> 32));
    }
  }

  /**
   * Indexes a messaging span; returns false (and keeps nothing) for any other span. A span already
   * held (the same trace and span id, delivered again) is kept once.
   */
  public boolean add(Span span) {
    return add(span, MessagingAttributes.topic(span));
  }

  /** As {@link #add(Span)}, with the span's topic already read ({@link MessagingAttributes#topic}). */
  public boolean add(Span span, String topic) {
    return add(span, topic, false);
  }

  /**
   * As {@link #add(Span, String)}, holding the span without its attributes: the index reads them
   * once, here, and what is joined to records later needs only the span's ids, names and times. For
   * an owner that keeps spans for a minute at thousands a second and never shows their attributes.
   */
  public boolean addStripped(Span span, String topic) {
    return add(span, topic, true);
  }

  private boolean add(Span span, String topic, boolean strip) {
    if (topic == null) {
      return false;
    }
    Span known = sendBySpanId.get(span.spanId());
    if (known == null) {
      known = receiveBySpanId.get(span.spanId());
    }
    if (known != null && known.traceId().equals(span.traceId())) {
      return true; // delivered again (at-least-once inputs): held once
    }
    Integer partition = MessagingAttributes.partition(span);
    Long offset = MessagingAttributes.offset(span);
    Coordinates coordinates = partition != null && offset != null ? new Coordinates(topic, partition, offset) : null;
    boolean send = MessagingAttributes.isSend(span);
    boolean receive = !send && MessagingAttributes.isReceive(span);
    if (strip && !span.attributes().isEmpty() && (send || receive)) {
      span = new Span(span.traceId(), span.spanId(), span.parentSpanId(), span.name(), span.kind(), span.service(),
          span.startEpochNanos(), span.endEpochNanos(), Map.of(), span.links(), span.error());
    }
    Entry entry;
    if (send) {
      entry = new Entry(span, topic, offset, coordinates, true);
      sendBySpanId.put(span.spanId(), span);
      learn(sentTopics, topic);
      if (coordinates != null) {
        sendByCoordinates.put(coordinates, span);
      }
    } else if (receive) {
      entry = new Entry(span, topic, offset, coordinates, false);
      receiveBySpanId.put(span.spanId(), span);
      learn(receivedTopics, topic);
      if (!span.parentSpanId().isEmpty()) {
        receiveByParent.computeIfAbsent(span.parentSpanId(), k -> new ArrayList<>(1)).add(entry);
      }
      for (SpanLink link : span.links()) {
        receiveByLinked.computeIfAbsent(link.spanId(), k -> new ArrayList<>(1)).add(entry);
      }
      if (coordinates != null) {
        receiveByCoordinates.computeIfAbsent(coordinates, k -> new ArrayList<>(1)).add(entry);
      }
    } else {
      return false;
    }
    byArrival.add(entry);
    return true;
  }

  private static void learn(Set<String> topics, String topic) {
    if (topics.size() < MAX_TOPICS_LEARNED) {
      topics.add(topic);
    }
  }

  /** Whether a producer span of the topic was ever seen: its producers are traced, so a record's will come. */
  public boolean sendsTraced(String topic) {
    return sentTopics.contains(topic);
  }

  /** Whether a consumer span of the topic was ever seen: some consumer of its records is traced. */
  public boolean receivesTraced(String topic) {
    return receivedTopics.contains(topic);
  }

  /** Whether a messaging span with this id is held. */
  public boolean holds(String spanId) {
    return sendBySpanId.containsKey(spanId) || receiveBySpanId.containsKey(spanId);
  }

  /** The span that produced the record, if it has been seen. */
  public Optional<Span> producerOf(KafkaRecord record) {
    return producerOf(record, record.traceContext().orElse(null));
  }

  /** As {@link #producerOf(KafkaRecord)}, with the record's already parsed trace context (or null). */
  public Optional<Span> producerOf(KafkaRecord record, TraceContext context) {
    return Optional.ofNullable(producer(context, new Coordinates(record)));
  }

  private Span producer(TraceContext context, Coordinates at) {
    if (context != null) {
      Span s = sendBySpanId.get(context.spanId());
      if (s != null && s.traceId().equals(context.traceId())) {
        return s;
      }
    }
    return sendByCoordinates.get(at);
  }

  /** The spans that received or processed the record, in arrival order, without duplicates. */
  public List<Span> consumersOf(KafkaRecord record) {
    return consumersOf(record, record.traceContext().orElse(null));
  }

  /** As {@link #consumersOf(KafkaRecord)}, with the record's already parsed trace context (or null). */
  public List<Span> consumersOf(KafkaRecord record, TraceContext context) {
    Coordinates at = new Coordinates(record);
    String producerSpanId = context != null ? context.spanId() : spanIdOf(producer(null, at));
    List<Entry> byParent = producerSpanId == null ? null : receiveByParent.get(producerSpanId);
    List<Entry> byLink = producerSpanId == null ? null : receiveByLinked.get(producerSpanId);
    List<Entry> byCoordinates = receiveByCoordinates.get(at);
    if (byParent == null && byLink == null && byCoordinates == null) {
      return List.of();
    }
    List<Span> out = new ArrayList<>(2);
    // A child of, or a link to, the record's own producer span names exactly this record.
    addAll(out, byParent, record, false);
    addAll(out, byLink, record, false);
    addAll(out, byCoordinates, record, true);
    return out;
  }

  private static String spanIdOf(Span span) {
    return span == null ? null : span.spanId();
  }

  private static void addAll(List<Span> out, List<Entry> entries, KafkaRecord record, boolean byOffset) {
    if (entries == null) {
      return;
    }
    for (Entry e : entries) {
      if (!e.topic().equals(record.topic())) {
        continue;
      }
      if (byOffset && e.offset() != null && e.offset() != record.offset()) {
        continue;
      }
      if (!containsIdentical(out, e.span())) {
        out.add(e.span());
      }
    }
  }

  /**
   * Drops spans that arrived (ended) before {@code epochNanos}. Spans are assumed to be added
   * roughly in arrival order; eviction walks from the oldest.
   */
  public void evictBefore(long epochNanos) {
    while (!byArrival.isEmpty() && byArrival.peekFirst().span().endEpochNanos() < epochNanos) {
      remove(byArrival.pollFirst());
    }
  }

  /** Number of spans currently held. */
  public long size() {
    return byArrival.size();
  }

  private void remove(Entry e) {
    Span span = e.span();
    if (e.send()) {
      if (sendBySpanId.get(span.spanId()) == span) {
        sendBySpanId.remove(span.spanId());
      }
      if (e.coordinates() != null && sendByCoordinates.get(e.coordinates()) == span) {
        sendByCoordinates.remove(e.coordinates());
      }
      return;
    }
    if (receiveBySpanId.get(span.spanId()) == span) {
      receiveBySpanId.remove(span.spanId());
    }
    removeFrom(receiveByParent, span.parentSpanId(), e);
    for (SpanLink link : span.links()) {
      removeFrom(receiveByLinked, link.spanId(), e);
    }
    if (e.coordinates() != null) {
      removeFrom(receiveByCoordinates, e.coordinates(), e);
    }
  }

  private static <K> void removeFrom(Map<K, List<Entry>> map, K key, Entry entry) {
    List<Entry> list = map.get(key);
    if (list == null) {
      return;
    }
    for (int i = 0; i < list.size(); i++) {
      if (list.get(i) == entry) {
        list.remove(i);
        break;
      }
    }
    if (list.isEmpty()) {
      map.remove(key);
    }
  }

  private static boolean containsIdentical(List<Span> list, Span span) {
    for (Span s : list) {
      if (s == span) {
        return true;
      }
    }
    return false;
  }
}
