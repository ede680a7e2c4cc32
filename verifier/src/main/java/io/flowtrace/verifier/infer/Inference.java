package io.flowtrace.verifier.infer;

import static java.util.Objects.requireNonNull;

import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.recording.ReadListener;
import io.flowtrace.verifier.infer.Grouping.Instance;
import io.flowtrace.verifier.replay.ReplayProgress;
import io.flowtrace.verifier.schema.SchemaLoader;
import io.flowtrace.verifier.schema.SchemaRegistryClient;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Drafts flow specs from traffic: {@code flowtrace infer}. Reads a recording, groups its spans
 * and records into instances (by trace, and by business keys shared across traces, so a webhook
 * in a new trace joins its flow), and drafts one spec per kind of instance it finds — stages in
 * causal order with the data-chosen alternatives, keys, JSON Schemas, enrichment, rules that held
 * in every instance, idempotency, budgets and the deadline, each with a comment saying what it
 * rests on.
 *
 * <pre>{@code
 * Inference.Result r = Inference.builder().name("orders").build().infer(Path.of("recording"));
 * r.write(Path.of("flows"));
 * }</pre>
 */
public final class Inference {

  /** Least instances a flow needs to be drafted. */
  public static final int MIN_INSTANCES = 3;

  private final String name;
  private final String entry;
  private final ReadListener problems;
  private final ReplayProgress progress;
  private final SchemaRegistryClient registry;

