package io.flowtrace.verifier.infer;

import io.flowtrace.tracer.correlation.MessageSpanIndex;
import io.flowtrace.tracer.correlation.MessagingAttributes;
import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.SpanLink;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.model.TraceContext;
import io.flowtrace.tracer.recording.ReadListener;
import io.flowtrace.tracer.recording.RecordingReader;
import io.flowtrace.verifier.model.Clocks;
import io.flowtrace.verifier.model.FlowInstance;
import io.flowtrace.verifier.replay.ReadingProgress;
import io.flowtrace.verifier.replay.ReplayProgress;
import io.flowtrace.verifier.schema.DecodedPayload;
import io.flowtrace.verifier.schema.PayloadSchema;
import io.flowtrace.verifier.schema.SchemaProblem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * A recording read for inference: its flow events ({@link Occurrence}s: records, and the bodies
 * of HTTP server and client spans) with their traces, and the causal links between traces that
 * messaging spans show (a consumer that continues, links to, or names the offset of a record in
 * another trace). Internal spans and anything without a flow meaning are dropped as they are read.
 */
final class Traffic {

  private static final ObjectMapper JSON = JsonMapper.builder().build();

  final List<Occurrence> occurrences = new ArrayList<>();
  /** Pairs of traces one causal hop joins: {@code [a, b]}. */
  final List<String[]> links = new ArrayList<>();
  /** The services whose consumer spans took each topic's records. */
  final Map<String, Set<String>> consumers = new HashMap<>();
  /** The services that took a record of each topic more than once (a redelivery: at-least-once consumption). */
  final Map<String, Set<String>> redelivered = new HashMap<>();
  long spans;
  long records;
  long problems;
  /** One object per event type, so that comparing the types of occurrences mostly stops at identity. */
  private final Map<EventType, EventType> types = new HashMap<>();

  private EventType canonical(EventType type) {
    EventType known = types.putIfAbsent(type, type);
    return known != null ? known : type;
  }

  /**
   * Avro payloads in the Confluent wire format the traffic held and could not read, per topic: how
   * many, the schema ids they named, and why the first could not be read.
   */
  final Map<String, Unread> unreadAvro = new java.util.TreeMap<>();

  /** Framed Avro payloads of one topic that could not be read. */
  static final class Unread {
    int count;
    /** Of {@link #count}, those whose schema the registry did not answer for (down, slow, refusing). */
    int unavailable;
    final Set<Long> ids = new java.util.TreeSet<>();
    String why;
  }

  static Traffic read(Path recording, ReadListener problems) throws IOException {
    return read(recording, problems, ReplayProgress.NONE, null);
  }

