package io.flowtrace.verifier.assembly;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.TraceContext;
import io.flowtrace.verifier.schema.DecodedPayload;
import io.flowtrace.verifier.schema.SchemaProblem;
import io.flowtrace.verifier.spec.EventSpec;
import io.flowtrace.verifier.spec.FieldPath;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.StageSpec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * Recognises one flow's declared events in telemetry: a record by its topic, a span by its
 * matcher; decodes and validates their payloads (over the size cap they are not decoded) and reads
 * the instance keys they carry. Stateless and thread-safe: readers use it before the engine thread.
 */
final class EventMatcher {

  /** An event a span matched, with its payload decoded and the instance keys it carries. */
  record SpanMatch(EventSpec event, DecodedPayload decoded, Map<String, String> keys) {}

  private final FlowSpec spec;
  private final int maxPayloadBytes;
  private final Map<String, List<EventSpec>> topicEvents;
  private final List<EventSpec> spanEvents;
  private final Set<String> entryEvents = new HashSet<>();
  private final Map<EventSpec, KeyPaths> keyPaths = new java.util.IdentityHashMap<>();

  EventMatcher(FlowSpec spec, int maxPayloadBytes) {
    this.spec = spec;
    this.maxPayloadBytes = maxPayloadBytes;
    this.topicEvents = spec.eventsByTopic();
    this.spanEvents = spec.events().stream().filter(e -> e.span() != null).toList();
    for (StageSpec s : spec.entryStages()) {
      s.events().forEach(e -> entryEvents.add(e.id()));
    }
    spec.events().forEach(e -> keyPaths.put(e, KeyPaths.of(e)));
  }

  boolean hasTopic(String topic) {
    return topicEvents.containsKey(topic);
  }

  boolean matchesSpan(Span span) {
    for (EventSpec e : spanEvents) {
      if (e.span().matches(span)) {
        return true;
      }
    }
    return false;
  }

  /** Whether any of the sightings is of an entry stage (one that may open an instance). */
  boolean opens(List<Sighting> group) {
    for (Sighting s : group) {
      if (entryEvents.contains(s.event.id())) {
        return true;
      }
    }
    return false;
  }

  /** The flow's entry events: those of its stages with nothing before them. */
  Set<String> entryEvents() {
    return java.util.Collections.unmodifiableSet(entryEvents);
  }