  private Inference(Builder b) {
    this.name = b.name;
    this.entry = b.entry;
    this.problems = b.problems;
    this.progress = b.progress;
    this.registry = b.registry;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** What {@link #infer} found. */
  public static final class Result {
    private final List<FlowDraft> drafts;
    private final String source;
    private final long spans;
    private final long records;
    private final long problems;
    private final int instances;
    private final int skipped;
    private final Map<String, Traffic.Unread> unreadAvro;
    private List<String> entries = List.of();

    private Result(List<FlowDraft> drafts, String source, Traffic traffic, int instances, int skipped) {
      this.drafts = drafts;
      this.unreadAvro = traffic.unreadAvro;
      this.source = source;
      this.spans = traffic.spans;
      this.records = traffic.records;
      this.problems = traffic.problems;
      this.instances = instances;
      this.skipped = skipped;
    }

    /** Writes every draft under {@code out} ({@code NAME/NAME.flow.yaml} + {@code NAME/schemas/}); returns the spec files. */
    public List<Path> write(Path out) throws IOException {
      List<Path> written = new ArrayList<>();
      for (FlowDraft d : drafts) {
        written.add(SpecWriter.write(d, out, source));
      }
      return written;
    }

    /** The drafted flows' names. */
    public List<String> flows() {
      return drafts.stream().map(d -> d.name).toList();
    }

    /** Each draft's spec text, by flow name. */
    public Map<String, String> specs() {
      Map<String, String> out = new LinkedHashMap<>();
      drafts.forEach(d -> out.put(d.name, SpecWriter.yaml(d, source)));
      return out;
    }

    /** A line per flow: name, instances, stages, rules. */
    public List<String> summary() {
      List<String> out = new ArrayList<>();
      for (FlowDraft d : drafts) {
        out.add(d.name + ": " + d.instances.size() + " instances, " + d.stages.size() + " stages, "
            + d.declaredEvents().size() + " events, keys " + d.keys + ", " + d.enrichment.size() + " enrichment, "
            + d.rules.size() + " rules, " + d.idempotency.size() + " idempotency, " + d.budgets.size()
            + " budgets, deadline " + FlowDraft.duration(d.deadlineMillis * 1_000_000));
        long before = d.notes.stream().filter(n -> n.contains("which came before the entry")).count();
        if (before > 0) {
          out.add(d.name + ": " + before + (before == 1 ? " event" : " events") + " came before the entry in every"
              + " instance and are not declared (the draft's comments name them): choose an entry at or before them"
              + " to verify them too");
        }
      }
      unreadAvro.forEach((topic, u) -> out.add(topic + ": " + u.count + (u.count == 1 ? " Avro payload" : " Avro payloads")
          + " (Confluent wire format, schema " + (u.ids.size() == 1 ? "id " : "ids ")
          + u.ids.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(", ")) + ") not read: "
          + u.why + (u.why.startsWith("no schema registry") ? "; give --schema-registry URL to draft from their fields"
          : "; their fields are not drafted")));
      return out;
    }

    /**
     * When the entry selector matched no event of the recording: the selectors that would match
     * one, most frequent first (topics, then server spans); else empty.
     */
    public List<String> entriesInstead() { return entries; }

    public long spans() { return spans; }
    public long records() { return records; }
    public long problems() { return problems; }
    /** Instances found in all. */
    public int instances() { return instances; }
    /** Instances of kinds too rare to draft a flow from. */
    public int skipped() { return skipped; }
    /** Avro payloads left unread because the schema registry did not answer (down, slow, refusing). */
    public long registryUnavailable() {
      return unreadAvro.values().stream().mapToLong(u -> u.unavailable).sum();
    }
  }

  /** Reads the recording and drafts its flows. */
  public Result infer(Path recording) throws IOException {
    Traffic traffic = Traffic.read(recording, problems, progress,
        registry == null ? null : SchemaLoader.fromRegistry(registry, Set.of()));
    Predicate<EventType> entryChoice = entry == null ? null : selector(entry);
    List<Instance> instances = Grouping.instances(traffic, entryChoice);
    Map<EventType, List<Instance>> byEntry = new LinkedHashMap<>();
    for (Instance i : instances) {
      byEntry.computeIfAbsent(i.entry(), e -> new ArrayList<>()).add(i);
    }
    Map<EventType, List<Occurrence>> records = new HashMap<>();
    for (Occurrence o : traffic.occurrences) {
      if (o.isRecord()) {
        records.computeIfAbsent(o.type(), t -> new ArrayList<>()).add(o);
      }
    }
    List<FlowDraft> drafts = new ArrayList<>();
    int skipped = 0;
    List<Map.Entry<EventType, List<Instance>>> kinds = new ArrayList<>(byEntry.entrySet());
    kinds.sort((a, b) -> Integer.compare(b.getValue().size(), a.getValue().size()));
    for (Map.Entry<EventType, List<Instance>> e : kinds) {
      List<Instance> group = e.getValue();
      long types = group.stream().flatMap(i -> i.occurrences().stream()).map(Occurrence::type).distinct().count();
      if (group.size() < MIN_INSTANCES || types < 2) {
        skipped += group.size();
        continue;
      }
      String flowName = name != null && drafts.isEmpty() ? name
          : name != null ? name + "-" + (drafts.size() + 1) : defaultName(e.getKey(), drafts);
      FlowDraft draft = FlowDraft.of(flowName, e.getKey(), group, records, traffic.consumers, traffic.redelivered);
      draft.avroRegistry = registry == null ? null : registry.url().toString();
      drafts.add(draft);
    }
    Result result = new Result(drafts, recording.getFileName() == null ? recording.toString()
        : recording.getFileName().toString(), traffic, instances.size(), skipped);
    if (entryChoice != null && traffic.occurrences.stream().noneMatch(o -> entryChoice.test(o.type()))) {
      result.entries = selectors(traffic);
    }
    return result;
  }

  /** Every entry selector that matches an event of the traffic: topics, then server spans, most frequent first. */
  private static List<String> selectors(Traffic traffic) {
    Map<String, Integer> count = new HashMap<>();
    for (Occurrence o : traffic.occurrences) {
      EventType t = o.type();
      if (t.isTopic()) {
        count.merge("topic:" + t.topic(), 1, Integer::sum);
      } else if (t.kind() == SpanKind.SERVER) {
        count.merge("span:" + t.service() + ":" + t.name(), 1, Integer::sum);
      }
    }
    List<String> out = new ArrayList<>(count.keySet());
    out.sort(java.util.Comparator.comparing((String x) -> !x.startsWith("topic:"))
        .thenComparing(x -> -count.get(x)).thenComparing(x -> x));
    return out;
  }

  private static String defaultName(EventType entry, List<FlowDraft> drafts) {
    String base = entry.suggestedId().replaceAll("_(request|response)$", "").replace('_', '-');
    String n = base;
    for (int i = 2; contains(drafts, n); i++) {
      n = base + "-" + i;
    }
    return n;
  }

  private static boolean contains(List<FlowDraft> drafts, String name) {
    return drafts.stream().anyMatch(d -> d.name.equals(name));
  }

  /**
   * An entry selector: {@code topic:NAME}, or {@code span:SERVICE} / {@code span:SERVICE:NAME}
   * (a server span of that service, with that name when given).
   */
  static Predicate<EventType> selector(String text) {
    String s = text.trim();
    if (s.startsWith("topic:")) {
      String topic = s.substring(6);
      return t -> topic.equals(t.topic());
    }
    if (s.startsWith("span:")) {
      String[] parts = s.substring(5).split(":", 2);
      return t -> t.kind() == SpanKind.SERVER && parts[0].equals(t.service())
          && (parts.length == 1 || parts[1].equals(t.name()));
    }
    throw new IllegalArgumentException("--entry wants topic:NAME or span:SERVICE[:SPAN NAME], got '" + text + "'");
  }

  /** Configures an {@link Inference}. */
  public static final class Builder {
    private String name;
    private String entry;
    private ReadListener problems = ReadListener.ignoring();
    private ReplayProgress progress = ReplayProgress.NONE;
    private SchemaRegistryClient registry;

    /** The flow's name (with {@code -2}, {@code -3} … for further flows). Defaults to one from the entry event. */
    public Builder name(String name) {
      requireNonNull(name, "name");
      if (!name.matches("[A-Za-z][A-Za-z0-9_-]*")) {
        throw new IllegalArgumentException("a flow name starts with a letter and uses letters, digits, '-' or '_': "
            + name);
      }
      this.name = name.toLowerCase(Locale.ROOT).equals(name) ? name : name;
      return this;
    }

    /** Where instances start: {@code topic:NAME} or {@code span:SERVICE[:NAME]}. Defaults to learning it. */
    public Builder entry(String selector) {
      selector(requireNonNull(selector, "selector"));
      this.entry = selector;
      return this;
    }

    /** Told about every unreadable line (which is skipped). */
    public Builder problems(ReadListener problems) {
      this.problems = requireNonNull(problems, "problems");
      return this;
    }

    /** Told how reading the recording goes. */
    public Builder progress(ReplayProgress progress) {
      this.progress = requireNonNull(progress, "progress");
      return this;
    }

    /**
     * Where Avro payloads in the Confluent wire format find their schemas (by the id each carries):
     * their fields are then drafted from as JSON's are, and their events declared {@code schema:
     * {avro-registry: true, ids: […]}} (replayed with the same registry). Without it they are left unread.
     */
    public Builder schemaRegistry(SchemaRegistryClient registry) {
      this.registry = requireNonNull(registry, "registry");
      return this;
    }

    public Inference build() {
      return new Inference(this);
    }
  }
}
