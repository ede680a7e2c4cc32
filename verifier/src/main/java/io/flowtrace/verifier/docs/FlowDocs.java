package io.flowtrace.verifier.docs;

import io.flowtrace.verifier.report.TimelineEntry;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictListener;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.BudgetSpec;
import io.flowtrace.verifier.spec.EnrichmentSpec;
import io.flowtrace.verifier.spec.EventSpec;
import io.flowtrace.verifier.spec.FieldPath;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.RuleSpec;
import io.flowtrace.verifier.spec.StageSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import io.flowtrace.verifier.internal.Texts;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * Living integration documentation: one Markdown file per flow and an {@code index.md}, from the
 * flow specs and — fed verdicts of a recording as a {@link VerdictListener} — what was observed:
 * which services produce and consume each topic, latency per hop against its budget, example
 * payloads, the fields each event adds, carries and transforms.
 *
 * <p>Deterministic: the same specs and the same recording give the same bytes (sorted maps, fixed
 * number formats, examples chosen by instance start and key, never by arrival, no "generated at"),
 * so a team can commit the output and review its diff.
 */
public final class FlowDocs implements VerdictListener {
  private static final JsonMapper PRETTY = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
  /** Field paths kept per event (an unbounded payload must not grow the docs without bound). */
  private static final int MAX_PATHS = 400;

  private final List<FlowSpec> specs;
  private final Map<String, Observed> observed = new TreeMap<>();
  private String source = "";

  public FlowDocs(List<FlowSpec> specs) {
    this.specs = specs.stream().sorted((a, b) -> a.name().compareTo(b.name())).toList();
    for (FlowSpec f : this.specs) {
      observed.put(f.name(), new Observed());
    }
  }

  /** What the documentation says it was made from, e.g. the recording's name (no path, no time). */
  public FlowDocs source(String description) {
    this.source = description == null ? "" : description;
    return this;
  }

  /** What was seen of one flow in the recording. */
  private static final class Observed {
    long instances;
    final Map<VerdictStatus, Long> byStatus = new TreeMap<>();
    final Map<String, Long> stagesTaken = new TreeMap<>();
    /** Stages the data chose but that were not observed themselves (their spans sampled out). */
    final Map<String, Long> stagesTakenUnobserved = new TreeMap<>();
    /**
     * stage → {passed instances in which it happened more than once (an event of it observed again,
     * not an attempt made again), the most times}: a step the flow repeats (documents asked for
     * again, a webhook delivered again and handled once) — not a defect's duplicate.
     */
    final Map<String, long[]> repeated = new TreeMap<>();
    /** event → the events seen with it in one instance: where none was, two events are of paths apart. */
    final Map<String, Set<String>> together = new java.util.HashMap<>();
    /** stage → passed instances that reached it (of which {@link #repeated} counts). */
    final Map<String, Long> stagesTakenPassed = new TreeMap<>();
    /** {@code stage + '\0' + conditional stage after it} → instances that reached both (observed, unobserved). */
    final Map<String, long[]> takenAfter = new TreeMap<>();
    /** event → services that produced or handled it. */
    final Map<String, Set<String>> services = new TreeMap<>();
    /** event → services that consumed its record. */
    final Map<String, Set<String>> consumers = new TreeMap<>();
    /** event → external hosts (url.full of CLIENT spans). */
    final Map<String, Set<String>> hosts = new TreeMap<>();
    /** "from → to" event hop → latencies (ns). */
    final Map<String, Samples> hops = new TreeMap<>();
    /** topic → broker dwell (record time → first consumer start, ns). */
    final Map<String, Samples> dwell = new TreeMap<>();
    /** topic → records whose dwell is not measured: the consumer's clock was corrected against, or reads behind, the record's. */
    final Map<String, Long> dwellUnmeasured = new TreeMap<>();
    /** hop → instances whose later event reads before the earlier one: clocks apart by more than they proved. */
    final Map<String, Long> hopsUnmeasured = new TreeMap<>();
    /** hop → instances whose later event came, on the same service's clock, while the earlier's span ran. */
    final Map<String, Long> hopsOverlapped = new TreeMap<>();
    /** "A behind B" → how far the data proved A's clock off B's. */
    final Map<String, Skew> skews = new TreeMap<>();
    /** budget index → observed from→to latencies. */
    final Map<Integer, Samples> budgets = new TreeMap<>();
    /** budget ({@code from → to}) → instances whose time between is not measured (as {@link #hopsUnmeasured}). */
    final Map<String, Long> budgetsUnmeasured = new TreeMap<>();
    /** event → field paths seen in its payloads. */
    final Map<String, Set<String>> paths = new TreeMap<>();
    /** event → example payload (of the passed instance that started first). */
    final Map<String, Example> examples = new TreeMap<>();
    /** The passed instance with the most distinct events (then the earliest): the examples' main source. */
    Map<String, Example> main = Map.of();
    int mainEvents = -1;
  }

  private record Example(long start, String key, JsonNode payload) {
    boolean before(Example o) {
      return o == null || start < o.start || (start == o.start && key.compareTo(o.key) < 0);
    }
  }

  /** A growable array of nanosecond samples; percentiles by nearest rank (order-independent). */
  private static final class Samples {
    long[] v = new long[16];
    int n;

    void add(long x) {
      if (n == v.length) {
        v = Arrays.copyOf(v, n * 2);
      }
      v[n++] = x;
    }

    long pct(double p) {
      long[] s = Arrays.copyOf(v, n);
      Arrays.sort(s);
      int rank = (int) Math.ceil(p / 100.0 * n);
      return s[Math.max(0, Math.min(n - 1, rank - 1))];
    }
  }

