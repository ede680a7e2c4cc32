package io.flowtrace.verifier.assembly;

import io.flowtrace.tracer.correlation.MessageSpanIndex;
import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanLink;
import io.flowtrace.tracer.model.TraceContext;
import io.flowtrace.verifier.model.FlowPaths.Requirement;
import io.flowtrace.verifier.report.FlowVerifier;
import io.flowtrace.verifier.check.PropagationCheck;
import io.flowtrace.verifier.model.FlowInstance;
import io.flowtrace.verifier.model.FlowPaths;
import io.flowtrace.verifier.model.FlowPaths.Requirement;
import io.flowtrace.verifier.model.Observation;
import io.flowtrace.verifier.report.FlowVerifier;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.schema.DecodedPayload;
import io.flowtrace.verifier.schema.SchemaProblem;
import io.flowtrace.verifier.spec.EventSpec;
import io.flowtrace.verifier.spec.FieldPath;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.StageSpec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/** Assembly and decisions for one flow. Package-private: {@link FlowEngine} is the API. */
final class FlowState {

  private static final PropagationCheck PROPAGATION = new PropagationCheck();

  private final FlowSpec spec;
  private final FlowVerifier verifier;
  private final long graceNanos;
  /** How long a decided verdict may be amended; {@link Long#MAX_VALUE}: until the input ends. */
  private final long amendNanos;
  /** How long events waiting for their trace are kept (finite even when amendments are not). */
  private final long pendingHorizonNanos;
  private final long deadlineNanos;
  private final FlowEngine engine;
  private final Map<String, List<EventSpec>> topicEvents;
  private final List<EventSpec> spanEvents;
  private final Set<String> entryEvents = new HashSet<>();
  private final Set<String> terminalEventSets = new HashSet<>();

  private final Map<String, Inst> byKey = new HashMap<>();
  private final Map<String, Inst> byTrace = new HashMap<>();
  private final Map<String, List<List<Seed>>> pending = new HashMap<>();
  private final ArrayDeque<Object[]> pendingOrder = new ArrayDeque<>();
  private final PriorityQueue<Timer> timers =
      new PriorityQueue<>(Comparator.comparingLong(Timer::at).thenComparingLong(t -> t.inst().id));
  private final Set<Inst> dirtyDecided = new LinkedHashSet<>();
  private final ArrayDeque<Inst> pendingDecisions = new ArrayDeque<>();
  private final Set<Inst> dirtyOpen = new LinkedHashSet<>();
  /** Keys and traces of final instances, with the event time they became final. */
  private final LinkedHashMap<String, Long> finalizedKeys;
  private final LinkedHashMap<String, Long> finalizedTraces;
  /** Open instances in the order they opened (oldest first), for the in-flight cap. */
  private final LinkedHashSet<Inst> openOrder = new LinkedHashSet<>();
  private long openCount;
  private long decidedCount;
  private long seq;

  FlowState(FlowSpec spec, FlowVerifier verifier, long graceNanos, long amendNanos, int finalizedKeyCapacity,
      FlowEngine engine) {
    this.spec = spec;
    this.verifier = verifier;
    this.graceNanos = graceNanos;
    this.amendNanos = amendNanos;
    this.deadlineNanos = spec.deadline().toNanos();
    this.pendingHorizonNanos = deadlineNanos + graceNanos
        + (amendNanos == Long.MAX_VALUE ? FlowEngine.DEFAULT_AMEND_WINDOW.toNanos() : amendNanos);
    this.engine = engine;
    this.topicEvents = spec.eventsByTopic();
    this.spanEvents = spec.events().stream().filter(e -> e.span() != null).toList();
    for (StageSpec s : spec.entryStages()) {
      s.events().forEach(e -> entryEvents.add(e.id()));
    }
    this.finalizedKeys = boundedSet(finalizedKeyCapacity);
    this.finalizedTraces = boundedSet(finalizedKeyCapacity);
  }