  /** Whether any of these events is an entry event of the flow. */
  boolean anyEntry(Set<String> eventIds) {
    for (String id : eventIds) {
      if (entryEvents.contains(id)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Decodes the record's value for each event of its topic, {@code null} for an event that does not
   * {@linkplain EventSpec#select select} it; {@code null} when the topic is not ours.
   */
  List<DecodedPayload> decode(KafkaRecord record) {
    List<EventSpec> events = topicEvents.get(record.topic());
    if (events == null) {
      return null;
    }
    List<DecodedPayload> out = new ArrayList<>(events.size());
    for (EventSpec event : events) {
      DecodedPayload decoded;
      if (record.value() == null) {
        decoded = new DecodedPayload(null, List.of(new SchemaProblem("$", "the record has no value (a tombstone)")));
      } else if (record.value().length > maxPayloadBytes) {
        decoded = new DecodedPayload(null, List.of());
      } else {
        decoded = event.schema().decode(record.value(), record.headers());
      }
      out.add(event.select().isAll() || event.select().selects(decoded.tree(), record.headers()) ? decoded : null);
    }
    return out;
  }

  /** The events the span carries, payloads decoded and validated (empty when none). */
  List<SpanMatch> match(Span span) {
    List<SpanMatch> out = null;
    for (EventSpec event : spanEvents) {
      if (!event.span().matches(span)) {
        continue;
      }
      String attr = event.payload().attribute();
      byte[] payload = spanPayload(event, span);
      DecodedPayload decoded;
      if (payload != null) {
        decoded = event.schema().decode(payload, List.of());
        if (!event.select().isAll() && !event.select().selects(decoded.tree(), List.of())) {
          continue;
        }
      } else if (attr != null && !span.attributes().containsKey(attr)) {
        decoded = new DecodedPayload(null, List.of(new SchemaProblem("$",
            "no payload: the span has no attribute " + attr)));
      } else {
        decoded = new DecodedPayload(null, List.of());
      }
      if (out == null) {
        out = new ArrayList<>(2);
      }
      out.add(new SpanMatch(event, decoded, keysOf(event, decoded.tree())));
    }
    return out == null ? List.of() : out;
  }

  /** The instance keys of each event of the record's topic, given its decoded payloads ({@code null} when not ours). */
  List<Map<String, String>> keys(KafkaRecord record, List<DecodedPayload> decoded) {
    List<EventSpec> events = topicEvents.get(record.topic());
    if (events == null || decoded == null) {
      return null;
    }
    List<Map<String, String>> out = new ArrayList<>(events.size());
    for (int i = 0; i < events.size(); i++) {
      out.add(decoded.get(i) == null ? null : recordKeys(events.get(i), decoded.get(i), record));
    }
    return out;
  }

  /**
   * The sightings a record makes, one per event of its topic that selects it; empty when it is not ours. {@code keys}
   * are those {@link #keys} read, or {@code null} to read them now.
   */
  List<Sighting> sightings(KafkaRecord record, List<DecodedPayload> decoded, List<Map<String, String>> keys,
      TraceContext context, Placement placement) {
    List<EventSpec> events = topicEvents.get(record.topic());
    if (events == null || decoded == null) {
      return List.of();
    }
    if (keys == null) {
      keys = keys(record, decoded);
    }
    List<Sighting> group = new ArrayList<>(events.size());
    for (int i = 0; i < events.size(); i++) {
      EventSpec event = events.get(i);
      DecodedPayload d = decoded.get(i);
      if (d == null) {
        continue;
      }
      group.add(new Sighting(event, record.timestampNanos(), d.tree(), d.problems(), record, null,
          keys.get(i), context, tooLarge(record.value() == null ? 0 : record.value().length), placement));
    }
    return group;
  }

  /** The sightings a span makes, one per event it matched. */
  List<Sighting> sightings(Span span, List<SpanMatch> matches, Placement placement) {
    List<Sighting> group = new ArrayList<>(matches.size());
    for (SpanMatch m : matches) {
      String attr = m.event().payload().attribute();
      Object value = attr == null ? null : span.attributes().get(attr);
      group.add(new Sighting(m.event(), span.startEpochNanos(), m.decoded().tree(), m.decoded().problems(), null, span,
          m.keys(), null, tooLarge(value == null ? 0 : value.toString().length()), placement));
    }
    return group;
  }

  /**
   * Adds to {@code keys} this flow's instance keys the record or span carries (as
   * {@code flow|key=value}) and returns whether it is an event of this flow; in {@code flags[0]}
   * whether one of its events joins its instance by key alone, in {@code flags[1]} whether one is
   * of an entry stage (may open an instance).
   */
  boolean routing(Prepared prepared, int flowIndex, Set<String> keys, boolean[] flags) {
    boolean event = false;
    if (prepared instanceof PreparedRecord r) {
      List<EventSpec> events = topicEvents.get(r.record().topic());
      List<DecodedPayload> decoded = r.decoded(flowIndex);
      if (events == null || decoded == null) {
        return false;
      }
      List<Map<String, String>> eventKeys = r.keys(flowIndex);
      for (int i = 0; i < events.size(); i++) {
        if (decoded.get(i) == null) {
          continue;
        }
        eventKeys.get(i).forEach((k, v) -> keys.add(spec.name() + '|' + k + '=' + v));
        flags[0] |= events.get(i).newTrace() || r.context() == null;
        flags[1] |= entryEvents.contains(events.get(i).id());
        event = true;
      }
    } else {
      for (SpanMatch m : ((PreparedSpan) prepared).matches(flowIndex)) {
        m.keys().forEach((k, v) -> keys.add(spec.name() + '|' + k + '=' + v));
        flags[0] |= m.event().newTrace();
        flags[1] |= entryEvents.contains(m.event().id());
        event = true;
      }
    }
    return event;
  }

  /**
   * Passes to {@code tokens} this flow's instance keys the span or record carries, as {@link
   * #routing} would find them, reading payloads without validating them.
   */
  void keysAhead(io.flowtrace.tracer.model.Telemetry telemetry, Lookahead.Tokens tokens) {
    if (telemetry instanceof io.flowtrace.tracer.model.Telemetry.RecordEvent r) {
      KafkaRecord record = r.record();
      List<EventSpec> events = topicEvents.get(record.topic());
      if (events == null) {
        return;
      }
      byte[] value = record.value();
      for (EventSpec event : events) {
        Map<String, String> found = value == null || value.length > maxPayloadBytes ? Map.of()
            : keysAhead(event, value, record.headers());
        recordKeys(event, found, record).forEach((k, v) -> tokens.key(spec.name(), k, v));
      }
      return;
    }
    Span span = ((io.flowtrace.tracer.model.Telemetry.SpanEvent) telemetry).span();
    for (EventSpec event : spanEvents) {
      if (event.keys().isEmpty() || !event.span().matches(span)) {
        continue;
      }
      byte[] payload = spanPayload(event, span);
      if (payload != null) {
        keysAhead(event, payload, List.of()).forEach((k, v) -> tokens.key(spec.name(), k, v));
      }
    }
  }

  /** The span's payload attribute for the event, as bytes to decode; {@code null} when it has none or it is over the cap. */
  private byte[] spanPayload(EventSpec event, Span span) {
    String attr = event.payload().attribute();
    Object value = attr == null ? null : span.attributes().get(attr);
    if (value == null || value.toString().length() > maxPayloadBytes) {
      return null;
    }
    return value.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** The reason a payload of that size is not decoded, or {@code null} when it is within the cap. */
  private String tooLarge(int bytes) {
    return bytes <= maxPayloadBytes ? null
        : "payload of " + bytes + " bytes is over the " + maxPayloadBytes + "-byte cap (maxPayloadBytes)";
  }

  /**
   * The keys the payload carries for the event, as {@link #keysOf} finds them in its tree: read by
   * the schema without building the tree where it can ({@code PayloadSchema#strings}), else parsed.
   */
  private Map<String, String> keysAhead(EventSpec event, byte[] payload, List<io.flowtrace.tracer.model.RecordHeader> headers) {
    if (event.keys().isEmpty()) {
      return Map.of();
    }
    KeyPaths paths = keyPaths.get(event);
    String[] values = event.schema().strings(payload, paths.segments);
    if (values == null) {
      return keysOf(event, event.schema().parse(payload, headers));
    }
    Map<String, String> keys = new LinkedHashMap<>(4);
    for (int i = 0; i < values.length; i++) {
      if (values[i] != null && !values[i].isEmpty()) {
        keys.put(paths.names.get(i), values[i]);
      }
    }
    return keys;
  }

  /** An event's key paths without array steps (a path through an array names no key: {@link FieldPath#resolve}). */
  private record KeyPaths(List<String> names, List<List<String>> segments) {
    static KeyPaths of(EventSpec event) {
      List<String> names = new ArrayList<>();
      List<List<String>> segments = new ArrayList<>();
      event.keys().forEach((name, path) -> {
        if (!path.hasArray()) {
          names.add(name);
          segments.add(path.segments());
        }
      });
      return new KeyPaths(List.copyOf(names), List.copyOf(segments));
    }
  }

  private static Map<String, String> recordKeys(EventSpec event, DecodedPayload decoded, KafkaRecord record) {
    return recordKeys(event, keysOf(event, decoded.tree()), record);
  }

  private static Map<String, String> recordKeys(EventSpec event, Map<String, String> payloadKeys, KafkaRecord record) {
    Map<String, String> keys = payloadKeys;
    if (event.recordKey() != null && record.key() != null && !record.key().isEmpty()
        && !keys.containsKey(event.recordKey())) {
      keys = new LinkedHashMap<>(keys);
      keys.put(event.recordKey(), record.key());
    }
    return keys;
  }

  private static Map<String, String> keysOf(EventSpec event, JsonNode payload) {
    if (payload == null || event.keys().isEmpty()) {
      return Map.of();
    }
    Map<String, String> keys = new LinkedHashMap<>(4);
    for (Map.Entry<String, FieldPath> k : event.keys().entrySet()) {
      JsonNode v = k.getValue().resolve(payload);
      if (v != null && v.isValueNode() && !v.isNull()) {
        String text = v.asString();
        if (!text.isEmpty()) {
          keys.put(k.getKey(), text);
        }
      }
    }
    return keys;
  }
}