  @Override
  public synchronized void finalized(Verdict v) {
    Observed o = observed.get(v.flow());
    FlowSpec spec = spec(v.flow());
    if (o == null || spec == null) {
      return;
    }
    o.instances++;
    o.byStatus.merge(v.status(), 1L, Long::sum);
    Map<String, TimelineEntry> first = new LinkedHashMap<>();
    Set<String> stages = new TreeSet<>();
    for (TimelineEntry t : v.timeline()) {
      stages.add(t.stage());
      if (retried(t)) {
        continue; // an attempt made again (a 503): its error body and time are not the event's
      }
      first.putIfAbsent(t.event(), t);
      TimelineEntry.Detail d = t.detail();
      if (d == null) {
        continue;
      }
      if (d.service() != null) {
        o.services.computeIfAbsent(t.event(), e -> new TreeSet<>()).add(d.service());
      }
      for (TimelineEntry.Consumer c : d.consumers()) {
        if (c.service() != null) {
          o.consumers.computeIfAbsent(t.event(), e -> new TreeSet<>()).add(c.service());
        }
      }
      if (d.topic() != null && !d.consumers().isEmpty()) {
        TimelineEntry.Consumer c = d.consumers().get(0);
        long dwell = c.offsetNanos() - d.recordOffsetNanos();
        Samples samples = o.dwell.computeIfAbsent(d.topic(), k -> new Samples());
        if (c.dwellEstimated() || dwell < 0) {
          o.dwellUnmeasured.merge(d.topic(), 1L, Long::sum);
        } else {
          samples.add(dwell);
        }
      }
      {
        String host = d.calledHost();
        if (host != null) {
          o.hosts.computeIfAbsent(t.event(), e -> new TreeSet<>()).add(host);
        }
      }
      if (d.payload() != null) {
        Set<String> paths = o.paths.computeIfAbsent(t.event(), e -> new TreeSet<>());
        collectPaths(d.payload(), "", paths);
      }
    }
    stages.forEach(s -> o.stagesTaken.merge(s, 1L, Long::sum));
    for (String a : first.keySet()) {
      o.together.computeIfAbsent(a, k -> new TreeSet<>()).addAll(first.keySet());
    }
    if (v.status() == VerdictStatus.PASSED) {
      stages.forEach(s -> o.stagesTakenPassed.merge(s, 1L, Long::sum));
    }
    Map<String, Integer> times = new java.util.HashMap<>();
    for (TimelineEntry t : v.timeline()) {
      if (!retried(t)) {
        times.merge(t.event(), 1, Integer::sum);
      }
    }
    for (StageSpec t : spec.stages()) {
      int most = 0;
      for (EventSpec e : t.events()) {
        most = Math.max(most, times.getOrDefault(e.id(), 0));
      }
      if (most > 1 && v.status() == VerdictStatus.PASSED) {
        long[] r = o.repeated.computeIfAbsent(t.id(), k -> new long[2]);
        r[0]++;
        r[1] = Math.max(r[1], most);
      }
    }
    Set<String> unobserved = new TreeSet<>();
    v.unverified().stream().filter(u -> u.check().equals("stage") && !stages.contains(u.stage()))
        .forEach(u -> unobserved.add(u.stage()));
    unobserved.forEach(s -> o.stagesTakenUnobserved.merge(s, 1L, Long::sum));
    for (StageSpec t : spec.stages()) {
      boolean seen = stages.contains(t.id());
      if (t.when() == null && !t.optional() && t.choice() == null || !seen && !unobserved.contains(t.id())) {
        continue;
      }
      for (String p : t.after()) {
        if (stages.contains(p) || unobserved.contains(p)) {
          o.takenAfter.computeIfAbsent(p + '\0' + t.id(), k -> new long[2])[seen ? 0 : 1]++;
        }
      }
    }
    // hops along the flow's declared edges (first occurrences; a response at its span's end, so
    // request → response is the call's time, not 0): a stage's events in order, and each stage's
    // last event to the first of a stage after it. Consecutive in time, the two sides of a fan-out
    // were paired with each other, and an edge got only the few instances where it came next.
    for (StageSpec s : spec.stages()) {
      List<EventSpec> events = s.events();
      for (int i = 1; i < events.size(); i++) {
        hop(spec, o, v, first, events.get(i - 1).id(), events.get(i).id(), false);
      }
      // of several stages it may follow, from the one it followed here, the latest to come: a notice
      // after a denial or after a payout is measured from the denial only where no payout came
      String latest = null;
      long latestAt = Long.MIN_VALUE;
      for (String p : s.after()) {
        StageSpec before = spec.stage(p);
        TimelineEntry last = before == null || before.events().isEmpty() ? null
            : first.get(before.events().get(before.events().size() - 1).id());
        if (last != null && when(spec, last) > latestAt) {
          latest = p;
          latestAt = when(spec, last);
        }
      }
      for (String p : s.after()) {
        StageSpec before = spec.stage(p);
        if (before != null && !before.events().isEmpty() && !events.isEmpty() && (latest == null || p.equals(latest))) {
          hop(spec, o, v, first, before.events().get(before.events().size() - 1).id(), events.get(0).id(), s.fanIn());
        }
      }
    }
    for (String note : v.notes()) {
      Matcher m = SKEW_NOTE.matcher(note);
      if (m.lookingAt()) {
        // one line per pair of hosts, whichever way round an instance's note put them
        boolean flip = m.group(1).compareTo(m.group(4)) > 0;
        String pair = flip ? m.group(4) + " " + (m.group(3).equals("behind") ? "ahead of" : "behind") + " " + m.group(1)
            : m.group(1) + " " + m.group(3) + " " + m.group(4);
        Skew skew = o.skews.computeIfAbsent(pair, k -> new Skew());
        skew.instances++;
        skew.amounts.add(m.group(2));
      }
    }
    for (int i = 0; i < spec.budgets().size(); i++) {
      BudgetSpec b = spec.budgets().get(i);
      TimelineEntry to = firstOf(spec, v, b.to());
      TimelineEntry from = to == null ? null : lastBefore(spec, v, b.from(), to.offsetNanos());
      if (from != null && to != null) {
        Samples samples = o.budgets.computeIfAbsent(i, k -> new Samples());
        if (measured(v, from, to, to.offsetNanos() - from.offsetNanos())) {
          samples.add(to.offsetNanos() - from.offsetNanos());
        } else {
          o.budgetsUnmeasured.merge(b.from() + " → " + b.to(), 1L, Long::sum);
        }
      }
    }
    if (v.status() == VerdictStatus.PASSED) {
      String key = v.instanceKey();
      Map<String, Example> mine = new TreeMap<>();
      for (TimelineEntry t : first.values()) {
        if (t.detail() != null && t.detail().payload() != null) {
          mine.put(t.event(), new Example(v.startEpochNanos(), key, t.detail().payload()));
        }
      }
      Example head = mine.isEmpty() ? null : mine.values().iterator().next();
      Example best = o.main.isEmpty() ? null : o.main.values().iterator().next();
      if (head != null && (mine.size() > o.mainEvents || (mine.size() == o.mainEvents && head.before(best)))) {
        o.main = mine;
        o.mainEvents = mine.size();
      }
      for (TimelineEntry t : first.values()) {
        if (t.detail() != null && t.detail().payload() != null) {
          Example e = new Example(v.startEpochNanos(), key, t.detail().payload());
          if (e.before(o.examples.get(t.event()))) {
            o.examples.put(t.event(), e);
          }
        }
      }
    }
  }

  /** The example of an event: from the main example instance, else from the earliest passed one that has it. */
  private static Example example(Observed o, String event) {
    Example m = o.main.get(event);
    return m != null ? m : o.examples.get(event);
  }

  /**
   * Samples the hop between the first occurrences of two events; {@code fromLatest}: from the latest
   * occurrence of {@code from} up to the first of {@code to} (a {@code fanIn} stage waits for the
   * last item, so its hop is the aggregator's time, not the other items' inspection time).
   */
  private static void hop(FlowSpec spec, Observed o, Verdict v, Map<String, TimelineEntry> first,
      String from, String to, boolean fromLatest) {
    List<TimelineEntry> timeline = v.timeline();
    TimelineEntry a = first.get(from);
    TimelineEntry b = first.get(to);
    if (fromLatest && a != null && b != null) {
      for (TimelineEntry t : timeline) {
        if (t.event().equals(from) && !retried(t) && when(spec, t) <= when(spec, b) && when(spec, t) > when(spec, a)) {
          a = t;
        }
      }
    } else if (a != null && b != null && b.traceId() != null && !b.traceId().equals(a.traceId())) {
      // a repeated step (a bank's second callback, in a trace of its own): from the occurrence in
      // the same trace, not from the first callback minutes before
      TimelineEntry inB = null;
      for (TimelineEntry t : timeline) {
        if (t.event().equals(from) && b.traceId().equals(t.traceId()) && when(spec, t) <= when(spec, b)) {
          inB = t;
        }
      }
      // else, the first observed being a later occurrence (its trace's spans sampled, the first's
      // not): to the occurrence in its trace, not to the first one's record seconds before
      TimelineEntry inA = null;
      for (TimelineEntry t : timeline) {
        if (inB == null && a.traceId() != null && inA == null && t.event().equals(to)
            && a.traceId().equals(t.traceId()) && when(spec, t) >= when(spec, a)) {
          inA = t;
        }
      }
      if (inB != null) {
        a = inB;
      } else if (inA != null) {
        b = inA;
      } else if (!newTrace(spec, to) && (occurrences(timeline, from) > 1 || occurrences(timeline, to) > 1
          || newTrace(spec, from))) {
        // an event and what follows it in its trace, in traces apart: occurrences of a repeated
        // step, or of an event that begins a trace of its own per occurrence (a webhook redelivered,
        // its first delivery's trace not sampled): which answers which is not known
        return;
      }
    }
    if (a != null && b != null) {
      Samples samples = o.hops.computeIfAbsent(from + " → " + to, k -> new Samples());
      long gap = when(spec, b) - when(spec, a);
      if (measured(v, a, b, gap)) {
        samples.add(gap);
      } else if (gap < 0 && oneService(a, b) && when(spec, a) != a.offsetNanos() && b.offsetNanos() >= a.offsetNanos()) {
        // one clock, and the later event within the earlier's span: a record published before the
        // response that ends its call, no skew
        o.hopsOverlapped.merge(from + " → " + to, 1L, Long::sum);
      } else {
        // two hosts' clocks further apart than the instance proved, or corrected to the bound it
        // proved: the order is known, the time between is not (counted as 0 ms, a 30 ms hop read p50 0.0 ms)
        o.hopsUnmeasured.merge(from + " → " + to, 1L, Long::sum);
      }
    }
  }