  /**
   * As above, telling {@code progress} how reading goes; payloads in the Confluent wire format are
   * decoded with {@code avro}'s schemas (by the id each carries), or left unread when it is {@code null}.
   */
  static Traffic read(Path recording, ReadListener problems, ReplayProgress progress, PayloadSchema avro)
      throws IOException {
    Traffic t = new Traffic();
    List<Span> events = new ArrayList<>();
    List<KafkaRecord> read = new ArrayList<>();
    List<Span> messaging = new ArrayList<>();
    LongAdder spansRead = new LongAdder();
    LongAdder recordsRead = new LongAdder();
    RecordingReader reader = RecordingReader.defaults();
    ReadListener listener = progress == ReplayProgress.NONE ? problems
        : new ReadingProgress(problems, reader.files(recording, ReadListener.ignoring()), progress, spansRead::sum,
            recordsRead::sum);
    RecordingReader.Summary summary = reader.read(recording, telemetry -> {
      (telemetry instanceof Telemetry.RecordEvent ? recordsRead : spansRead).increment();
      synchronized (t) {
        if (telemetry instanceof Telemetry.RecordEvent r) {
          read.add(r.record());
        } else {
          Span s = ((Telemetry.SpanEvent) telemetry).span();
          if (MessagingAttributes.topic(s) != null && (s.kind() == SpanKind.PRODUCER || s.kind() == SpanKind.CONSUMER
              || MessagingAttributes.isSend(s) || MessagingAttributes.isReceive(s))) {
            messaging.add(slim(s));
          } else if (s.kind() == SpanKind.SERVER || s.kind() == SpanKind.CLIENT) {
            events.add(s);
          }
        }
      }
    }, listener);
    // The draft is a function of the traffic, not of the order its lines were read in: what follows
    // takes the first of equals (of spans, of records at one time), so everything is put in an
    // order of its own first.
    events.sort(SPAN_ORDER);
    messaging.sort(SPAN_ORDER);
    read.sort(RECORD_ORDER);
    MessageSpanIndex index = new MessageSpanIndex();
    List<Span> consumers = new ArrayList<>();
    for (Span slim : messaging) {
      index.add(slim);
      if (MessagingAttributes.isReceive(slim)) {
        consumers.add(slim);
      }
    }
    List<KafkaRecord> records = new ArrayList<>(read.size());
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (KafkaRecord record : read) {
      // a record read twice (a dump taken twice, a redelivery recorded again) is one occurrence
      if (record.offset() < 0 || seen.add(record.coordinates())) {
        records.add(record);
      }
    }
    t.spans = summary.spans();
    t.records = summary.records();
    t.problems = summary.problems();
    List<Joined> joined = new ArrayList<>(records.size());
    for (KafkaRecord r : records) {
      TraceContext context = r.traceContext().orElse(null);
      joined.add(new Joined(r, context, index.producerOf(r, context).orElse(null), index.consumersOf(r, context)));
    }
    Map<String, Long> shifts = clockShifts(events, consumers, joined);
    Map<String, String> producedBy = soleProducers(joined);
    java.util.Set<Span> retried = retried(events);
    for (Span s : events) {
      if (retried.contains(s)) {
        continue;
      }
      boolean any = false;
      for (String attr : new String[] {EventType.REQUEST_BODY, EventType.RESPONSE_BODY}) {
        String body = s.attribute(attr);
        if (body != null) {
          t.occurrences.add(new Occurrence(t.canonical(EventType.span(s, attr)), corrected(s, shifts), s.traceId(),
              parse(body), null, s, null));
          any = true;
        }
      }
      if (!any && s.kind() == SpanKind.SERVER && s.isRoot()) {
        t.occurrences.add(new Occurrence(t.canonical(EventType.span(s, null)), corrected(s, shifts), s.traceId(), null,
            null, s, null));
      }
    }
    for (Joined j : joined) {
      KafkaRecord r = j.record();
      Span producer = j.producer();
      String trace = j.context() != null ? j.context().traceId() : producer != null ? producer.traceId()
          : "record:" + r.coordinates();
      // without its producer span (an unsampled trace) a record's own stamp, on its producer's clock
      String producedOn = producedBy.get(r.topic());
      long time = producer != null ? corrected(producer, shifts)
          : r.timestampNanos() + (producedOn == null ? 0 : shifts.getOrDefault(producedOn, 0L));
      t.occurrences.add(new Occurrence(t.canonical(EventType.topic(r.topic())), time, trace, t.payload(r, avro), r,
          producer, producer));
      Set<String> took = j.consumers().size() > 1 ? new java.util.HashSet<>() : null;
      for (Span c : j.consumers()) {
        t.consumers.computeIfAbsent(r.topic(), k -> new java.util.TreeSet<>()).add(c.service());
        if (took != null && !took.add(c.service())) {
          t.redelivered.computeIfAbsent(r.topic(), k -> new java.util.TreeSet<>()).add(c.service());
        }
        if (!c.traceId().equals(trace)) {
          t.links.add(new String[] {trace, c.traceId()});
        }
      }
    }
    for (Span c : consumers) {
      for (SpanLink link : c.links()) {
        if (!link.traceId().equals(c.traceId())) {
          t.links.add(new String[] {link.traceId(), c.traceId()});
        }
      }
    }
    t.splitKinds();
    t.occurrences.sort(java.util.Comparator.comparingLong(Occurrence::time).thenComparing(o -> o.type().key())
        .thenComparing(Traffic::identity));
    return t;
  }

  /** Names of payload fields and headers that say which kind of record of its topic a record is. */
  private static final Set<String> KIND_NAMES = Set.of("type", "eventtype", "event", "eventname", "kind", "messagetype",
      "typeid", "cetype");
  /** More kinds than this on one topic are not told apart (the field is no kind). */
  private static final int MAX_KINDS = 12;

