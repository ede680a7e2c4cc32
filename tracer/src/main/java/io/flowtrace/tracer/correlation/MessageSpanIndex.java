package io.flowtrace.tracer.correlation;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanLink;
import io.flowtrace.tracer.model.TraceContext;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

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

  private final Map<String, Span> sendBySpanId = new HashMap<>();
  private final Map<String, Span> sendByCoordinates = new HashMap<>();
  private final Map<String, List<Span>> receiveByParent = new HashMap<>();
  private final Map<String, List<Span>> receiveByLinked = new HashMap<>();
  private final Map<String, List<Span>> receiveByCoordinates = new HashMap<>();
  private final ArrayDeque<Span> byArrival = new ArrayDeque<>();
  private long size;

  /** Indexes a messaging span; returns false (and keeps nothing) for any other span. */
  public boolean add(Span span) {
    String topic = MessagingAttributes.topic(span);
    if (topic == null) {
      return false;
    }
    Integer partition = MessagingAttributes.partition(span);
    Long offset = MessagingAttributes.offset(span);
    String coordinates = partition != null && offset != null ? coordinates(topic, partition, offset) : null;
    if (MessagingAttributes.isSend(span)) {
      sendBySpanId.put(span.spanId(), span);
      if (coordinates != null) {
        sendByCoordinates.put(coordinates, span);
      }
    } else if (MessagingAttributes.isReceive(span)) {
      if (!span.parentSpanId().isEmpty()) {
        receiveByParent.computeIfAbsent(span.parentSpanId(), k -> new ArrayList<>(1)).add(span);
      }
      for (SpanLink link : span.links()) {
        receiveByLinked.computeIfAbsent(link.spanId(), k -> new ArrayList<>(1)).add(span);
      }
      if (coordinates != null) {
        receiveByCoordinates.computeIfAbsent(coordinates, k -> new ArrayList<>(1)).add(span);
      }
    } else {
      return false;
    }
    byArrival.add(span);
    size++;
    return true;
  }

  /** The span that produced the record, if it has been seen. */
  public Optional<Span> producerOf(KafkaRecord record) {
    Optional<TraceContext> ctx = record.traceContext();
    if (ctx.isPresent()) {
      Span s = sendBySpanId.get(ctx.get().spanId());
      if (s != null && s.traceId().equals(ctx.get().traceId())) {
        return Optional.of(s);
      }
    }
    return Optional.ofNullable(sendByCoordinates.get(coordinates(record.topic(), record.partition(), record.offset())));
  }

  /** The spans that received or processed the record, in arrival order, without duplicates. */
  public List<Span> consumersOf(KafkaRecord record) {
    List<Span> out = new ArrayList<>(2);
    String producerSpanId = record.traceContext().map(TraceContext::spanId)
        .orElseGet(() -> producerOf(record).map(Span::spanId).orElse(null));
    if (producerSpanId != null) {
      addAll(out, receiveByParent.get(producerSpanId), record);
      addAll(out, receiveByLinked.get(producerSpanId), record);
    }
    addAll(out, receiveByCoordinates.get(coordinates(record.topic(), record.partition(), record.offset())), record);
    return out;
  }

  private static void addAll(List<Span> out, List<Span> spans, KafkaRecord record) {
    if (spans == null) {
      return;
    }
    for (Span s : spans) {
      String topic = MessagingAttributes.topic(s);
      if (topic != null && !topic.equals(record.topic())) {
        continue;
      }
      Long offset = MessagingAttributes.offset(s);
      if (offset != null && offset != record.offset()) {
        continue;
      }
      if (!out.contains(s)) {
        out.add(s);
      }
    }
  }

  /**
   * Drops spans that arrived (ended) before {@code epochNanos}. Spans are assumed to be added
   * roughly in arrival order; eviction walks from the oldest.
   */
  public void evictBefore(long epochNanos) {
    while (!byArrival.isEmpty() && byArrival.peekFirst().endEpochNanos() < epochNanos) {
      remove(byArrival.pollFirst());
    }
  }

  /** Number of spans currently held. */
  public long size() {
    return size;
  }

  private void remove(Span span) {
    size--;
    if (sendBySpanId.get(span.spanId()) == span) {
      sendBySpanId.remove(span.spanId());
    }
    String topic = MessagingAttributes.topic(span);
    Integer partition = MessagingAttributes.partition(span);
    Long offset = MessagingAttributes.offset(span);
    String coordinates = partition != null && offset != null ? coordinates(topic, partition, offset) : null;
    if (coordinates != null && sendByCoordinates.get(coordinates) == span) {
      sendByCoordinates.remove(coordinates);
    }
    removeFrom(receiveByParent, span.parentSpanId(), span);
    for (SpanLink link : span.links()) {
      removeFrom(receiveByLinked, link.spanId(), span);
    }
    if (coordinates != null) {
      removeFrom(receiveByCoordinates, coordinates, span);
    }
  }

  private static void removeFrom(Map<String, List<Span>> map, String key, Span span) {
    List<Span> list = map.get(key);
    if (list != null) {
      list.remove(span);
      if (list.isEmpty()) {
        map.remove(key);
      }
    }
  }

  private static String coordinates(String topic, int partition, long offset) {
    return topic + '\u0000' + partition + '\u0000' + offset;
  }
}
