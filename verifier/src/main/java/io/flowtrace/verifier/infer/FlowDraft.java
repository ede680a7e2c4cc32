package io.flowtrace.verifier.infer;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.TraceContext;
import io.flowtrace.verifier.infer.Grouping.Instance;
import io.flowtrace.verifier.model.Repeats;
import io.flowtrace.verifier.rules.Money;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The draft of one flow spec learned from its instances: stages in causal order with alternative
 * paths and the field that decides them, keys, JSON Schemas, enrichment, rules, idempotency,
 * budgets and the deadline — each item with the evidence it rests on. Items that held in most but
 * not all instances are proposed with their exceptions named, never dropped silently.
 */
final class FlowDraft {

  /** Share of instances an item must hold in to be proposed. */
  static final double HOLDS = 0.95;
  /** Share of instances an event must be seen in to be declared, unless it is the other way of a main event ({@link #otherWay}). */
  static final double DECLARED = 0.03;
  /** Share of instances the other way of a main event must be seen in to be declared (and at least twice). */
  static final double OTHER_WAY = 0.005;
  /** Least budget drafted for a hop from a record: its consumers lag by seconds on a busy day. */
  static final long AFTER_RECORD_FLOOR_NANOS = 5_000_000_000L;
  /** Share of instances a stage must appear in to be on the main path. */
  static final double MAIN = 0.9;
  private static final Pattern CEL_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  /** Payloads of an event type whose fields are tried in rules: optional fields show in a few of them. */
  private static final int LEAF_SAMPLES = 32;
  private static final Pattern ID_NAME = Pattern.compile("(?i).*(id|key|number|ref)");
  private static final Pattern EVENT_ID_FIELD =
      Pattern.compile("(?i).*(event|delivery|message|notification|webhook|callback)_?id|idempotency.?key|dedup.*");

  final String name;
  final EventType entry;
  final List<Instance> instances;
  final Map<EventType, String> ids = new LinkedHashMap<>();
  final List<Stage> stages = new ArrayList<>();
  final List<String> keys = new ArrayList<>();
  final Map<String, String> keyEvidence = new LinkedHashMap<>();
  final Map<EventType, Map<String, String>> eventKeys = new HashMap<>();
  final Map<EventType, String> recordKeys = new HashMap<>();
  /** Events of a shared topic that join their instance through its trace alone ({@code keys: {}}). */
  final Set<EventType> traceOnly = new HashSet<>();
  final Map<EventType, ObjectNode> schemas = new LinkedHashMap<>();
  final Map<EventType, String> binarySchemaIds = new HashMap<>();
  /**
   * Events whose Avro payloads (Confluent wire format) were read through a registry: the schema ids
   * they named. Their {@link #schemas} entry (inferred from the decoded payloads) is not written.
   */
  final Map<EventType, Set<Long>> avroIds = new HashMap<>();
  /** The schema registry Avro payloads were read through ({@code null}: none given). */
  String avroRegistry;
  final Set<EventType> newTrace = new HashSet<>();
  /** Topics none of whose records carried trace context, in traffic that was traced elsewhere: {@code trace: none}. */
  final Map<EventType, Integer> untraced = new HashMap<>();
  final List<Item> enrichment = new ArrayList<>();
  final List<Item> rules = new ArrayList<>();
  final List<Item> idempotency = new ArrayList<>();
  /** Records an idempotency item already counts as effects. */
  private final Set<EventType> counted = new HashSet<>();
  final List<Item> budgets = new ArrayList<>();
  final List<String> notes = new ArrayList<>();
  /** {@code event.field} (top-level fields) that enrichment or keys already check. */
  private final Set<String> covered = new HashSet<>();
  /** Field values by event type, path and instance, while rules are looked for ({@link #column}). */
  private final Map<EventType, Map<String, JsonNode[]>> columns = new HashMap<>();
  long deadlineMillis;
  String deadlineEvidence;

  /** One stage: its events, predecessors, condition and evidence. */
  static final class Stage {
    String id;
    final List<EventType> events = new ArrayList<>();
    List<Stage> after = List.of();
    String when;
    String whenEvidence;
    /** Main stages that happen in either order with this one (a fan-out), itself included; else empty. */
    List<Stage> concurrent = List.of();
    boolean terminal;
    /** Why the stage is optional (taken by some instances, and nothing in the data tells which), or {@code null}. */
    String optional;
    /** Whether it is optional as one way of a branch nothing seen decides (the system's, timed as any step), not a side step. */
    boolean undecidedWay;
    /** The choice it is a way of (ways nothing seen tells apart, one of which every instance took), or {@code null}. */
    String choice;
    String choiceEvidence;
    /** Why a stage with followers is an end as well ({@link #endsSome}), or {@code null}. */
    String terminalEvidence;
    /** The items of a fan-out before it that it follows every one of ({@link #fanIns}), or {@code null}. */
    FanIn fanIn;
    int instances;
    long medianOffset;
    final Set<Integer> in = new HashSet<>();

    String evidence(int total) {
      return "seen in " + instances + "/" + total + " instances";
    }
  }

  /** A proposed item: its YAML lines and the comment with its evidence. */
  record Item(String yaml, String evidence) {}

  /** Records of each topic in the whole recording, this flow's instances or not. */
  private final Map<EventType, List<Occurrence>> topicRecords;

  /** The services that consumed each topic's records. */
  private final Map<String, Set<String>> consumers;
  /** The services that took a record of each topic more than once. */
  private final Map<String, Set<String>> redelivered;

  private FlowDraft(String name, EventType entry, List<Instance> instances, Map<EventType, List<Occurrence>> topicRecords,
      Map<String, Set<String>> consumers, Map<String, Set<String>> redelivered) {
    this.name = name;
    this.entry = entry;
    this.instances = instances;
    this.topicRecords = topicRecords;
    this.consumers = consumers;
    this.redelivered = redelivered;
  }

  /**
   * Drafts the flow of {@code instances}; {@code topicRecords} holds the records of each topic in
   * the whole recording, so that a topic other flows' records share is known, and what they carry.
   */
  static FlowDraft of(String name, EventType entry, List<Instance> instances, Map<EventType, List<Occurrence>> topicRecords,
      Map<String, Set<String>> consumers, Map<String, Set<String>> redelivered) {
    List<Instance> whole = beganInTime(instances);
    FlowDraft d = new FlowDraft(name, entry, whole, topicRecords, consumers, redelivered);
    if (whole.size() < instances.size()) {
      d.notes.add((instances.size() - whole.size()) + " instances that began near the recording's end and stopped"
          + " where no earlier instance ever did were left out of the draft: the recording ended before they did");
    }
    d.build();
    return d;
  }

  /**
   * The instances less those the recording's end cut: begun within twice the p90 of the instances'
   * durations of its last event, and stopped at an event no instance begun earlier ever stopped at
   * (a trial's draft made its shipment an end of the flow, and the e-mail after it optional, from
   * 46 renewals the capture stopped at). Kept whole when that would leave out more than a quarter.
   */
  private static List<Instance> beganInTime(List<Instance> instances) {
    if (instances.size() < 20) {
      return instances;
    }
    long end = Long.MIN_VALUE;
    List<Long> durations = new ArrayList<>(instances.size());
    for (Instance inst : instances) {
      List<Occurrence> all = inst.occurrences();
      end = Math.max(end, all.get(all.size() - 1).time());
      durations.add(all.get(all.size() - 1).time() - all.get(0).time());
    }
    durations.sort(null);
    // twice the p90: the durations are those of cut instances too, and an instance begun just
    // before the window may be cut as well
    long window = 2 * durations.get((int) Math.min(durations.size() - 1, Math.ceil(durations.size() * 0.9) - 1));
    Map<EventType, Integer> endings = new HashMap<>();
    int early = 0;
    for (Instance inst : instances) {
      List<Occurrence> all = inst.occurrences();
      if (all.get(0).time() <= end - window) {
        endings.merge(all.get(all.size() - 1).type(), 1, Integer::sum);
        early++;
      }
    }
    if (early < 10) {
      return instances;
    }
    int least = Math.max(1, early / 20);
    List<Instance> kept = new ArrayList<>(instances.size());
    for (Instance inst : instances) {
      List<Occurrence> all = inst.occurrences();
      boolean suspect = all.get(0).time() > end - window;
      if (!suspect || endings.getOrDefault(all.get(all.size() - 1).type(), 0) >= least) {
        kept.add(inst);
      }
    }
    return kept.size() * 4 >= instances.size() * 3 ? kept : instances;
  }

  private int total() {
    return instances.size();
  }

  // ---------------------------------------------------------------------------------------------

  private static long mark(String what, long since) {
    if (Boolean.getBoolean("flowtrace.infer.timing")) {
      System.err.printf("infer: %s %.2f s%n", what, (System.nanoTime() - since) / 1e9);
    }
    return System.nanoTime();
  }

  private void build() {
    Map<EventType, Set<Integer>> presence = new LinkedHashMap<>();
    for (int i = 0; i < instances.size(); i++) {
      for (Occurrence o : instances.get(i).occurrences()) {
        presence.computeIfAbsent(o.type(), t -> new HashSet<>()).add(i);
      }
    }
    List<EventType> types = new ArrayList<>();
    presence.forEach((type, in) -> {
      // a span is counted against the instances whose trace was sampled, as a stage of spans is: an
      // analyst's call in a trace of its own, on a way 4 % of transfers take, shows in 5 of 1,500
      int base = type.isTopic() ? total() : sampledInstances();
      if (in.size() >= Math.max(2, base * DECLARED) || otherWay(type, presence)) {
        types.add(type);
      } else {
        notes.add("not declared: " + type.describe() + ", seen in only " + in.size() + "/" + base
            + (base < total() ? " instances whose trace was sampled" : " instances"));
      }
    });
    Set<String> used = new HashSet<>();
    for (EventType t : types) {
      String id = t.suggestedId();
      String unique = id;
      for (int n = 2; !used.add(unique); n++) {
        unique = id + "_" + n;
      }
      ids.put(t, unique);
    }
    long t = System.nanoTime();
    buildStages(types, presence);
    alternatives();
    orderAndLink();
    t = mark("stages", t);
    conditions();
    t = mark("conditions", t);
    keys();
    t = mark("keys", t);
    schemas();
    traces();
    t = mark("schemas", t);
    enrichment();
    t = mark("enrichment", t);
    rules();
    t = mark("rules", t);
    idempotency();
    oncePerInstance();
    budgets();
    mark("idempotency and budgets", t);
  }

  // ---- stages ----------------------------------------------------------------------------------

  private void buildStages(List<EventType> types, Map<EventType, Set<Integer>> presence) {
    Map<EventType, Stage> stageOf = new LinkedHashMap<>();
    // a client span's request and response bodies are one call
    for (EventType t : types) {
      if (!t.isTopic() && EventType.RESPONSE_BODY.equals(t.attribute())) {
        for (EventType other : types) {
          if (other != t && !other.isTopic() && EventType.REQUEST_BODY.equals(other.attribute())
              && same(other, t) && stageOf.containsKey(other) && !stageOf.containsKey(t)) {
            stageOf.put(t, stageOf.get(other));
            stageOf.get(other).events.add(t);
          }
        }
      }
      if (!stageOf.containsKey(t)) {
        Stage s = new Stage();
        s.events.add(t);
        stageOf.put(t, s);
      }
    }
    // records a span event publishes directly join its stage
    Map<EventType, Map<EventType, Integer>> children = new HashMap<>();
    Map<EventType, Integer> recordCount = new HashMap<>(); // records whose producer span was seen
    Map<EventType, Map<EventType, Integer>> callers = new HashMap<>();
    Map<EventType, Integer> callCount = new HashMap<>();
    Map<EventType, Map<EventType, Integer>> clientsOf = new HashMap<>(); // a server's event type -> its client's
    Map<EventType, Integer> servedCount = new HashMap<>();
    for (Instance inst : instances) {
      Map<String, EventType> spanTypes = new HashMap<>();
      for (Occurrence o : inst.occurrences()) {
        if (!o.isRecord() && o.span() != null) {
          spanTypes.putIfAbsent(o.span().spanId(), o.type());
        }
      }
      for (Occurrence o : inst.occurrences()) {
        if (o.isRecord()) {
          // the span that published it: its producer span's parent, or, where the producer makes no
          // span of its own, the span its traceparent names
          String publisher = o.producer() != null ? o.producer().parentSpanId()
              : o.record().traceContext().map(TraceContext::spanId).filter(spanTypes::containsKey).orElse(null);
          if (o.producer() != null || publisher != null) {
            recordCount.merge(o.type(), 1, Integer::sum);
            EventType parent = spanTypes.get(publisher);
            if (parent != null && parent.kind() == SpanKind.SERVER) {
              children.computeIfAbsent(o.type(), k -> new HashMap<>()).merge(parent, 1, Integer::sum);
            }
          }
        } else if (o.span() != null && o.type().kind() == SpanKind.CLIENT) {
          callCount.merge(o.type(), 1, Integer::sum);
          EventType parent = spanTypes.get(o.span().parentSpanId());
          if (parent != null && parent.kind() == SpanKind.SERVER) {
            callers.computeIfAbsent(o.type(), k -> new HashMap<>()).merge(parent, 1, Integer::sum);
          }
        } else if (o.span() != null && o.type().kind() == SpanKind.SERVER) {
          servedCount.merge(o.type(), 1, Integer::sum);
          EventType parent = spanTypes.get(o.span().parentSpanId());
          if (parent != null && parent.kind() == SpanKind.CLIENT) {
            clientsOf.computeIfAbsent(o.type(), k -> new HashMap<>()).merge(parent, 1, Integer::sum);
          }
        }
      }
    }
    for (EventType t : types) {
      if (!t.isTopic()) {
        continue;
      }
      Map<EventType, Integer> parents = children.getOrDefault(t, Map.of());
      for (Map.Entry<EventType, Integer> p : parents.entrySet()) {
        Stage ps = stageOf.get(p.getKey());
        if (ps != null && p.getValue() >= recordCount.getOrDefault(t, 0) * 0.5
            && ps.events.stream().noneMatch(EventType::isTopic)) {
          Stage own = stageOf.get(t);
          own.events.remove(t);
          ps.events.add(t);
          stageOf.put(t, ps);
          break;
        }
      }
    }
    // a call made while serving a request that publishes a record is part of that stage, in its
    // order: as its own stage after the request's, it came before the record it must follow
    Set<Stage> joined = new HashSet<>();
    for (EventType t : types) {
      Stage own = stageOf.get(t);
      if (t.isTopic() || t.kind() != SpanKind.CLIENT || own == null) {
        continue;
      }
      for (Map.Entry<EventType, Integer> p : callers.getOrDefault(t, Map.of()).entrySet()) {
        Stage ps = stageOf.get(p.getKey());
        if (ps != null && ps != own && p.getValue() >= callCount.getOrDefault(t, 0) * 0.5
            && ps.events.stream().anyMatch(EventType::isTopic)) {
          for (EventType moved : List.copyOf(own.events)) {
            own.events.remove(moved);
            ps.events.add(moved);
            stageOf.put(moved, ps);
          }
          joined.add(ps);
          break;
        }
      }
    }
    // a call whose server side is traced too is one step: the client's request and answer join the
    // stage of the server's (as two stages, "claims" and "claims-2", each call read as two steps) —
    // where that client is the server's caller (nearly) always: a server called from two places
    // keeps its callers' stages, each on its path
    for (EventType t : types) {
      Stage own = stageOf.get(t);
      if (t.isTopic() || t.kind() != SpanKind.SERVER || own == null) {
        continue;
      }
      for (Map.Entry<EventType, Integer> c : clientsOf.getOrDefault(t, Map.of()).entrySet()) {
        Stage cs = stageOf.get(c.getKey());
        if (cs != null && cs != own && c.getValue() >= servedCount.getOrDefault(t, 0) * 0.95
            && cs.events.stream().allMatch(e -> !e.isTopic() && e.kind() == SpanKind.CLIENT)) {
          for (EventType moved : List.copyOf(cs.events)) {
            cs.events.remove(moved);
            own.events.add(moved);
            stageOf.put(moved, own);
          }
          joined.add(own);
          break;
        }
      }
    }
    if (!joined.isEmpty()) {
      Map<EventType, Long> offsets = medianOffsets();
      for (Stage s : joined) {
        s.events.sort(Comparator.comparingLong((EventType e) -> offsets.getOrDefault(e, 0L)));
      }
    }
    for (Stage s : new LinkedHashSet<>(stageOf.values())) {
      if (s.events.isEmpty()) {
        continue;
      }
      for (EventType t : s.events) {
        s.in.addAll(presence.get(t));
      }
      s.instances = s.in.size();
      EventType named = s.events.stream().filter(EventType::isTopic).findFirst().orElse(s.events.get(0));
      s.id = ids.get(named).replaceAll("_(request|response)$", "").replace('_', '-');
      stages.add(s);
    }
    Set<String> stageIds = new HashSet<>();
    for (Stage s : stages) {
      String id = s.id;
      for (int n = 2; !stageIds.add(id); n++) {
        id = s.id + "-" + n;
      }
      s.id = id;
    }
  }

  /** Each event type's median offset from its instance's start (its first occurrence in each). */
  private Map<EventType, Long> medianOffsets() {
    Map<EventType, List<Long>> all = new HashMap<>();
    for (Instance inst : instances) {
      long start = inst.occurrences().get(0).time();
      Set<EventType> seen = new HashSet<>();
      for (Occurrence o : inst.occurrences()) {
        if (seen.add(o.type())) {
          all.computeIfAbsent(o.type(), k -> new ArrayList<>()).add(o.time() - start);
        }
      }
    }
    Map<EventType, Long> out = new HashMap<>();
    all.forEach((type, offsets) -> {
      offsets.sort(null);
      out.put(type, offsets.get(offsets.size() / 2));
    });
    return out;
  }

  private static boolean same(EventType a, EventType b) {
    return java.util.Objects.equals(a.service(), b.service()) && a.kind() == b.kind()
        && java.util.Objects.equals(a.name(), b.name()) && java.util.Objects.equals(a.urlPath(), b.urlPath());
  }

  private Stage stageOf(EventType t) {
    for (Stage s : stages) {
      if (s.events.contains(t)) {
        return s;
      }
    }
    return null;
  }