  /**
   * Splits the records of a topic that carries several steps of one flow (an order's {@code orders}
   * topic: {@code OrderCreated}, {@code OrderPaid}, {@code OrderShipped}) into one event type per
   * kind, told by a field or header named like a kind ({@code type}, {@code eventType}, {@code
   * ce_type}, Spring's {@code __TypeId__}) that every record carries, with at most {@value #MAX_KINDS}
   * values, and of which most keys (or traces) have records of several: a topic where each key has
   * one kind (a decision's {@code APPROVED} or {@code DECLINED}) is one event, its kinds the
   * outcomes a {@code when} on the stages after it reads; so is one where only some keys have a
   * second kind (a cancellation's notice beside a booking's confirmation).
   */
  private void splitKinds() {
    Map<String, List<Integer>> byTopic = new LinkedHashMap<>();
    for (int i = 0; i < occurrences.size(); i++) {
      Occurrence o = occurrences.get(i);
      if (o.isRecord()) {
        byTopic.computeIfAbsent(o.record().topic(), k -> new ArrayList<>()).add(i);
      }
    }
    byTopic.forEach((topic, at) -> {
      KindCandidate kind = kindOf(at);
      if (kind != null) {
        for (int i : at) {
          Occurrence o = occurrences.get(i);
          EventType type = canonical(EventType.topicKind(topic, kind.field, kind.header, kind.valueOf(o)));
          occurrences.set(i, new Occurrence(type, o.time(), o.traceId(), o.payload(), o.record(), o.span(), o.producer()));
        }
      }
    });
  }

  /** A field or header that may tell a topic's kinds of record apart, with what was seen of it. */
  private static final class KindCandidate {
    final String field;
    final boolean header;
    final Map<String, java.util.Set<String>> valuesByGroup = new HashMap<>();
    final java.util.Set<String> values = new java.util.HashSet<>();
    int present;

    KindCandidate(String field, boolean header) {
      this.field = field;
      this.header = header;
    }

    String valueOf(Occurrence o) {
      if (header) {
        for (io.flowtrace.tracer.model.RecordHeader h : o.record().headers()) {
          if (h.name().equals(field) && h.value() != null) {
            return new String(h.value(), StandardCharsets.UTF_8);
          }
        }
        return null;
      }
      JsonNode v = o.payload() == null ? null : o.payload().path(field.contains(".") ? field.substring(0, field.indexOf('.'))
          : field);
      if (field.contains(".") && v != null) {
        v = v.path(field.substring(field.indexOf('.') + 1));
      }
      return v != null && v.isString() && !v.asString().isEmpty() ? v.asString() : null;
    }

    /**
     * Whether most of the {@code groups} keys (or traces) have records of several of its values: steps
     * of most instances, not outcomes, nor a step a few instances add (a cancellation's notice
     * beside the booking's confirmation on a notifications topic).
     */
    boolean steps(int groups) {
      long mixed = valuesByGroup.values().stream().filter(v -> v.size() > 1).count();
      return mixed >= 3 && mixed * 2 >= groups;
    }
  }

  private KindCandidate kindOf(List<Integer> at) {
    if (at.size() < 10) {
      return null;
    }
    Map<String, KindCandidate> candidates = new LinkedHashMap<>();
    Map<String, Integer> perGroup = new HashMap<>();
    for (int i : at) {
      Occurrence o = occurrences.get(i);
      KafkaRecord r = o.record();
      perGroup.merge(group(o), 1, Integer::sum);
      for (io.flowtrace.tracer.model.RecordHeader h : r.headers()) {
        if (isKindName(h.name())) {
          candidates.computeIfAbsent("h:" + h.name(), k -> new KindCandidate(h.name(), true));
        }
      }
      if (o.payload() != null && o.payload().isObject()) {
        for (Map.Entry<String, JsonNode> f : o.payload().properties()) {
          if (f.getValue().isString() && isKindName(f.getKey())) {
            candidates.computeIfAbsent("f:" + f.getKey(), k -> new KindCandidate(f.getKey(), false));
          } else if (f.getValue().isObject()) {
            for (Map.Entry<String, JsonNode> g : f.getValue().properties()) {
              if (g.getValue().isString() && isKindName(g.getKey())) {
                String path = f.getKey() + "." + g.getKey();
                candidates.computeIfAbsent("f:" + path, k -> new KindCandidate(path, false));
              }
            }
          }
        }
      }
    }
    KindCandidate best = null;
    for (KindCandidate c : candidates.values()) {
      for (int i : at) {
        Occurrence o = occurrences.get(i);
        String value = c.valueOf(o);
        if (value == null) {
          break;
        }
        c.present++;
        if (c.values.add(value) && c.values.size() > MAX_KINDS) {
          break;
        }
        String group = group(o);
        if (perGroup.getOrDefault(group, 0) > 1) {
          c.valuesByGroup.computeIfAbsent(group, g -> new java.util.HashSet<>()).add(value);
        }
      }
      if (c.present == at.size() && c.values.size() > 1 && c.values.size() <= MAX_KINDS && c.steps(perGroup.size())
          && (best == null || c.values.size() > best.values.size())) {
        best = c;
      }
    }
    return best;
  }

  /** What a record's kinds are counted by: its key, else its trace. */
  private static String group(Occurrence o) {
    String key = o.record().key();
    return key != null && !key.isEmpty() ? "k:" + key : o.traceId();
  }

