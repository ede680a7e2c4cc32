package io.flowtrace.verifier.coverage;

import static java.util.Objects.requireNonNull;

import io.flowtrace.tracer.correlation.MessagingAttributes;
import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.spec.EventSpec;
import io.flowtrace.verifier.spec.FlowSpec;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Holds a recording up against flow specs: feed it every span and record ({@link #accept}), then
 * ask for the {@link #report()}. Spans are matched by the events' own {@link
 * io.flowtrace.verifier.spec.SpanMatcher}s, records by {@link FlowSpec#eventsByTopic()}, both then by
 * the events' {@code where}/{@code headers}, exactly as the engine does. Memory grows with the distinct kinds of spans and topics, not with their
 * number (past {@value #MAX_SHAPES} kinds of spans, further kinds are counted but not compared for
 * near misses). Not thread-safe.
 */
public final class Coverage {
  /** Distinct kinds of spans kept to look for near misses. */
  static final int MAX_SHAPES = 5000;

  /** How many near misses are shown per event. */
  static final int MAX_NEAR_MISSES = 3;

  private static final Pattern HTTP_METHOD = Pattern.compile("GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS");
  private record Declared(FlowSpec flow, EventSpec event) {}

  private static final class Count {
    long matched;
    long withPayload;
    /** Matched spans without a parent: each the first of its trace. */
    long roots;
  }

  /** A kind of span: what matchers look at, with one example and how many there were. */
  private static final class SpanShape {
    final Span example;
    long count;

    SpanShape(Span example) {
      this.example = example;
    }
  }

  private final List<FlowSpec> flows;
  private final List<Declared> spanEvents = new ArrayList<>();
  private final Map<String, List<Declared>> topicEvents = new LinkedHashMap<>();
  private final Map<Declared, Count> counts = new LinkedHashMap<>();
  private final Set<String> matcherAttributes = new LinkedHashSet<>();
  private final Map<String, SpanShape> spanShapes = new LinkedHashMap<>();
  private final Map<String, Long> uncoveredSpans = new TreeMap<>();
  private final Map<String, long[]> topics = new TreeMap<>(); // topic -> {records, spans}
  /** Per {@code topic[partition]}, the offsets read so far as ranges {@code from → to} (inclusive). */
  private final Map<String, TreeMap<Long, Long>> offsetsRead = new java.util.HashMap<>();
  /** Per {@code flow|topic|event|event}: records two events of one flow both took. */
  private final Map<String, long[]> sharedRecords = new TreeMap<>();
  private long spans;
  private long records;
  private long readAgain;

  public Coverage(List<FlowSpec> flows) {
    this.flows = List.copyOf(requireNonNull(flows, "flows"));
    for (FlowSpec f : this.flows) {
      for (EventSpec e : f.events()) {
        Declared d = new Declared(f, e);
        counts.put(d, new Count());
        if (e.span() != null) {
          spanEvents.add(d);
          matcherAttributes.addAll(e.span().attributes().keySet());
        }
      }
      f.eventsByTopic().forEach((topic, events) -> events.forEach(e ->
          topicEvents.computeIfAbsent(topic, t -> new ArrayList<>()).add(new Declared(f, e))));
    }
  }

  /** Takes one span or record of the recording. */
  public void accept(Telemetry t) {
    if (t instanceof Telemetry.SpanEvent s) {
      span(s.span());
    } else if (t instanceof Telemetry.RecordEvent r) {
      record(r.record());
    }
  }

  private void span(Span span) {
    spans++;
    boolean covered = false;
    for (Declared d : spanEvents) {
      if (d.event().span().matches(span) && selects(d.event(), span)) {
        covered = true;
        Count c = counts.get(d);
        c.matched++;
        if (span.isRoot()) {
          c.roots++;
        }
        if (d.event().payload().fromRecord() || span.attributes().get(d.event().payload().attribute()) != null) {
          c.withPayload++;
        }
      }
    }
    String topic = MessagingAttributes.topic(span);
    if (topic != null && (span.kind() == SpanKind.PRODUCER || span.kind() == SpanKind.CONSUMER
        || span.attribute("messaging.system") != null)) {
      topics.computeIfAbsent(topic, x -> new long[2])[1]++;
      return; // messaging spans are traffic of their topic
    }
    String shapeKey = shapeKey(span);
    SpanShape shape = spanShapes.get(shapeKey);
    if (shape == null && spanShapes.size() < MAX_SHAPES) {
      shape = new SpanShape(span);
      spanShapes.put(shapeKey, shape);
    }
    if (shape != null) {
      shape.count++;
    }
    if (!covered && (span.kind() == SpanKind.SERVER || span.kind() == SpanKind.CLIENT)) {
      uncoveredSpans.merge(describe(span), 1L, Long::sum);
    }
  }

  private void record(KafkaRecord record) {
    if (!firstRead(record)) {
      readAgain++; // the same record dumped twice: counted once, as replay and infer count it
      return;
    }
    records++;
    topics.computeIfAbsent(record.topic(), x -> new long[2])[0]++;
    FlowSpec taken = null;
    String takenBy = null;
    for (Declared d : topicEvents.getOrDefault(record.topic(), List.of())) {
      if (!d.event().select().isAll() && !d.event().select().selects(tree(d.event(), record), record.headers())) {
        continue;
      }
      Count c = counts.get(d);
      c.matched++;
      c.withPayload++;
      if (d.flow() == taken) {
        sharedRecords.computeIfAbsent(d.flow().name() + "|" + record.topic() + "|" + takenBy + "|" + d.event().id(),
            k -> new long[1])[0]++;
      } else {
        taken = d.flow();
        takenBy = d.event().id();
      }
    }
  }

  /** The record's payload as the event reads it, or {@code null} when it is not readable. */
  private static tools.jackson.databind.JsonNode tree(EventSpec event, KafkaRecord record) {
    try {
      return record.value() == null ? null : event.schema().parse(record.value(), record.headers());
    } catch (RuntimeException unreadable) {
      return null;
    }
  }

  /** Whether the event's {@code where} selects the span's payload. */
  private static boolean selects(EventSpec event, Span span) {
    if (event.select().isAll()) {
      return true;
    }
    Object payload = span.attributes().get(event.payload().attribute());
    tools.jackson.databind.JsonNode tree = null;
    if (payload != null) {
      try {
        tree = event.schema().parse(payload.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8), List.of());
      } catch (RuntimeException unreadable) {
        tree = null;
      }
    }
    return event.select().selects(tree, List.of());
  }

  /**
   * Whether the record's offset in its partition was not read before. Offsets are kept as ranges,
   * so a dump read in offset order costs one range per partition however many records it has.
   */
  private boolean firstRead(KafkaRecord record) {
    TreeMap<Long, Long> ranges = offsetsRead.computeIfAbsent(record.topic() + '[' + record.partition() + ']',
        k -> new TreeMap<>());
    long offset = record.offset();
    Map.Entry<Long, Long> below = ranges.floorEntry(offset);
    if (below != null && below.getValue() >= offset) {
      return false;
    }
    long from = offset;
    long to = offset;
    if (below != null && below.getValue() == offset - 1) {
      from = below.getKey();
    }
    Long next = ranges.get(offset + 1);
    if (next != null) {
      to = next;
      ranges.remove(offset + 1);
    }
    ranges.put(from, to);
    return true;
  }

  /** What span matchers can look at: service, kind, name and the attributes matchers name. */
  private String shapeKey(Span span) {
    StringBuilder sb = new StringBuilder().append(span.service()).append('\u0000').append(span.kind())
        .append('\u0000').append(span.name());
    for (String a : matcherAttributes) {
      sb.append('\u0000').append(span.attribute(a));
    }
    return sb.toString();
  }

  /** {@code gateway SERVER 'POST /api/orders'}; an HTTP client span named by its method alone gets its URL. */
  static String describe(Span span) {
    String name = span.name();
    if (span.kind() == SpanKind.CLIENT && HTTP_METHOD.matcher(name).matches()) {
      String url = span.firstAttribute("url.full", "http.url");
      if (url != null) {
        name = name + " " + generic(url);
      }
    }
    return span.service() + " " + span.kind() + " '" + name + "'";
  }

  /** A URL without its query, with id-like path segments as {@code {id}}. */
  private static String generic(String url) {
    int query = url.indexOf('?');
    String u = query >= 0 ? url.substring(0, query) : url;
    return io.flowtrace.verifier.text.UrlPaths.generic(u, 3);
  }

  /** What the recording showed. */
  public CoverageReport report() {
    List<CoverageReport.FlowCoverage> flowReports = new ArrayList<>();
    for (FlowSpec f : flows) {
      List<CoverageReport.EventCoverage> events = new ArrayList<>();
      for (EventSpec e : f.events()) {
        Count c = counts.get(new Declared(f, e));
        List<String> near = c.matched > 0 ? List.of() : nearMisses(e);
        events.add(new CoverageReport.EventCoverage(e.id(), e.describeSource(), e.isTopic(), c.matched,
            e.isTopic() || e.payload().fromRecord() ? null : e.payload().attribute(),
            c.matched - c.withPayload, near));
      }
      flowReports.add(new CoverageReport.FlowCoverage(f.name(), String.valueOf(f.source()), events));
    }
    List<CoverageReport.Traffic> uncovered = new ArrayList<>();
    uncoveredSpans.forEach((what, n) -> uncovered.add(new CoverageReport.Traffic(what, n, 0)));
    topics.forEach((topic, n) -> {
      if (!topicEvents.containsKey(topic)) {
        uncovered.add(new CoverageReport.Traffic("topic " + topic, n[1], n[0]));
      }
    });
    uncovered.sort(Comparator.comparingLong((CoverageReport.Traffic t) -> t.spans() + t.records()).reversed());
    List<String> notes = new ArrayList<>();
    for (Declared d : spanEvents) {
      Count c = counts.get(d);
      boolean entry = d.flow().stage(d.event().stageId()).after().isEmpty();
      if (!entry && !d.event().newTrace() && c.matched > 0 && c.roots == c.matched) {
        notes.add(d.flow().name() + ": every span " + d.event().id() + " matched (" + CoverageReport.count(c.matched, "span")
            + ") starts a trace of its own, as a call from outside does (a webhook): declare it `trace: new`, or"
            + " verification reads each as a hop that lost the trace context");
      }
    }
    topicEvents.forEach((topic, declared) -> {
      Set<FlowSpec> claiming = new LinkedHashSet<>();
      declared.forEach(d -> claiming.add(d.flow()));
      if (claiming.size() > 1) {
        List<String> events = declared.stream().map(d -> d.flow().name() + ": " + d.event().id()
            + (byTraceAlone(d.event()) ? " by trace alone" : "")).toList();
        long byKey = declared.stream().filter(d -> !byTraceAlone(d.event())).count();
        notes.add("topic " + topic + " is an event of " + claiming.size() + " flows (" + String.join(", ", events)
            + "): each of its records is verified in every one of them" + (byKey < 2 ? ""
            : " — meant, if one flow's end starts another; if each record is one flow's but carries another's"
            + " key too (a cancellation's release names its booking), declare the event `keys: {}` in the flows it"
            + " is not of: it then joins their instances by trace alone, not every instance of its key"));
      }
    });
    sharedRecords.forEach((key, n) -> {
      String[] k = key.split("\\|", 4);
      notes.add(k[0] + ": " + CoverageReport.count(n[0], "record") + " of topic " + k[1] + (n[0] == 1 ? " is" : " are") + " both " + k[2] + " and "
          + k[3] + ", so each stands for both events (one seen twice): where the topic carries several kinds of"
          + " record, give each event a `where: {field: value}` (or `headers:`) that selects its own");
    });
    return new CoverageReport(spans, records, readAgain, flowReports, uncovered, notes);
  }

  /** Whether an event joins its instance through its trace alone ({@code keys: {}}). */
  private static boolean byTraceAlone(EventSpec e) {
    return e.keys().isEmpty() && e.recordKey() == null;
  }

  private List<String> nearMisses(EventSpec e) {
    record Near(String text, long count) {}
    List<Near> near = new ArrayList<>();
    if (e.isTopic()) {
      topics.forEach((topic, n) -> {
        String why = NearMisses.topic(e.topic(), topic);
        if (why != null) {
          near.add(new Near("topic " + topic + " (" + CoverageReport.count(n[0], "record") + "): " + why, n[0]));
        }
      });
    } else {
      Map<String, Long> byText = new LinkedHashMap<>();
      for (SpanShape s : spanShapes.values()) {
        String why = NearMisses.span(e.span(), s.example);
        if (why != null) {
          byText.merge(describe(s.example) + "\u0000" + why, s.count, Long::sum);
        }
      }
      byText.forEach((text, n) -> {
        String[] parts = text.split("\u0000", 2);
        near.add(new Near(parts[0] + " (" + CoverageReport.count(n, "span") + "): " + parts[1], n));
      });
    }
    near.sort(Comparator.comparingLong(Near::count).reversed());
    return near.stream().limit(MAX_NEAR_MISSES).map(Near::text).toList();
  }
}