  /** Orders stages by their typical offset from the instance's start, then links each to its predecessors. */
  private void orderAndLink() {
    for (Stage s : stages) {
      List<Long> offsets = new ArrayList<>();
      for (int i : s.in) {
        Instance inst = instances.get(i);
        long start = inst.occurrences().get(0).time();
        for (Occurrence o : inst.occurrences()) {
          if (s.events.contains(o.type())) {
            offsets.add(o.time() - start);
            break;
          }
        }
      }
      offsets.sort(null);
      s.medianOffset = offsets.isEmpty() ? 0 : offsets.get(offsets.size() / 2);
    }
    stages.sort(Comparator.comparingLong((Stage s) -> s.medianOffset).thenComparing(s -> s.id));
    // Causal order: a stage precedes another when it came first in most instances that have both
    // (medians over different instances mislead: the alternatives' instances differ).
    List<Stage> ordered = new ArrayList<>();
    List<Stage> rest = new ArrayList<>(stages);
    while (!rest.isEmpty()) {
      Stage next = null;
      for (Stage candidate : rest) {
        boolean preceded = false;
        for (Stage other : rest) {
          if (other != candidate && precedes(other, candidate)) {
            preceded = true;
            break;
          }
        }
        if (!preceded) {
          next = candidate;
          break;
        }
      }
      if (next == null) {
        next = rest.get(0); // a cycle (data disagrees with itself): fall back to the median order
      }
      ordered.add(next);
      rest.remove(next);
    }
    stages.clear();
    stages.addAll(ordered);
    // the entry's stage first; stages that came before it (an entry chosen part-way through the
    // flow: the request whose record its service consumed) are no steps after it
    Stage entryStage = stageOf(entry);
    if (entryStage != null && stages.indexOf(entryStage) > 0) {
      for (Stage s : new ArrayList<>(stages.subList(0, stages.indexOf(entryStage)))) {
        if (overBefore(s, entryStage)) {
          stages.remove(s);
          for (EventType t : s.events) {
            notes.add("not declared: " + t.describe() + ", which came before the entry (" + entry.describe() + ") in"
                + " every instance that has both: an instance starts at its entry; to verify it too, choose an entry"
                + " at or before it");
          }
        }
      }
      stages.remove(entryStage);
      stages.add(0, entryStage);
    }
    List<Stage> kept = new ArrayList<>();
    // main stages that happen in either order (a fan-out: a room held and points accrued at once)
    // hang from the same predecessors; the next main stage comes after all of them (the join)
    List<Stage> concurrent = new ArrayList<>();
    for (int k = 0; k < stages.size(); k++) {
      Stage t = stages.get(k);
      if (k == 0) {
        kept.add(t);
        concurrent.add(t);
        continue;
      }
      Stage main = null;
      for (int j = kept.size() - 1; j >= 0; j--) {
        if (isMain(kept.get(j))) {
          main = kept.get(j);
          break;
        }
      }
      if (main == null) {
        main = kept.get(0);
      }
      if (isMain(t)) {
        // optional stages after the last main one: the ends of the branches one of which led here
        // (a branch of several steps ends at its last: a hold, then the booking it confirmed)
        List<Stage> branches = new ArrayList<>();
        for (int j = kept.indexOf(main) + 1; j < kept.size(); j++) {
          Stage o = kept.get(j);
          if (!isMain(o) && branchesFrom(o, main)) {
            branches.add(o);
          }
        }
        List<Stage> between = branches.stream().filter(o -> branches.stream().noneMatch(x -> x.after.contains(o)))
            .toList();
        int covered = 0;
        for (Stage o : between) {
          covered += overlap(o, t);
        }
        if (between.size() < 2 || covered < t.instances * MAIN) {
          // a branch with an optional step of its own (a greeter after some dispatches): its first
          // stages, not its leaves, are what every instance went through
          List<Stage> fromMain = List.of(main);
          List<Stage> firsts = branches.stream().filter(o -> o.after.equals(fromMain)).toList();
          int coveredFirsts = 0;
          for (Stage o : firsts) {
            coveredFirsts += overlap(o, t);
          }
          if (firsts.size() >= 2 && coveredFirsts >= t.instances * MAIN) {
            between = firsts;
            covered = coveredFirsts;
          }
        }
        if (between.size() >= 2 && covered >= t.instances * MAIN) {
          t.after = List.copyOf(between);
          concurrent = new ArrayList<>(List.of(t));
        } else if (concurrent.contains(main) && main.after.size() > 0
            && concurrent.stream().allMatch(c -> eitherOrder(c, t))) {
          // a sibling of the main stage (another consumer of the record before it): after what can
          // cause it — a consumer's own predecessor, not the step before its sibling in another service
          List<Stage> from = main.after.stream().filter(p -> feeds(p, t)).toList();
          for (int j = kept.indexOf(main) - 1; from.isEmpty() && j >= 0; j--) {
            Stage m = kept.get(j);
            if (isMain(m) && !main.after.contains(m) && feeds(m, t)) {
              from = List.of(m);
            }
          }
          t.after = from.isEmpty() ? main.after : from;
          concurrent.add(t);
          for (Stage c : concurrent) {
            c.concurrent = concurrent;
          }
        } else {
          t.after = causal(joined(concurrent, main), t);
          if (t.after.equals(List.of(main)) && !feeds(main, t)) {
            // came after it by chance (a faster sibling consumer): after the latest that can cause it
            for (int j = kept.indexOf(main) - 1; j >= 0; j--) {
              Stage m = kept.get(j);
              if (isMain(m) && feeds(m, t)) {
                t.after = List.of(m);
                break;
              }
            }
          }
          concurrent = new ArrayList<>(List.of(t));
        }
        // the end of a branch every instance that took it went on from to this stage (a page for a
        // critical result, then the report every result gets): this stage follows it there too, so
        // that the branch is no end of the flow
        List<Stage> after = new ArrayList<>(t.after);
        for (Stage o : between) {
          if (!after.contains(o) && overlap(o, t) == o.instances && overBefore(o, t)) {
            after.add(o);
          }
        }
        t.after = List.copyOf(after);
      } else {
        t.after = List.of(branchOf(t, kept, main));
      }
      kept.add(t);
    }
  }

  /** The instances a one-field condition went against, named as rules name theirs. */
  private String against(Stage s, Set<Integer> scope, EventType source, String path, Set<String> values, int total) {
    List<String> named = new ArrayList<>();
    for (int i : new TreeSet<>(scope)) {
      Occurrence o = instances.get(i).first(source);
      if (o == null || o.payload() == null) {
        continue;
      }
      Map<String, String> scalars = new TreeMap<>();
      Values.scalars("", o.payload(), scalars, 2);
      String v = scalars.get(path);
      if (v != null && values.contains(v) != s.in.contains(i)) {
        named.add(describeInstance(instances.get(i)));
        if (named.size() == 3) {
          break;
        }
      }
    }
    return exceptions(named, total);
  }

  /**
   * A stage that hangs from one side of a fan-out but comes after every side in (nearly) every
   * instance that has them — a ride dispatched once it is both priced and matched — comes after all
   * of them, so that its order is checked against each. Done once conditions are drafted, which
   * look for a stage's condition from its first predecessor.
   */
  private void joins() {
    for (Stage t : stages) {
      if (t.after.size() != 1 || t.concurrent.size() > 1) {
        continue;
      }
      List<Stage> sides = t.after.get(0).concurrent;
      if (sides.size() < 2 || !stages.containsAll(sides)) {
        continue;
      }
      boolean afterAll = true;
      for (Stage side : sides) {
        int[] n = order(side, t);
        afterAll &= n[0] > 0 && n[1] <= (n[0] + n[1] + n[2]) * (1 - HOLDS);
      }
      if (afterAll) {
        // a side it came after by chance (a slower sibling consumer) is no predecessor: only the
        // sides whose service it is, or whose records its service consumes
        t.after = causal(sides, t);
      }
    }
  }

  /**
   * Of the stages a stage came after, those that can have caused it ({@link #feeds}): a sibling
   * consumer that is merely faster is no predecessor (a ledger entry before the card issued by
   * another service off the same account record). All of them where none can be told.
   */
  private List<Stage> causal(List<Stage> before, Stage t) {
    if (before.size() < 2) {
      return List.copyOf(before);
    }
    List<Stage> feeding = before.stream().filter(side -> feeds(side, t)).toList();
    return feeding.isEmpty() ? List.copyOf(before) : feeding;
  }

  /**
   * Whether a stage can cause another as far as the traces tell: an event of each is done by one
   * service, the later stage's service consumed the earlier stage's records, or a span of the later
   * stage is a child of one of the earlier stage's. Where the traces name no service of the later
   * stage (records whose producer spans were never seen), it may; so may any stage before one that
   * a caller from outside begins (a front desk that records a visit, a customer who reviews it):
   * what prompted the call is not in the traces, and the order the instances show is all there is.
   */
  private boolean feeds(Stage from, Stage to) {
    Set<String> mine = services(to);
    if (mine.isEmpty() || calledFromOutside(to) || childOf(to, from)) {
      return true;
    }
    Set<String> reach = new HashSet<>(services(from));
    for (EventType e : from.events) {
      if (e.isTopic()) {
        reach.addAll(consumers.getOrDefault(e.topic(), Set.of()));
      }
    }
    return mine.stream().anyMatch(reach::contains);
  }

  /**
   * Whether a stage begins, in (nearly) every instance whose first occurrence of it shows a span,
   * with a root span in a trace none of the instance's earlier events is in: a call from outside
   * the flow, or a scheduled job.
   */
  private boolean calledFromOutside(Stage s) {
    return outside.computeIfAbsent(s, k -> {
      int spans = 0;
      int roots = 0;
      for (int i : s.in) {
        List<Occurrence> all = instances.get(i).occurrences();
        for (int j = 0; j < all.size(); j++) {
          Occurrence o = all.get(j);
          if (!s.events.contains(o.type())) {
            continue;
          }
          Span span = o.isRecord() ? o.producer() : o.span();
          if (span != null && j > 0) {
            spans++;
            boolean newTrace = span.isRoot();
            for (int e = 0; e < j && newTrace; e++) {
              newTrace = !span.traceId().equals(all.get(e).traceId());
            }
            roots += newTrace ? 1 : 0;
          }
          break;
        }
      }
      return spans > 0 && roots >= spans * HOLDS;
    });
  }

  private final Map<Stage, Boolean> outside = new java.util.IdentityHashMap<>();

  /** Whether, in some instance, a span of {@code to} (or of a record's producer) is a child of a span of {@code from}. */
  private boolean childOf(Stage to, Stage from) {
    if (parentStages == null) {
      parentStages = new java.util.IdentityHashMap<>();
      Map<EventType, Stage> stageByType = new HashMap<>();
      for (Stage st : stages) {
        st.events.forEach(e -> stageByType.put(e, st));
      }
      for (Instance inst : instances) {
        Map<String, Stage> bySpan = new HashMap<>();
        for (Occurrence o : inst.occurrences()) {
          Span span = o.isRecord() ? o.producer() : o.span();
          Stage st = stageByType.get(o.type());
          if (span != null && st != null) {
            bySpan.put(span.spanId(), st);
          }
        }
        for (Occurrence o : inst.occurrences()) {
          Span span = o.isRecord() ? o.producer() : o.span();
          Stage st = stageByType.get(o.type());
          Stage parent = span == null || st == null ? null : bySpan.get(span.parentSpanId());
          if (parent != null && parent != st) {
            parentStages.computeIfAbsent(st, k -> new HashSet<>()).add(parent);
          }
        }
      }
    }
    return parentStages.getOrDefault(to, Set.of()).contains(from);
  }

  /** For each stage, the stages a span of it was a child of in some instance ({@link #childOf}). */
  private Map<Stage, Set<Stage>> parentStages;

  /** The services that did a stage's events: a span's, or the producer of a record (where its span was seen). */
  private Set<String> services(Stage s) {
    return stageServices.computeIfAbsent(s, k -> {
      Set<String> out = new HashSet<>();
      for (EventType e : s.events) {
        if (!e.isTopic()) {
          out.add(e.service());
          continue;
        }
        for (int i : s.in) {
          for (Occurrence o : instances.get(i).all(e)) {
            if (o.producer() != null) {
              out.add(o.producer().service());
            }
          }
        }
      }
      return out;
    });
  }

  /** {@link #services} of each stage, found once: stages are ordered after their events are settled. */
  private final Map<Stage, Set<String>> stageServices = new java.util.IdentityHashMap<>();

  /** What comes after the last main stage: after it, or after all the stages concurrent with it. */
  private static List<Stage> joined(List<Stage> concurrent, Stage main) {
    return concurrent.contains(main) && concurrent.size() > 1 ? List.copyOf(concurrent) : List.of(main);
  }

  /** Whether an optional stage hangs, through optional stages only, from {@code main}. */
  private boolean branchesFrom(Stage o, Stage main) {
    Stage at = o;
    for (int depth = 0; depth < stages.size() && at.after.size() == 1; depth++) {
      Stage up = at.after.get(0);
      if (up == main) {
        return true;
      }
      if (isMain(up)) {
        return false;
      }
      at = up;
    }
    return false;
  }

  /**
   * Where an optional stage hangs: after the latest optional stage since {@code main} that it
   * happens only with, and after (a step further down a branch: a settled claim, then its payout;
   * a bank call, then the record it led to — measured, for a stage of spans alone, over the
   * instances whose trace was sampled); else after {@code main} (an alternative of its own). Times
   * are on corrected clocks ({@link Traffic}), so a host's skew does not reorder the steps.
   */
  private Stage branchOf(Stage t, List<Stage> kept, Stage main) {
    for (int j = kept.size() - 1; j > kept.indexOf(main); j--) {
      Stage o = kept.get(j);
      if (!isMain(o) && overlap(t, o) >= observable(o, t.in).size() * HOLDS && precedes(o, t) && feeds(o, t)
          && !tookAnotherBranch(t, o)) {
        return o;
      }
    }
    if (calledFromOutside(t) && order(main, t)[1] > 0) {
      // begun by a caller of its own (a claimant's amendment): it may come at any time once the
      // flow exists, so it follows the latest main stage that came before it in every instance
      for (int j = kept.indexOf(main) - 1; j >= 0; j--) {
        Stage m = kept.get(j);
        if (isMain(m) && order(m, t)[1] == 0) {
          return m;
        }
      }
    }
    if (!feeds(main, t)) {
      // after the main stage by chance (a wallet pass made from the ticket record, before or after
      // the e-mail as the consumers' lag has it): after the latest stage that can cause it, one
      // that every instance of it went through
      for (int j = kept.indexOf(main) - 1; j >= 0; j--) {
        Stage m = kept.get(j);
        if (feeds(m, t) && overlap(t, m) >= observable(m, t.in).size() * HOLDS && precedes(m, t)) {
          return m;
        }
      }
    }
    return main;
  }

  /**
   * Whether two stages happen in either order: each came first in at least 2 % of the instances
   * that have both (and twice). Times are on corrected clocks, so a causal pair does not swap for
   * a host's skew.
   */
  private boolean eitherOrder(Stage a, Stage b) {
    int[] n = order(a, b);
    double least = Math.max(2, (n[0] + n[1] + n[2]) * 0.02);
    return n[0] >= least && n[1] >= least;
  }

  /**
   * Whether stage {@code a} was over before {@code b} began in (nearly) every instance that has
   * both: its spans ended, its records were sent. A request whose server span encloses the record
   * it sends is not over before that record.
   */
  private boolean overBefore(Stage a, Stage b) {
    int both = 0;
    int over = 0;
    for (int i : a.in) {
      if (!b.in.contains(i)) {
        continue;
      }
      long end = Long.MIN_VALUE;
      long begin = Long.MAX_VALUE;
      for (Occurrence o : instances.get(i).occurrences()) {
        if (a.events.contains(o.type())) {
          end = Math.max(end, o.isRecord() || o.span() == null ? o.time() : o.span().endEpochNanos());
        } else if (b.events.contains(o.type())) {
          begin = Math.min(begin, o.time());
        }
      }
      both++;
      over += end < begin ? 1 : 0;
    }
    return both > 0 && over >= both * HOLDS;
  }

  /** Whether {@code a} came before {@code b} in most instances that have both. */
  private boolean precedes(Stage a, Stage b) {
    int[] n = order(a, b);
    return n[0] > n[1];
  }

  /** Of the instances that have both stages: in how many {@code a} came first, {@code b} first, neither. */
  private int[] order(Stage a, Stage b) {
    int[] n = new int[3];
    for (int i : a.in) {
      if (!b.in.contains(i)) {
        continue;
      }
      long ta = firstTime(instances.get(i), a);
      long tb = firstTime(instances.get(i), b);
      n[ta < tb ? 0 : tb < ta ? 1 : 2]++;
    }
    return n;
  }

  private static long firstTime(Instance inst, Stage s) {
    for (Occurrence o : inst.occurrences()) {
      if (s.events.contains(o.type())) {
        return o.time();
      }
    }
    return Long.MAX_VALUE;
  }

  /**
   * Whether a stage is on every instance's path. A stage of spans alone is measured against the
   * instances whose first trace was sampled (spans of unsampled traces are not exported).
   */
  private boolean isMain(Stage s) {
    if (alternative.contains(s)) {
      return false;
    }
    if (spansAlone(s)) {
      return s.instances >= sampledInstances() * MAIN && !offAWay(s);
    }
    return s.instances >= total() * MAIN;
  }

  /**
   * Whether a stage of spans alone is absent from every sampled instance of a way the flow goes
   * (a stage of records in few instances, or one of two alternatives): then, however common among
   * sampled traces, it is a step of the other ways (a submission to clearing once funds were
   * reserved, never where the transfer was rejected), not of every instance.
   */
  private boolean offAWay(Stage s) {
    for (Stage o : stages) {
      if (o == s || spansAlone(o) || (o.instances >= total() * MAIN && !alternative.contains(o))) {
        continue;
      }
      int sampledThere = 0;
      boolean met = false;
      for (int i : o.in) {
        if (sampled().contains(i)) {
          sampledThere++;
          met |= s.in.contains(i);
        }
      }
      if (sampledThere >= 2 && !met) {
        return true;
      }
    }
    return false;
  }