  private static boolean newTrace(FlowSpec spec, String event) {
    EventSpec e = spec.event(event);
    return e != null && e.newTrace();
  }

  private static int occurrences(List<TimelineEntry> timeline, String event) {
    int n = 0;
    for (TimelineEntry t : timeline) {
      n += t.event().equals(event) && !retried(t) ? 1 : 0;
    }
    return n;
  }

  /**
   * Whether the time between two events is measured: not where the later reads before the earlier,
   * nor at none at all where the engine corrected a clock — moved the later event up to the earlier,
   * by the skew the instance proved or, where nothing relates the two clocks (a trace sampled out:
   * records alone), by the declared order (a rejection's notification read 50 ms early).
   */
  private static boolean measured(Verdict v, TimelineEntry a, TimelineEntry b, long gap) {
    boolean corrected = gap == 0 && a != b
        && (!sameClock(a, b) || v.notes().stream().anyMatch(n -> SKEW_NOTE.matcher(n).find()));
    return gap > 0 || gap == 0 && !corrected;
  }

  /**
   * Whether two events' times were read on one clock: one service's spans, or records whose producer
   * span was not seen of one topic (a record is stamped on its producer's clock).
   */
  private static boolean sameClock(TimelineEntry a, TimelineEntry b) {
    if (a.detail() == null || b.detail() == null) {
      return true;
    }
    String ca = a.detail().service() != null ? a.detail().service() : "?" + a.detail().topic();
    String cb = b.detail().service() != null ? b.detail().service() : "?" + b.detail().topic();
    return ca.equals(cb);
  }

  /** Whether both events are one service's (spans, or records whose producer span was seen): read on one clock. */
  private static boolean oneService(TimelineEntry a, TimelineEntry b) {
    return a.detail() != null && b.detail() != null && a.detail().service() != null
        && a.detail().service().equals(b.detail().service());
  }

  /** When an event happened, for the hops between events: a response event at its span's end. */
  private static long when(FlowSpec spec, TimelineEntry t) {
    EventSpec e = spec.event(t.event());
    return e != null && isResponse(e) && t.detail() != null ? t.offsetNanos() + t.detail().durationNanos() : t.offsetNanos();
  }

  /** The engine's note on a clock it corrected: {@code clock skew: A reads at least 45 ms behind B (…}. */
  private static final Pattern SKEW_NOTE =
      Pattern.compile("clock skew: (.+?) reads (.+?) (behind|ahead of) (.+?) \\(");