  private static boolean isKindName(String name) {
    return KIND_NAMES.contains(name.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z]", ""));
  }

  private static final java.util.Comparator<Span> SPAN_ORDER = java.util.Comparator.comparing(Span::traceId)
      .thenComparing(Span::spanId).thenComparingLong(Span::startEpochNanos).thenComparingLong(Span::endEpochNanos)
      .thenComparing(Span::name).thenComparing(Span::service);
  private static final java.util.Comparator<KafkaRecord> RECORD_ORDER = java.util.Comparator
      .comparing(KafkaRecord::topic).thenComparingInt(KafkaRecord::partition).thenComparingLong(KafkaRecord::offset)
      .thenComparingLong(KafkaRecord::timestampNanos)
      .thenComparing(r -> r.key() == null ? "" : r.key())
      .thenComparing(r -> r.value() == null ? new byte[0] : r.value(), java.util.Arrays::compare);

  /** What tells two occurrences of one type at one time apart: the record's place, or the span's ids. */
  private static String identity(Occurrence o) {
    return o.record() != null ? o.record().coordinates() + "|" + (o.record().key() == null ? "" : o.record().key())
        : o.span() != null ? o.span().traceId() + "/" + o.span().spanId() : "";
  }

  /** A record joined to its trace context and the messaging spans that produced and consumed it. */
  private record Joined(KafkaRecord record, TraceContext context, Span producer, List<Span> consumers) {}

  /** Per topic, the one service whose producer spans sent its records (none where several did). */
  private static Map<String, String> soleProducers(List<Joined> records) {
    Map<String, String> producers = new HashMap<>();
    java.util.Set<String> several = new java.util.HashSet<>();
    for (Joined j : records) {
      if (j.producer() != null) {
        String topic = j.record().topic();
        String had = producers.putIfAbsent(topic, j.producer().service());
        if (had != null && !had.equals(j.producer().service())) {
          several.add(topic);
        }
      }
    }
    several.forEach(producers::remove);
    return producers;
  }

  /**
   * Attempts that failed and were made again: a span that ended in error (HTTP 5xx, 429, 408 or an
   * error status) with a later span of the same call in its trace. Its body (a 503's error page) is
   * not what the flow carried on, as the checks read the attempt that answered: drafted from, it
   * gave schemas without required fields, rules that "held in 383/400" and budgets to the attempt
   * that failed.
   */
  private static java.util.Set<Span> retried(List<Span> events) {
    Map<String, List<Span>> calls = new HashMap<>();
    for (Span s : events) {
      EventType type = EventType.span(s, null);
      if (type != null) {
        calls.computeIfAbsent(s.traceId() + "\u0000" + type.key(), k -> new ArrayList<>(2)).add(s);
      }
    }
    java.util.Set<Span> out = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    for (List<Span> attempts : calls.values()) {
      if (attempts.size() < 2) {
        continue;
      }
      long last = attempts.stream().mapToLong(Span::startEpochNanos).max().orElse(0);
      for (Span a : attempts) {
        if (a.startEpochNanos() < last && FlowInstance.failure(a) != null) {
          out.add(a);
        }
      }
    }
    return out;
  }

  /** A span's start on the corrected clock of its service. */
  private static long corrected(Span s, Map<String, Long> shifts) {
    return s.startEpochNanos() + shifts.getOrDefault(s.service(), 0L);
  }