  private Set<Integer> sampled;

  /**
   * Stages common enough to be main that are one of two ways a flow goes: another stage (seen at
   * least twice) happens only where it does not, and the two together cover
   * (nearly) every instance — a reservation made in 92 % of the loans, refused in the other 8 %. Such
   * a stage is not required of every instance; it is a branch, and gets a condition like any other
   * ({@link #conditions}), else it is not declared. Required, it failed every instance that took the
   * other way.
   */
  private final Set<Stage> alternative = new HashSet<>();

  /**
   * Whether a record seen in too few instances to be declared on its own is seen exactly where an
   * event of nearly every instance is not (an order cancelled in 1 % of instances, where the others
   * are confirmed): a way the flow goes, however rare, not noise — drafted without it, the rare way's
   * instances would each fail for the common way's event.
   */
  private boolean otherWay(EventType type, Map<EventType, Set<Integer>> presence) {
    Set<Integer> in = presence.get(type);
    if (!type.isTopic() || in.size() < Math.max(2, total() * OTHER_WAY)) {
      return false;
    }
    for (Map.Entry<EventType, Set<Integer>> e : presence.entrySet()) {
      Set<Integer> main = e.getValue();
      if (e.getKey() == type || !e.getKey().isTopic() || main.size() < total() * MAIN) {
        continue;
      }
      int both = 0;
      for (Integer i : in) {
        if (main.contains(i)) {
          both++;
        }
      }
      if (otherWayOf(main.size(), in.size(), both)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether a way seen in {@code rare} instances, {@code both} of them also in the {@code common}
   * way's, is the other way: it happens (nearly) only where the common one does not, and the two
   * together cover (nearly) every instance.
   */
  private boolean otherWayOf(int common, int rare, int both) {
    return both <= rare * (1 - HOLDS) && common + rare - both >= total() * HOLDS;
  }

  private void alternatives() {
    for (Stage m : stages) {
      if (!isMain(m)) {
        continue;
      }
      for (Stage t : stages) {
        if (t == m || t.instances < 2 || spansAlone(t) || spansAlone(m)) {
          continue;
        }
        int both = overlap(m, t);
        if (otherWayOf(m.instances, t.instances, both)) {
          alternative.add(m);
          break;
        }
      }
    }
  }

  /** Instances whose first trace was sampled ({@link #sampled()}). */
  private int sampledInstances() {
    return sampled().size();
  }

  /**
   * The instances whose first trace was sampled: as their first record's {@code traceparent} says
   * (its sampled flag), or, for a record without one, when a span in that record's trace was seen;
   * every instance when no trace shows a span at all (a recording without spans).
   */
  private Set<Integer> sampled() {
    if (sampled == null) {
      sampled = new HashSet<>();
      boolean anySpan = false;
      for (int i = 0; i < instances.size(); i++) {
        Instance inst = instances.get(i);
        Occurrence first = null;
        for (Occurrence o : inst.occurrences()) {
          if (o.isRecord()) {
            first = o;
            break;
          }
        }
        TraceContext context = first == null ? null : first.record().traceContext().orElse(null);
        boolean spanInTrace = false;
        for (Occurrence o : inst.occurrences()) {
          if (!o.isRecord() && o.traceId() != null && first != null && o.traceId().equals(first.traceId())) {
            spanInTrace = true;
            break;
          }
        }
        anySpan |= spanInTrace;
        if (context != null ? context.sampled() : spanInTrace) {
          sampled.add(i);
        }
      }
      if (!anySpan) {
        sampled.clear();
        for (int i = 0; i < instances.size(); i++) {
          sampled.add(i);
        }
      }
    }
    return sampled;
  }

  private static boolean spansAlone(Stage s) {
    return s.events.stream().noneMatch(EventType::isTopic);
  }

  /**
   * The instances in which {@code s} could have been seen, of {@code among}: for a stage of spans
   * alone, those whose first trace was sampled (an unsampled trace's spans are not exported, so
   * their absence there says nothing); else all of them.
   */
  private Set<Integer> observable(Stage s, Set<Integer> among) {
    if (!spansAlone(s)) {
      return among;
    }
    Set<Integer> out = new HashSet<>();
    for (int i : among) {
      Boolean traced = sampledBefore(s, instances.get(i));
      if (traced != null ? traced : sampled().contains(i)) {
        out.add(i);
      }
    }
    return out;
  }

  /**
   * Whether the trace a stage of spans alone would be in was sampled, as the last record of the
   * stages before it says (a page called after a result that came by webhook, in the webhook's own
   * trace); {@code null} when no such record says.
   */
  private Boolean sampledBefore(Stage s, Instance inst) {
    if (s.after.isEmpty()) {
      return null;
    }
    Occurrence last = null;
    for (Occurrence o : inst.occurrences()) {
      if (o.isRecord() && s.after.stream().anyMatch(p -> p.events.contains(o.type()))) {
        last = o;
      }
    }
    TraceContext context = last == null ? null : last.record().traceContext().orElse(null);
    return context == null ? null : context.sampled();
  }

  /**
   * A stage after the same ones as {@code s} that happens exactly where {@code s} does not, the two
   * together (nearly) every time their parent happens (a payment captured in 93 % of held rooms,
   * declined in the rest), or {@code null}: then {@code s} is one way of a branch, not a step its
   * parent always takes; drafted required, it failed every instance that took the other way.
   */
  private Stage otherWayAfter(Stage s, Stage parent) {
    int population = observable(s, parent.in).size();
    for (Stage o : stages) {
      if (o == s || !o.after.equals(s.after) || o.instances < 2 || spansAlone(o) || spansAlone(s)) {
        continue;
      }
      int both = overlap(s, o);
      if (both <= o.instances * (1 - HOLDS) && s.instances + o.instances - both >= population * HOLDS) {
        return o;
      }
    }
    return null;
  }

  /**
   * Whether {@code s} happens in (nearly) every instance its parent stage does; for a stage of
   * spans alone, of the parent's instances whose first trace was sampled.
   */
  private boolean followsAlways(Stage s, Stage parent) {
    return overlap(s, parent) >= observable(s, parent.in).size() * MAIN;
  }

  /** Whether {@code s} happens in (nearly) every instance that one of the stages it follows does. */
  private boolean followsAlwaysOneOf(Stage s) {
    Set<Integer> ways = new HashSet<>();
    for (Stage p : s.after) {
      ways.addAll(p.in);
    }
    int both = 0;
    for (int i : s.in) {
      if (ways.contains(i)) {
        both++;
      }
    }
    return both >= observable(s, ways).size() * MAIN;
  }

  /**
   * Whether the instances of {@code t} known to lack {@code o} (its spans would have shown) all went
   * through one stage never seen with {@code o} where {@code o} would have shown, as did two or more
   * of all that lack it: they took another branch, so {@code o} is no step {@code t} needs before it
   * (an amendment made on the dead-letter path as well as after a charge), however few they are.
   */
  private boolean tookAnotherBranch(Stage t, Stage o) {
    Set<Integer> known = new HashSet<>(); // without o where its spans would have shown
    for (int i : observable(o, t.in)) {
      if (!o.in.contains(i)) {
        known.add(i);
      }
    }
    if (known.isEmpty()) {
      return false;
    }
    for (Stage x : stages) {
      if (x == t || x == o || overlap(x, o) > 0 || !x.in.containsAll(known) || observable(o, x.in).size() < 2) {
        continue;
      }
      int lacking = 0; // of t's instances without o, sampled or not, how many went through x
      for (int i : t.in) {
        lacking += !o.in.contains(i) && x.in.contains(i) ? 1 : 0;
      }
      if (lacking >= 2) {
        return true; // never with o where o would have shown: on the dead-letter path, no charge
      }
    }
    return false;
  }

  private static int overlap(Stage a, Stage b) {
    int n = 0;
    for (int i : a.in) {
      if (b.in.contains(i)) {
        n++;
      }
    }
    return n;
  }

  /**
   * Optional stages need a condition: the data field (of an event before them) that tells which
   * instances take them. A stage with none is not declared (it would be required of every instance).
   */
  private void conditions() {
    Set<Stage> dropped = new LinkedHashSet<>();
    for (Stage s : stages) {
      if (s.after.isEmpty()) {
        continue;
      }
      Stage parent = s.after.get(0);
      // a stage of nearly every instance that a field leaves out of the rest exactly (a charge
      // made where the seats were held, in 90 % of purchases) is a branch too: required, it
      // failed each instance that took the other way
      boolean main = isMain(s);
      if (main && (!isMain(parent) || observable(s, parent.in).size() - overlap(s, parent) < 2)) {
        continue;
      }
      if (!main && s.after.size() > 1 && followsAlwaysOneOf(s)) {
        // a step after a join (a payment submitted once funds were reserved, straight away or after a
        // review): taken whenever one of the ways into it is, no condition of its own; it had been
        // measured against its first way alone and left out of the draft
        if (dropped.containsAll(s.after)) {
          dropped.add(s);
          notes.add("not declared: stage " + s.id + " (" + describe(s) + ") follows " + s.after.stream()
              .map(x -> x.id).toList() + ", which are not declared");
        }
        continue;
      }
      if (!main && !isMain(parent) && followsAlways(s, parent) && otherWayAfter(s, parent) == null) {
        if (dropped.contains(parent)) {
          // a step of a branch not declared: required on its own, it failed every instance without it
          dropped.add(s);
          notes.add("not declared: stage " + s.id + " (" + describe(s) + ") follows " + parent.id
              + ", which is not declared");
        }
        continue; // a step of its parent's branch: taken whenever the branch is, no condition of its own
      }
      List<Stage> siblings = stages.stream().filter(o -> o != s && !isMain(o) && o.after.equals(s.after)).toList();
      String best = null;
      String bestEvidence = null;
      double bestScore = 0;
      int bestRight = 0;
      int bestAll = 0;
      EventType bestSource = null;
      String bestPath = null;
      Set<String> bestValues = Set.of();
      Set<Integer> scope = new HashSet<>(observable(s, parent.in));
      for (EventType source : eventsUpTo(parent)) {
        if (ids.get(source) == null) {
          continue;
        }
        Map<String, Map<String, int[]>> byField = new TreeMap<>(); // path -> value -> {in s, not in s}
        int[] withPayload = new int[2];
        int[] withoutSource = new int[2]; // a record event the instance did not have: no condition on it holds
        for (int i : scope) {
          Occurrence o = instances.get(i).first(source);
          if (o == null || o.payload() == null) {
            if (o == null && source.isTopic()) {
              withoutSource[s.in.contains(i) ? 0 : 1]++;
            }
            continue;
          }
          Map<String, String> values = new TreeMap<>();
          Values.scalars("", o.payload(), values, 2);
          boolean taken = s.in.contains(i);
          withPayload[taken ? 0 : 1]++;
          values.forEach((path, v) -> {
            if (!path.contains("[]")) {
              byField.computeIfAbsent(path, p -> new TreeMap<>()).computeIfAbsent(v, x -> new int[2])[taken ? 0 : 1]++;
            }
          });
        }
        for (Map.Entry<String, Map<String, int[]>> f : byField.entrySet()) {
          Map<String, int[]> values = f.getValue();
          if (values.size() > 6 || values.size() < 2 || !celPath(f.getKey())) {
            continue;
          }
          int right = 0;
          int all = 0;
          // values too rare to belong, as the drafted schema leaves them out of an enum (a typo in
          // dirty traffic, "APPROVE" 3 times among 397): no value of the condition either
          Set<String> stray = new HashSet<>();
          int strayCount = 0;
          int seen = 0;
          for (Map.Entry<String, int[]> v : values.entrySet()) {
            int n = v.getValue()[0] + v.getValue()[1];
            seen += n;
            if (n < SchemaInferrer.ENUM_SAMPLES_PER_VALUE) {
              stray.add(v.getKey());
              strayCount += n;
            }
          }
          if (strayCount > seen * 0.05 || stray.size() == values.size()) {
            stray.clear();
          }
          List<String> mine = new ArrayList<>();
          for (Map.Entry<String, int[]> v : values.entrySet()) {
            int[] n = v.getValue();
            all += n[0] + n[1];
            if (n[0] > n[1] && n[0] >= 2 && !stray.contains(v.getKey())) {
              mine.add(v.getKey());
              right += n[0];
            } else {
              // a value seen once (an id, a stray value in dirty traffic) decides nothing about the
              // next instance: an instance it took into the stage counts against the condition
              right += n[1];
            }
          }
          if (mine.size() == values.size()) {
            continue; // every value seen takes the stage: that decides nothing (95 % taken is not a condition)
          }
          // where the field, or the record that would hold it, is not there, the condition does not
          // hold, so the stage must not happen: a field that 60 of 300 instances carry decided only them
          int[] absent = {withPayload[0] + withoutSource[0], withPayload[1] + withoutSource[1]};
          for (int[] n : values.values()) {
            absent[0] -= n[0];
            absent[1] -= n[1];
          }
          right += absent[1];
          all += absent[0] + absent[1];
          double score = all == 0 ? 0 : (double) right / all;
          // among fields that decide it, the one that decides the most instances: a record's field
          // over a span's that only sampled traces show
          boolean recordOverSpan = source.isTopic() && bestSource != null && !bestSource.isTopic();
          if (!mine.isEmpty() && score >= HOLDS && (right > bestRight
              || right == bestRight && (score > bestScore || score == bestScore && recordOverSpan))) {
            bestScore = score;
            bestRight = right;
            Occurrence example = instances.get(scope.iterator().next()).first(source);
            JsonNode sample = Values.at(example == null ? null : example.payload(), f.getKey());
            best = condition(ids.get(source) + "." + f.getKey(), mine, sample);
            bestEvidence = "decided " + right + "/" + all + " instances" + (right == all ? "" : "; "
                + (all - right) + " went against it");
            bestAll = all;
            bestSource = source;
            bestPath = f.getKey();
            bestValues = new HashSet<>(mine);
          }
        }
        // whether a field is there at all may decide it, where no value did as well (a wallet pass
        // where a wallet was named)
        for (Map.Entry<String, Map<String, int[]>> f : byField.entrySet()) {
          int[] present = new int[2];
          f.getValue().values().forEach(n -> {
            present[0] += n[0];
            present[1] += n[1];
          });
          int absentTaken = withPayload[0] - present[0];
          int absentNot = withPayload[1] - present[1];
          if (!celPath(f.getKey()) || f.getKey().contains(".") || absentTaken + absentNot < 2
              || present[0] + present[1] < 2) {
            continue;
          }
          boolean whenPresent = present[0] >= present[1];
          int right = whenPresent ? present[0] + absentNot : present[1] + absentTaken;
          int all = withPayload[0] + withPayload[1];
          double score = (double) right / all;
          if (score >= HOLDS && (whenPresent ? absentNot : absentTaken) >= 2 && right > bestRight) {
            bestScore = score;
            bestRight = right;
            best = (whenPresent ? "" : "!") + "has(" + ids.get(source) + "." + f.getKey() + ")";
            bestEvidence = "decided " + right + "/" + all + " instances by whether " + f.getKey() + " is there"
                + (right == all ? "" : "; " + (all - right) + " went against it");
            bestAll = all;
            bestSource = null;
            bestPath = null;
            bestValues = Set.of();
          }
        }
      }
      if (main) {
        if (best != null && bestRight == bestAll) {
          s.when = best;
          s.whenEvidence = bestEvidence;
          alternative.add(s);
        }
        continue;
      }
      if (best == null || bestRight < bestAll) {
        String[] both = twoFields(s, parent, scope, best == null ? -1 : bestRight);
        if (both != null) {
          best = both[0];
          bestEvidence = both[1];
        } else if (best != null && bestSource != null) {
          bestEvidence += against(s, scope, bestSource, bestPath, bestValues, bestAll - bestRight);
        }
      }
      if (best == null) {
        int seenIn = observable(s, parent.in).size();
        String share = "happens in only " + s.instances + "/"
            + (seenIn < parent.in.size() ? seenIn + " instances whose trace was sampled" : total() + " instances")
            + " and no field of an earlier event tells which" + unreadAvro();
        int without = wentOnWithout(s, parent, siblings, scope);
        // ways seen in every instance that took them: one of spans alone is not seen where the trace
        // was not sampled, and would be owed there (trial P: 92 clean disputes failed)
        List<Stage> ways = spansAlone(s) ? List.of()
            : siblings.stream().filter(o -> overlap(s, o) == 0 && !spansAlone(o)).toList();
        if (without >= 2) {
          // a step some instances take (a rating left after the delivery): declared optional, it is
          // checked where it happens and never missing where it does not
          s.optional = share + "; " + without + " instances went on without it";
        } else if (!ways.isEmpty() && without == 0) {
          // alternatives one of which every instance took, told apart by nothing seen (a kitchen
          // accepts or rejects the order): the ways of a choice, so that an order never answered,
          // or answered both ways, fails; as two optional stages, both passed (trial O)
          s.choice = parent.id + "-outcome";
          s.choiceEvidence = s.instances + "/" + (seenIn < parent.in.size() ? seenIn + " sampled" : total())
              + " instances took it, " + ways.stream().map(x -> x.id + " " + x.instances)
                  .collect(java.util.stream.Collectors.joining(", ")) + ", none two ways; no field of an earlier event"
              + " tells which" + unreadAvro();
        } else if (!siblings.isEmpty() && stages.stream().anyMatch(n -> n.after.contains(s))) {
          // alternatives one of which every instance took, told apart by nothing seen (a kitchen
          // accepts or rejects the order), each with steps after it: optional, so that its steps
          // are still checked where it happens; left out, a trial's draft lost 7 of its 9 stages
          s.optional = share + "; " + siblings.stream().map(x -> x.id).collect(java.util.stream.Collectors.joining(
              " or ")) + " happens instead";
          s.undecidedWay = true;
        } else {
          // alternatives that end the flow, told apart by nothing seen: optional, an instance that
          // took one would reach no end
          dropped.add(s);
          notes.add("not declared: stage " + s.id + " (" + describe(s) + ") " + share + (siblings.isEmpty() ? ""
              : " (alternatives: " + siblings.stream().map(x -> x.id).toList() + ")"));
        }
      } else {
        s.when = best;
        s.whenEvidence = bestEvidence;
        otherWayIn(s, parent);
      }
    }
    loneWays(dropped);
    if (!dropped.isEmpty()) {
      stages.removeAll(dropped);
      for (Stage s : stages) {
        List<Stage> after = new ArrayList<>(s.after);
        after.removeAll(dropped);
        if (after.isEmpty() && !s.after.isEmpty()) {
          // the nearest stage before it that is declared (a chain of steps of a branch left out
          // had pointed a notification at one of them)
          Stage up = s.after.get(0);
          while (dropped.contains(up) && !up.after.isEmpty()) {
            up = up.after.get(0);
          }
          after.add(dropped.contains(up) ? stages.get(0) : up);
        }
        s.after = List.copyOf(after);
      }
    }
    joins();
    Set<Stage> predecessors = new HashSet<>();
    stages.forEach(s -> predecessors.addAll(s.after));
    for (Stage s : stages) {
      // one side of a fan-out is not an end because what follows hangs from the other side; nor is
      // the server side of a call the flow goes on after (the fraud service's screening, whose
      // caller's next step follows the caller's stage)
      boolean calleeOfAStep = s.events.stream().noneMatch(EventType::isTopic) && stages.stream().anyMatch(p -> p != s
          && childOf(s, p) && stages.stream().anyMatch(q -> q != s && q.after.contains(p) && !childOf(q, p)));
      s.terminal = s.optional == null && (!predecessors.contains(s) && s.concurrent.stream().noneMatch(predecessors::contains)
          && !calleeOfAStep || endsSome(s));
    }
    fanIns();
  }

  /**
   * A way of a choice whose other ways got conditions of their own, or were left out: no choice
   * of one way. As before choices, it is optional where steps follow it, else not declared.
   */
  private void loneWays(Set<Stage> dropped) {
    Map<String, List<Stage>> byChoice = new HashMap<>();
    for (Stage s : stages) {
      if (s.choice != null && !dropped.contains(s)) {
        byChoice.computeIfAbsent(s.choice, c -> new ArrayList<>()).add(s);
      }
    }
    for (List<Stage> ways : byChoice.values()) {
      if (ways.size() > 1) {
        continue;
      }
      Stage s = ways.get(0);
      String why = "no field of an earlier event tells when it happens (" + s.choiceEvidence + ")";
      s.choice = null;
      if (stages.stream().anyMatch(n -> n.after.contains(s))) {
        s.optional = why;
        s.undecidedWay = true;
      } else {
        dropped.add(s);
        notes.add("not declared: stage " + s.id + " (" + describe(s) + ") " + why);
      }
    }
  }

  /** Whether two payloads are one item told again ({@link Repeats}), as the order check of a {@code fanIn} stage tells. */
  private static boolean sameItem(JsonNode a, JsonNode b) {
    return Repeats.sameBut(a, b, "") || Repeats.sameItem(a, b);
  }

  /**
   * A stage's fan-in: {@code item} happened several times, each saying something else, in {@code
   * several} instances (up to {@code most} times), and the stage came after the last in each.
   */
  record FanIn(EventType item, int several, int most) {}

  /** Instances with several items a stage must have waited for, before it is drafted {@code fanIn}. */
  private static final int FAN_IN_INSTANCES = 5;

  /**
   * A stage after one whose last event happens several times in an instance, each saying something
   * else (one inspection per item of a return), that happened once (the refund), after the last of
   * them, in every instance that had several, is a fan-in: it follows every item ({@code fanIn:
   * true}), so that one that comes before an item is an {@code ORDER_VIOLATION}. An occurrence that
   * says the same as an earlier one (a redelivery) is no item. A stage that happens once per item
   * too (each item's inspection after its request) is a fan-out going on, not a fan-in.
   */
  private void fanIns() {
    for (Stage s : stages) {
      if (s.after.size() != 1 || s.events.isEmpty() || s.after.get(0).events.isEmpty()) {
        continue;
      }
      Stage p = s.after.get(0);
      EventType item = p.events.get(p.events.size() - 1);
      EventType mine = s.events.get(0);
      int several = 0;
      int waited = 0;
      int most = 0;
      for (int i : s.in) {
        Occurrence first = instances.get(i).first(mine);
        List<Occurrence> items = new ArrayList<>();
        for (Occurrence o : instances.get(i).all(item)) {
          if (o.payload() != null && items.stream().noneMatch(x -> sameItem(x.payload(), o.payload()))) {
            items.add(o);
          }
        }
        if (first == null || items.size() < 2) {
          continue;
        }
        several++;
        most = Math.max(most, items.size());
        boolean once = instances.get(i).all(mine).stream().allMatch(o -> o.payload() == null
            ? first.payload() == null : first.payload() != null && sameItem(first.payload(), o.payload()));
        if (once && items.stream().allMatch(o -> o.time() < first.time())) {
          waited++;
        }
      }
      if (several >= FAN_IN_INSTANCES && waited == several) {
        s.fanIn = new FanIn(item, several, most);
      }
    }
  }

  /**
   * How many instances that reached {@code parent}, where {@code s} could be seen, took neither it
   * nor any of its alternatives — the {@code siblings} it never happens with: those that went on
   * without the step. A sibling it happens with (a review and a damage report, both after the
   * invoice) is no alternative.
   */
  private int wentOnWithout(Stage s, Stage parent, List<Stage> siblings, Set<Integer> scope) {
    List<Stage> alternatives = siblings.stream().filter(o -> overlap(s, o) == 0).toList();
    int n = 0;
    for (int i : scope) {
      if (parent.in.contains(i) && !s.in.contains(i) && alternatives.stream().noneMatch(o -> o.in.contains(i))) {
        n++;
      }
    }
    return n;
  }

  /**
   * A conditional stage that also happens where its parent's branch was not taken: a purchase
   * failed after a declined payment, and as well where the seats were not held and no payment was
   * made. Drafted after its parent alone, its condition was learnt from the instances that reached
   * the parent, and each instance of the other way failed for a stage "happening although none of
   * the stages it follows happened". It then follows the stage the branch left from as well, when
   * the branch's condition does not hold: {@code !(branch) || condition}.
   */
  private void otherWayIn(Stage s, Stage parent) {
    Stage branch = parent;
    while (branch.when == null && !branch.after.isEmpty()) {
      branch = branch.after.get(0);
    }
    if (branch.when == null || branch.after.isEmpty()) {
      return;
    }
    Stage from = branch.after.get(0);
    // where the branch could be seen not to be taken: a branch of spans alone is unseen in an
    // unsampled trace, whose instance may well have taken it
    Set<Integer> outside = new HashSet<>(observable(s, observable(branch, from.in)));
    outside.removeAll(branch.in);
    int taken = 0;
    for (int i : outside) {
      if (s.in.contains(i)) {
        taken++;
      }
    }
    Set<Integer> beyond = new HashSet<>(s.in);
    beyond.removeAll(parent.in);
    if (taken < 2 || taken < outside.size() || !from.in.containsAll(beyond)) {
      return; // taken in only some instances of the other way: that needs a condition of its own
    }
    s.after = List.of(parent, from);
    s.when = "!(" + branch.when + ") || " + s.when;
    s.whenEvidence += "; and in each of the " + taken + " instances where " + branch.id + "'s condition did not hold";
  }

  /**
   * Whether instances end at a stage whose every follower is conditional: a wallet payout after its
   * ledger entry, where only bank transfers wait for the bank's settlement. Not terminal, it failed
   * each of them for reaching no end; terminal, the followers whose condition holds are still due.
   */
  private boolean endsSome(Stage s) {
    List<Stage> next = stages.stream().filter(n -> n.after.contains(s)).toList();
    if (next.isEmpty() || next.stream().anyMatch(n -> n.when == null && n.optional == null)) {
      return false;
    }
    int ended = 0;
    for (int i : s.in) {
      // a follower of spans alone is not seen in an unsampled trace: that instance did not end here
      Set<Integer> one = Set.of(i);
      if (next.stream().allMatch(n -> observable(n, one).contains(i)) && next.stream().noneMatch(n -> n.in.contains(i))) {
        ended++;
      }
    }
    if (ended >= 2) {
      s.terminalEvidence = ended + " instances ended here, where no " + (next.stream().allMatch(n -> n.when == null)
          ? "optional step after it was taken" : "condition after it held");
    }
    return ended >= 2;
  }

  /**
   * Two fields that together decide the stage where no one field does, or where the best one went
   * against the data: an upsell for gold guests whose room was held, a greeter for premium riders
   * at the airport. Every pair of fields with two to six values is tried; the stage must be taken
   * exactly for a product of their values ({@code a in [..] && b in [..]}), in at least 95 % of
   * the instances and — against a field that alone decides some — missing at most half as often.
   * Of equal pairs, fields of records win over those of spans (which sampled-out traces lack).
   * Returns the condition and its evidence, or {@code null}; {@code right} is what the best single
   * field decided, -1 for none.
   */
  private String[] twoFields(Stage s, Stage parent, Set<Integer> scope, int right) {
    List<Map<String, String>> rows = new ArrayList<>();
    List<Boolean> taken = new ArrayList<>();
    Map<String, JsonNode> samples = new LinkedHashMap<>();
    Set<String> fromRecords = new HashSet<>();
    List<EventType> sources = eventsUpTo(parent);
    for (int i : scope) {
      Map<String, String> row = new HashMap<>();
      for (EventType source : sources) {
        Occurrence o = ids.get(source) == null ? null : instances.get(i).first(source);
        if (o == null || o.payload() == null) {
          continue;
        }
        Map<String, String> scalars = new TreeMap<>();
        Values.scalars("", o.payload(), scalars, 2);
        scalars.forEach((path, v) -> {
          if (!path.contains("[]") && celPath(path)) {
            String key = ids.get(source) + "." + path;
            row.putIfAbsent(key, v);
            samples.computeIfAbsent(key, k -> Values.at(o.payload(), path));
            if (source.isTopic()) {
              fromRecords.add(key);
            }
          }
        });
      }
      rows.add(row);
      taken.add(s.in.contains(i));
    }
    List<String> fields = new ArrayList<>();
    for (String key : samples.keySet()) {
      Set<String> values = new HashSet<>();
      for (Map<String, String> row : rows) {
        String v = row.get(key);
        if (v != null && values.add(v) && values.size() > 6) {
          break;
        }
      }
      if (values.size() >= 2 && values.size() <= 6) {
        fields.add(key);
      }
    }
    String[] best = null;
    int bestRight = right;
    int bestRecords = -1;
    for (int a = 0; a < fields.size(); a++) {
      for (int b = a + 1; b < fields.size(); b++) {
        String fa = fields.get(a);
        String fb = fields.get(b);
        if (fa.substring(fa.indexOf('.')).equals(fb.substring(fb.indexOf('.')))) {
          continue; // one field seen in two events
        }
        Map<String, int[]> combos = new HashMap<>(); // "va\u0000vb" -> {taken, not}
        int all = 0;
        for (int r = 0; r < rows.size(); r++) {
          String va = rows.get(r).get(fa);
          String vb = rows.get(r).get(fb);
          if (va != null && vb != null) {
            combos.computeIfAbsent(va + '\u0000' + vb, x -> new int[2])[taken.get(r) ? 0 : 1]++;
            all++;
          }
        }
        Set<String> inA = new java.util.TreeSet<>();
        Set<String> inB = new java.util.TreeSet<>();
        Set<String> mine = new HashSet<>();
        int decided = 0;
        for (Map.Entry<String, int[]> c : combos.entrySet()) {
          int[] n = c.getValue();
          if (n[0] > n[1] && n[0] >= 2) {
            mine.add(c.getKey());
            String[] v = c.getKey().split("\u0000", -1);
            inA.add(v[0]);
            inB.add(v[1]);
            decided += n[0];
          } else {
            decided += n[1];
          }
        }
        if (mine.isEmpty() || all == 0 || mine.size() != inA.size() * inB.size()) {
          continue; // not a product of two value sets: not a condition of this form
        }
        // where either field is absent (its event not taken, its trace not sampled) the condition
        // is not made true, so the stage must not happen there: judged over every instance of the
        // scope, a pair that decided 44 of the 45 instances with both fields went against 43 more
        decided = 0;
        all = rows.size();
        for (int r = 0; r < rows.size(); r++) {
          String va = rows.get(r).get(fa);
          String vb = rows.get(r).get(fb);
          boolean holds = va != null && vb != null && inA.contains(va) && inB.contains(vb);
          decided += holds == taken.get(r) ? 1 : 0;
        }
        if (decided < all * HOLDS) {
          continue;
        }
        Set<String> seenA = new HashSet<>();
        Set<String> seenB = new HashSet<>();
        combos.keySet().forEach(k -> {
          String[] v = k.split("\u0000", -1);
          seenA.add(v[0]);
          seenB.add(v[1]);
        });
        if (inA.size() == seenA.size() || inB.size() == seenB.size()) {
          continue; // one of them holds for every value seen: that is one field's condition
        }
        int records = (fromRecords.contains(fa) ? 1 : 0) + (fromRecords.contains(fb) ? 1 : 0);
        boolean better = decided > bestRight || decided == bestRight && best != null && records > bestRecords;
        if (better && (right < 0 || (all - decided) * 2 <= all - right)) {
          bestRight = decided;
          bestRecords = records;
          best = new String[] {condition(fa, new ArrayList<>(inA), samples.get(fa)) + " && "
              + condition(fb, new ArrayList<>(inB), samples.get(fb)),
              "decided " + decided + "/" + all + " instances" + (decided == all ? "" : "; " + (all - decided)
                  + " went against it") + (right < 0 ? " (no one field decides it)"
                  : " (the best one field alone: " + right + ")")};
        }
      }
    }
    return best;
  }

  /** Whether a path's every part is a name CEL can select ({@code a.b}, not {@code a-b} or {@code items[]}). */
  static boolean celPath(String path) {
    for (String part : path.split("\\.")) {
      if (!CEL_NAME.matcher(part).matches()) {
        return false;
      }
    }
    return true;
  }

  private static String condition(String field, List<String> values, JsonNode sample) {
    boolean quoted = sample == null || sample.isString();
    List<String> literals = values.stream().map(v -> quoted ? "\"" + v.replace("\\", "\\\\").replace("\"", "\\\"") + "\"" : v)
        .toList();
    return literals.size() == 1 ? field + " == " + literals.get(0) : field + " in [" + String.join(", ", literals) + "]";
  }

  private List<EventType> eventsUpTo(Stage stage) {
    List<EventType> out = new ArrayList<>();
    Set<Stage> seen = new HashSet<>();
    java.util.ArrayDeque<Stage> todo = new java.util.ArrayDeque<>(List.of(stage));
    while (!todo.isEmpty()) {
      Stage s = todo.poll();
      if (seen.add(s)) {
        List<EventType> es = new ArrayList<>(s.events);
        java.util.Collections.reverse(es);
        out.addAll(es);
        todo.addAll(s.after);
        todo.addAll(s.concurrent); // a fan-out's other side is as early: it happened by the join
      }
    }
    return out;
  }

  private String describe(Stage s) {
    return s.events.stream().map(EventType::describe).reduce((a, b) -> a + ", " + b).orElse("");
  }

  List<EventType> declaredEvents() {
    List<EventType> out = new ArrayList<>();
    stages.forEach(s -> out.addAll(s.events));
    return out;
  }

  // ---- keys --------------------------------------------------------------------------------------

  /**
   * Keys: fields whose value is the same in every event of an instance that carries it and
   * different between instances. Chosen greedily, first the one that covers the earliest record,
   * until every record event carries one.
   */
  private void keys() {
    List<EventType> events = declaredEvents();
    // (event#path) -> how often it held the instance's value for a candidate
    Map<String, Map<String, Integer>> cooccur = new HashMap<>();
    Map<String, Integer> count = new HashMap<>();
    Map<String, Set<String>> distinct = new HashMap<>();
    for (Instance inst : instances) {
      Map<String, List<String>> byValue = new HashMap<>();
      Set<String> seenHere = new HashSet<>();
      for (Occurrence o : inst.occurrences()) {
        if (o.payload() == null || !events.contains(o.type())) {
          continue;
        }
        Map<String, String> values = new LinkedHashMap<>();
        Values.scalars("", o.payload(), values, 3);
        String prefix = ids.get(o.type()) + "#";
        values.forEach((path, v) -> {
          if (path.contains("[]") || v.length() < 4 || !celPath(path)) {
            return;
          }
          String field = prefix + path;
          if (seenHere.add(field)) {
            count.merge(field, 1, Integer::sum);
            distinct.computeIfAbsent(field, f -> new HashSet<>()).add(v);
            byValue.computeIfAbsent(v, x -> new ArrayList<>()).add(field);
          }
        });
      }
      for (List<String> fields : byValue.values()) {
        for (String a : fields) {
          for (String b : fields) {
            if (!a.equals(b)) {
              cooccur.computeIfAbsent(a, x -> new HashMap<>()).merge(b, 1, Integer::sum);
            }
          }
        }
      }
    }
    // classes of fields that hold the same value within an instance (nearly always)
    Map<String, String> parent = new HashMap<>();
    List<String> fields = new ArrayList<>(count.keySet());
    fields.sort(null);
    for (String f : fields) {
      parent.put(f, f);
    }
    for (String a : fields) {
      for (Map.Entry<String, Integer> b : cooccur.getOrDefault(a, Map.of()).entrySet()) {
        int both = Math.min(count.get(a), count.get(b.getKey()));
        if (b.getValue() >= both * HOLDS && unique(distinct, count, a) && unique(distinct, count, b.getKey())) {
          union(parent, a, b.getKey());
        }
      }
    }
    Map<String, List<String>> classes = new TreeMap<>();
    for (String f : fields) {
      if (unique(distinct, count, f)) {
        classes.computeIfAbsent(find(parent, f), x -> new ArrayList<>()).add(f);
      }
    }
    // choose
    Set<String> uncovered = new LinkedHashSet<>();
    for (EventType t : events) {
      if (t.isTopic()) {
        uncovered.add(ids.get(t));
      }
    }
    Set<String> mustCarry = new HashSet<>(uncovered);
    if (uncovered.isEmpty()) {
      // spans alone: a key carried by the spans' payloads names the instance across its traces
      // (a callback's, an adjuster's later call), and without one each trace is an instance of its own
      for (EventType t : events) {
        if (t.attribute() != null) {
          uncovered.add(ids.get(t));
        }
      }
    }
    List<List<String>> candidates = new ArrayList<>(classes.values());
    candidates.removeIf(c -> c.size() < 2 && !uncovered.contains(c.get(0).substring(0, c.get(0).indexOf('#'))));
    // ids the flow mints are preferred to values its caller sent (a rider's id, a policy number: they
    // name something that existed before the flow, and repeat in other traffic) when they cover as much
    List<List<String>> minted = selectKeys(candidates, uncovered, true, distinct, count);
    List<List<String>> anyKeys = selectKeys(candidates, uncovered, false, distinct, count);
    boolean mintedCover = coverage(minted, uncovered) >= coverage(anyKeys, uncovered);
    List<List<String>> chosen = mintedCover ? minted : anyKeys;
    List<String> callers = new ArrayList<>();
    if (mintedCover) {
      anyKeys.stream().filter(c -> !minted.contains(c) && fromCaller(c)).forEach(c -> callers.add(keyName(c)));
    }
    for (List<String> best : chosen) {
      candidates.remove(best);
      List<String> alike = new ArrayList<>();
      for (List<String> c : candidates) {
        if (identity(c, distinct, count) == identity(best, distinct, count)
            && coveredBy(c, uncovered).equals(coveredBy(best, uncovered))) {
          alike.add(keyName(c) + (fromCaller(c) ? " (sent by the caller)" : ""));
        }
      }
      String keyName = keyName(best);
      if (keys.contains(keyName)) {
        keyName = keyName + (keys.size() + 1);
      }
      keys.add(keyName);
      int instancesWith = 0;
      for (String f : best) {
        instancesWith = Math.max(instancesWith, count.get(f));
        String event = f.substring(0, f.indexOf('#'));
        uncovered.remove(event);
        EventType t = typeOf(event);
        eventKeys.computeIfAbsent(t, x -> new LinkedHashMap<>()).putIfAbsent(keyName, f.substring(f.indexOf('#') + 1));
      }
      keyEvidence.put(keyName, "the same value in " + best.size() + " event"
          + (best.size() == 1 ? "" : "s") + " of an instance, a different one in each of " + instancesWith
          + " instances" + (alike.isEmpty() ? "" : "; " + String.join(", ", alike) + (alike.size() == 1 ? " was" : " were")
              + " as unique in this traffic: keep the key that names the business transaction")
          + (callers.isEmpty() || keys.size() > 1 ? "" : "; " + String.join(", ", callers) + ", which the caller sent, was"
              + " as unique here but names what the caller brought, which repeats in other traffic"));
    }
    if (keys.isEmpty()) {
      keys.add("traceId");
      notes.add("no business key found: no field holds one value per instance across events");
    }
    for (String u : uncovered) {
      if (mustCarry.contains(u)) {
        notes.add("event " + u + " carries none of the keys: it can only join its instance by trace");
      }
    }
    // binary records: their record key may be an instance key
    Set<EventType> shared = sharedTopics(events);
    for (EventType t : events) {
      if (!t.isTopic() || eventKeys.containsKey(t) || shared.contains(t)) {
        continue;
      }
      for (String k : keys) {
        int same = 0;
        int n = 0;
        for (Instance inst : instances) {
          Set<String> values = keyValues(inst, k);
          for (Occurrence o : inst.all(t)) {
            if (o.record().key() != null && !values.isEmpty()) {
              n++;
              if (values.contains(o.record().key())) {
                same++;
              }
            }
          }
        }
        if (n >= 2 && same >= n * HOLDS) {
          recordKeys.put(t, k);
          notes.removeIf(x -> x.startsWith("event " + ids.get(t) + " carries none"));
          break;
        }
      }
    }
    // record keys that carry a key
    for (EventType t : events) {
      if (!t.isTopic() || !eventKeys.containsKey(t) || shared.contains(t)) {
        continue;
      }
      for (Map.Entry<String, String> k : eventKeys.get(t).entrySet()) {
        int same = 0;
        int n = 0;
        for (Instance inst : instances) {
          for (Occurrence o : inst.all(t)) {
            JsonNode v = o.payload() == null ? null : Values.at(o.payload(), k.getValue());
            if (v != null && o.record().key() != null) {
              n++;
              if (o.record().key().equals(v.isNumber() ? Values.number(v) : v.asString())) {
                same++;
              }
            }
          }
        }
        if (n > 0 && same >= n * HOLDS) {
          recordKeys.put(t, k.getKey());
          break;
        }
      }
    }
  }

  /**
   * The topics whose records are not all this flow's: others fall in another flow's instances, or
   * in none. Their record key is not drafted as an instance key — the other records' keys (a review
   * id on a shared notifications topic) would each open an instance of this flow — so their records
   * join by payload key or by trace; a note says so.
   */
  private Set<EventType> sharedTopics(Collection<EventType> events) {
    Set<EventType> shared = new HashSet<>();
    for (EventType t : events) {
      if (!t.isTopic()) {
        continue;
      }
      Set<Occurrence> mine = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
      for (Instance inst : instances) {
        mine.addAll(inst.all(t));
      }
      List<Occurrence> allOfTopic = topicRecords.getOrDefault(t, List.of());
      int all = Math.max(allOfTopic.size(), mine.size());
      int others = all - mine.size();
      if (others >= 2 && others >= all * 0.01) {
        shared.add(t);
        boolean byTrace = eventKeys.containsKey(t) && inTheirTrace(t) && othersCarryKeys(t, allOfTopic, mine);
        if (byTrace) {
          traceOnly.add(t);
        }
        notes.add("topic " + t.topic() + " also carries records that are not this flow's (" + others + " of " + all
            + "): event " + ids.get(t) + " is not given a recordKey, which would make each of their keys an instance"
            + " of this flow; its records join their instance by " + (byTrace
                ? "trace alone (keys: {}), as every one of this flow's did: the others' payload keys would open or join"
                    + " instances of this flow"
                : eventKeys.containsKey(t) ? "payload key" : "trace"));
      }
    }
    return shared;
  }

  /**
   * Whether a record of the topic that is not this flow's carries one of the event's keys where this
   * flow's carry it: joined by payload key, it would open or join an instance of this flow. Where
   * none does (a shared topic whose other flow has keys of its own), the payload key stays, and a
   * record that lost its trace context still joins its instance, and is reported there.
   */
  private boolean othersCarryKeys(EventType t, List<Occurrence> all, Set<Occurrence> mine) {
    java.util.Collection<String> paths = eventKeys.get(t).values();
    for (Occurrence o : all) {
      if (!mine.contains(o) && o.payload() != null) {
        for (String path : paths) {
          if (Values.at(o.payload(), path) != null) {
            return true;
          }
        }
      }
    }
    return false;
  }

  /** Whether every occurrence of the event is in a trace an earlier event of its instance is in. */
  private boolean inTheirTrace(EventType t) {
    int n = 0;
    for (Instance inst : instances) {
      for (Occurrence o : inst.all(t)) {
        n++;
        boolean joined = false;
        for (Occurrence p : inst.occurrences()) {
          if (p.type() != t && p.traceId() != null && p.traceId().equals(o.traceId()) && p.time() <= o.time()) {
            joined = true;
            break;
          }
        }
        if (!joined) {
          return false;
        }
      }
    }
    return n >= 2;
  }

  /** The values key {@code k} has in an instance's events. */
  private Set<String> keyValues(Instance inst, String k) {
    Set<String> out = new HashSet<>();
    for (Occurrence o : inst.occurrences()) {
      String path = eventKeys.getOrDefault(o.type(), Map.of()).get(k);
      JsonNode v = path == null || o.payload() == null ? null : Values.at(o.payload(), path);
      if (v != null && v.isValueNode()) {
        out.add(v.isNumber() ? Values.number(v) : v.asString());
      }
    }
    return out;
  }

  private int positionOf(String eventId) {
    int i = 0;
    for (Stage s : stages) {
      for (EventType t : s.events) {
        if (ids.get(t).equals(eventId)) {
          return i;
        }
        i++;
      }
    }
    return Integer.MAX_VALUE;
  }

  private EventType typeOf(String eventId) {
    for (Map.Entry<EventType, String> e : ids.entrySet()) {
      if (e.getValue().equals(eventId)) {
        return e.getKey();
      }
    }
    return null;
  }

  /** The events of {@code among} (record events no key covers yet) a class of fields is in. */
  private static Set<String> coveredBy(List<String> fields, Set<String> among) {
    Set<String> events = new TreeSet<>();
    for (String f : fields) {
      String event = f.substring(0, f.indexOf('#'));
      if (among.contains(event)) {
        events.add(event);
      }
    }
    return events;
  }

  /**
   * The key classes a greedy choice takes, in order (at most three): each time the one covering the
   * most events not yet covered, then the one most like an identity, then the earliest. With {@code
   * mintedOnly}, none of the values the flow's caller sent ({@link #fromCaller}).
   */
  private List<List<String>> selectKeys(List<List<String>> all, Set<String> events, boolean mintedOnly,
      Map<String, Set<String>> distinct, Map<String, Integer> count) {
    List<List<String>> candidates = new ArrayList<>(all);
    Set<String> uncovered = new LinkedHashSet<>(events);
    List<List<String>> chosen = new ArrayList<>();
    while (!uncovered.isEmpty() && chosen.size() < 3) {
      List<String> best = null;
      int bestCover = 0;
      int bestIdentity = -1;
      int bestPosition = Integer.MAX_VALUE;
      for (List<String> c : candidates) {
        if (c.size() < 2 && !chosen.isEmpty()) {
          // a further key found in one event only joins nothing the trace does not, and opens an
          // instance of its own for that event where its trace context was lost (a wallet pass's id)
          continue;
        }
        if (mintedOnly && fromCaller(c)) {
          continue;
        }
        Set<String> covers = new HashSet<>();
        int position = Integer.MAX_VALUE;
        for (String f : c) {
          String event = f.substring(0, f.indexOf('#'));
          if (uncovered.contains(event)) {
            covers.add(event);
          }
          position = Math.min(position, positionOf(event));
        }
        int identity = identity(c, distinct, count) * 2 + (fromCaller(c) ? 0 : 1);
        if (covers.size() > bestCover || covers.size() == bestCover && covers.size() > 0
            && (identity > bestIdentity || identity == bestIdentity && position < bestPosition)) {
          best = c;
          bestCover = covers.size();
          bestIdentity = identity;
          bestPosition = position;
        }
      }
      if (best == null || bestCover == 0) {
        break;
      }
      candidates.remove(best);
      chosen.add(best);
      uncovered.removeAll(coveredBy(best, uncovered));
    }
    return chosen;
  }

  /** How many of {@code events} the key classes cover. */
  private static int coverage(List<List<String>> classes, Set<String> events) {
    Set<String> covered = new HashSet<>();
    for (List<String> c : classes) {
      covered.addAll(coveredBy(c, events));
    }
    return covered.size();
  }

  /**
   * Whether the flow's caller sent the value: a field of the request body of the server span that
   * starts the flow. Such a value names something that existed before the flow (a policy, a
   * customer); the flow's own identity is minted on the way (a claim id in the response).
   */
  private boolean fromCaller(List<String> fields) {
    EventType call = inboundCall();
    if (call == null) {
      return false;
    }
    for (String f : fields) {
      if (call.equals(typeOf(f.substring(0, f.indexOf('#'))))) {
        return true;
      }
    }
    return false;
  }

  private EventType inboundCall;
  private boolean inboundCallKnown;

  /**
   * The request body of the server span that most instances begin with (the call that starts the
   * flow), or {@code null} when they begin otherwise.
   */
  private EventType inboundCall() {
    if (!inboundCallKnown) {
      inboundCallKnown = true;
      Map<EventType, Integer> firsts = new HashMap<>();
      for (Instance inst : instances) {
        if (!inst.occurrences().isEmpty() && !unsampledRecord(inst.occurrences().get(0))) {
          // an instance begun by a record of an unsampled trace: the call before it exported no span
          firsts.merge(inst.occurrences().get(0).type(), 1, Integer::sum);
        }
      }
      firsts.entrySet().stream().max(Map.Entry.comparingByValue())
          .filter(e -> !e.getKey().isTopic() && e.getKey().kind() == SpanKind.SERVER
              && EventType.REQUEST_BODY.equals(e.getKey().attribute()) && ids.containsKey(e.getKey()))
          .ifPresent(e -> inboundCall = e.getKey());
    }
    return inboundCall;
  }

  private static boolean unsampledRecord(Occurrence o) {
    return o.record() != null && o.record().traceContext().map(c -> !c.sampled()).orElse(false);
  }

  /**
   * How much a class of fields looks like an identity rather than a value that happens to differ
   * between instances (an amount): never repeated between instances, and named like an id.
   */
  private int identity(List<String> fields, Map<String, Set<String>> distinct, Map<String, Integer> count) {
    boolean neverRepeated = fields.stream().allMatch(f -> distinct.get(f).size() == count.get(f));
    return (neverRepeated ? 2 : 0) + (ID_NAME.matcher(keyName(fields)).matches() ? 1 : 0);
  }

  private static boolean unique(Map<String, Set<String>> distinct, Map<String, Integer> count, String field) {
    int n = count.get(field);
    return n >= 2 && distinct.get(field).size() >= n * HOLDS;
  }

  /**
   * The name a class of fields goes by in most of the flow's records — not an outside party's, whose
   * call may carry the value as often ({@code merchantReference} in a charge and its answer) —,
   * else in most of its events.
   */
  private String keyName(List<String> fields) {
    List<String> ofRecords = fields.stream().filter(f -> {
      EventType t = typeOf(f.substring(0, f.indexOf('#')));
      return t != null && t.isTopic();
    }).toList();
    Map<String, Integer> names = new TreeMap<>();
    for (String f : ofRecords.isEmpty() ? fields : ofRecords) {
      String path = f.substring(f.indexOf('#') + 1);
      names.merge(path.substring(path.lastIndexOf('.') + 1), 1, Integer::sum);
    }
    return names.entrySet().stream().max(Map.Entry.<String, Integer>comparingByValue()
        .thenComparing(Map.Entry.comparingByKey(Comparator.reverseOrder()))).get().getKey();
  }

  private static String find(Map<String, String> parent, String x) {
    while (!parent.get(x).equals(x)) {
      x = parent.get(x);
    }
    return x;
  }

  private static void union(Map<String, String> parent, String a, String b) {
    String ra = find(parent, a);
    String rb = find(parent, b);
    if (!ra.equals(rb)) {
      if (ra.compareTo(rb) < 0) {
        parent.put(rb, ra);
      } else {
        parent.put(ra, rb);
      }
    }
  }

  // ---- schemas and traces ----------------------------------------------------------------------

  /**
   * {@code "; the Avro payloads of E, F were not read (…)"} when events of the draft carried Avro
   * payloads no schema was had for (a field of theirs may tell), else empty.
   */
  private String unreadAvro() {
    if (unreadAvroText == null) {
      unreadAvroText = unreadAvroTopics();
    }
    return unreadAvroText;
  }

  private String unreadAvroText;

  private String unreadAvroTopics() {
    Set<String> unread = new java.util.TreeSet<>();
    for (Instance inst : instances) {
      for (Occurrence o : inst.occurrences()) {
        if (o.isRecord() && o.payload() == null && Traffic.confluentSchemaId(o.record().value()) != null) {
          unread.add(o.type().topic());
        }
      }
    }
    return unread.isEmpty() ? "" : " (the Avro payloads of " + String.join(", ", unread)
        + " were not read: infer --schema-registry URL reads them)";
  }

  private void schemas() {
    for (EventType t : declaredEvents()) {
      SchemaInferrer inferrer = new SchemaInferrer();
      String schemaId = null;
      Set<Long> decodedIds = new java.util.TreeSet<>();
      for (Instance inst : instances) {
        for (Occurrence o : inst.all(t)) {
          Long framed = o.isRecord() ? Traffic.confluentSchemaId(o.record().value()) : null;
          if (o.payload() != null) {
            inferrer.add(o.payload());
            if (framed != null) {
              decodedIds.add(framed);
            }
          } else if (framed != null) {
            schemaId = Long.toString(framed);
          }
        }
      }
      if (!decodedIds.isEmpty()) {
        avroIds.put(t, decodedIds);
      }
      if (inferrer.samples() > 0) {
        schemas.put(t, inferrer.schema(ids.get(t))); // of Avro payloads too: what rules are drafted from
      } else if (schemaId != null) {
        binarySchemaIds.put(t, schemaId);
      }
    }
  }

  /** Span events that start a trace of their own other than the instance's first: {@code trace: new}. */
  private void traces() {
    boolean tracedElsewhere = instances.stream().anyMatch(inst -> inst.occurrences().stream()
        .anyMatch(o -> o.traceId() != null && !o.traceId().startsWith("record:")));
    for (EventType t : declaredEvents()) {
      if (t.isTopic() && tracedElsewhere) {
        // a producer that does not trace (a scheduler, a vendor's service): none of its records
        // carries a context, which is no context lost
        int records = 0;
        boolean anyContext = false;
        for (Instance inst : instances) {
          for (Occurrence o : inst.all(t)) {
            records++;
            anyContext |= o.traceId() != null && !o.traceId().startsWith("record:");
          }
        }
        if (records >= 5 && !anyContext) {
          untraced.put(t, records);
        }
      }
      if (t.isTopic() || t.equals(entry)) {
        continue;
      }
      int roots = 0;
      int n = 0;
      for (Instance inst : instances) {
        String firstTrace = inst.occurrences().get(0).traceId();
        for (Occurrence o : inst.all(t)) {
          n++;
          if (o.span() != null && o.span().isRoot() && !o.traceId().equals(firstTrace)) {
            roots++;
          }
        }
      }
      if (n > 0 && roots >= n * HOLDS) {
        newTrace.add(t);
      }
    }
  }

  // ---- enrichment ------------------------------------------------------------------------------

  private void enrichment() {
    List<EventType> events = declaredEvents();
    for (int bi = 1; bi < events.size(); bi++) {
      EventType b = events.get(bi);
      if (!schemas.containsKey(b)) {
        continue;
      }
      Carry best = null;
      List<Carry> sources = new ArrayList<>();
      for (int ai = 0; ai < bi; ai++) {
        EventType a = events.get(ai);
        if (!schemas.containsKey(a) || !before(a, b)) {
          continue;
        }
        Carry c = carry(a, b);
        if (c != null) {
          sources.add(c);
        }
        if (c != null && (best == null || c.carried.size() > best.carried.size())) {
          best = c;
        }
      }
      if (best == null || best.carried.size() < 2) {
        continue;
      }
      // a field the best source lacks but another earlier event has, unchanged, is carried from
      // that one (a receipt's amount, from the payment before it), not added here
      Map<Carry, List<String>> alsoFrom = new java.util.LinkedHashMap<>();
      List<String> added = new ArrayList<>(best.added);
      // the nearest record first, then the nearest span (which only sampled traces show)
      List<Carry> order = new ArrayList<>();
      for (int si = sources.size() - 1; si >= 0; si--) {
        if (sources.get(si).from.isTopic()) {
          order.add(sources.get(si));
        }
      }
      for (int si = sources.size() - 1; si >= 0; si--) {
        if (!sources.get(si).from.isTopic()) {
          order.add(sources.get(si));
        }
      }
      for (Carry c : order) {
        if (c == best || c.all) {
          continue;
        }
        for (String f : c.carried) {
          if (added.remove(f)) {
            alsoFrom.computeIfAbsent(c, k -> new ArrayList<>()).add(f);
          }
        }
      }
      if (added.size() != best.added.size()) {
        best = new Carry(best.from, best.all, best.carried, added, best.held, best.pairs, best.addedHeld,
            best.conditional);
      }
      if (best.all) {
        for (String f : leafSample(best.from).keySet()) {
          covered.add(ids.get(b) + "." + top(f));
        }
      }
      for (String f : best.carried) {
        covered.add(ids.get(b) + "." + top(f));
      }
      StringBuilder yaml = new StringBuilder("  - from: ").append(ids.get(best.from)).append("\n    to: ")
          .append(ids.get(b)).append("\n    carry: ");
      if (best.all) {
        yaml.append("all");
      } else {
        yaml.append(flow(best.carried));
      }
      if (!best.added.isEmpty()) {
        yaml.append("\n    add: ").append(flow(best.added));
      }
      enrichment.add(new Item(yaml.toString(), "carried unchanged in " + best.held + "/" + best.pairs
          + " instances" + (best.added.isEmpty() ? "" : "; the added fields were present in "
              + (best.addedHeld == best.pairs ? "every one" : "at least " + best.addedHeld + "/" + best.pairs))
          + (best.conditional.isEmpty() ? "" : "; not added, as they are absent exactly where another field says so: "
              + best.conditional.entrySet().stream().map(c -> c.getKey() + " (where " + c.getValue() + ")")
                  .collect(java.util.stream.Collectors.joining(", ")))));
      for (Map.Entry<Carry, List<String>> e : alsoFrom.entrySet()) {
        Carry c = e.getKey();
        for (String f : e.getValue()) {
          covered.add(ids.get(b) + "." + top(f));
        }
        enrichment.add(new Item("  - from: " + ids.get(c.from) + "\n    to: " + ids.get(b) + "\n    carry: "
            + flow(e.getValue()), "carried unchanged in " + c.held + "/" + c.pairs + " instances; not in "
            + ids.get(best.from) + ", which the rest comes from"));
      }
    }
  }

  private boolean before(EventType a, EventType b) {
    Stage sa = stageOf(a);
    Stage sb = stageOf(b);
    if (sa == sb) {
      return sa.events.indexOf(a) < sa.events.indexOf(b);
    }
    Set<Stage> seen = new HashSet<>();
    java.util.ArrayDeque<Stage> todo = new java.util.ArrayDeque<>(sb.after);
    while (!todo.isEmpty()) {
      Stage s = todo.poll();
      if (s == sa) {
        return true;
      }
      if (seen.add(s)) {
        todo.addAll(s.after);
      }
    }
    return false;
  }

  /** What an event carries from an earlier one; {@code conditional}: fields it adds only where another says so. */
  private record Carry(EventType from, boolean all, List<String> carried, List<String> added, int held, int pairs,
      int addedHeld, Map<String, String> conditional) {}

  /** What {@code b} carries over unchanged from {@code a}: top-level fields, and fields of array items. */
  /**
   * The occurrences of {@code a} and {@code b} an instance compares: where either repeats, the first
   * two in one trace (a callback and the record it caused, when the first callback's trace was not
   * sampled); else the first of each. {@code null} when either did not occur.
   */
  private static Occurrence[] pairOf(Instance inst, EventType a, EventType b) {
    Occurrence fa = inst.first(a);
    Occurrence fb = inst.first(b);
    if (fa == null || fb == null) {
      return null;
    }
    List<Occurrence> as = inst.all(a);
    List<Occurrence> bs = inst.all(b);
    if (as.size() > 1 || bs.size() > 1) {
      for (Occurrence ob : bs) {
        for (Occurrence oa : as) {
          if (oa.traceId() != null && oa.traceId().equals(ob.traceId())) {
            return new Occurrence[] {oa, ob};
          }
        }
      }
    }
    return new Occurrence[] {fa, fb};
  }

  private Carry carry(EventType a, EventType b) {
    Map<String, int[]> fields = new TreeMap<>(); // path -> {equal, present in a}
    Map<String, Integer> added = new TreeMap<>();
    List<JsonNode> targets = new ArrayList<>();
    int pairs = 0;
    for (Instance inst : instances) {
      Occurrence[] pair = pairOf(inst, a, b);
      Occurrence oa = pair == null ? null : pair[0];
      Occurrence ob = pair == null ? null : pair[1];
      if (oa == null || ob == null || oa.payload() == null || ob.payload() == null || !oa.payload().isObject()
          || !ob.payload().isObject()) {
        continue;
      }
      pairs++;
      targets.add(ob.payload());
      for (Map.Entry<String, JsonNode> e : oa.payload().properties()) {
        JsonNode there = ob.payload().get(e.getKey());
        if (e.getValue().isArray()) {
          arrayFields(e.getKey(), e.getValue(), there, fields);
        }
        int[] n = fields.computeIfAbsent(e.getKey(), k -> new int[2]);
        n[1]++;
        if (there != null && equal(e.getValue(), there)) {
          n[0]++;
        }
      }
      for (String name : ob.payload().propertyNames()) {
        if (!oa.payload().has(name)) {
          added.merge(name, 1, Integer::sum);
        }
      }
    }
    if (pairs < 2) {
      return null;
    }
    List<String> carried = new ArrayList<>();
    boolean all = true;
    int held = pairs;
    for (Map.Entry<String, int[]> f : fields.entrySet()) {
      int[] n = f.getValue();
      boolean top = !f.getKey().contains("[]");
      if (n[1] >= pairs * HOLDS && n[0] >= n[1] * HOLDS) {
        held = Math.min(held, n[0]);
        if (top || !carried.contains(f.getKey().substring(0, f.getKey().indexOf('[')))) {
          carried.add(f.getKey());
        }
      } else if (top) {
        all = false;
      }
    }
    // an array carried whole needs no per-item paths
    carried.removeIf(p -> p.contains("[]") && carried.contains(p.substring(0, p.indexOf('['))));
    all &= !carried.isEmpty() && carried.stream().filter(p -> !p.contains("[]")).count()
        == fields.keySet().stream().filter(p -> !p.contains("[]")).count();
    List<String> adds = new ArrayList<>();
    Map<String, String> conditional = new TreeMap<>();
    int addedHeld = pairs;
    for (Map.Entry<String, Integer> e : added.entrySet()) {
      if (e.getValue() >= pairs * HOLDS && CEL_NAME.matcher(e.getKey()).matches()) {
        String when = e.getValue() < pairs ? absentWhere(e.getKey(), targets) : null;
        if (when != null) {
          conditional.put(e.getKey(), when);
          continue;
        }
        adds.add(e.getKey());
        addedHeld = Math.min(addedHeld, e.getValue());
      }
    }
    return new Carry(a, all, carried, adds, held, pairs, addedHeld, conditional);
  }

  /**
   * The value of another field that every payload without {@code field} has and no payload with it
   * has ({@code status == "UNAVAILABLE"}: a hold refused carries no hold id), or {@code null}. A field
   * missing for such a reason is the data's choice, not a lost enrichment.
   */
  private static String absentWhere(String field, List<JsonNode> payloads) {
    Map<String, String> common = null;
    int without = 0;
    for (JsonNode p : payloads) {
      if (!p.has(field)) {
        without++;
        Map<String, String> values = new HashMap<>();
        for (Map.Entry<String, JsonNode> e : p.properties()) {
          if (e.getValue().isValueNode() && !e.getValue().isNull()) {
            values.put(e.getKey(), e.getValue().asString());
          }
        }
        if (common == null) {
          common = values;
        } else {
          common.entrySet().retainAll(values.entrySet());
        }
      }
    }
    if (without < 2) {
      return null; // one payload's own values explain nothing
    }
    for (JsonNode p : payloads) {
      if (p.has(field) && !common.isEmpty()) {
        common.entrySet().removeIf(c -> {
          JsonNode v = p.get(c.getKey());
          return v != null && v.isValueNode() && c.getValue().equals(v.asString());
        });
      }
    }
    return common.entrySet().stream().sorted(Map.Entry.comparingByKey()).findFirst()
        .map(c -> c.getKey() + " is \"" + c.getValue() + "\"").orElse(null);
  }

  private static void arrayFields(String name, JsonNode a, JsonNode b, Map<String, int[]> fields) {
    if (a.isEmpty() || !a.get(0).isObject()) {
      return;
    }
    for (String sub : a.get(0).propertyNames()) {
      int[] n = fields.computeIfAbsent(name + "[]." + sub, k -> new int[2]);
      n[1]++;
      boolean eq = b != null && b.isArray() && b.size() == a.size();
      for (int i = 0; eq && i < a.size(); i++) {
        JsonNode x = a.get(i).get(sub);
        JsonNode y = b.get(i).get(sub);
        eq = x != null && y != null && equal(x, y);
      }
      if (eq) {
        n[0]++;
      }
    }
  }

  private static boolean equal(JsonNode a, JsonNode b) {
    if (a.isNumber() && b.isNumber()) {
      return a.decimalValue().compareTo(b.decimalValue()) == 0;
    }
    return a.equals(b);
  }

  private static String flow(Collection<String> items) {
    List<String> out = new ArrayList<>();
    for (String i : items) {
      out.add(i.contains("[") || i.contains(".") ? "\"" + i + "\"" : i);
    }
    return "[" + String.join(", ", out) + "]";
  }

  /** The first exceptions named, and how many more there were of {@code total}. */
  private static String exceptions(List<String> e, int total) {
    return e.isEmpty() ? "" : "; exceptions: " + String.join(", ", e) + (total > e.size() ? " and " + (total - e.size()) + " more" : "");
  }

  // ---- rules -------------------------------------------------------------------------------------

  /** Whether a key or an enrichment already checks the field: it, or the whole top-level field it is in. */
  private boolean covered(EventType t, String path) {
    return covered.contains(ids.get(t) + "." + path) || covered.contains(ids.get(t) + "." + top(path));
  }

  private static String top(String path) {
    int cut = path.length();
    int dot = path.indexOf('.');
    int bracket = path.indexOf('[');
    if (dot >= 0) cut = Math.min(cut, dot);
    if (bracket >= 0) cut = Math.min(cut, bracket);
    return path.substring(0, cut);
  }

  private void rules() {
    List<EventType> events = declaredEvents();
    Set<String> equated = new HashSet<>();
    // what keys already check
    for (EventType t : events) {
      // a key's own field: a nested key (data.orderId) leaves the other fields of its object to rules
      eventKeys.getOrDefault(t, Map.of()).values().forEach(p -> covered.add(ids.get(t) + "." + p));
    }
    // sums: total == Σ price × quantity over an array
    for (EventType t : events) {
      if (!schemas.containsKey(t)) {
        continue;
      }
      sumRule(t);
    }
    // equalities across hops
    for (int bi = 1; bi < events.size(); bi++) {
      EventType b = events.get(bi);
      if (!schemas.containsKey(b)) {
        continue;
      }
      Map<String, String> bFields = leafSample(b);
      for (Map.Entry<String, String> bf : bFields.entrySet()) {
        String bPath = bf.getKey();
        if (covered(b, bPath) || bPath.contains("[]") || !celPath(bPath)) {
          continue;
        }
        // the nearest event with the value; but a record's before a span's, which only sampled
        // traces show (a payment amount checked against the invoice, not only the provider call)
        Equality best = null;
        Equality nearestSpan = null;
        for (int ai = bi - 1; ai >= 0 && best == null; ai--) {
          EventType a = events.get(ai);
          if (!schemas.containsKey(a) || !before(a, b)) {
            continue;
          }
          Equality here = null;
          for (String aPath : leafSample(a).keySet()) {
            if (aPath.contains("[]") || !celPath(aPath)) {
              continue;
            }
            Equality eq = equality(a, aPath, b, bPath);
            if (eq != null && (here == null || nameScore(aPath, bPath) > nameScore(here.aPath, here.bPath))) {
              here = eq;
            }
          }
          if (here != null && a.isTopic()) {
            best = here;
          } else if (here != null && nearestSpan == null) {
            nearestSpan = here;
          }
        }
        best = best != null ? best : nearestSpan;
        if (best != null) {
          equated.add(ids.get(b) + "." + bPath);
          String left = ids.get(b) + "." + bPath;
          String right = ids.get(best.a) + "." + best.aPath;
          String expr = best.money ? "money_eq(" + left + ", " + right + ")" : left + " == " + right;
          if (best.absent > 0) {
            expr = "has(" + left + ") == has(" + right + ") && (!has(" + left + ") || " + expr + ")";
          }
          rules.add(new Item("  - name: " + yamlText(bPath + " of " + ids.get(b) + " equals " + best.aPath + " of "
              + ids.get(best.a)) + "\n    stage: " + stageOf(b).id + "\n    field: " + yamlText(bPath)
              + "\n    expr: " + yamlText(expr),
              "held in " + best.held + "/" + best.pairs + " instances (" + best.distinct + " distinct values"
                  + (best.absent > 0 ? "; absent from both in " + best.absent : "") + ")"
                  + exceptions(best.exceptions, best.pairs - best.held)));
        }
      }
    }
    arithmetic(events, equated);
    conditionalFields(events);
    columns.clear();
  }

  /** A rule for each field a code of the same payload tells the presence of ({@link ConditionalFields}). */
  private void conditionalFields(List<EventType> events) {
    for (EventType t : events) {
      if (!schemas.containsKey(t)) {
        continue;
      }
      List<JsonNode> payloads = new ArrayList<>();
      List<Instance> of = new ArrayList<>();
      for (Instance inst : instances) {
        Occurrence o = inst.first(t);
        if (o != null && o.payload() != null && o.payload().isObject()) {
          payloads.add(o.payload());
          of.add(inst);
        }
      }
      String id = ids.get(t);
      for (ConditionalFields.Conditional c : ConditionalFields.of(payloads, HOLDS)) {
        if (covered(t, c.field())) {
          continue;
        }
        String code = id + "." + c.code();
        String field = id + "." + c.field();
        List<String> values = c.values().stream().map(JsonNode::asString).toList();
        JsonNode sample = c.values().get(0);
        String when;
        if (sample.isBoolean()) {
          when = sample.booleanValue() ? "!" + code : code;
        } else if (values.size() == 1) {
          when = condition(code, values, sample).replace(" == ", " != ");
        } else {
          when = "!(" + condition(code, values, sample) + ")";
        }
        List<String> exceptions = c.exceptions().stream().limit(3).map(i -> describeInstance(of.get(i))).toList();
        rules.add(new Item("  - name: " + yamlText(c.field() + " of " + id + " is set when " + c.code() + " is "
            + String.join(" or ", values)) + "\n    stage: " + stageOf(t).id + "\n    field: " + yamlText(c.field())
            + "\n    expr: " + yamlText(when + " || has(" + field + ")" + (c.nullable() ? " && " + field + " != null" : "")),
            "set in " + c.held() + "/" + c.required() + " instances whose " + c.code() + " was " + String.join(" or ", values)
                + "; null or absent in " + c.without() + " with another value"
                + exceptions(exceptions, c.required() - c.held())));
      }
    }
  }

  /** A numeric field of one event: its value in each instance's first occurrence, NaN where none. */
  private record Operand(EventType event, String path, double[] values) {}

  /**
   * {@code x × y}, {@code x − y} or {@code x + y} of two numeric fields (of the event itself or of
   * events before it) that a numeric field equals to the cent in {@link #HOLDS} of the instances —
   * {@code totalPrice == nightlyRate × nights}, {@code payout == amount − deductible} — where it
   * is not simply one of them in at least five instances, and takes at least five values. The
   * first that holds is drafted, trying the event's last fields first as results, its own fields
   * then the nearest events' as operands, a product before a difference before a sum; and one rule
   * per three fields ({@code net = gross − discount}, not also {@code discount = gross − net}).
   */
  private void arithmetic(List<EventType> events, Set<String> equated) {
    Set<Set<String>> related = new HashSet<>();
    for (int bi = 0; bi < events.size(); bi++) {
      EventType b = events.get(bi);
      if (!schemas.containsKey(b)) {
        continue;
      }
      List<Operand> operands = new ArrayList<>();
      for (int ai = bi; ai >= 0; ai--) {
        EventType a = events.get(ai);
        if (!schemas.containsKey(a) || !a.equals(b) && !before(a, b)) {
          continue;
        }
        for (String path : leafSample(a).keySet()) {
          double[] values = path.contains("[]") || !celPath(path) ? null : numbers(a, path);
          if (values != null) {
            operands.add(new Operand(a, path, values));
          }
        }
      }
      // last fields first: a payload lists what it was computed from before the result
      List<String> targets = new ArrayList<>(leafSample(b).keySet());
      java.util.Collections.reverse(targets);
      for (String f : targets) {
        String field = ids.get(b) + "." + f;
        if (f.contains("[]") || !celPath(f) || covered(b, f)) {
          continue;
        }
        double[] target = numbers(b, f);
        if (target == null || java.util.Arrays.stream(target).filter(v -> !Double.isNaN(v)).distinct().count() < 5) {
          continue;
        }
        Item found = null;
        // a field equal to another has its arithmetic there; but a total is also the sum of its own
        // parts, which the equality (the same wrong total charged) does not check
        boolean pairs = !equated.contains(field);
        for (int i = 0; i < operands.size() && found == null && pairs; i++) {
          for (int j = 0; j < operands.size() && found == null; j++) {
            Operand x = operands.get(i);
            Operand y = operands.get(j);
            if (x.event().equals(b) && x.path().equals(f) || y.event().equals(b) && y.path().equals(f)) {
              continue;
            }
            for (char op : new char[] {'*', '-', '+'}) {
              if (op != '-' && j < i) {
                continue; // a product or a sum once per pair
              }
              found = arithmetic(b, f, target, List.of(x, y), op);
              if (found != null) {
                // net = gross − discount is also discount = gross − net: one rule for the three
                if (!related.add(Set.of(field, ids.get(x.event()) + "." + x.path(), ids.get(y.event()) + "." + y.path()))) {
                  found = null;
                  continue;
                }
                break;
              }
            }
          }
        }
        if (found == null) {
          found = sumOfThree(b, f, field, target, operands, related);
        }
        if (found != null) {
          rules.add(found);
        }
      }
    }
  }

  /** Most numeric fields of a payload tried as the terms of a sum of three (2,024 sums for 24). */
  private static final int SUM_TERMS_TRIED = 24;

  /**
   * {@code total == subtotal + deliveryFee + tip}: a sum of three fields of the payload itself, where
   * no two fields explain the result (trial O: a wrong total, charged as such, passed the draft).
   */
  private Item sumOfThree(EventType b, String f, String field, double[] target, List<Operand> operands,
      Set<Set<String>> related) {
    List<Operand> own = operands.stream().filter(o -> o.event().equals(b) && !o.path().equals(f))
        .limit(SUM_TERMS_TRIED).toList();
    for (int i = 0; i < own.size(); i++) {
      for (int j = i + 1; j < own.size(); j++) {
        for (int k = j + 1; k < own.size(); k++) {
          List<Operand> terms = List.of(own.get(i), own.get(j), own.get(k));
          Item found = arithmetic(b, f, target, terms, '+');
          if (found != null) {
            Set<String> fields = new HashSet<>();
            fields.add(field);
            terms.forEach(t -> fields.add(ids.get(t.event()) + "." + t.path()));
            if (related.add(fields)) {
              return found;
            }
          }
        }
      }
    }
    return null;
  }

  /** {@code f == x op y} (or {@code x + y + z}), to the cent, in {@link #HOLDS} of the instances; else {@code null}. */
  private Item arithmetic(EventType b, String f, double[] target, List<Operand> terms, char op) {
    Operand x = terms.get(0);
    Operand y = terms.get(1);
    int n = 0;
    int held = 0;
    int plain = 0;
    int present = 0;
    for (double v : target) {
      present += Double.isNaN(v) ? 0 : 1;
    }
    List<String> exceptions = new ArrayList<>();
    for (int k = 0; k < target.length; k++) {
      double t = target[k];
      double r = x.values()[k];
      boolean missing = Double.isNaN(t) || Double.isNaN(r);
      boolean isOperand = Money.equalToTheCent(t, r);
      for (int m = 1; m < terms.size() && !missing; m++) {
        double c = terms.get(m).values()[k];
        missing = Double.isNaN(c);
        isOperand |= Money.equalToTheCent(t, c);
        r = op == '*' ? r * c : op == '-' ? r - c : r + c;
      }
      if (missing) {
        continue;
      }
      n++;
      if (Money.equalToTheCent(r, t)) {
        held++;
        plain += isOperand ? 1 : 0;
      } else {
        if (exceptions.size() < 3) {
          exceptions.add(describeInstance(instances.get(k)));
        }
        if (n - held > present * (1 - HOLDS)) {
          return null;
        }
      }
    }
    if (n < 10 || held < n * HOLDS || held - plain < 5) {
      return null;
    }
    String id = ids.get(b);
    String sign = op == '*' ? " × " : op == '-' ? " − " : " + ";
    String expr = "money_eq(" + id + "." + f + ", " + String.join(" " + op + " ",
        terms.stream().map(t -> ids.get(t.event()) + "." + t.path()).toList()) + ")";
    return new Item("  - name: " + yamlText(f + " of " + id + " is " + String.join(sign,
        terms.stream().map(Operand::path).toList())) + "\n    stage: "
        + stageOf(b).id + "\n    field: " + yamlText(f) + "\n    expr: " + yamlText(expr),
        "held in " + held + "/" + n + " instances" + exceptions(held == n ? List.of() : exceptions, n - held));
  }

  /**
   * A field's numbers by instance (NaN where the event did not occur), or null when the field is
   * not a number wherever the event occurred, or takes fewer than two values.
   */
  private double[] numbers(EventType t, String path) {
    JsonNode[] column = column(t, path);
    double[] out = new double[column.length];
    double first = Double.NaN;
    boolean varies = false;
    for (int i = 0; i < column.length; i++) {
      JsonNode v = column[i];
      if (v == null) {
        out[i] = Double.NaN;
        continue;
      }
      if (!v.isNumber()) {
        return null;
      }
      out[i] = v.asDouble();
      varies |= !Double.isNaN(first) && out[i] != first;
      first = Double.isNaN(first) ? out[i] : first;
    }
    return varies ? out : null;
  }

  private static int nameScore(String a, String b) {
    String la = a.substring(a.lastIndexOf('.') + 1).toLowerCase(java.util.Locale.ROOT);
    String lb = b.substring(b.lastIndexOf('.') + 1).toLowerCase(java.util.Locale.ROOT);
    return la.equals(lb) ? 2 : la.contains(lb) || lb.contains(la) ? 1 : 0;
  }

  /** @param absent instances where both events occurred without the field: it is optional */
  private record Equality(EventType a, String aPath, String bPath, boolean money, int held, int pairs, int distinct,
      int absent, List<String> exceptions) {}

  private Equality equality(EventType a, String aPath, EventType b, String bPath) {
    int pairs = 0;
    int held = 0;
    boolean money = false;
    boolean numbers = true;
    Set<String> distinct = new HashSet<>();
    List<String> exceptions = new ArrayList<>();
    JsonNode[] as = column(a, aPath);
    JsonNode[] bs = column(b, bPath);
    int absent = 0;
    for (int i = 0; i < as.length; i++) {
      JsonNode va = as[i];
      JsonNode vb = bs[i];
      if (va == null || vb == null) {
        continue; // an event did not occur
      }
      if (va.isMissingNode() && vb.isMissingNode()) {
        absent++; // an optional field, absent from both: the rule must allow it
        continue;
      }
      if (va.isMissingNode() != vb.isMissingNode()) {
        pairs++; // present in one, absent from the other: the rule would fail here
        if (exceptions.size() < 3) {
          exceptions.add(describeInstance(instances.get(i)));
        }
        continue;
      }
      if (!va.isValueNode() || !vb.isValueNode() || va.isNull() || vb.isNull()) {
        continue;
      }
      pairs++;
      numbers &= va.isNumber() && vb.isNumber();
      boolean eq;
      if (va.isNumber() && vb.isNumber()) {
        money |= !va.isIntegralNumber() || !vb.isIntegralNumber();
        eq = Money.equalToTheCent(va.asDouble(), vb.asDouble());
      } else {
        eq = va.isString() == vb.isString() && va.asString().equals(vb.asString());
      }
      if (eq) {
        held++;
        distinct.add(va.asString());
      } else if (exceptions.size() < 3) {
        exceptions.add(describeInstance(instances.get(i)));
      }
    }
    if (pairs < 5 || held < pairs * HOLDS || distinct.size() < 3) {
      return null;
    }
    if (absent > 0 && (aPath.contains(".") || bPath.contains("."))) {
      return null; // has() of a nested field fails where its parent is absent: no guard to write
    }
    return new Equality(a, aPath, bPath, money && numbers, held, pairs, distinct.size(), absent,
        held == pairs ? List.of() : exceptions);
  }

  /**
   * The value at {@code path} of each instance's first occurrence of {@code t} (null where none; a
   * missing node where the occurrence has a payload without the field), by
   * instance: read once, as the search for equalities compares each field with many.
   */
  private JsonNode[] column(EventType t, String path) {
    return columns.computeIfAbsent(t, k -> new HashMap<>()).computeIfAbsent(path, p -> {
      JsonNode[] out = new JsonNode[instances.size()];
      for (int i = 0; i < out.length; i++) {
        Occurrence o = instances.get(i).first(t);
        JsonNode v = o == null || o.payload() == null ? null : Values.at(o.payload(), p);
        out[i] = v != null || o == null || o.payload() == null ? v : tools.jackson.databind.node.MissingNode.getInstance();
      }
      return out;
    });
  }

  /** The leaf fields of {@code t}'s payloads (with a value each): of its first occurrences, so optional ones too. */
  private Map<String, String> leafSample(EventType t) {
    Map<String, String> out = new LinkedHashMap<>();
    int payloads = 0;
    for (Instance inst : instances) {
      Occurrence o = inst.first(t);
      if (o != null && o.payload() != null) {
        Map<String, String> fields = new LinkedHashMap<>();
        Values.scalars("", o.payload(), fields, 3);
        fields.forEach(out::putIfAbsent);
        if (!fields.isEmpty() && ++payloads == LEAF_SAMPLES) {
          break;
        }
      }
    }
    return out;
  }

  /** {@code total == Σ items.price × items.quantity} (to the cent), or {@code Σ items.price}. */
  private void sumRule(EventType t) {
    Map<String, String> fields = leafSample(t);
    for (String total : fields.keySet()) {
      if (total.contains("[]") || !celPath(total)) {
        continue;
      }
      for (String arrayField : fields.keySet()) {
        if (!arrayField.contains("[].") || arrayField.indexOf("[]") != arrayField.lastIndexOf("[]")) {
          continue;
        }
        String array = arrayField.substring(0, arrayField.indexOf("[]"));
        if (!celPath(array)) {
          continue;
        }
        List<String> numeric = new ArrayList<>();
        for (String f : fields.keySet()) {
          if (f.startsWith(array + "[].") && celPath(f.substring(array.length() + 3))) {
            numeric.add(f.substring(array.length() + 3));
          }
        }
        if (!numeric.contains(arrayField.substring(array.length() + 3)) || !numeric.get(0).equals(arrayField.substring(array.length() + 3))) {
          continue; // each array once, from its first field
        }
        for (int i = 0; i < numeric.size(); i++) {
          for (int j = i; j < numeric.size(); j++) {
            String p = numeric.get(i);
            String q = numeric.get(j);
            String term = i == j ? "x." + p : "x." + p + " * x." + q;
            int held = 0;
            int n = 0;
            int absent = 0;
            for (Instance inst : instances) {
              Occurrence o = inst.first(t);
              if (o == null || o.payload() == null) {
                continue;
              }
              JsonNode tv = Values.at(o.payload(), total);
              JsonNode arr = o.payload().get(array.contains(".") ? array.substring(array.lastIndexOf('.') + 1) : array);
              if (array.contains(".")) {
                arr = Values.at(o.payload(), array);
              }
              if (tv == null || arr == null) {
                absent++;
                continue;
              }
              if (!tv.isNumber() || !arr.isArray() || arr.isEmpty()) {
                continue;
              }
              double sum = 0;
              boolean ok = true;
              for (JsonNode x : arr) {
                JsonNode xp = x.get(p);
                JsonNode xq = x.get(q);
                if (xp == null || !xp.isNumber() || xq == null || !xq.isNumber()) {
                  ok = false;
                  break;
                }
                sum += i == j ? xp.asDouble() : xp.asDouble() * xq.asDouble();
              }
              if (!ok) {
                continue;
              }
              n++;
              if (Money.equalToTheCent(sum, tv.asDouble())) {
                held++;
              }
            }
            if (n >= 5 && held >= n * HOLDS && (i != j || arrSizes(t, array) > 1)) {
              String id = ids.get(t);
              String expr = "money_eq(" + id + "." + total + ", " + id + "." + array + ".map(x, " + term + ").sum())";
              if (absent > 0) {
                // where the payload has neither (a hold refused: no seats, no subtotal) there is nothing to add up
                expr = "!has(" + id + "." + total + ") || !has(" + id + "." + array + ") || " + expr;
              }
              rules.add(new Item("  - name: " + yamlText(total + " of " + id + " is the sum over " + array) + "\n    stage: "
                  + stageOf(t).id + "\n    field: " + yamlText(total) + "\n    expr: " + yamlText(expr),
                  "held in " + held + "/" + n + " instances" + (absent == 0 ? ""
                      : "; " + total + " or " + array + " absent in " + absent + ", where it does not apply")));
              return;
            }
          }
        }
      }
    }
  }

  /** The largest size seen of an array field (a sum over single items proves nothing). */
  private int arrSizes(EventType t, String array) {
    int max = 0;
    for (Instance inst : instances) {
      Occurrence o = inst.first(t);
      JsonNode arr = o == null || o.payload() == null ? null : Values.at(o.payload(), array);
      if (arr == null && o != null && o.payload() != null) {
        arr = o.payload().get(array);
      }
      if (arr != null && arr.isArray()) {
        max = Math.max(max, arr.size());
      }
    }
    return max;
  }

  // ---- idempotency -------------------------------------------------------------------------------

  /**
   * A server span in a new trace whose body carries an event-id-like field is a trigger that may be
   * delivered again; the records published in its trace are its effects. So is a record whose
   * event-id-like field the traffic shows delivered again (a bank's callbacks relayed to a topic,
   * in traffic with no tracing at all).
   */
  private void idempotency() {
    for (EventType t : declaredEvents()) {
      boolean webhook = newTrace.contains(t) && t.kind() == SpanKind.SERVER;
      if (!webhook && !t.isTopic() || !schemas.containsKey(t)) {
        continue;
      }
      Set<String> takenAgain = t.isTopic() ? redelivered.getOrDefault(t.topic(), Set.of()) : Set.of();
      String dedup = null;
      for (String path : leafSample(t).keySet()) {
        if (!path.contains("[]") && celPath(path) && EVENT_ID_FIELD.matcher(path.substring(path.lastIndexOf('.') + 1)).matches()) {
          dedup = path;
          break;
        }
      }
      if (dedup == null && !takenAgain.isEmpty()) {
        // a record its consumers took again (at-least-once): told apart by a key it carries, one
        // value per record
        dedup = uniqueKeyPath(t);
      }
      if (dedup == null) {
        continue;
      }
      int deliveries = 0;
      int repeated = 0;
      long latestRepeat = 0;
      for (Instance inst : instances) {
        Map<String, Long> firstOfKey = new HashMap<>();
        for (Occurrence trig : inst.all(t)) {
          deliveries++;
          JsonNode k = trig.payload() == null ? null : Values.at(trig.payload(), dedup);
          if (k != null) {
            Long first = firstOfKey.putIfAbsent(k.asString(), trig.time());
            if (first != null) {
              repeated++;
              latestRepeat = Math.max(latestRepeat, trig.time() - first);
            }
          }
        }
      }
      if (!webhook && repeated == 0 && takenAgain.isEmpty()) {
        continue; // a record with an id of its own is no redelivered trigger unless the traffic shows one
      }
      // its stage's records, its alternatives' records, and the records of every stage after them
      Stage own = stageOf(t);
      Set<Stage> scope = new LinkedHashSet<>();
      scope.add(own);
      for (Stage s : stages) {
        if (s != own && s.when != null && s.after.equals(own.after)) {
          scope.add(s);
        }
      }
      boolean grew = true;
      while (grew) {
        grew = false;
        for (Stage s : stages) {
          if (!scope.contains(s) && s.after.stream().anyMatch(scope::contains)) {
            scope.add(s);
            grew = true;
          }
        }
      }
      Set<EventType> effects = new LinkedHashSet<>();
      for (Stage s : scope) {
        s.events.stream().filter(EventType::isTopic).forEach(effects::add);
      }
      effects.retainAll(ids.keySet());
      effects.remove(t);
      counted.addAll(effects);
      String uncaused = uncaused(t, effects);
      String repeating = repeatingEffects(t, dedup, effects);
      if (effects.isEmpty()) {
        if (!repeating.isEmpty()) {
          notes.add("not declared: idempotency of " + ids.get(t) + " by " + dedup + ": the traffic repeats each of its"
              + " effects" + repeating.substring(repeating.indexOf(':')));
        }
        continue;
      }
      List<String> effectIds = effects.stream().map(ids::get).filter(java.util.Objects::nonNull).toList();
      int[] caused = causedByEveryKey(t, dedup, effects);
      boolean traced = instances.stream().anyMatch(inst -> inst.all(t).stream()
          .anyMatch(o -> o.traceId() != null && !o.traceId().startsWith("record:")));
      boolean atLeastOnce = traced && caused[1] == 0 && caused[0] >= 5;
      idempotency.add(new Item("  - trigger: " + ids.get(t) + "\n    dedupKey: " + dedup + "\n    effects: "
          + flow(effectIds) + (atLeastOnce ? "\n    atLeastOnce: true" : ""), deliveries + " deliveries in " + total()
          + " instances, " + repeated + " of them repeated their " + dedup + "; its effects are the records published"
          + (traced ? " in its trace and after them; " + (atLeastOnce ? "each of the " + caused[0] + " distinct " + dedup
              + " delivered caused one (at least once)" : caused[1] + " of " + (caused[0] + caused[1]) + " distinct "
              + dedup + " delivered caused none: at most once only")
              : " after it; with no trace context on its records, which delivery caused which cannot be told, so"
                  + " effects count against its one " + dedup + " where it had one")
          + (takenAgain.isEmpty() ? "" : "; " + String.join(", ", takenAgain) + " took some of its records"
              + " again (redelivered), so an effect made twice for one is a defect")
          + (latestRepeat > 30_000_000_000L ? "; a repeat came up to " + millis(latestRepeat) + " after the first"
              + " delivery: a sidecar sees it only with an --amend-window at least that long (30s by default)" : "")
          + uncaused + repeating));
    }
  }

  /** Instances a record must be seen in before its never being repeated says it happens once. */
  private static final int ONCE_EVIDENCE = 20;

  /**
   * Records no instance had two of (two records, not one taken twice), each seen in at least
   * {@link #ONCE_EVIDENCE} instances, as effects at most once per instance of the flow's entry: a
   * refund issued twice for one dispute is a defect the traffic never showed, with no redelivery to
   * draft it from. Records another item already counts are left out.
   */
  private void oncePerInstance() {
    List<Stage> entries = stages.stream().filter(s -> s.after.isEmpty()).toList();
    if (entries.size() != 1 || entries.get(0).events.isEmpty()) {
      return;
    }
    EventType trigger = entries.get(0).events.get(0);
    List<String> effects = new ArrayList<>();
    int fewest = Integer.MAX_VALUE;
    for (EventType t : declaredEvents()) {
      if (!t.isTopic() || t.equals(trigger) || counted.contains(t) || !ids.containsKey(t)) {
        continue;
      }
      int in = 0;
      boolean twice = false;
      for (Instance inst : instances) {
        Set<String> records = new HashSet<>();
        for (Occurrence o : inst.all(t)) {
          records.add(o.record().partition() + "@" + o.record().offset());
        }
        in += records.isEmpty() ? 0 : 1;
        twice |= records.size() > 1;
      }
      if (!twice && in >= ONCE_EVIDENCE) {
        effects.add(ids.get(t));
        fewest = Math.min(fewest, in);
      }
    }
    if (effects.isEmpty()) {
      return;
    }
    idempotency.add(new Item("  - trigger: " + ids.get(trigger) + "\n    effects: " + flow(effects),
        "each at most once per instance: no instance had two of any (each seen in at least " + fewest + " of "
            + total() + "); drop one a retry or a loop may make again in other traffic"));
  }

  /** A key field of a record event that takes a value of its own in every occurrence, or {@code null}. */
  private String uniqueKeyPath(EventType t) {
    for (String path : eventKeys.getOrDefault(t, Map.of()).values()) {
      if (path.contains("[]") || !celPath(path)) {
        continue;
      }
      Set<String> seen = new HashSet<>();
      boolean unique = true;
      int n = 0;
      for (Instance inst : instances) {
        for (Occurrence o : inst.all(t)) {
          JsonNode v = o.payload() == null ? null : Values.at(o.payload(), path);
          if (v == null || v.isNull() || !seen.add(v.asString())) {
            unique = false;
            break;
          }
          n++;
        }
        if (!unique) {
          break;
        }
      }
      if (unique && n > 0) {
        return path;
      }
    }
    return null;
  }

  /**
   * Takes out of {@code effects} those the traffic shows more often than the trigger's distinct keys
   * in over 1 % of the instances that have both — an output written again as a habit (a consumer
   * that reprocesses after a rebalance), not a defect in the traffic — and says which; a draft
   * counting them failed its own traffic. Fewer repeats stay defects to find.
   */
  private String repeatingEffects(EventType trigger, String dedup, Set<EventType> effects) {
    List<String> left = new ArrayList<>();
    for (EventType e : List.copyOf(effects)) {
      int both = 0;
      int more = 0; // instances where a delivered key caused it more than once
      for (Instance inst : instances) {
        Map<String, Set<String>> tracesOfKey = new HashMap<>(); // a delivered key -> its deliveries' traces
        for (Occurrence trig : inst.all(trigger)) {
          JsonNode k = trig.payload() == null ? null : Values.at(trig.payload(), dedup);
          if (k != null && !k.isNull()) {
            Set<String> traces = tracesOfKey.computeIfAbsent(k.asString(), x -> new HashSet<>());
            if (trig.traceId() != null) {
              traces.add(trig.traceId());
            }
          }
        }
        if (tracesOfKey.isEmpty() || inst.all(e).isEmpty()) {
          continue;
        }
        both++;
        // as the check counts them: an effect is a key's when it is in a delivery's trace or carries the key
        boolean again = false;
        for (Map.Entry<String, Set<String>> key : tracesOfKey.entrySet()) {
          List<Occurrence> counted = new ArrayList<>();
          for (Occurrence o : inst.all(e)) {
            JsonNode ok = o.payload() == null ? null : Values.at(o.payload(), dedup);
            if ((key.getValue().contains(o.traceId()) || ok != null && ok.asString().equals(key.getKey()))
                && counted.stream().noneMatch(c -> sentAgain(c, o))) {
              counted.add(o);
            }
          }
          again |= counted.size() > 1;
        }
        more += again ? 1 : 0;
      }
      if (more >= 2 && more * 100 > both) {
        effects.remove(e);
        left.add(ids.get(e) + " (more often than the deliveries in " + more + " of " + both + " instances)");
      }
    }
    return left.isEmpty() ? "" : "; not counted as effects, as the traffic repeats them: " + String.join(", ", left)
        + " — add them if each must happen once per delivery";
  }

  /**
   * Whether {@code o} is {@code earlier} sent again as it was — the same topic, partition, key, value
   * and trace context (a producer's retry): one effect recorded twice, as the check counts it.
   */
  private static boolean sentAgain(Occurrence earlier, Occurrence o) {
    KafkaRecord a = earlier.record();
    KafkaRecord b = o.record();
    return a != null && b != null && b.sameMessageAs(a) && b.traceContext().isPresent()
        && a.traceContext().equals(b.traceContext());
  }

  /**
   * Effects whose records never share a trace with a delivery of the trigger, though both are
   * traced: what a caller of its own began (a claimant's amendment in a trace of its own), which the
   * trigger does not cause; each may repeat as its caller likes.
   */
  private String uncaused(EventType trigger, Set<EventType> effects) {
    List<String> left = new ArrayList<>();
    for (EventType e : List.copyOf(effects)) {
      int both = 0;
      boolean together = false;
      for (Instance inst : instances) {
        Set<String> traces = new HashSet<>();
        inst.all(trigger).forEach(o -> {
          if (o.traceId() != null && !o.traceId().startsWith("record:")) {
            traces.add(o.traceId());
          }
        });
        List<Occurrence> traced = inst.all(e).stream()
            .filter(o -> o.traceId() != null && !o.traceId().startsWith("record:")).toList();
        if (traces.isEmpty() || traced.isEmpty()) {
          continue;
        }
        both++;
        together |= traced.stream().anyMatch(o -> traces.contains(o.traceId()));
      }
      if (!together && both >= 5) {
        effects.remove(e);
        left.add(ids.get(e));
      }
    }
    return left.isEmpty() ? "" : "; not effects, as their records are never in a delivery's trace (begun by a caller"
        + " of their own): " + String.join(", ", left);
  }

  /**
   * Over the traffic, how many distinct delivered keys of the trigger caused one of the effects (a
   * record in the delivery's trace, or carrying its key) and how many caused none: {@code {caused, not}}.
   */
  private int[] causedByEveryKey(EventType trigger, String dedup, Set<EventType> effects) {
    int[] counts = new int[2];
    for (Instance inst : instances) {
      Map<String, Boolean> keys = new LinkedHashMap<>();
      for (Occurrence trig : inst.all(trigger)) {
        JsonNode k = trig.payload() == null ? null : Values.at(trig.payload(), dedup);
        if (k == null || k.isNull()) {
          continue;
        }
        boolean any = false;
        for (EventType e : effects) {
          for (Occurrence o : inst.all(e)) {
            JsonNode ok = o.payload() == null ? null : Values.at(o.payload(), dedup);
            any |= trig.traceId() != null && trig.traceId().equals(o.traceId())
                || ok != null && ok.asString().equals(k.asString());
          }
        }
        keys.merge(k.asString(), any, Boolean::logicalOr);
      }
      keys.values().forEach(any -> counts[any ? 0 : 1]++);
    }
    return counts;
  }

  // ---- budgets and deadline ----------------------------------------------------------------------

  private void budgets() {
    for (Stage s : stages) {
      if (s.events.isEmpty() || s.optional != null && !s.undecidedWay) {
        continue; // an optional step is often the customer's to time (a review left hours later)
      }
      for (Stage p : s.after) {
        if (s.after.size() > 1 && !lastOfJoin(p, s)) {
          continue; // into a join from a side that was not the last to come: the gap times the other side
        }
        budget(p.events.get(p.events.size() - 1), s.events.get(0));
      }
      // a call the stage makes, from its request to its answer: how long the called party takes
      // (a budget from the answer on no longer holds that time)
      for (EventType request : s.events) {
        if (request.kind() == SpanKind.CLIENT && EventType.REQUEST_BODY.equals(request.attribute())) {
          for (EventType response : s.events) {
            if (EventType.RESPONSE_BODY.equals(response.attribute()) && sameCall(request, response)) {
              budget(request, response);
            }
          }
        }
      }
    }
    // an optional step after the end (a review left hours later) holds no verdict back, so it does
    // not stretch the deadline every instance is held to
    Set<EventType> required = new HashSet<>();
    boolean anyOptional = false;
    for (Stage s : stages) {
      if (s.optional == null) {
        required.addAll(s.events);
      }
      anyOptional |= s.optional != null;
    }
    List<Long> durations = new ArrayList<>();
    for (Instance inst : instances) {
      List<Occurrence> all = inst.occurrences();
      for (int j = all.size() - 1; j >= 0; j--) {
        if (required.contains(all.get(j).type()) || j == 0) {
          durations.add(all.get(j).time() - all.get(0).time());
          break;
        }
      }
    }
    Robust r = robust(durations);
    deadlineMillis = r.limit(10_000_000_000L) / 1_000_000;
    deadlineEvidence = "instances took p50 " + millis(r.p50) + ", p95 " + millis(r.p95) + ", max " + millis(r.max)
        + " from first to last event" + (anyOptional ? " of a stage that is not optional" : "") + r.outliers()
        + "; 3 × p95, at least 10 s";
  }

  /**
   * Whether {@code side} was the last of the main stages {@code join} comes after to come, in
   * (nearly) every instance that has the join and the side (a branch's end waits on nothing).
   */
  private boolean lastOfJoin(Stage side, Stage join) {
    int both = 0;
    int last = 0;
    for (int i : join.in) {
      if (!side.in.contains(i)) {
        continue;
      }
      Instance inst = instances.get(i);
      long mine = firstTime(inst, side);
      boolean latest = true;
      for (Stage other : join.after) {
        if (other != side && isMain(other) && other.in.contains(i) && firstTime(inst, other) > mine) {
          latest = false;
        }
      }
      both++;
      last += latest ? 1 : 0;
    }
    return both > 0 && last >= both * HOLDS;
  }

  /** When an occurrence happened as a budget times it: a response at its span's end (as the check does). */
  private static long answered(Occurrence o) {
    return EventType.RESPONSE_BODY.equals(o.type().attribute()) && o.span() != null
        ? o.time() + Math.max(0, o.span().endEpochNanos() - o.span().startEpochNanos()) : o.time();
  }

  /** Whether two span events are read off one kind of span: the same service, kind, name and URL path. */
  private static boolean sameCall(EventType a, EventType b) {
    return java.util.Objects.equals(a.service(), b.service()) && a.kind() == b.kind()
        && java.util.Objects.equals(a.name(), b.name()) && java.util.Objects.equals(a.urlPath(), b.urlPath());
  }

  private void budget(EventType from, EventType to) {
    List<Long> gaps = new ArrayList<>();
    for (Instance inst : instances) {
      Occurrence b = inst.first(to);
      Occurrence a = null;
      // from the last occurrence before the end, as the check measures it: the callback that
      // settled, not one rejected hours before
      for (Occurrence o : inst.all(from)) {
        if (b != null && o.time() <= b.time()) {
          a = o;
        }
      }
      a = a != null ? a : inst.first(from);
      if (a != null && b != null) {
        gaps.add(answered(b) - answered(a));
      }
    }
    if (gaps.size() < 5) {
      return;
    }
    Robust r = robust(gaps);
    // after a record the next step waits for a consumer, which lags by seconds on a busy day: a
    // budget from a quiet recording's milliseconds failed every instance of such a day
    boolean afterRecord = from.isTopic();
    long budget = r.limit(afterRecord ? AFTER_RECORD_FLOOR_NANOS : 500_000_000L);
    budgets.add(new Item("  - {from: " + ids.get(from) + ", to: " + ids.get(to) + ", within: " + duration(budget) + "}",
        "p50 " + millis(r.p50) + ", p95 " + millis(r.p95) + ", max " + millis(r.max) + " over " + r.kept + " instances"
            + r.outliers() + "; 3 × p95, rounded up" + (afterRecord
                ? ", at least " + duration(AFTER_RECORD_FLOOR_NANOS) + " after a record (its consumers may lag by seconds)"
                : "")));
  }

  /**
   * Percentiles of a latency sample without its outliers (more than 10 × the p90, at least 50 ms),
   * when they are few: at most 1 % of the sample, a defect in the traffic rather than a way the flow
   * goes. More are a slow way of their own (a manual review that takes minutes, 9 % of instances),
   * which the limit must let through: it is then at least 1.5 × the slowest.
   */
  private record Robust(long p50, long p95, long max, int kept, List<Long> dropped, int slow) {
    String outliers() {
      if (slow > 0) {
        return "; " + slow + " much slower (up to " + millis(max) + ") are a way of their own, not outliers:"
            + " at least 1.5 × the slowest";
      }
      if (dropped.isEmpty()) {
        return "";
      }
      List<String> shown = new ArrayList<>();
      for (int i = 0; i < Math.min(3, dropped.size()); i++) {
        shown.add(millis(dropped.get(i)));
      }
      return "; left out as outliers: " + dropped.size() + " (" + String.join(", ", shown)
          + (dropped.size() > 3 ? ", …" : "") + ")";
    }

    /** 3 × the p95, at least {@code floor}, and at least 1.5 × a slow way's slowest. */
    long limit(long floor) {
      return nice(Math.max(Math.max(p95 * 3, floor), slow > 0 ? max + max / 2 : 0));
    }
  }

  private static Robust robust(List<Long> sample) {
    List<Long> sorted = new ArrayList<>(sample);
    sorted.sort(null);
    long p90 = sorted.get((int) Math.min(sorted.size() - 1, Math.ceil(sorted.size() * 0.9) - 1));
    long limit = 10 * Math.max(p90, 50_000_000L);
    List<Long> kept = new ArrayList<>();
    List<Long> dropped = new ArrayList<>();
    for (long v : sorted) {
      (v > limit ? dropped : kept).add(v);
    }
    int slow = 0;
    if (dropped.size() * 100 > sorted.size()) {
      slow = dropped.size();
      kept = sorted;
      dropped = List.of();
    }
    long p95 = kept.get((int) Math.min(kept.size() - 1, Math.ceil(kept.size() * 0.95) - 1));
    if (slow == 0) {
      // a slow way within ten times the p90 (manual reviews of 4 % of transfers, 2 to 6 min where the
      // rest take 20 s) is a way too: past 3 × the p95, more than 1 % of the sample failed its own limit
      int past = 0;
      for (long v : kept) {
        past += v > 3 * p95 ? 1 : 0;
      }
      if (past * 100 > sorted.size()) {
        slow = past;
      }
    }
    // by nearest rank, as the docs' tables take percentiles: one figure for one hop in both
    long p50 = kept.get((int) Math.max(0, Math.ceil(kept.size() * 0.5) - 1));
    return new Robust(p50, p95, kept.get(kept.size() - 1), kept.size(), dropped, slow);
  }

  /** Minutes a limit past a minute is rounded up to: steps of a clock, not of powers of ten. */
  private static final long[] NICE_MINUTES = {1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 360, 480, 720,
      960, 1440, 2160, 2880, 4320};

  /**
   * Rounds up to 1, 2, 3 or 5 × a power of ten milliseconds (in nanoseconds); past a minute, to
   * 1, 2, 3, 5, 10, 15, 20, 30 or 45 minutes, or 1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24, 36, 48 or 72
   * hours, then whole days (a deadline of 200000 s was 2 × what it rounded up).
   */
  static long nice(long nanos) {
    if (nanos > 60_000_000_000L) {
      for (long m : NICE_MINUTES) {
        if (m * 60_000_000_000L >= nanos) {
          return m * 60_000_000_000L;
        }
      }
      long day = 86_400_000_000_000L;
      return (nanos + day - 1) / day * day;
    }
    long unit = 1_000_000; // 1 ms
    while (true) {
      for (long m : new long[] {1, 2, 3, 5}) {
        if (m * unit >= nanos) {
          return m * unit;
        }
      }
      unit *= 10;
    }
  }

  static String duration(long nanos) {
    long ms = nanos / 1_000_000;
    if (ms % 3_600_000 == 0 && ms >= 3_600_000) {
      return ms / 3_600_000 + "h";
    }
    if (ms % 60_000 == 0 && ms >= 60_000) {
      return ms / 60_000 + "m";
    }
    if (ms % 1000 == 0) {
      return ms / 1000 + "s";
    }
    return ms + "ms";
  }

  private static String millis(long nanos) {
    if (nanos >= 7_200_000_000_000L) {
      return String.format(java.util.Locale.ROOT, "%.1f h", nanos / 3.6e12);
    }
    if (nanos >= 600_000_000_000L) {
      return String.format(java.util.Locale.ROOT, "%.1f min", nanos / 6e10);
    }
    return nanos >= 10_000_000_000L ? nanos / 1_000_000_000 + " s" : nanos / 1_000_000 + " ms";
  }

  /** An instance as its first key's value names it (a rule's exception), else its first record's key. */
  private String describeInstance(Instance inst) {
    if (!keys.isEmpty()) {
      Set<String> values = keyValues(inst, keys.get(0));
      if (values.size() == 1) {
        return keys.get(0) + "=" + values.iterator().next();
      }
    }
    for (Occurrence o : inst.occurrences()) {
      if (o.isRecord() && o.record().key() != null) {
        return o.record().key();
      }
    }
    return inst.occurrences().get(0).traceId();
  }

  /** A YAML scalar: plain when safe, else single-quoted. */
  static String yamlText(String s) {
    if (s.matches("[A-Za-z_][A-Za-z0-9_./\\-]*") && !s.equals("true") && !s.equals("false") && !s.equals("null")) {
      return s;
    }
    return "'" + s.replace("'", "''") + "'";
  }

  Span exampleSpan(EventType t) {
    for (Instance inst : instances) {
      Occurrence o = inst.first(t);
      if (o != null && o.span() != null) {
        return o.span();
      }
    }
    return null;
  }
}