  private static LinkedHashMap<String, Long> boundedSet(int capacity) {
    return new LinkedHashMap<>(16, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
        return size() > capacity;
      }
    };
  }

  FlowSpec spec() {
    return spec;
  }

  /** Remembers an instance decided elsewhere: its keys and traces count as finalized. */
  void markFinalized(Map<String, String> keys, java.util.Collection<String> traceIds) {
    keys.forEach((k, v) -> {
      if (!byKey.containsKey(token(k, v))) {
        finalizedKeys.put(token(k, v), Long.MIN_VALUE);
      }
    });
    for (String t : traceIds) {
      if (!byTrace.containsKey(t)) {
        finalizedTraces.put(t, Long.MIN_VALUE);
      }
    }
  }

  /** Open order of the oldest open instance, {@link Long#MAX_VALUE} when none is open. */
  long oldestOpenSequence() {
    return openOrder.isEmpty() ? Long.MAX_VALUE : openOrder.iterator().next().openSeq;
  }

  /** Drops open instances with an event from a source matching {@code gone}; returns how many. */
  int discardOpen(java.util.function.IntPredicate gone) {
    List<Inst> drop = new ArrayList<>();
    for (Inst inst : openOrder) {
      if (inst.sources.stream().anyMatch(gone)) {
        drop.add(inst);
      }
    }
    for (Inst inst : drop) {
      openOrder.remove(inst);
      dirtyOpen.remove(inst);
      inst.state = State.MERGED; // no longer reachable, never decided
      openCount--;
      inst.keys.forEach((k, v) -> byKey.remove(token(k, v), inst));
      for (String t : inst.traces) {
        byTrace.remove(t, inst);
      }
      inst.seeds.clear();
      inst.identities.clear();
    }
    return drop.size();
  }

  /** Decides the oldest open instance now, {@code INCOMPLETE} (unless past its deadline) with the reason. */
  void evictOldest(long watermark, String reason) {
    if (!openOrder.isEmpty()) {
      Inst inst = openOrder.iterator().next();
      inst.overflowReason = reason;
      decide(inst, watermark, reason, snapshot(inst, watermark), false);
    }
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

  long openInstances() {
    return openCount;
  }

  long decidedInstances() {
    return decidedCount;
  }

  // ---- ingest ----

  /** Decodes the record's value for each event of its topic (null when the topic is not ours). Thread-safe. */
  List<DecodedPayload> decode(KafkaRecord record) {
    List<EventSpec> events = topicEvents.get(record.topic());
    if (events == null) {
      return null;
    }
    List<DecodedPayload> out = new ArrayList<>(events.size());
    for (EventSpec event : events) {
      if (record.value() == null) {
        out.add(new DecodedPayload(null, List.of(new SchemaProblem("$", "the record has no value (a tombstone)"))));
      } else if (record.value().length > engine.maxPayloadBytes()) {
        out.add(new DecodedPayload(null, List.of()));
      } else {
        out.add(event.schema().decode(record.value(), record.headers()));
      }
    }
    return out;
  }

  boolean acceptRecord(KafkaRecord record, List<DecodedPayload> decodedPayloads, TraceContext context, long watermark) {
    List<EventSpec> events = topicEvents.get(record.topic());
    if (events == null || decodedPayloads == null) {
      return false;
    }
    List<Seed> group = new ArrayList<>(1);
    for (int i = 0; i < events.size(); i++) {
      EventSpec event = events.get(i);
      DecodedPayload decoded = decodedPayloads.get(i);
      Map<String, String> keys = recordKeys(event, decoded, record);
      group.add(new Seed(event, record.timestampNanos(), decoded.tree(), decoded.problems(), record, null, keys,
          context, tooLarge(record.value() == null ? 0 : record.value().length)));
    }
    route(group, context == null ? null : context.traceId(), watermark);
    return true;
  }

  private static Map<String, String> recordKeys(EventSpec event, DecodedPayload decoded, KafkaRecord record) {
    Map<String, String> keys = keysOf(event, decoded.tree());
    if (event.recordKey() != null && record.key() != null && !record.key().isEmpty()
        && !keys.containsKey(event.recordKey())) {
      keys = new LinkedHashMap<>(keys);
      keys.put(event.recordKey(), record.key());
    }
    return keys;
  }

  /**
   * Adds to {@code keys} this flow's instance keys the record or span carries (as
   * {@code flow|key=value}), and returns whether it is an event of this flow, and (in
   * {@code joinsByKey[0]}) whether one of its events joins its instance by key alone.
   */
  boolean routing(Prepared prepared, int flowIndex, Set<String> keys, boolean[] joinsByKey) {
    boolean event = false;
    if (prepared instanceof PreparedRecord r) {
      List<EventSpec> events = topicEvents.get(r.record().topic());
      List<DecodedPayload> decoded = r.decoded(flowIndex);
      if (events == null || decoded == null) {
        return false;
      }
      for (int i = 0; i < events.size(); i++) {
        recordKeys(events.get(i), decoded.get(i), r.record()).forEach((k, v) -> keys.add(spec.name() + '|' + k + '=' + v));
        joinsByKey[0] |= events.get(i).newTrace() || r.context() == null;
        event = true;
      }
    } else {
      for (SpanMatch m : ((PreparedSpan) prepared).matches(flowIndex)) {
        keysOf(m.event(), m.decoded().tree()).forEach((k, v) -> keys.add(spec.name() + '|' + k + '=' + v));
        joinsByKey[0] |= m.event().newTrace();
        event = true;
      }
    }
    return event;
  }

  /** An event a span matched, with its payload decoded. */
  record SpanMatch(EventSpec event, DecodedPayload decoded) {}

  /** The events the span carries, payloads decoded and validated (empty when none). Thread-safe. */
  List<SpanMatch> match(Span span) {
    List<SpanMatch> out = null;
    for (EventSpec event : spanEvents) {
      if (!event.span().matches(span)) {
        continue;
      }
      String attr = event.payload().attribute();
      Object value = attr == null ? null : span.attributes().get(attr);
      DecodedPayload decoded;
      if (attr == null) {
        decoded = new DecodedPayload(null, List.of());
      } else if (value == null) {
        decoded = new DecodedPayload(null, List.of(new SchemaProblem("$",
            "no payload: the span has no attribute " + attr)));
      } else if (value.toString().length() > engine.maxPayloadBytes()) {
        decoded = new DecodedPayload(null, List.of());
      } else {
        decoded = event.schema().decode(value.toString().getBytes(StandardCharsets.UTF_8), List.of());
      }
      if (out == null) {
        out = new ArrayList<>(2);
      }
      out.add(new SpanMatch(event, decoded));
    }
    return out == null ? List.of() : out;
  }

  boolean acceptSpan(Span span, List<SpanMatch> matches, long watermark) {
    if (matches.isEmpty()) {
      return false;
    }
    List<Seed> group = new ArrayList<>(matches.size());
    for (SpanMatch m : matches) {
      String attr = m.event().payload().attribute();
      Object value = attr == null ? null : span.attributes().get(attr);
      group.add(new Seed(m.event(), span.startEpochNanos(), m.decoded().tree(), m.decoded().problems(), null, span,
          keysOf(m.event(), m.decoded().tree()), null, tooLarge(value == null ? 0 : value.toString().length())));
    }
    route(group, span.traceId(), watermark);
    return true;
  }

  /** The reason a payload of that size is not decoded, or {@code null} when it is within the cap. */
  private String tooLarge(int bytes) {
    if (bytes <= engine.maxPayloadBytes()) {
      return null;
    }
    engine.mutableStats().payloadsTooLarge++;
    return "payload of " + bytes + " bytes is over the " + engine.maxPayloadBytes() + "-byte cap (maxPayloadBytes)";
  }

  /** A messaging span of one of our topics arrived: an instance waiting on its trace may now be decidable. */
  void spanIndexed(Span span) {
    Inst inst = byTrace.get(span.traceId());
    if (inst == null) {
      for (SpanLink link : span.links()) {
        inst = byTrace.get(link.traceId());
        if (inst != null) {
          break;
        }
      }
    }
    if (inst != null) {
      inst = find(inst);
      inst.lastArrival = engine.arrivalNanos();
      if (inst.traces.add(span.traceId())) {
        byTrace.putIfAbsent(span.traceId(), inst);
        List<List<Seed>> waiting = pending.remove(span.traceId());
        if (waiting != null) {
          for (List<Seed> g : waiting) {
            addAll(inst, g, Map.of(), null, Long.MIN_VALUE);
          }
        }
      }
      if (inst.state == State.OPEN) {
        dirtyOpen.add(inst);
      } else if (inst.state == State.DECIDED) {
        // A late messaging span joins a record to its producer or consumer: it can connect a trace
        // judged broken, or relate two hosts' clocks (order, latency). The verdict is a function
        // of all the instance's data, so it is verified again (and amended only if it changed).
        inst.lastEventTime = Math.max(inst.lastEventTime, span.endEpochNanos());
        dirtyDecided.add(inst);
      }
    }
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

  private void route(List<Seed> group, String traceId, long watermark) {
    Map<String, String> keys = new LinkedHashMap<>();
    for (Seed s : group) {
      s.keys().forEach(keys::putIfAbsent);
    }
    Inst target = null;
    if (!keys.isEmpty()) {
      List<Inst> candidates = new ArrayList<>(2);
      String finalized = null;
      for (String key : spec.keys()) {
        String v = keys.get(key);
        if (v == null) {
          continue;
        }
        String token = token(key, v);
        Inst i = byKey.get(token);
        if (i != null) {
          i = find(i);
          if (!candidates.contains(i)) {
            candidates.add(i);
          }
        } else if (finalized == null && finalizedKeys.containsKey(token)) {
          finalized = token;
        }
      }
      if (candidates.isEmpty()) {
        if (finalized != null) {
          late(group, keys, finalizedKeys.get(finalized));
          return;
        }
        Inst byT = traceId == null ? null : byTrace.get(traceId);
        if (byT != null && compatible(find(byT), keys)) {
          target = find(byT);
        }
      } else {
        target = candidates.get(0);
        for (int i = 1; i < candidates.size(); i++) {
          if (compatible(target, candidates.get(i).keys)) {
            target = merge(target, candidates.get(i));
          } else {
            engine.mutableStats().keyConflicts++;
          }
        }
      }
    } else if (traceId != null && byTrace.containsKey(traceId)) {
      target = find(byTrace.get(traceId));
    } else if (traceId != null && finalizedTraces.containsKey(traceId)) {
      late(group, Map.of("trace", traceId), finalizedTraces.get(traceId));
      return;
    } else if (group.stream().noneMatch(s -> entryEvents.contains(s.event().id()))) {
      if (traceId != null) {
        pending.computeIfAbsent(traceId, t -> new ArrayList<>(1)).add(group);
        pendingOrder.add(new Object[] {group.get(0).time(), traceId});
      }
      return;
    }
    if (target == null) {
      target = open(group.get(0).time(), watermark);
    }
    addAll(target, group, keys, traceId, watermark);
  }

  /** An event for an instance already final: counted and reported, never silently dropped. */
  private void late(List<Seed> group, Map<String, String> keys, long finalizedAt) {
    engine.mutableStats().lateDropped++;
    Seed s = group.get(0);
    String where = s.record() != null ? s.record().coordinates() : s.span().describe();
    engine.listener().late(new io.flowtrace.verifier.report.LateEvent(spec.name(), keys, s.event().id(), where,
        s.time(), finalizedAt));
  }

  private boolean compatible(Inst inst, Map<String, String> keys) {
    for (Map.Entry<String, String> k : keys.entrySet()) {
      String mine = inst.keys.get(k.getKey());
      if (mine != null && !mine.equals(k.getValue())) {
        return false;
      }
    }
    return true;
  }

  private Inst open(long time, long watermark) {
    engine.beforeOpen(watermark);
    Inst inst = new Inst(seq++);
    inst.openSeq = engine.nextOpenSequence();
    openOrder.add(inst);
    inst.start = time;
    openCount++;
    engine.mutableStats().instancesOpened++;
    timers.add(new Timer(time + deadlineNanos, inst, TimerKind.DEADLINE));
    return inst;
  }

  private void addAll(Inst inst, List<Seed> group, Map<String, String> keys, String traceId, long watermark) {
    inst.lastArrival = engine.arrivalNanos();
    if (engine.sourceTag() >= 0) {
      inst.sources.set(engine.sourceTag());
    }
    for (Seed s : group) {
      if (inst.overflowReason != null) {
        engine.mutableStats().eventsDropped++;
        continue;
      }
      if (s.tooLarge() != null) {
        inst.overflowReason = s.tooLarge() + " (" + s.event().id() + ")";
      } else if (inst.seeds.size() >= engine.maxEventsPerInstance()) {
        inst.overflowReason = "more than " + engine.maxEventsPerInstance() + " events (maxEventsPerInstance)";
        engine.mutableStats().eventsDropped++;
        continue;
      }
      if (inst.identities.add(s.event().id() + '|' + s.identity())) {
        inst.seeds.add(s);
        inst.eventIds.add(s.event().id());
        inst.lastEventTime = Math.max(inst.lastEventTime, s.time());
        engine.mutableStats().observations++;
        if (s.time() < inst.start) {
          inst.start = s.time();
        }
      }
    }
    for (Map.Entry<String, String> k : keys.entrySet()) {
      if (inst.keys.putIfAbsent(k.getKey(), k.getValue()) == null) {
        byKey.put(token(k.getKey(), k.getValue()), inst);
      }
    }
    if (traceId != null && inst.traces.add(traceId)) {
      byTrace.putIfAbsent(traceId, inst);
      List<List<Seed>> waiting = pending.remove(traceId);
      if (waiting != null) {
        for (List<Seed> g : waiting) {
          addAll(inst, g, Map.of(), null, watermark);
        }
      }
    }
    if (inst.overflowReason != null && inst.state == State.OPEN) {
      decide(inst, watermark, inst.overflowReason, snapshot(inst, watermark), false);
      return;
    }
    markDirty(inst);
  }

  private void markDirty(Inst inst) {
    if (inst.state == State.OPEN) {
      dirtyOpen.add(inst);
    } else if (inst.state == State.DECIDED) {
      dirtyDecided.add(inst);
    }
  }

  private Inst merge(Inst a, Inst b) {
    Inst keep = a.state == State.DECIDED || b.state != State.DECIDED ? a : b;
    Inst gone = keep == a ? b : a;
    gone.mergedInto = keep;
    keep.lastArrival = Math.max(keep.lastArrival, gone.lastArrival);
    keep.sources.or(gone.sources);
    openOrder.remove(gone);
    if (gone.overflowReason != null && keep.overflowReason == null) {
      keep.overflowReason = gone.overflowReason;
    }
    if (gone.state == State.OPEN) {
      openCount--;
    } else if (gone.state == State.DECIDED) {
      decidedCount--;
    }
    gone.state = State.MERGED;
    dirtyOpen.remove(gone);
    dirtyDecided.remove(gone);
    for (Seed s : gone.seeds) {
      if (keep.identities.add(s.event().id() + '|' + s.identity())) {
        keep.seeds.add(s);
        keep.eventIds.add(s.event().id());
        keep.start = Math.min(keep.start, s.time());
      }
    }
    gone.keys.forEach((k, v) -> {
      keep.keys.putIfAbsent(k, v);
      byKey.put(token(k, v), keep);
    });
    for (String t : gone.traces) {
      keep.traces.add(t);
      byTrace.put(t, keep);
    }
    markDirty(keep);
    return keep;
  }

  private static Inst find(Inst inst) {
    while (inst.mergedInto != null) {
      inst = inst.mergedInto;
    }
    return inst;
  }

  private static String token(String key, String value) {
    return key + '\u0000' + value;
  }

  // ---- decisions ----

  void advance(long watermark) {
    deliverDecisions(null, false);
    if (!dirtyOpen.isEmpty()) {
      List<Inst> open = new ArrayList<>(dirtyOpen);
      dirtyOpen.clear();
      for (Inst inst : open) {
        if (inst.state == State.OPEN) {
          tryComplete(inst, watermark);
        }
      }
    }
    while (!timers.isEmpty() && timers.peek().at() <= watermark) {
      Timer t = timers.poll();
      Inst inst = find(t.inst());
      switch (t.kind()) {
        case DEADLINE -> {
          if (inst.state == State.OPEN) {
            if (watermark >= inst.start + deadlineNanos) {
              decide(inst, watermark, "deadline passed");
            } else {
              timers.add(new Timer(inst.start + deadlineNanos, inst, TimerKind.DEADLINE));
            }
          }
        }
        case GRACE -> {
          if (inst.state == State.OPEN) {
            decide(inst, watermark, "terminal stage seen; waited " + graceNanos / 1_000_000 + " ms for the rest");
          }
        }
        case FINALIZE -> {
          if (inst.state == State.DECIDED) {
            finalizeInstance(inst, watermark);
          }
        }
        case AMEND -> {
          if (inst.state == State.DECIDED && inst.amendAt != Long.MIN_VALUE && watermark >= inst.amendAt) {
            dirtyDecided.remove(inst);
            reverify(inst, snapshot(inst, watermark));
          }
        }
      }
    }
    if (!dirtyDecided.isEmpty()) {
      List<Inst> decided = new ArrayList<>(dirtyDecided);
      dirtyDecided.clear();
      for (Inst inst : decided) {
        if (inst.state == State.DECIDED) {
          amendOrWait(inst, watermark);
        }
      }
    }
    long horizon = watermark - pendingHorizonNanos;
    while (!pendingOrder.isEmpty() && (long) pendingOrder.peekFirst()[0] < horizon) {
      Object[] p = pendingOrder.pollFirst();
      pending.remove((String) p[1]);
    }
  }

  void finish(long watermark) {
    advance(watermark);
    List<Inst> all = new ArrayList<>();
    for (Inst i : new HashSet<>(byKey.values())) {
      all.add(find(i));
    }
    for (Inst i : byTrace.values()) {
      all.add(find(i));
    }
    for (Timer t : timers) {
      all.add(find(t.inst()));
    }
    List<Inst> distinct = new ArrayList<>(new LinkedHashSet<>(all));
    distinct.sort(Comparator.comparingLong((Inst i) -> i.start).thenComparingLong(i -> i.id));
    for (Inst inst : distinct) {
      if (inst.state == State.OPEN) {
        decide(inst, watermark, "input ended");
      }
    }
    deliverDecisions(null, true);
    for (Inst inst : distinct) {
      if (inst.state == State.DECIDED) {
        finalizeInstance(inst, watermark);
      }
    }
    timers.clear();
    pending.clear();
    pendingOrder.clear();
  }

  private void tryComplete(Inst inst, long watermark) {
    StageSpec terminal = null;
    for (StageSpec s : spec.terminalStages()) {
      if (terminalCandidate(inst, s)) {
        terminal = s;
        break;
      }
    }
    if (terminal == null) {
      return;
    }
    FlowInstance snapshot = snapshot(inst, watermark);
    if (!snapshot.stageComplete(terminal.id())) {
      return;
    }
    if (inst.terminalAt == Long.MIN_VALUE) {
      // The grace runs from when the terminal stage happened, in event time: a live engine's
      // watermark trails the wall clock by the allowed lateness, so the two add up.
      inst.terminalAt = snapshot.stageEnd(terminal.id());
      timers.add(new Timer(inst.terminalAt + graceNanos, inst, TimerKind.GRACE));
    }
    if (!settled(snapshot)) {
      return;
    }
    decide(inst, watermark, "complete", snapshot, true);
    engine.decidedByData(inst.lastArrival);
  }

  /** Cheap test before a snapshot: every record event of the stage arrived, and some event did. */
  private static boolean terminalCandidate(Inst inst, StageSpec terminal) {
    boolean any = false;
    for (EventSpec e : terminal.events()) {
      boolean seen = inst.eventIds.contains(e.id());
      if (e.isTopic() && !seen) {
        return false;
      }
      any |= seen;
    }
    return any;
  }

  /**
   * Whether the data can be decided on now: complete, trace-connected, and not waiting for spans
   * that a lossy pipeline may still deliver. Unsampled traces are not waited for: their spans never come.
   */
  private boolean settled(FlowInstance snapshot) {
    return isComplete(snapshot) && !snapshot.visibility().awaitsLostSpans()
        && (!engine.sawSpans() || PROPAGATION.check(snapshot).isEmpty());
  }

  private static boolean requiredStagesPresent(FlowInstance snapshot) {
    FlowPaths paths = snapshot.paths();
    for (StageSpec s : snapshot.spec().stages()) {
      Requirement r = paths.requirement(s.id());
      if (r == Requirement.UNDECIDED) {
        return false;
      }
      if (r == Requirement.REQUIRED && !snapshot.stageComplete(s.id())) {
        return false;
      }
    }
    return true;
  }

  private void decide(Inst inst, long watermark, String reason) {
    FlowInstance snapshot = snapshot(inst, watermark);
    decide(inst, watermark, reason, snapshot, isComplete(snapshot));
  }

  private void decide(Inst inst, long watermark, String reason, FlowInstance snapshot, boolean complete) {
    engine.mutableStats().verifications++;
    java.util.concurrent.Executor executor = engine.verificationExecutor();
    Verdict verdict = null;
    if (executor == null) {
      verdict = verifier.verify(snapshot, complete, reason);
    } else {
      inst.pending = java.util.concurrent.CompletableFuture.supplyAsync(
          () -> verifier.verify(snapshot, complete, reason), executor);
      pendingDecisions.add(inst);
    }
    inst.state = State.DECIDED;
    inst.verdict = verdict;
    inst.complete = complete;
    openOrder.remove(inst);
    openCount--;
    decidedCount++;
    dirtyOpen.remove(inst);
    dirtyDecided.remove(inst);
    engine.mutableStats().verdictsDecided++;
    if (amendNanos != Long.MAX_VALUE) {
      timers.add(new Timer(watermark + amendNanos, inst, TimerKind.FINALIZE));
    }
    if (verdict != null) {
      engine.listener().decided(verdict);
    }
  }

  /**
   * Delivers verdicts verified on other threads, in the order they were decided: those already
   * done, or (with {@code upTo}) every one up to and including that instance's, waiting for them.
   */
  private void deliverDecisions(Inst upTo, boolean all) {
    while (!pendingDecisions.isEmpty()) {
      Inst head = pendingDecisions.peekFirst();
      boolean needed = all || upTo != null;
      if (!needed && !head.pending.isDone()) {
        return;
      }
      pendingDecisions.pollFirst();
      head.verdict = head.pending.join();
      head.pending = null;
      engine.listener().decided(head.verdict);
      if (head == upTo) {
        return;
      }
    }
  }

  /** The instance's current verdict, waiting for its verification if it runs elsewhere. */
  private Verdict verdictOf(Inst inst) {
    if (inst.pending != null) {
      deliverDecisions(inst, false);
    }
    return inst.verdict;
  }

  private static boolean isComplete(FlowInstance snapshot) {
    boolean terminal = snapshot.spec().terminalStages().stream()
        .anyMatch(s -> snapshot.stageSeen(s.id()) && snapshot.stageComplete(s.id()));
    return terminal && requiredStagesPresent(snapshot);
  }

  /**
   * New events reached a decided instance: amend its verdict now if the data is settled (complete
   * and trace-connected), else once a completion grace has passed after its latest event — records
   * arrive before the spans that explain them, and a violation published now and withdrawn when
   * the spans come would be a false alarm.
   */
  private void amendOrWait(Inst inst, long watermark) {
    verdictOf(inst);
    if (inst.overflowReason != null) {
      return; // decided INCOMPLETE for a cap; what it holds is not the whole instance
    }
    FlowInstance snapshot = snapshot(inst, watermark);
    if (settled(snapshot) || inst.amendAt != Long.MIN_VALUE && watermark >= inst.amendAt) {
      reverify(inst, snapshot);
      return;
    }
    long at = inst.lastEventTime + graceNanos;
    if (at > inst.amendAt) {
      inst.amendAt = at;
      timers.add(new Timer(at, inst, TimerKind.AMEND));
    }
  }

  private void reverify(Inst inst, FlowInstance snapshot) {
    inst.amendAt = Long.MIN_VALUE;
    verdictOf(inst);
    if (inst.overflowReason != null) {
      return;
    }
    boolean complete = isComplete(snapshot);
    engine.mutableStats().verifications++;
    Verdict next = verifier.verify(snapshot, complete, inst.verdict.reason());
    if (!next.sameOutcome(inst.verdict)) {
      next = next.withRevision(inst.verdict.revision() + 1);
      Verdict previous = inst.verdict;
      inst.verdict = next;
      engine.mutableStats().verdictsAmended++;
      engine.listener().amended(previous, next);
    }
  }

  private void finalizeInstance(Inst inst, long watermark) {
    verdictOf(inst);
    if (dirtyDecided.remove(inst) | inst.amendAt != Long.MIN_VALUE) {
      reverify(inst, snapshot(inst, watermark));
    }
    inst.state = State.FINAL;
    decidedCount--;
    engine.mutableStats().verdictsFinal++;
    for (Map.Entry<String, String> k : inst.keys.entrySet()) {
      String token = token(k.getKey(), k.getValue());
      byKey.remove(token);
      finalizedKeys.put(token, watermark);
    }
    for (String t : inst.traces) {
      if (byTrace.get(t) != null && find(byTrace.get(t)) == inst) {
        byTrace.remove(t);
      }
      finalizedTraces.put(t, watermark);
    }
    engine.listener().finalized(inst.verdict);
    inst.seeds.clear();
    inst.identities.clear();
  }

  private FlowInstance snapshot(Inst inst, long watermark) {
    engine.mutableStats().snapshots++;
    MessageSpanIndex index = engine.spanIndex();
    List<Observation> observations = new ArrayList<>(inst.seeds.size());
    for (Seed s : inst.seeds) {
      if (s.record() != null) {
        KafkaRecord r = s.record();
        // Joins are kept with the seed: the index forgets spans long before a replay's instance is final.
        if (s.producer == null) {
          s.producer = index.producerOf(r, s.context()).orElse(null);
        }
        s.consumers = union(s.consumers, index.consumersOf(r, s.context()));
        Span producer = s.producer;
        long time = producer != null ? producer.startEpochNanos() : s.time();
        observations.add(new Observation(s.event(), time, s.payload(), s.problems(), r, producer,
            s.consumers, s.context(), s.keys()));
      } else {
        Span span = s.span();
        observations.add(new Observation(s.event(), s.time(), s.payload(), s.problems(), null, span, List.of(),
            new TraceContext(span.traceId(), span.spanId(), 1), s.keys()));
      }
    }
    Map<String, String> keys = new LinkedHashMap<>();
    for (String k : spec.keys()) {
      String v = inst.keys.get(k);
      if (v != null) {
        keys.put(k, v);
      }
    }
    return new FlowInstance(spec, keys, observations, inst.start, watermark,
        watermark >= inst.start + deadlineNanos, engine.sawSpans());
  }

  // ---- state ----

  private enum State { OPEN, DECIDED, FINAL, MERGED }

  private enum TimerKind { DEADLINE, GRACE, AMEND, FINALIZE }

  private record Timer(long at, Inst inst, TimerKind kind) {}

  private static List<Span> union(List<Span> kept, List<Span> found) {
    if (kept.isEmpty()) {
      return found;
    }
    if (found.isEmpty() || kept.containsAll(found)) {
      return kept;
    }
    List<Span> all = new ArrayList<>(kept);
    for (Span f : found) {
      if (!all.contains(f)) {
        all.add(f);
      }
    }
    return all;
  }

  /**
   * An event occurrence as it arrived, with the messaging spans it was joined to once they were
   * seen (a record's producer and consumers).
   */
  private static final class Seed {
    private final EventSpec event;
    private final long time;
    private final JsonNode payload;
    private final List<SchemaProblem> problems;
    private final KafkaRecord record;
    private final Span span;
    private final Map<String, String> keys;
    private final TraceContext context;
    private final String tooLarge;
    Span producer;
    List<Span> consumers = List.of();

    Seed(EventSpec event, long time, JsonNode payload, List<SchemaProblem> problems, KafkaRecord record, Span span,
        Map<String, String> keys, TraceContext context, String tooLarge) {
      this.event = event;
      this.time = time;
      this.payload = payload;
      this.problems = problems;
      this.record = record;
      this.span = span;
      this.keys = keys;
      this.context = context;
      this.tooLarge = tooLarge;
    }

    EventSpec event() { return event; }
    long time() { return time; }
    JsonNode payload() { return payload; }
    List<SchemaProblem> problems() { return problems; }
    KafkaRecord record() { return record; }
    Span span() { return span; }
    Map<String, String> keys() { return keys; }
    TraceContext context() { return context; }
    String tooLarge() { return tooLarge; }

    String identity() {
      return record != null ? record.coordinates() : span.traceId() + "/" + span.spanId();
    }
  }

  private static final class Inst {
    final long id;
    final Map<String, String> keys = new LinkedHashMap<>(4);
    final List<Seed> seeds = new ArrayList<>(20);
    final Set<String> identities = new HashSet<>();
    final Set<String> eventIds = new HashSet<>();
    final Set<String> traces = new LinkedHashSet<>(4);
    long start = Long.MAX_VALUE;
    long terminalAt = Long.MIN_VALUE;
    /** Event time of the latest event added. */
    long lastEventTime = Long.MIN_VALUE;
    /** When a waiting amendment is due ({@link Long#MIN_VALUE}: none waits). */
    long amendAt = Long.MIN_VALUE;
    State state = State.OPEN;
    Verdict verdict;
    java.util.concurrent.CompletableFuture<Verdict> pending;
    boolean complete;
    Inst mergedInto;
    long openSeq;
    long lastArrival;
    /** Tags of the sources its events came from (see {@link FlowEngine#source}). */
    final java.util.BitSet sources = new java.util.BitSet();
    /** Why the instance was decided early for a cap ({@code null}: it was not). */
    String overflowReason;

    Inst(long id) {
      this.id = id;
    }
  }
}