  /**
   * One shift per service's clock, relative to the service that produced or served most, that
   * keeps every happens-before the traffic proves: a record consumed after it was produced, a
   * server span within its client span. Without it a host a few tens of milliseconds behind put a
   * reply before its request, and the draft ordered its stages so (and failed its own traffic). The
   * bounds are the tightest over the whole recording; traffic that contradicts itself shifts nothing.
   */
  private static Map<String, Long> clockShifts(List<Span> events, List<Span> consumers, List<Joined> records) {
    Map<String, Integer> ids = new LinkedHashMap<>();
    Map<Long, Long> lower = new HashMap<>(); // (from << 32 | to) -> greatest lower bound of off(to) - off(from)
    Map<Long, Long> upper = new HashMap<>(); // (from << 32 | to) -> least upper bound
    Map<String, Integer> weight = new HashMap<>();
    for (Joined j : records) {
      Span producer = j.producer();
      if (producer == null) {
        continue;
      }
      weight.merge(producer.service(), 1, Integer::sum);
      for (Span c : j.consumers()) {
        bound(lower, ids, producer.service(), c.service(), producer.startEpochNanos() - c.startEpochNanos(), true);
      }
    }
    Map<String, Span> byId = new HashMap<>();
    for (Span s : events) {
      byId.putIfAbsent(s.spanId(), s);
      weight.merge(s.service(), 1, Integer::sum);
    }
    for (Span s : consumers) {
      byId.putIfAbsent(s.spanId(), s);
    }
    for (Span s : byId.values()) {
      Span p = s.parentSpanId().isEmpty() ? null : byId.get(s.parentSpanId());
      if (p == null || p.service().equals(s.service()) || !p.traceId().equals(s.traceId())) {
        continue;
      }
      bound(lower, ids, p.service(), s.service(), p.startEpochNanos() - s.startEpochNanos(), true);
      if (p.kind() == SpanKind.CLIENT && s.kind() == SpanKind.SERVER && s.endEpochNanos() > 0) {
        bound(upper, ids, p.service(), s.service(), p.endEpochNanos() - s.endEpochNanos(), false);
      }
    }
    if (lower.isEmpty() && upper.isEmpty()) {
      return Map.of();
    }
    List<String> names = new ArrayList<>(ids.keySet());
    List<long[]> lows = new ArrayList<>();
    lower.forEach((k, v) -> lows.add(new long[] {k >> 32, k & 0xffffffffL, v}));
    List<long[]> highs = new ArrayList<>();
    upper.forEach((k, v) -> highs.add(new long[] {k >> 32, k & 0xffffffffL, v}));
    String reference = names.stream().max(java.util.Comparator.comparingInt((String n) -> weight.getOrDefault(n, 0))
        .thenComparing(java.util.Comparator.reverseOrder())).orElseThrow();
    return Clocks.ofBounds(names, lows, highs).corrections(reference);
  }

  private static void bound(Map<Long, Long> bounds, Map<String, Integer> ids, String from, String to, long value,
      boolean lowerBound) {
    long key = (long) id(ids, from) << 32 | id(ids, to);
    bounds.merge(key, value, lowerBound ? Math::max : Math::min);
  }

  private static int id(Map<String, Integer> ids, String service) {
    Integer i = ids.get(service);
    if (i == null) {
      i = ids.size();
      ids.put(service, i);
    }
    return i;
  }

  private static Span slim(Span s) {
    Map<String, Object> kept = new HashMap<>(8);
    s.attributes().forEach((k, v) -> {
      if (k.startsWith("messaging.")) {
        kept.put(k, v);
      }
    });
    return new Span(s.traceId(), s.spanId(), s.parentSpanId(), s.name(), s.kind(), s.service(), s.startEpochNanos(),
        s.endEpochNanos(), kept, s.links(), false, s.host());
  }

  private static JsonNode parse(String text) {
    String t = text.trim();
    if (t.isEmpty() || t.charAt(0) != '{' && t.charAt(0) != '[') {
      return null;
    }
    try {
      return JSON.readTree(t);
    } catch (JacksonException e) {
      return null;
    }
  }

  /** A record's payload as a tree: JSON parsed, framed Avro decoded with {@code avro}; else {@code null}. */
  private JsonNode payload(KafkaRecord r, PayloadSchema avro) {
    byte[] value = r.value();
    if (value == null) {
      return null;
    }
    Long id = confluentSchemaId(value);
    if (id == null) {
      return parse(value);
    }
    DecodedPayload decoded = avro == null ? null : avro.decode(value, r.headers());
    if (decoded != null && decoded.decoded()) {
      return decoded.tree();
    }
    Unread unread = unreadAvro.computeIfAbsent(r.topic(), k -> new Unread());
    unread.count++;
    if (decoded != null && decoded.problems().stream().anyMatch(SchemaProblem::unavailable)) {
      unread.unavailable++;
    }
    unread.ids.add(id);
    if (unread.why == null) {
      unread.why = decoded == null ? "no schema registry given"
          : decoded.problems().stream().map(SchemaProblem::message).findFirst().orElse("not decoded");
    }
    return null;
  }

  /** The schema id of a payload in the Confluent wire format (magic byte 0, 4-byte id), else {@code null}. */
  static Long confluentSchemaId(byte[] value) {
    return value != null && value.length > 5 && value[0] == 0
        ? java.nio.ByteBuffer.wrap(value, 1, 4).getInt() & 0xFFFF_FFFFL : null;
  }

  private static JsonNode parse(byte[] bytes) {
    if (bytes.length == 0 || bytes[0] != '{' && bytes[0] != '[' && bytes[0] != ' ') {
      return null;
    }
    return parse(new String(bytes, StandardCharsets.UTF_8));
  }
}