  private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?) (ms|s)");

  /**
   * One amount for the skew the instances proved: the strongest lower bound ({@code at least 58 ms})
   * when each instance proved only one, else the span of what they proved ({@code 40 ms … 52 ms}).
   */
  private static String skewAmount(Set<String> amounts) {
    boolean lowerBounds = amounts.stream().allMatch(a -> a.startsWith("at least "));
    long low = Long.MAX_VALUE;
    long high = Long.MIN_VALUE;
    for (String a : amounts) {
      Matcher m = DURATION.matcher(a);
      while (m.find()) {
        long nanos = Math.round(Double.parseDouble(m.group(1)) * (m.group(2).equals("s") ? 1e9 : 1e6));
        low = Math.min(low, nanos);
        high = Math.max(high, nanos);
      }
    }
    if (low == Long.MAX_VALUE) {
      return String.join(", ", amounts);
    }
    if (lowerBounds) {
      return "at least " + Texts.duration(high);
    }
    return low == high ? Texts.duration(low) : Texts.duration(low) + " … " + Texts.duration(high);
  }

  /** What the engine proved of one host's clock against another's, over the instances that showed it. */
  private static final class Skew {
    long instances;
    /** How far, as the notes said it ({@code at least 45 ms}, {@code 40–50 ms}), each once. */
    final Set<String> amounts = new LinkedHashSet<>();
  }

  private static boolean retried(TimelineEntry t) {
    return t.detail() != null && t.detail().retried() != null;
  }

  /** Offset of the first occurrence of an event, or of any event of a stage (an attempt made again aside). */
  /** Where a budget starts, as the check measures it: the last occurrence of its event at or before {@code end}. */
  private static TimelineEntry lastBefore(FlowSpec spec, Verdict v, String id, long end) {
    if (spec.stage(id) != null) {
      return firstOf(spec, v, id);
    }
    TimelineEntry best = null;
    for (TimelineEntry t : v.timeline()) {
      if (!retried(t) && t.event().equals(id) && t.offsetNanos() <= end
          && (best == null || t.offsetNanos() >= best.offsetNanos())) {
        best = t;
      }
    }
    return best != null ? best : firstOf(spec, v, id);
  }

  private static TimelineEntry firstOf(FlowSpec spec, Verdict v, String id) {
    boolean stage = spec.stage(id) != null;
    TimelineEntry best = null;
    for (TimelineEntry t : v.timeline()) {
      if (!retried(t) && (stage ? t.stage().equals(id) : t.event().equals(id))
          && (best == null || t.offsetNanos() < best.offsetNanos())) {
        best = t;
      }
    }
    return best;
  }

  private static void collectPaths(JsonNode node, String prefix, Set<String> out) {
    if (out.size() >= MAX_PATHS) {
      return;
    }
    if (node.isObject()) {
      for (Map.Entry<String, JsonNode> e : node.properties()) {
        String p = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
        out.add(p);
        collectPaths(e.getValue(), p, out);
      }
    } else if (node.isArray()) {
      for (JsonNode el : node) {
        collectPaths(el, prefix + "[]", out);
      }
    }
  }

  private FlowSpec spec(String name) {
    for (FlowSpec f : specs) {
      if (f.name().equals(name)) {
        return f;
      }
    }
    return null;
  }

  /** Writes {@code index.md} and one {@code <flow>.md} per flow into {@code dir}. */
  public synchronized void write(Path dir) throws IOException {
    Files.createDirectories(dir);
    for (FlowSpec f : specs) {
      Files.writeString(dir.resolve(f.name() + ".md"), flow(f), StandardCharsets.UTF_8);
    }
    Files.writeString(dir.resolve("index.md"), index(), StandardCharsets.UTF_8);
  }

  /** The pages {@link #write} writes, without {@code .md}: {@code index} and each flow's name. */
  public List<String> pages() {
    List<String> pages = new ArrayList<>(List.of("index"));
    specs.forEach(f -> pages.add(f.name()));
    return pages;
  }

  /** {@code index.md}: every flow, with what was observed of it. */
  public synchronized String index() {
    StringBuilder sb = new StringBuilder("# Flows\n\n");
    sb.append("Integration documentation generated by `flowtrace docs` from the flow specs")
        .append(source.isEmpty() ? "" : " and " + source).append(". Do not edit: regenerate.\n\n");
    sb.append("| flow | stages | keys | instances observed | passed | failed | incomplete |\n");
    sb.append("|---|---|---|---|---|---|---|\n");
    for (FlowSpec f : specs) {
      Observed o = observed.get(f.name());
      sb.append("| [").append(md(f.name())).append("](").append(f.name()).append(".md) | ").append(f.stages().size())
          .append(" | ").append(md(String.join(", ", f.keys()))).append(" | ").append(o.instances).append(" | ")
          .append(o.byStatus.getOrDefault(VerdictStatus.PASSED, 0L)).append(" | ")
          .append(o.byStatus.getOrDefault(VerdictStatus.FAILED, 0L)).append(" | ")
          .append(o.byStatus.getOrDefault(VerdictStatus.INCOMPLETE, 0L)).append(" |\n");
    }
    for (FlowSpec f : specs) {
      if (f.description() != null && !f.description().isBlank()) {
        sb.append("\n**").append(md(f.name())).append("**: ").append(md(f.description().strip())).append('\n');
      }
    }
    return sb.toString();
  }

  /** One flow's page. */
  public synchronized String flow(FlowSpec f) {
    Observed o = observed.get(f.name());
    boolean seen = o.instances > 0;
    StringBuilder sb = new StringBuilder();
    sb.append("# ").append(md(f.name())).append("\n\n");
    if (f.description() != null && !f.description().isBlank()) {
      sb.append(md(f.description().strip())).append("\n\n");
    }
    sb.append("Keys: ").append(md(String.join(", ", f.keys()))).append(" · deadline ").append(dur(f.deadline().toNanos()))
        .append(" · spec `").append(specFile(f)).append("`\n\n");
    if (seen) {
      sb.append("Observed: ").append(o.instances).append(" instances (").append(source.isEmpty() ? "recording" : source)
          .append("): ").append(o.byStatus.getOrDefault(VerdictStatus.PASSED, 0L)).append(" passed, ")
          .append(o.byStatus.getOrDefault(VerdictStatus.FAILED, 0L)).append(" failed, ")
          .append(o.byStatus.getOrDefault(VerdictStatus.INCOMPLETE, 0L)).append(" incomplete.\n\n");
    } else {
      sb.append("Nothing observed: generated from the spec alone (give a recording to see services, latencies and"
          + " examples).\n\n");
    }
    stageTable(sb, f, o);
    dataFlow(sb, f, o);
    dependencyMap(sb, f, o);
    lineage(sb, f, o);
    latency(sb, f, o);
    failurePaths(sb, f, o);
    examples(sb, f, o);
    return sb.toString();
  }

  // ---- sections --------------------------------------------------------------------------------

  private void stageTable(StringBuilder sb, FlowSpec f, Observed o) {
    sb.append("## Stages\n\n");
    sb.append("| stage | event | service | input | transformation / enrichment | output | schema |\n");
    sb.append("|---|---|---|---|---|---|---|\n");
    EventSpec previous = null;
    for (StageSpec s : f.stages()) {
      boolean firstOfStage = true;
      for (EventSpec e : s.events()) {
        String stage = firstOfStage ? "**" + md(s.id()) + "**" + (s.terminal() ? " (terminal)" : "")
            + (s.optional() ? " (optional)" : "") + (s.choice() != null ? " (one way of choice " + md(s.choice()) + ")" : "")
            + (s.fanIn() ? " (after every item)" : "")
            + (s.when() != null ? "<br>when `" + code(s.when().oneLine()) + "`" : "") : "";
        firstOfStage = false;
        sb.append("| ").append(stage).append(" | `").append(e.id()).append("` | ").append(md(service(e, o)))
            .append(" | ").append(md(input(f, s, e, previous, o))).append(" | ").append(transformation(f, e))
            .append(" | ").append(md(output(e))).append(" | ").append(md(schema(f, e))).append(" |\n");
        previous = e;
      }
    }
    sb.append('\n');
  }

  /** {@code POST /api/orders}, or {@code HTTP CLIENT span, http.response.body} for a span without a name. */
  private static String spanLabel(EventSpec e) {
    if (e.span().name() != null) {
      return e.span().name().toString().replace("'", "");
    }
    return (e.span().kind() == null ? "" : e.span().kind().name() + " ") + "span"
        + (e.payload() != null && e.payload().attribute() != null ? ", " + e.payload().attribute() : "");
  }

  private static String service(EventSpec e, Observed o) {
    Set<String> seen = o.services.getOrDefault(e.id(), Set.of());
    if (!e.isTopic()) {
      String declared = e.span().service();
      Set<String> all = new TreeSet<>(seen);
      if (declared != null) {
        all.add(declared);
      }
      return all.isEmpty() ? "?" : String.join(", ", all);
    }
    return seen.isEmpty() ? "(producer not observed)" : String.join(", ", seen);
  }

  private static String input(FlowSpec f, StageSpec s, EventSpec e, EventSpec previous, Observed o) {
    if (!e.isTopic()) {
      if (e.span().kind() != null && e.span().kind().name().equals("SERVER")) {
        return (e.newTrace() ? "external caller (new trace): " : "caller: ") + spanLabel(e) + " request";
      }
      if (isResponse(e)) {
        Set<String> hosts = o.hosts.getOrDefault(e.id(), Set.of());
        return "response of " + (hosts.isEmpty() ? "the called service" : String.join(", ", hosts));
      }
    }
    // the nearest earlier event the producing service received: a topic it consumed, or its own span
    Set<String> producers = new TreeSet<>(o.services.getOrDefault(e.id(), Set.of()));
    if (!e.isTopic() && e.span().service() != null) {
      producers.add(e.span().service());
    }
    Set<String> inputs = new java.util.LinkedHashSet<>();
    inputsOf(f, s, s.events().indexOf(e), producers, o, inputs, new java.util.HashSet<>());
    // after a join (its predecessors all due, none by a condition) every input is needed
    boolean join = s.after().size() > 1 && s.after().stream().map(f::stage)
        .allMatch(p -> p != null && p.when() == null);
    if (!inputs.isEmpty()) {
      return String.join(join ? " and " : " or ", inputs);
    }
    if (producers.isEmpty() && s.events().indexOf(e) == 0 && !s.after().isEmpty()) {
      // its producer not observed: what it follows, not the event written above it (a cancellation
      // after the last dunning retry, not the charge of another path)
      Set<String> last = new java.util.LinkedHashSet<>();
      for (String a : s.after()) {
        StageSpec ps = f.stage(a);
        if (ps != null && !ps.events().isEmpty()) {
          last.add("`" + ps.events().get(ps.events().size() - 1).id() + "`");
        }
      }
      if (!last.isEmpty()) {
        return String.join(join ? " and " : " or ", last);
      }
    }
    return previous == null ? "—" : "`" + previous.id() + "`";
  }

  /** Whether a span event is a response: its payload is read from a response attribute. */
  private static boolean isResponse(EventSpec e) {
    return e.readsResponse();
  }

  /**
   * Whether a span event is something its service received: a server's request or a client's
   * response, not the response it sent its caller nor the request it sent out.
   */
  private static boolean inbound(EventSpec e) {
    boolean response = isResponse(e);
    String kind = e.span().kind() == null ? "" : e.span().kind().name();
    return switch (kind) {
      case "SERVER" -> !response;
      case "CLIENT" -> response;
      default -> true;
    };
  }

  /** Walks back from event {@code before} of stage {@code s} (then its predecessors) to what {@code producers} received. */
  private static void inputsOf(FlowSpec f, StageSpec s, int before, Set<String> producers, Observed o, Set<String> out,
      Set<String> visited) {
    for (int i = before - 1; i >= 0; i--) {
      EventSpec p = s.events().get(i);
      boolean received = p.isTopic()
          ? o.consumers.getOrDefault(p.id(), Set.of()).stream().anyMatch(producers::contains)
          : p.span().service() != null && producers.contains(p.span().service()) && inbound(p);
      if (received) {
        out.add(p.isTopic() ? "topic " + p.topic() : "`" + p.id() + "`");
        return;
      }
    }
    if (!visited.add(s.id())) {
      return;
    }
    for (String a : s.after()) {
      StageSpec ps = f.stage(a);
      if (ps != null) {
        inputsOf(f, ps, ps.events().size(), producers, o, out, visited);
      }
    }
  }

  private static String transformation(FlowSpec f, EventSpec e) {
    List<String> parts = new ArrayList<>();
    for (EnrichmentSpec en : f.enrichment()) {
      if (en.to().equals(e.id())) {
        StringBuilder p = new StringBuilder("from `").append(en.from()).append("`: ");
        if (en.carryAll()) {
          p.append("carries all");
        } else if (!en.carry().isEmpty()) {
          p.append("carries ").append(paths(en.carry()));
        }
        if (!en.add().isEmpty()) {
          p.append(en.carryAll() || !en.carry().isEmpty() ? ", " : "").append("adds ").append(paths(en.add()));
        }
        parts.add(p.toString());
      }
    }
    for (RuleSpec r : f.rules()) {
      if (r.expression().referencedVariables().contains(e.id()) && ruleStage(f, r).equals(e.stageId())
          && lastEventOfRule(f, r).equals(e.id())) {
        parts.add("rule *" + md(r.name()) + "*" + (r.field() != null ? " (`" + r.field() + "`)" : ""));
      }
    }
    return parts.isEmpty() ? "—" : String.join("<br>", parts);
  }

  /** The event of a rule that comes last in the flow: where the rule's result is decided. */
  private static String lastEventOfRule(FlowSpec f, RuleSpec r) {
    String last = "";
    for (EventSpec e : f.events()) {
      if (r.expression().referencedVariables().contains(e.id())) {
        last = e.id();
      }
    }
    return last;
  }

  private static String ruleStage(FlowSpec f, RuleSpec r) {
    if (r.stage() != null) {
      return r.stage();
    }
    EventSpec e = f.event(lastEventOfRule(f, r));
    return e == null ? "" : e.stageId();
  }

  private static String paths(List<FieldPath> paths) {
    StringBuilder sb = new StringBuilder();
    for (FieldPath p : paths) {
      sb.append(sb.length() == 0 ? "" : ", ").append('`').append(p.text()).append('`');
    }
    return sb.toString();
  }

  private static String output(EventSpec e) {
    if (e.isTopic()) {
      return "topic " + e.topic() + (e.recordKey() != null ? " (key " + e.recordKey() + ")" : "")
          + (e.select().isAll() ? "" : " " + e.select());
    }
    return e.span().toString() + (e.payload() != null && e.payload().attribute() != null
        ? ", attribute " + e.payload().attribute() : "") + (e.select().isAll() ? "" : " " + e.select());
  }

  private static String schema(FlowSpec f, EventSpec e) {
    if (e.schema() == null) {
      return "JSON (no schema)";
    }
    String d = e.schema().description();
    if (f.source() != null && f.source().getParent() != null) {
      String dir = f.source().toAbsolutePath().getParent().toString();
      d = d.replace(dir + java.io.File.separator, "").replace(dir, ".");
    }
    return d;
  }

  private static String specFile(FlowSpec f) {
    return f.source() == null ? f.name() : f.source().getFileName().toString();
  }

  private void dataFlow(StringBuilder sb, FlowSpec f, Observed o) {
    sb.append("## Data flow\n\n");
    sb.append("Events in stage order; an arrow between stages carries the stage's `when`, and the observed median"
        + " time between the events (p50).\n\n");
    sb.append("```mermaid\nflowchart LR\n");
    for (StageSpec s : f.stages()) {
      sb.append("  subgraph ").append(id("s", s.id())).append("[\"").append(mer(s.id())).append("\"]\n");
      for (EventSpec e : s.events()) {
        String label = e.id() + "<br/>" + (e.isTopic() ? "topic " + e.topic() : spanLabel(e))
            + (e.select().isAll() ? "" : "<br/>" + e.select()) + "<br/>" + service(e, o);
        sb.append("    ").append(id("e", e.id())).append(e.isTopic() ? "[(\"" : "([\"").append(mer(label))
            .append(e.isTopic() ? "\")]\n" : "\"])\n");
      }
      sb.append("  end\n");
    }
    for (StageSpec s : f.stages()) {
      for (int i = 1; i < s.events().size(); i++) {
        edge(sb, o, s.events().get(i - 1).id(), s.events().get(i).id(), null);
      }
      for (String a : s.after()) {
        StageSpec p = f.stage(a);
        if (p == null || p.events().isEmpty() || s.events().isEmpty()) {
          continue;
        }
        String condition = s.optional() ? "optional" + (s.when() == null ? "" : ", when " + s.when().oneLine())
            : s.choice() != null ? "choice " + s.choice() + (s.when() == null ? "" : ", when " + s.when().oneLine())
            : s.when() == null ? null : "when " + s.when().oneLine();
        edge(sb, o, p.events().get(p.events().size() - 1).id(), s.events().get(0).id(),
            !s.fanIn() ? condition : condition == null ? "after every item" : "after every item, " + condition);
      }
      long[] again = o.repeated.get(s.id());
      StageSpec start = again == null || loopGoesOn(f, o, s) ? null : loopStart(f, o, s);
      if (start != null && (start != s || s.events().size() > 1)) {
        // steps repeated within one instance: back from the last event of the last to the first
        // of the first (documents asked for and uploaded again)
        sb.append("  ").append(id("e", s.events().get(s.events().size() - 1).id())).append(" -->|\"")
            .append(mer(again(start, o, again, true))).append("\"| ").append(id("e", start.events().get(0).id())).append('\n');
      }
    }
    sb.append("```\n\n");
    for (StageSpec s : f.stages()) {
      long[] again = o.repeated.get(s.id());
      if (again != null && s.events().size() == 1 && !loopGoesOn(f, o, s) && loopStart(f, o, s) == s) {
        sb.append("**").append(md(s.id())).append("** (`").append(md(s.events().get(0).id())).append("`): ")
            .append(md(again(s, o, again, false))).append(".\n\n");
      }
    }
  }

  /** The first of the repeated stages before {@code s} that repeat in as many instances (one loop). */
  private static StageSpec loopStart(FlowSpec f, Observed o, StageSpec s) {
    StageSpec start = s;
    for (int guard = 0; guard < f.stages().size(); guard++) {
      StageSpec before = null;
      for (String p : start.after()) {
        StageSpec ps = f.stage(p);
        if (ps != null && sameLoop(o, ps, start)) {
          before = ps;
        }
      }
      if (before == null) {
        break;
      }
      start = before;
    }
    return start;
  }

  /** Whether a stage after {@code s} repeats with it (the loop ends later). */
  private static boolean loopGoesOn(FlowSpec f, Observed o, StageSpec s) {
    for (StageSpec t : f.stages()) {
      if (t.after().contains(s.id()) && sameLoop(o, s, t)) {
        return true;
      }
    }
    return false;
  }

  private static boolean sameLoop(Observed o, StageSpec a, StageSpec b) {
    long[] x = o.repeated.get(a.id());
    long[] y = o.repeated.get(b.id());
    return x != null && y != null && x[0] == y[0] && x[1] == y[1];
  }

  /**
   * {@code again: up to 3× · in 80 of the 153 instances that reached it}, of the passed ones ("passed"
   * said where some did not pass); {@code brief} for an edge's label: {@code again: up to 3× · in 80 of 153}.
   */
  private static String again(StageSpec s, Observed o, long[] again, boolean brief) {
    long reached = o.stagesTakenPassed.getOrDefault(s.id(), 0L);
    String passed = o.byStatus.getOrDefault(VerdictStatus.PASSED, 0L) < o.instances ? " passed" : "";
    return "again: up to " + again[1] + "× · in " + again[0] + " of " + (brief ? reached + passed
        : "the " + reached + passed + " instances that reached it");
  }

  private static void edge(StringBuilder sb, Observed o, String from, String to, String condition) {
    Samples lat = o.hops.get(from + " → " + to);
    List<String> label = new ArrayList<>();
    if (condition != null) {
      label.add(condition);
    }
    if (lat != null && lat.n > 0) {
      label.add("p50 " + dur(lat.pct(50)));
    }
    sb.append("  ").append(id("e", from)).append(label.isEmpty() ? " --> " : " -->|\"" + mer(String.join(" · ", label)) + "\"| ")
        .append(id("e", to)).append('\n');
  }

  private void dependencyMap(StringBuilder sb, FlowSpec f, Observed o) {
    sb.append("## Dependency map\n\n");
    sb.append("Services, topics and HTTP endpoints. The spec names topics and the services of span events; who"
        + " produces and consumes each topic comes from the recording.\n\n");
    Set<String> edges = new TreeSet<>();
    Set<String> outside = new TreeSet<>();
    Set<String> flowServices = new TreeSet<>();
    for (EventSpec e : f.events()) {
      flowServices.addAll(o.services.getOrDefault(e.id(), Set.of()));
      if (!e.isTopic() && e.span().service() != null) {
        flowServices.add(e.span().service());
      }
    }
    Map<String, String> nodes = new TreeMap<>();
    Map<String, String> unseen = new TreeMap<>();
    for (EventSpec e : f.events()) {
      if (e.isTopic()) {
        if (o.instances > 0 && o.services.getOrDefault(e.id(), Set.of()).isEmpty()
            && o.consumers.getOrDefault(e.id(), Set.of()).isEmpty()) {
          unseen.merge(e.topic(), e.id(), (a, b) -> a + ", " + b);
          continue; // a node alone, joined to nothing, floated at the top of the map
        }
        String t = node(nodes, "t", e.topic(), "[(\"" + mer(e.topic()) + "\")]");
        for (String p : o.services.getOrDefault(e.id(), Set.of())) {
          edges.add(node(nodes, "s", p, "[\"" + mer(p) + "\"]") + " -->|produces| " + t);
        }
        for (String c : o.consumers.getOrDefault(e.id(), Set.of())) {
          String line = t + " -->|consumed by| " + node(nodes, "s", c, "[\"" + mer(c) + "\"]");
          edges.add(line);
          if (!flowServices.contains(c)) {
            outside.add("`" + c + "` consumes `" + e.topic() + "` but takes no part in the flow's events");
          }
        }
      } else {
        String svc = e.span().service() != null ? e.span().service() : String.join(", ", o.services.getOrDefault(e.id(), Set.of()));
        if (svc.isEmpty()) {
          continue;
        }
        String s = node(nodes, "s", svc, "[\"" + mer(svc) + "\"]");
        String kind = e.span().kind() == null ? "" : e.span().kind().name();
        if (kind.equals("CLIENT")) {
          Set<String> hosts = o.hosts.getOrDefault(e.id(), Set.of());
          for (String h : hosts.isEmpty() ? Set.of("external service") : hosts) {
            edges.add(s + " -->|calls| " + node(nodes, "h", h, "{{\"" + mer(h) + "\"}}"));
          }
        } else if (kind.equals("SERVER")) {
          String ep = e.span().name() == null ? "endpoint" : e.span().name().toString().replace("'", "");
          // one caller per endpoint: a nurse's handheld and a lab instrument are not one party
          String caller = e.newTrace() ? "external caller" : "client";
          edges.add(node(nodes, "h", caller + " of " + svc + " " + ep, "{{\"" + mer(caller) + "\"}}") + " -->|\""
              + mer(ep) + "\"| " + s);
        }
      }
    }
    sb.append("```mermaid\nflowchart LR\n");
    nodes.forEach((k, v) -> sb.append("  ").append(v).append('\n'));
    edges.forEach(e -> sb.append("  ").append(e).append('\n'));
    sb.append("```\n\n");
    unseen.keySet().removeIf(topic -> nodes.containsKey(id("t", topic)));
    if (!unseen.isEmpty()) {
      List<String> named = new ArrayList<>();
      unseen.forEach((topic, events) -> named.add("`" + code(topic) + "` (" + md(events) + ")"));
      sb.append("Not drawn, as the recording shows no service producing or consuming them: ")
          .append(String.join(", ", named)).append(".\n\n");
    }
    if (!outside.isEmpty()) {
      sb.append("Observed, not declared by the flow:\n\n");
      outside.forEach(x -> sb.append("- ").append(x).append('\n'));
      sb.append('\n');
    }
  }

  private static String node(Map<String, String> nodes, String kind, String name, String shape) {
    String id = id(kind, name);
    nodes.putIfAbsent(id, id + shape);
    return id;
  }

  /**
   * Whether the recording shows {@code event} in no instance with {@code origin} nor with any of
   * {@code others} (the field's first event on other paths): it is of a path apart.
   */
  private static boolean apart(Observed o, String event, String origin, List<String> others) {
    Set<String> with = o.together.get(event);
    if (with == null || o.together.get(origin) == null || with.contains(origin)) {
      return false;
    }
    for (String other : others) {
      if (with.contains(other)) {
        return false;
      }
    }
    return true;
  }

  private void lineage(StringBuilder sb, FlowSpec f, Observed o) {
    sb.append("## Field lineage\n\n");
    sb.append("Where each payload field first appears, where it comes again with the same value (carried) or with"
        + " another (changed), compared within the example instance (an event of another path: carried); where it"
        + " appears again on a path the recording never showed together with the first (another path); what the spec"
        + " declares about it and the rules that"
        + " read it.\n\n");
    Map<String, String> added = new TreeMap<>();
    Map<String, List<String>> elsewhere = new TreeMap<>();
    Map<String, List<String>> carried = new TreeMap<>();
    Map<String, List<String>> changed = new TreeMap<>();
    Map<String, JsonNode> firstValue = new TreeMap<>();
    Map<String, String> firstInstance = new TreeMap<>();
    for (EventSpec e : f.events()) {
      Example x = example(o, e.id());
      Set<String> paths = o.paths.getOrDefault(e.id(), Set.of());
      for (String p : paths) {
        JsonNode value = x == null ? null : valuesAt(x.payload(), p);
        if (!added.containsKey(p)) {
          added.put(p, e.id());
          if (value != null) {
            firstValue.put(p, value);
            firstInstance.put(p, x.key());
          }
        } else if (apart(o, e.id(), added.get(p), elsewhere.getOrDefault(p, List.of()))) {
          // never in one instance with where the field appeared before: the same name on a path apart
          elsewhere.computeIfAbsent(p, k -> new ArrayList<>()).add(e.id());
        } else if (value != null && firstValue.containsKey(p) && x.key().equals(firstInstance.get(p))
            && !value.equals(firstValue.get(p))) {
          changed.computeIfAbsent(p, k -> new ArrayList<>()).add(e.id());
        } else {
          carried.computeIfAbsent(p, k -> new ArrayList<>()).add(e.id());
        }
      }
    }
    Map<String, List<String>> declared = new TreeMap<>();
    List<String> carryAll = new ArrayList<>();
    for (EnrichmentSpec en : f.enrichment()) {
      for (FieldPath p : en.add()) {
        declared.computeIfAbsent(p.text(), k -> new ArrayList<>()).add("added by `" + en.to() + "`");
        added.putIfAbsent(p.text(), en.to());
      }
      for (FieldPath p : en.carry()) {
        declared.computeIfAbsent(p.text(), k -> new ArrayList<>()).add("carried `" + en.from() + "` → `" + en.to() + "`");
        added.putIfAbsent(p.text(), en.from());
      }
      if (en.carryAll()) {
        carryAll.add("`" + en.from() + "` → `" + en.to() + "`");
      }
    }
    Map<String, List<String>> rules = new TreeMap<>();
    for (RuleSpec r : f.rules()) {
      if (r.field() != null) {
        rules.computeIfAbsent(r.field(), k -> new ArrayList<>()).add("*" + md(r.name()) + "*");
        added.putIfAbsent(r.field(), "");
      }
    }
    if (added.isEmpty()) {
      sb.append("No payload fields known (no recording, no enrichment or rules naming fields).\n\n");
      return;
    }
    if (!carryAll.isEmpty()) {
      sb.append("Declared: every field carried ").append(String.join(", ", carryAll)).append(".\n\n");
    }
    sb.append("| field | added in | carried to | changed in | declared | rules |\n|---|---|---|---|---|---|\n");
    for (Map.Entry<String, String> e : added.entrySet()) {
      String p = e.getKey();
      sb.append("| `").append(code(p)).append("` | ").append(e.getValue().isEmpty() ? "—" : "`" + e.getValue() + "`")
          .append(elsewhere.containsKey(p) ? ", and on another path " + list(elsewhere.get(p)) : "")
          .append(" | ").append(list(carried.get(p))).append(" | ").append(list(changed.get(p)))
          .append(" | ").append(String.join("; ", declared.getOrDefault(p, List.of())))
          .append(" | ").append(String.join("; ", rules.getOrDefault(p, List.of()))).append(" |\n");
    }
    sb.append('\n');
  }

  private static String list(List<String> events) {
    return events == null || events.isEmpty() ? "—" : "`" + String.join("`, `", events) + "`";
  }

  /** The value at a path ({@code []} walks arrays and collects), or {@code null}. */
  private static JsonNode valuesAt(JsonNode root, String path) {
    List<JsonNode> nodes = List.of(root);
    for (String seg : path.replace("[]", ".[]").split("\\.")) {
      List<JsonNode> next = new ArrayList<>();
      for (JsonNode n : nodes) {
        if (seg.equals("[]")) {
          if (n.isArray()) {
            n.forEach(next::add);
          }
        } else if (n.isObject() && n.has(seg)) {
          next.add(n.get(seg));
        }
      }
      nodes = next;
    }
    if (nodes.isEmpty()) {
      return null;
    }
    if (!path.contains("[]")) {
      return nodes.get(0);
    }
    tools.jackson.databind.node.ArrayNode all = PRETTY.createArrayNode();
    nodes.forEach(all::add);
    return all;
  }

  private void latency(StringBuilder sb, FlowSpec f, Observed o) {
    sb.append("## Latency\n\n");
    if (o.hops.isEmpty() && f.budgets().isEmpty()) {
      sb.append("Nothing observed.\n\n");
      return;
    }
    if (!o.skews.isEmpty()) {
      sb.append("**Clocks differ.** Times on different hosts are compared after correcting their clocks by the"
          + " least skew the data proves (a lower bound: happens-before edges do not tell how much more), so a"
          + " time between events on two of these hosts, and a broker dwell across them, can be off by the rest"
          + " of the real skew:\n\n");
      o.skews.forEach((pair, skew) -> {
        String[] parts = pair.split(" (?=behind |ahead of )", 2);
        String amount = skewAmount(skew.amounts);
        sb.append("- ").append(md(parts[0])).append(" reads ").append(md(amount)).append(' ')
            .append(md(parts.length > 1 ? parts[1] : "")).append(" (")
            .append(skew.instances).append(skew.instances == 1 ? " instance" : " instances").append(")\n");
      });
      sb.append('\n');
    }
    if (!f.budgets().isEmpty()) {
      sb.append("| budget | within | p50 | p95 | p99 | max | n |\n|---|---|---|---|---|---|---|\n");
      for (int i = 0; i < f.budgets().size(); i++) {
        BudgetSpec b = f.budgets().get(i);
        Samples s = o.budgets.get(i);
        sb.append("| `").append(b.from()).append("` → `").append(b.to()).append("` | ").append(dur(b.within().toNanos()));
        stats(sb, s);
      }
      sb.append('\n');
      Map<String, Samples> counted = new TreeMap<>();
      for (int i = 0; i < f.budgets().size(); i++) {
        counted.put(f.budgets().get(i).from() + " → " + f.budgets().get(i).to(), o.budgets.getOrDefault(i, new Samples()));
      }
      notMeasured(sb, MOVED_UP, o.budgetsUnmeasured, counted);
    }
    if (!o.hops.isEmpty()) {
      sb.append("Along the flow's edges — a stage's events in order, each stage's last event to the first of the next"
          + " (first occurrences" + (f.stages().stream().anyMatch(StageSpec::fanIn)
              ? ", but the last one before a `fanIn` stage" : "") + "; a response at its span's end):\n\n");
      sb.append("| hop | budget | p50 | p95 | p99 | max | n |\n|---|---|---|---|---|---|---|\n");
      List<Map.Entry<String, Samples>> hops = new ArrayList<>(o.hops.entrySet());
      List<String> order = f.events().stream().map(EventSpec::id).toList();
      hops.sort(java.util.Comparator.<Map.Entry<String, Samples>>comparingInt(
              e -> order.indexOf(e.getKey().split(" → ")[1]))
          .thenComparingInt(e -> order.indexOf(e.getKey().split(" → ")[0])).thenComparing(Map.Entry::getKey));
      for (Map.Entry<String, Samples> e : hops) {
        String[] ends = e.getKey().split(" → ");
        String budget = "—";
        for (BudgetSpec b : f.budgets()) {
          if (b.from().equals(ends[0]) && b.to().equals(ends[1])) {
            budget = dur(b.within().toNanos());
          }
        }
        sb.append("| `").append(ends[0]).append("` → `").append(ends[1]).append("` | ").append(budget);
        stats(sb, e.getValue());
      }
      sb.append('\n');
      notMeasured(sb, MOVED_UP, o.hopsUnmeasured, o.hops, o.hopsOverlapped);
      notMeasured(sb, "where the later event came while the earlier one's span ran, both on one service's clock (a"
          + " record published before the response that ends its call)", o.hopsOverlapped, o.hops, o.hopsUnmeasured);
    }
    if (!o.dwell.isEmpty()) {
      sb.append("Broker dwell (record time → first consumer start):\n\n");
      sb.append("| topic | p50 | p95 | p99 | max | n |\n|---|---|---|---|---|---|\n");
      for (Map.Entry<String, Samples> e : o.dwell.entrySet()) {
        sb.append("| ").append(md(e.getKey()));
        stats(sb, e.getValue());
      }
      sb.append('\n');
      notMeasured(sb, "where the hosts' clocks differ (the first consumer's clock was corrected against the record's"
          + " producer's, or reads behind it: the data proves the order, not the time between)",
          o.dwellUnmeasured, o.dwell);
    }
  }

  /** Where a hop's or a budget's time is not measured ({@link #measured}). */
  private static final String MOVED_UP = "where the later event reads before the earlier one or was moved up to it"
      + " (their hosts' clocks differ, by at least what the instance proves: the order is known, not the time between)";

  /** Below a table, the samples left out of it: {@code where}, then each row's count of its total. */
  private static void notMeasured(StringBuilder sb, String where, Map<String, Long> left, Map<String, Samples> counted) {
    notMeasured(sb, where, left, counted, Map.of());
  }

  /** As above, where {@code alsoLeft} holds the same rows' samples left out for another reason (counted in the totals). */
  private static void notMeasured(StringBuilder sb, String where, Map<String, Long> left, Map<String, Samples> counted,
      Map<String, Long> alsoLeft) {
    if (left.isEmpty()) {
      return;
    }
    sb.append("Not measured, and not counted above, ").append(where).append(':');
    left.forEach((row, n) -> sb.append(" ").append(md(row)).append(" ")
        .append(String.format(Locale.ROOT, "%,d", n)).append(" of ")
        .append(String.format(Locale.ROOT, "%,d", n + counted.get(row).n + alsoLeft.getOrDefault(row, 0L))).append(";"));
    sb.setLength(sb.length() - 1);
    sb.append(".\n\n");
  }

  private static void stats(StringBuilder sb, Samples s) {
    if (s == null || s.n == 0) {
      sb.append(" | — | — | — | — | 0 |\n");
      return;
    }
    sb.append(" | ").append(dur(s.pct(50))).append(" | ").append(dur(s.pct(95))).append(" | ").append(dur(s.pct(99)))
        .append(" | ").append(dur(s.pct(100))).append(" | ").append(s.n).append(" |\n");
  }

  private void failurePaths(StringBuilder sb, FlowSpec f, Observed o) {
    sb.append("## Paths\n\n");
    boolean any = false;
    for (StageSpec s : f.stages()) {
      List<StageSpec> alternatives = new ArrayList<>();
      for (StageSpec t : f.stages()) {
        if (t.after().contains(s.id()) && (t.when() != null || t.optional() || t.choice() != null)) {
          alternatives.add(t);
        }
      }
      if (alternatives.isEmpty()) {
        continue;
      }
      any = true;
      long reached = o.stagesTaken.getOrDefault(s.id(), 0L) + o.stagesTakenUnobserved.getOrDefault(s.id(), 0L);
      long decided = alternatives.stream().filter(t -> t.when() != null).count();
      String heading;
      if (alternatives.stream().allMatch(t -> t.choice() != null && t.when() == null)) {
        heading = " exactly one of these follows (a choice nothing earlier in the data decides)";
      } else if (decided == alternatives.size()) {
        heading = alternatives.size() == 1 ? " the data decides whether this follows"
            : " the data decides which of these follow (each by its own condition)";
      } else if (decided == 0) {
        heading = alternatives.size() == 1 ? " this may follow, or not" : " each of these may follow, or not";
      } else {
        heading = " these follow where the data's condition holds, and the optional ones may";
      }
      sb.append("After **").append(md(s.id())).append("**").append(heading).append(":\n\n");
      for (StageSpec t : alternatives) {
        sb.append("- **").append(md(t.id())).append("**");
        if (t.when() != null) {
          sb.append(" when `").append(code(t.when().oneLine())).append('`');
        }
        if (t.optional()) {
          sb.append(t.when() == null ? " (optional: nothing in the data decides it)" : ", and then only may (optional)");
        }
        if (t.choice() != null) {
          sb.append(" (a way of choice ").append(md(t.choice())).append(": it or another way, not both)");
        }
        if (o.instances > 0) {
          long[] after = o.takenAfter.getOrDefault(s.id() + '\0' + t.id(), new long[2]);
          long seen = after[0];
          long unseen = after[1];
          sb.append(" — taken by ").append(seen + unseen).append(" of the ").append(reached)
              .append(" observed instances that reached ").append(md(s.id()));
          if (unseen > 0) {
            sb.append(" (").append(unseen).append(" of them chosen by the data without the stage's own spans, which were sampled out or lost)");
          }
        }
        sb.append('\n');
      }
      sb.append('\n');
    }
    if (!any) {
      sb.append("One path: no stage has a `when`.\n\n");
    }
  }

  private void examples(StringBuilder sb, FlowSpec f, Observed o) {
    sb.append("## Example payloads\n\n");
    if (o.examples.isEmpty()) {
      sb.append("None observed (only passed instances give examples).\n");
      return;
    }
    sb.append("From the passed instance with the most events that started first, and for events of other paths"
        + " the first passed instance that has them (Avro shown decoded).\n\n");
    for (EventSpec e : f.events()) {
      Example x = example(o, e.id());
      if (x == null) {
        continue;
      }
      sb.append("### `").append(e.id()).append("`\n\n```json\n").append(PRETTY.writeValueAsString(x.payload()).replace("\r\n", "\n"))
          .append("\n```\n\n");
    }
  }

  // ---- text helpers ------------------------------------------------------------------------------

  /** Nanoseconds as milliseconds with one decimal, always the same format. */
  static String dur(long nanos) {
    double ms = nanos / 1e6;
    if (ms >= 7_200_000) {
      return String.format(Locale.ROOT, "%.1f h", ms / 3_600_000);
    }
    if (ms >= 600_000) {
      return String.format(Locale.ROOT, "%.1f min", ms / 60_000);
    }
    if (ms >= 1000) {
      return String.format(Locale.ROOT, "%.3f s", ms / 1000);
    }
    return String.format(Locale.ROOT, "%.1f ms", ms);
  }

  /** Text for a Markdown table cell: pipes and line breaks escaped, HTML not interpreted. */
  static String md(String s) {
    String text = s.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")
        .replace("\r", " ").replace("\n", " ");
    // no tag can open without '<', so '>' stays as written (an arrow reads "->" in the raw page),
    // but at the start it would begin a quote
    return text.startsWith(">") ? "&gt;" + text.substring(1) : text;
  }

  /** Text inside backticks in a table: pipes escaped, no line breaks. */
  static String code(String s) {
    return s.replace("|", "\\|").replace("`", "'").replace("\n", " ").replace("\r", " ");
  }

  /** Text inside a Mermaid quoted label. */
  static String mer(String s) {
    return s.replace("\"", "#quot;").replace("<br/>", "\u0000").replace("<", "#lt;").replace(">", "#gt;")
        .replace("\u0000", "<br/>").replace("\n", " ");
  }

  /** A Mermaid node id: letters, digits and underscores only. */
  static String id(String kind, String name) {
    return kind + "_" + name.replaceAll("[^A-Za-z0-9]", "_");
  }
}
