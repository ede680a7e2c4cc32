package io.flowtrace.verifier.assembly;

import io.flowtrace.tracer.correlation.MessagingAttributes;
import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.TraceContext;
import io.flowtrace.verifier.assembly.DecisionScheduler.Kind;
import io.flowtrace.verifier.check.PropagationCheck;
import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.check.ViolationKind;
import io.flowtrace.verifier.model.Diversion;
import io.flowtrace.verifier.model.FlowInstance;
import io.flowtrace.verifier.model.Observation;
import io.flowtrace.verifier.report.FlowVerifier;
import io.flowtrace.verifier.report.LateEvent;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.schema.DecodedPayload;
import io.flowtrace.verifier.spec.EventSpec;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.StageSpec;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntPredicate;

/**
 * One flow's instances through their life: sightings are routed to their instance ({@link
 * InstanceIndex}), an instance is decided when its data is ready ({@link Readiness}) or a timer
 * ({@link DecisionScheduler}) says so, amended while its window is open, then made final.
 * Package-private: {@link FlowEngine} is the API; engine thread only.
 */
final class FlowState {

  private final FlowSpec spec;
  /** Whether a terminal stage is made of spans alone (reached unseen when its trace is not sampled). */
  private final boolean spanOnlyTerminal;
  private final FlowVerifier verifier;
  private final EngineContext context;
  final EventMatcher matcher;
  private final InstanceIndex index;
  private final DecisionScheduler scheduler = new DecisionScheduler();
  private final Readiness readiness;
  private final long graceNanos;
  /** How long a decided verdict may be amended; {@link Long#MAX_VALUE}: until the input ends. */
  private final long amendNanos;
  /** How long events waiting for their trace are kept (finite even when amendments are not). */
  private final long waitingHorizonNanos;
  /** The declared events a sighting has been made of (by identity), so each is told to the stats once. */
  private final java.util.Set<io.flowtrace.verifier.spec.EventSpec> seenEvents =
      java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
  private final long deadlineNanos;
  private final Set<InstanceState> dirtyOpen = new LinkedHashSet<>();
  private final Set<InstanceState> dirtyDecided = new LinkedHashSet<>();
  private final ArrayDeque<InstanceState> verifying = new ArrayDeque<>();
  /** Instances found quiet while their verification ran, delivered since ({@link InstanceState#quietWhenVerified}). */
  private final List<InstanceState> verifiedQuiet = new ArrayList<>();
  private long openCount;
  private long decidedCount;
  /** Decided instances in the order they were decided (the order their amendment windows end). */
  private final java.util.ArrayDeque<InstanceState> amendable = new java.util.ArrayDeque<>();
  private long retainedEvents;
  private long ids;

  FlowState(FlowSpec spec, FlowVerifier verifier, EngineContext context, long graceNanos, long amendNanos,
      int finalizedCapacity, int maxPayloadBytes) {
    this.spec = spec;
    this.verifier = verifier;
    this.context = context;
    this.matcher = new EventMatcher(spec, maxPayloadBytes);
    this.index = new InstanceIndex(spec.keys(), finalizedCapacity, spec.deadline().toNanos(), matcher.entryEvents());
    this.readiness = new Readiness(spec, context);
    this.graceNanos = graceNanos;
    this.amendNanos = amendNanos;
    this.deadlineNanos = spec.deadline().toNanos();
    this.spanOnlyTerminal = spec.terminalStages().stream().anyMatch(t -> t.events().stream().noneMatch(EventSpec::isTopic));
    this.waitingHorizonNanos = deadlineNanos + graceNanos
        + (amendNanos == Long.MAX_VALUE ? FlowEngine.DEFAULT_AMEND_WINDOW.toNanos() : amendNanos);
  }

  FlowSpec spec() {
    return spec;
  }

  long openInstances() {
    return openCount;
  }

  long decidedInstances() {
    return decidedCount;
  }

  long keyConflicts() {
    return index.conflicts;
  }

  long reusedKeys() {
    return index.reusedKeys;
  }

  String reusedKeyExample() {
    return index.reusedExample == null ? null : spec.name() + ": " + index.reusedExample;
  }

  // ---- ingest ----

  boolean acceptRecord(KafkaRecord record, List<DecodedPayload> decoded, List<Map<String, String>> keys,
      TraceContext trace, Placement placement, long watermark) {
    List<Sighting> group = matcher.sightings(record, decoded, keys, trace, placement);
    if (group.isEmpty()) {
      return false;
    }
    placement.claim();
    InstanceState target = route(group, trace != null ? trace.traceId() : producerTrace(record), watermark);
    if (trace == null && target != null && (!context.sawSpans || context.spans.sendsTraced(record.topic())
        || context.spans.receivesTraced(record.topic()))) {
      // held unless spans come but none of its topic's: those may bring their traces
      index.untraced(target, record.topic(), record.partition(), record.offset());
    }
    return true;
  }

  /**
   * For a record that carried no trace context: the trace of its producer span, found by offset,
   * when no instance of other keys owns that trace — the request that sent it is this instance's
   * (a keyless entry span there joins it), though the context was lost on the way.
   */
  private String producerTrace(KafkaRecord record) {
    Span producer = context.spans.producerOf(record, null).orElse(null);
    if (producer == null) {
      return null;
    }
    InstanceState owner = index.ownerOf(producer.traceId());
    return owner == null || owner.keys.isEmpty() ? producer.traceId() : null;
  }

  /** The live instance holding a record with no trace context at the messaging span's coordinates, or {@code null}. */
  private InstanceState untracedOf(Span span) {
    if (!index.anyUntraced()) {
      return null;
    }
    String topic = MessagingAttributes.topic(span);
    Integer partition = MessagingAttributes.partition(span);
    Long offset = MessagingAttributes.offset(span);
    InstanceState inst = topic == null || partition == null || offset == null ? null
        : index.untracedAt(topic, partition, offset);
    return inst != null && live(inst) ? inst : null;
  }

  private static boolean live(InstanceState inst) {
    return inst.phase == InstanceState.Phase.OPEN || inst.phase == InstanceState.Phase.DECIDED;
  }

  boolean acceptSpan(Span span, List<EventMatcher.SpanMatch> matches, Placement placement, long watermark) {
    if (matches.isEmpty()) {
      return false;
    }
    placement.claim();
    route(matcher.sightings(span, matches, placement), span.traceId(), watermark);
    return true;
  }

  /** Counts the groups no flow could place (each span or record once, when every flow of it gave up). */
  private void gaveUp(List<List<Sighting>> groups) {
    for (List<Sighting> g : groups) {
      if (g.get(0).placement.giveUp()) {
        context.stats.eventsUnplaced++;
      }
    }
  }

  /** A messaging span of one of our topics arrived: it may connect, complete or amend an instance. */
  void spanIndexed(Span span) {
    InstanceState inst = index.instanceOf(span);
    InstanceState untraced = untracedOf(span);
    if (untraced != null && untraced != inst) {
      // the producer or a consumer of a record that lost its trace context: its trace is the
      // instance's too, and an instance its trace opened without keys is the same one
      if (inst == null) {
        inst = untraced;
      } else if (live(inst) && (inst.keys.isEmpty() || inst.compatible(untraced.keys))) {
        inst = merge(inst, untraced);
      }
    }
    if (inst == null) {
      return;
    }
    inst.lastArrival = context.arrivalNanos;
    for (List<Sighting> g : index.addTrace(inst, span.traceId())) {
      add(inst, g, Map.of(), null, Long.MIN_VALUE);
    }
    if (inst.phase == InstanceState.Phase.OPEN) {
      dirtyOpen.add(inst);
    } else if (inst.phase == InstanceState.Phase.DECIDED) {
      // A late messaging span joins a record to its producer or consumer: it can connect a trace
      // judged broken, or relate two hosts' clocks (order, latency). The verdict is a function of
      // all the instance's data, so it is verified again (and amended only if it changed).
      inst.lastEventTime = Math.max(inst.lastEventTime, span.endEpochNanos());
      dirtyDecided.add(inst);
    }
  }

  /** Places a group of sightings; returns the instance it joined or opened, or {@code null} (waiting, late). */
  private InstanceState route(List<Sighting> group, String traceId, long watermark) {
    for (Sighting s : group) {
      if (s.tooLarge != null) {
        context.stats.payloadsTooLarge++;
      }
      if (seenEvents.add(s.event)) {
        context.stats.eventsSeen.add(spec.name() + '|' + s.event.id());
      }
    }
    Map<String, String> keys = new LinkedHashMap<>();
    for (Sighting s : group) {
      s.keys.forEach(keys::putIfAbsent);
    }
    InstanceIndex.Route route = index.route(keys, traceId, matcher.opens(group), this::merge, recordKey(group));
    InstanceState target;
    InstanceIndex.Seeded reopened = null;
    if (route instanceof InstanceIndex.Join j) {
      target = j.instance();
      if (j.apart() != null) {
        Map<String, String> other = keysOf(j.apart().current());
        for (Sighting s : group) {
          s.otherInstance = other;
        }
      }
    } else if (route instanceof InstanceIndex.Late late) {
      // Decided by an earlier owner, and read again from its first event: verified again, so that
      // what that owner did not see amends its verdict as it would have amended it.
      boolean elsewhere = late.finalizedAt() == Long.MIN_VALUE;
      InstanceIndex.Seeded seeded = elsewhere && matcher.opens(group) ? index.reopen(keys) : null;
      if (seeded == null) {
        InstanceIndex.Seeded known = elsewhere ? index.seededOf(keys, traceId) : null;
        if (known != null) {
          // read again before its entry event (from another partition): joins it if that comes
          index.hold(known, new InstanceIndex.Held(group, late.keys(), traceId));
        } else {
          late(group, late.keys(), late.finalizedAt());
        }
        return null;
      }
      reopened = seeded;
      target = open(group.get(0).time, watermark);
      target.seeded = seeded;
      // Its other keys are its own again: an event re-read with only one of them (a webhook's
      // orderId) joins it rather than opening an instance of its own.
      for (Map.Entry<String, String> k : seeded.keys().entrySet()) {
        index.addKey(target, k.getKey(), k.getValue());
      }
      context.stats.instancesReverified++;
    } else if (route instanceof InstanceIndex.Wait) {
      if (traceId == null) {
        gaveUp(List.of(group)); // no key, no trace: nothing will ever place it here
        return null;
      }
      index.await(traceId, group);
      return null;
    } else if (keys.isEmpty() && traceId != null && refused(group)) {
      // a request the system refused (503, and made again by a client that traces nothing) is no
      // flow of its own: it joins an instance only if one opens in its trace
      index.await(traceId, group);
      return null;
    } else {
      target = open(group.get(0).time, watermark);
      divert(target, group, keys, traceId);
    }
    add(target, group, keys, traceId, watermark);
    if (reopened != null) {
      for (InstanceIndex.Held h : index.takeHeld(reopened)) {
        route(h.group(), h.traceId(), watermark);
      }
    }
    return target.current();
  }

  /** The key a record of the group carries as its Kafka record key ({@code recordKey}), or {@code null}. */
  private static String recordKey(List<Sighting> group) {
    for (Sighting s : group) {
      if (s.record != null && s.event.recordKey() != null && s.record.key() != null
          && s.record.key().equals(s.keys.get(s.event.recordKey()))) {
        return s.event.recordKey();
      }
    }
    return null;
  }

  /** Whether every event of the group is a span that failed ({@link FlowInstance#failure}): a request refused. */
  private static boolean refused(List<Sighting> group) {
    for (Sighting s : group) {
      if (s.span == null || FlowInstance.failure(s.span) == null) {
        return false;
      }
    }
    return true;
  }

  /**
   * An event that is not an entry event opened {@code target} though its trace belongs to another
   * instance, whose keys it contradicts: a key changed on the way. Both instances' verdicts say so
   * (the other one's again, if it was decided).
   */
  private void divert(InstanceState target, List<Sighting> group, Map<String, String> keys, String traceId) {
    if (traceId == null || keys.isEmpty() || matcher.opens(group)) {
      return;
    }
    InstanceState owner = index.ownerOf(traceId);
    if (owner == null || owner.compatible(keys)) {
      return;
    }
    if (owner.diverted == null) {
      owner.diverted = new ArrayList<>(1);
    }
    owner.diverted.add(new InstanceState.Diverted(target, group.get(0)));
    target.divertedFrom = owner;
    markDirty(owner);
  }

  /** An event for an instance already final: counted and reported, never silently dropped. */
  private void late(List<Sighting> group, Map<String, String> keys, long finalizedAt) {
    context.stats.lateDropped++;
    group.get(0).placement.place();
    Sighting s = group.get(0);
    Map<String, String> shown = io.flowtrace.verifier.report.Redaction.of(spec,
        group.stream().map(g -> g.payload).toList()).keys(keys);
    context.listener.late(new LateEvent(spec.name(), shown, s.event.id(), s.where(), s.time, finalizedAt));
  }

  private InstanceState open(long time, long watermark) {
    context.makeRoom(watermark);
    InstanceState inst = new InstanceState(ids++, this);
    inst.openSeq = context.nextOpenSequence();
    inst.start = time;
    context.open.add(inst);
    openCount++;
    context.stats.instancesOpened++;
    scheduler.schedule(time + deadlineNanos, inst, Kind.DEADLINE);
    return inst;
  }

  private void add(InstanceState inst, List<Sighting> group, Map<String, String> keys, String traceId, long watermark) {
    group.get(0).placement.place();
    inst.lastArrival = context.arrivalNanos;
    if (context.sourceTag >= 0) {
      inst.sources.set(context.sourceTag);
    }
    for (Sighting s : group) {
      if (inst.overflowReason != null) {
        context.stats.eventsDropped++;
        continue;
      }
      if (s.tooLarge != null) {
        inst.overflowReason = s.tooLarge + " (" + s.event.id() + ")";
      } else if (inst.sightings.size() >= context.maxEventsPerInstance) {
        inst.overflowReason = "more than " + context.maxEventsPerInstance + " events (maxEventsPerInstance)";
        context.stats.eventsDropped++;
        continue;
      }
      if (inst.add(s)) {
        context.stats.observations++;
      }
    }
    keys.forEach((k, v) -> index.addKey(inst, k, v));
    for (List<Sighting> g : index.addTrace(inst, traceId)) {
      add(inst, g, Map.of(), null, watermark);
    }
    if (inst.overflowReason != null && inst.phase == InstanceState.Phase.OPEN) {
      decide(inst, watermark, inst.overflowReason, snapshot(inst, watermark), false);
      return;
    }
    markDirty(inst);
  }

  private void markDirty(InstanceState inst) {
    if (inst.phase == InstanceState.Phase.OPEN) {
      dirtyOpen.add(inst);
    } else if (inst.phase == InstanceState.Phase.DECIDED) {
      dirtyDecided.add(inst);
    }
  }

  /** Two instances turned out to be one: the decided one (or the first) survives and takes the other's data. */
  private InstanceState merge(InstanceState a, InstanceState b) {
    InstanceState keep = a.phase == InstanceState.Phase.DECIDED || b.phase != InstanceState.Phase.DECIDED ? a : b;
    InstanceState gone = keep == a ? b : a;
    gone.mergedInto = keep;
    keep.lastArrival = Math.max(keep.lastArrival, gone.lastArrival);
    keep.sources.or(gone.sources);
    context.open.remove(gone);
    if (gone.overflowReason != null && keep.overflowReason == null) {
      keep.overflowReason = gone.overflowReason;
    }
    if (gone.phase == InstanceState.Phase.OPEN) {
      openCount--;
    } else if (gone.phase == InstanceState.Phase.DECIDED) {
      decidedCount--;
    }
    gone.phase = InstanceState.Phase.MERGED;
    dirtyOpen.remove(gone);
    dirtyDecided.remove(gone);
    for (Sighting s : gone.sightings) {
      keep.add(s);
    }
    if (gone.diverted != null) {
      if (keep.diverted == null) {
        keep.diverted = new ArrayList<>(gone.diverted.size());
      }
      keep.diverted.addAll(gone.diverted);
    }
    if (keep.divertedFrom == null) {
      keep.divertedFrom = gone.divertedFrom;
    }
    index.merged(gone, keep);
    markDirty(keep);
    return keep;
  }

  // ---- the engine's hooks ----

  /** Remembers an instance decided elsewhere: its keys and traces count as final. */
  void markFinalized(InstanceIndex.Seeded decided) {
    index.markFinalized(decided);
  }

  void markFinalized(Map<String, String> keys, Collection<String> traceIds) {
    index.markFinalized(keys, traceIds);
  }

  /** Whether an event of the instance came from a source still being caught up with. */
  private boolean held(InstanceState inst) {
    for (int tag = inst.sources.nextSetBit(0); tag >= 0; tag = inst.sources.nextSetBit(tag + 1)) {
      if (context.catchingUp.test(tag)) {
        return true;
      }
    }
    return false;
  }

  /** Adds where the records begin of each instance whose verdict may still change and that an entry record began (see {@link LiveHooks#readAgainFrom}). */
  void readAgainFrom(Map<LiveHooks.RecordPartition, Long> into) {
    for (InstanceState inst : known()) {
      if (inst.phase != InstanceState.Phase.OPEN && inst.phase != InstanceState.Phase.DECIDED || !beganByRecord(inst)) {
        continue;
      }
      for (Sighting s : inst.sightings) {
        if (s.record != null) {
          into.merge(new LiveHooks.RecordPartition(s.record.topic(), s.record.partition()), s.record.offset(), Math::min);
        }
      }
    }
  }

  /**
   * The input's first span arrived: what was decided before it judged no hop (a record that carries
   * no trace context was not yet called broken), so each verdict still open to amendment is verified
   * again — a sidecar restarted on records read again, or on trips that began while it was down.
   */
  void firstSpans() {
    for (InstanceState inst : known()) {
      if (inst.phase == InstanceState.Phase.DECIDED) {
        dirtyDecided.add(inst);
      }
    }
  }

  /** Every instance not yet final: those the index knows and those a decision timer waits on. */
  private Set<InstanceState> known() {
    Set<InstanceState> all = new LinkedHashSet<>(index.instances());
    scheduler.instances().forEach(all::add);
    return all;
  }

  private boolean beganByRecord(InstanceState inst) {
    for (Sighting s : inst.sightings) {
      if (s.record != null && matcher.opens(List.of(s))) {
        return true;
      }
    }
    return false;
  }

  /** Drops open instances with an event from a source matching {@code gone}; returns how many. */
  int discardOpen(IntPredicate gone) {
    List<InstanceState> drop = new ArrayList<>();
    for (InstanceState inst : context.open) {
      if (inst.flow == this && inst.sources.stream().anyMatch(gone)) {
        drop.add(inst);
      }
    }
    for (InstanceState inst : drop) {
      context.open.remove(inst);
      dirtyOpen.remove(inst);
      inst.phase = InstanceState.Phase.MERGED; // no longer reachable, never decided
      openCount--;
      index.forget(inst);
      inst.release();
    }
    return drop.size();
  }

  /** Decides an open instance now for a cap, {@code INCOMPLETE} (unless past its deadline) with the reason. */
  void evict(InstanceState inst, long watermark, String reason) {
    inst.overflowReason = reason;
    decide(inst, watermark, reason, snapshot(inst, watermark), false);
  }

  // ---- decisions ----

  /** Whether a verdict waits for checks running on another thread. */
  boolean verifying() {
    return !verifying.isEmpty();
  }

  /** When this flow's next decision timer is due; {@code Long.MAX_VALUE}: none. */
  long nextTimerAt() {
    return scheduler.nextAt();
  }

  void advance(long watermark) {
    deliverDecisions(null, false);
    if (!verifiedQuiet.isEmpty()) {
      List<InstanceState> quiet = new ArrayList<>(verifiedQuiet);
      verifiedQuiet.clear();
      for (InstanceState inst : quiet) {
        if (inst.phase == InstanceState.Phase.DECIDED) {
          finalizeOnceQuiet(inst, watermark);
        }
      }
    }
    if (!dirtyOpen.isEmpty()) {
      List<InstanceState> open = new ArrayList<>(dirtyOpen);
      dirtyOpen.clear();
      for (InstanceState inst : open) {
        if (inst.phase == InstanceState.Phase.OPEN) {
          tryComplete(inst, watermark);
        }
      }
    }
    DecisionScheduler.Timer t;
    while ((t = scheduler.nextDue(watermark)) != null) {
      InstanceState inst = t.instance().current();
      switch (t.kind()) {
        case DEADLINE -> {
          if (inst.phase == InstanceState.Phase.DECIDED && inst.incompleteBeforeDeadline) {
            judgeAtDeadline(inst, watermark);
          } else if (inst.phase == InstanceState.Phase.OPEN) {
            if (held(inst)) {
              scheduler.schedule(watermark + 1, inst, Kind.DEADLINE);
            } else if (watermark < inst.start + deadlineNanos) {
              scheduler.schedule(inst.start + deadlineNanos, inst, Kind.DEADLINE);
            } else {
              FlowInstance snapshot = snapshot(inst, watermark);
              if (awaitsSpansPastDeadline(inst, watermark, snapshot)) {
                scheduler.schedule(inst.start + deadlineNanos + graceNanos, inst, Kind.DEADLINE);
              } else {
                decide(inst, watermark, deadlineReason(inst), snapshot, Readiness.isComplete(snapshot));
              }
            }
          }
        }
        case GRACE -> {
          if (inst.phase == InstanceState.Phase.OPEN) {
            if (held(inst)) {
              scheduler.schedule(watermark + 1, inst, Kind.GRACE);
            } else {
              decideAfterGrace(inst, watermark);
            }
          }
        }
        case FINALIZE -> {
          if (inst.phase == InstanceState.Phase.DECIDED && inst.incompleteBeforeDeadline
              && verdictOf(inst).status() == VerdictStatus.INCOMPLETE) {
            scheduler.schedule(inst.start + deadlineNanos + 1, inst, Kind.FINALIZE); // after its deadline's judgement
          } else if (inst.phase == InstanceState.Phase.DECIDED) {
            finalizeInstance(inst, watermark);
          }
        }
        case QUIET -> {
          if (inst.phase == InstanceState.Phase.DECIDED) {
            finalizeOnceQuiet(inst, watermark);
          }
        }
        case AMEND -> {
          if (inst.phase == InstanceState.Phase.DECIDED && inst.amendAt != Long.MIN_VALUE && watermark >= inst.amendAt) {
            dirtyDecided.remove(inst);
            reverify(inst, snapshot(inst, watermark));
          }
        }
      }
    }
    if (!dirtyDecided.isEmpty()) {
      List<InstanceState> decided = new ArrayList<>(dirtyDecided);
      dirtyDecided.clear();
      for (InstanceState inst : decided) {
        if (inst.phase == InstanceState.Phase.DECIDED) {
          amendOrWait(inst, watermark);
        }
      }
    }
    gaveUp(index.dropWaitingBefore(watermark - waitingHorizonNanos));
    for (InstanceIndex.Held h : index.dropHeldBefore(watermark - waitingHorizonNanos)) {
      late(h.group(), h.keys(), Long.MIN_VALUE);
    }
  }

  void finish(long watermark) {
    advance(watermark);
    List<InstanceState> distinct = new ArrayList<>(known());
    distinct.sort(Comparator.comparingLong((InstanceState i) -> i.start).thenComparingLong(i -> i.id));
    for (InstanceState inst : distinct) {
      if (inst.phase == InstanceState.Phase.OPEN) {
        decide(inst, Math.max(watermark, inst.lastEventTime), "input ended"); // a live input may stop before its watermark moved
      }
    }
    deliverDecisions(null, true);
    for (InstanceState inst : distinct) {
      if (inst.phase == InstanceState.Phase.DECIDED) {
        finalizeInstance(inst, watermark);
      }
    }
    scheduler.clear();
    gaveUp(index.clearWaiting());
    for (InstanceIndex.Held h : index.dropHeldBefore(Long.MAX_VALUE)) {
      late(h.group(), h.keys(), Long.MIN_VALUE);
    }
  }

  private void tryComplete(InstanceState inst, long watermark) {
    StageSpec terminal = null;
    for (StageSpec s : spec.terminalStages()) {
      if (terminalCandidate(inst, s)) {
        terminal = s;
        break;
      }
    }
    FlowInstance snapshot;
    if (terminal != null) {
      snapshot = snapshot(inst, watermark);
      if (!snapshot.stageComplete(terminal.id())) {
        return;
      }
    } else if (spanOnlyTerminal && unsampledRecord(inst)) {
      // a terminal stage of spans alone, in a trace that is not sampled, is reached unseen
      snapshot = snapshot(inst, watermark);
      terminal = snapshot.terminalReached();
      if (terminal == null) {
        return;
      }
    } else {
      return;
    }
    if (inst.terminalAt == Long.MIN_VALUE) {
      // The grace runs from when the terminal stage happened, in event time: a live engine's
      // watermark trails the wall clock by the allowed lateness, so the two add up.
      inst.terminalAt = snapshot.stageSeen(terminal.id()) ? snapshot.stageEnd(terminal.id()) : lastTime(snapshot);
      scheduler.schedule(inst.terminalAt + graceNanos, inst, Kind.GRACE);
    }
    if (!readiness.settled(snapshot)) {
      if (inst.awaiting != null && readiness.awaited(snapshot) == null && readiness.awaitedSideStage(snapshot) == null) {
        // past the grace, the spans waited for came, without what would settle the instance
        decide(inst, watermark, waitedForTheRest(snapshot), snapshot, Readiness.isComplete(snapshot));
      }
      return;
    }
    inst.decidedByData = true;
    decide(inst, watermark, "complete", snapshot, true);
  }

  /** Cheap test before a snapshot: a record of the instance says its trace is not sampled. */
  private static boolean unsampledRecord(InstanceState inst) {
    for (Sighting s : inst.sightings) {
      if (s.record != null && s.context != null && !s.context.sampled()) {
        return true;
      }
    }
    return false;
  }

  private static long lastTime(FlowInstance snapshot) {
    long t = Long.MIN_VALUE;
    for (Observation o : snapshot.observations()) {
      t = Math.max(t, o.timeEpochNanos());
    }
    return t;
  }

  /** Cheap test before a snapshot: every record event of the stage arrived, and some event did. */
  private static boolean terminalCandidate(InstanceState inst, StageSpec terminal) {
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
   * Whether an instance whose deadline has passed waits one completion grace more, for spans of
   * events that happened before the deadline (span events of a stage not otherwise missing, a
   * producer or consumer span, a trace's root) — which an exporter sends in batches seconds after
   * the records — since deciding now would publish a MISSING_STAGE or broken propagation that those
   * spans withdraw. That holds when a record is missing too: the instance fails, but a verdict
   * naming a stage whose span is still in a batch is a false alarm amended seconds later (a record
   * 6 s late against a 5 s deadline was first reported with its gateway span missing as well). Spans
   * that never come cost the grace, not a wrong verdict; an instance that awaits no span is decided
   * now.
   */
  private boolean awaitsSpansPastDeadline(InstanceState inst, long watermark, FlowInstance snapshot) {
    if (watermark >= inst.start + deadlineNanos + graceNanos || inst.overflowReason != null) {
      return false;
    }
    String awaited = readiness.awaited(snapshot, Readiness.lacksARecord(snapshot));
    if (awaited == null) {
      return false;
    }
    inst.awaitedPastDeadline = awaited;
    return true;
  }

  private String deadlineReason(InstanceState inst) {
    if (inst.awaitedPastDeadline != null) {
      String past = graceNanos / 1_000_000 + " ms past ";
      return inst.awaiting != null
          ? "terminal stage seen; waited until " + past + "the deadline for " + inst.awaitedPastDeadline
          : "deadline passed; waited " + past + "it for " + inst.awaitedPastDeadline;
    }
    return inst.awaiting != null
        ? "terminal stage seen; waited until the deadline for " + inst.awaiting
        : "deadline passed";
  }

  /**
   * The completion grace ran out. Spans still missing are no proof of a defect when everything
   * else is there — a record whose trace's root span has not arrived (a hop that looks broken), or a
   * required stage that lacks only span events (a stage that looks missing): those spans may still
   * be in an exporter's batch, or retrying after an outage. Such an instance waits on, up to its
   * deadline and a grace past it ({@link #awaitsSpansPastDeadline}; the deadline's timer then decides
   * it). So does one that lacks the record of a side step no stage seen follows (a batch consumer's
   * award, half a minute after the confirmation that ends the flow), up to its deadline: until then
   * it has not failed to happen. Anything else unsettled is decided now.
   */
  private void decideAfterGrace(InstanceState inst, long watermark) {
    FlowInstance snapshot = snapshot(inst, watermark);
    String side = readiness.awaitedSideStage(snapshot);
    if (watermark < inst.start + deadlineNanos + graceNanos) {
      String awaited = readiness.awaited(snapshot);
      if (awaited == null && watermark < inst.start + deadlineNanos) {
        awaited = side;
      }
      if (awaited != null) {
        inst.awaiting = awaited;
        return;
      }
    }
    if (side != null) {
      inst.awaiting = side;
      decide(inst, watermark, deadlineReason(inst), snapshot, Readiness.isComplete(snapshot));
      return;
    }
    decide(inst, watermark, waitedForTheRest(snapshot), snapshot, Readiness.isComplete(snapshot));
  }

  /** {@code terminal stage seen; waited 2000 ms for the rest: stage 'notified'} — what it waited for, where known. */
  private String waitedForTheRest(FlowInstance snapshot) {
    String owed = Readiness.owed(snapshot);
    return "terminal stage seen; waited " + graceNanos / 1_000_000 + " ms for the rest" + (owed == null ? "" : ": " + owed);
  }

  private void decide(InstanceState inst, long watermark, String reason) {
    FlowInstance snapshot = snapshot(inst, watermark);
    decide(inst, watermark, reason, snapshot, Readiness.isComplete(snapshot));
  }

  private void decide(InstanceState inst, long watermark, String reason, FlowInstance snapshot, boolean complete) {
    context.stats.verifications++;
    Verdict verdict = null;
    if (context.verifications == null) {
      verdict = verify(snapshot, complete, reason);
    } else {
      inst.pending = CompletableFuture.supplyAsync(() -> verify(snapshot, complete, reason),
          context.verifications);
      verifying.add(inst);
    }
    inst.phase = InstanceState.Phase.DECIDED;
    inst.decidedAt = watermark;
    inst.decidedReason = reason;
    if (!complete && inst.overflowReason == null && watermark < inst.start + deadlineNanos) {
      // what it waited for may still come, or never: its deadline says which
      inst.incompleteBeforeDeadline = true;
      scheduler.schedule(inst.start + deadlineNanos, inst, Kind.DEADLINE);
    }
    inst.decidedEvents = inst.sightings.size();
    inst.verdict = verdict;
    context.open.remove(inst);
    openCount--;
    decidedCount++;
    dirtyOpen.remove(inst);
    dirtyDecided.remove(inst);
    context.stats.verdictsDecided++;
    if (amendNanos != Long.MAX_VALUE) {
      scheduler.schedule(watermark + amendNanos, inst, Kind.FINALIZE);
      inst.retained = inst.sightings.size();
      retainedEvents += inst.retained;
      amendable.addLast(inst);
    }
    if (verdict != null) {
      announce(inst);
    }
    if (context.lookahead != null) {
      scheduler.schedule(watermark, inst, Kind.QUIET);
    }
  }

  /**
   * With a {@link Lookahead}: makes a decided instance final once the watermark has passed the last
   * event that carries one of its keys or traces (no event still to come can reach it) and no
   * amendment is waiting; until then the check is set again for that time. An instance one of whose
   * tokens the lookahead does not know is held to the end, as without one.
   */
  private void finalizeOnceQuiet(InstanceState inst, long watermark) {
    long quiet = quietAfter(inst);
    if (quiet == Lookahead.NONE) {
      return;
    }
    if (inst.incompleteBeforeDeadline && (inst.verdict == null || inst.verdict.status() == VerdictStatus.INCOMPLETE)) {
      quiet = Math.max(quiet, inst.start + deadlineNanos); // judged again there
    }
    if (quiet < watermark && inst.amendAt == Long.MIN_VALUE && !dirtyDecided.contains(inst)) {
      if (inst.pending != null) {
        // looked at again when its verification is delivered, not at every advance until then
        inst.quietWhenVerified = true;
        return;
      }
      finalizeInstance(inst, watermark);
      return;
    }
    long at = Math.max(quiet, Math.max(watermark, inst.amendAt)) + 1;
    scheduler.schedule(at, inst, Kind.QUIET);
  }

  /** Arrival time of the last event carrying one of the instance's keys or traces; {@link Lookahead#NONE} if one is unknown. */
  private long quietAfter(InstanceState inst) {
    long quiet = Lookahead.NONE;
    for (Map.Entry<String, String> k : inst.keys.entrySet()) {
      long at = context.lookahead.lastArrival(spec.name(), k.getKey(), k.getValue());
      if (at == Lookahead.NONE) {
        return Lookahead.NONE;
      }
      quiet = Math.max(quiet, at);
    }
    for (String trace : inst.traces) {
      long at = context.lookahead.lastArrival(trace);
      if (at == Lookahead.NONE) {
        return Lookahead.NONE;
      }
      quiet = Math.max(quiet, at);
    }
    return quiet;
  }

  /**
   * Publishes an instance's first verdict — unless it was decided by an earlier owner, whose
   * verdict stands when this one says the same (numbered as that one), and is amended when it does not.
   */
  private void announce(InstanceState inst) {
    if (inst.decidedByData) {
      // when its verdict goes out: checks that ran on another thread are part of the wait
      inst.decidedByData = false;
      context.decidedByData(inst.lastArrival);
    }
    if (inst.seeded == null) {
      context.listener.decided(inst.verdict);
    } else {
      amendSeeded(inst, inst.verdict);
    }
  }

  /**
   * An instance an earlier owner decided, verified again here: the earlier verdict stands (nothing
   * is published, and later verifications still compare with it) until one differs from it by
   * more than what a partial re-read explains; that one is published as its next revision. Where
   * spans the earlier owner received did not reach this engine, a violation it found that this
   * verification does not is kept, not withdrawn: it stands alone, or beside the new ones.
   */
  private void amendSeeded(InstanceState inst, Verdict verdict) {
    InstanceIndex.Seeded seeded = inst.seeded;
    if (verdict.outcome().equals(Verdict.outcome(seeded.status(), seeded.violations())) || partlyReread(verdict, seeded)) {
      inst.verdict = verdict.withRevision(seeded.revision());
      return;
    }
    Verdict next = spansWentElsewhere(inst) ? withEarlierViolations(verdict, seeded) : verdict;
    if (next.outcome().equals(Verdict.outcome(seeded.status(), seeded.violations()))) {
      inst.verdict = next.withRevision(seeded.revision()); // nothing new, only less seen
      return;
    }
    inst.seeded = null;
    inst.verdict = next.withRevision(seeded.revision() + 1);
    context.stats.verdictsAmended++;
    context.listener.amended(null, inst.verdict);
  }

  /** Whether a record of the instance was stamped before this engine could receive its trace's spans. */
  private boolean spansWentElsewhere(InstanceState inst) {
    for (Sighting s : inst.sightings) {
      if (s.record != null && spansLost(s.record, s.context)) {
        return true;
      }
    }
    return false;
  }

  /**
   * A sampled record stamped before this engine could receive its trace's spans; or, when the input
   * ended, one stamped at the end of the spans received whose producer span did not come; or one
   * stamped after a file of spans was cut off whose producer span did not come; or one whose trace
   * an unreadable piece of a file of spans names.
   */
  private boolean spansLost(KafkaRecord r, TraceContext context) {
    return context != null && context.sampled() && (r.timestampNanos() < this.context.spansLostBefore
        || this.context.unreadable.lostSpansOf(context.traceId())
        || (r.timestampNanos() > Math.min(this.context.tracedTopics.contains(r.topic())
            ? this.context.tracedSpansLostAfter : this.context.spansLostAfter, this.context.spansCutAfter)
            || inSpanGap(r.timestampNanos()))
        && !this.context.spans.holds(context.spanId()));
  }

  private boolean inSpanGap(long nanos) {
    for (long[] gap : this.context.spanGaps) {
      if (nanos > gap[0] && nanos <= gap[1]) {
        return true;
      }
    }
    return false;
  }

  /**
   * The verdict with the earlier owner's violations ({@code kind@stage}) that this verification
   * could not check again: at a stage where it left something unverified (the spans that showed
   * them did not reach this engine). One at a stage it verified whole was disproven by the data.
   */
  private static Verdict withEarlierViolations(Verdict verdict, InstanceIndex.Seeded seeded) {
    Set<String> found = new java.util.HashSet<>();
    verdict.violations().forEach(v -> found.add(v.kind().name() + "@" + v.stage()));
    Set<String> partlyVerified = new java.util.HashSet<>();
    verdict.unverified().forEach(u -> partlyVerified.add(u.stage()));
    List<String> earlier = seeded.violations().stream()
        .filter(v -> !found.contains(v) && partlyVerified.contains(v.substring(v.indexOf('@') + 1))).sorted().toList();
    if (earlier.isEmpty()) {
      return verdict;
    }
    int revision = seeded.revision();
    List<Violation> all = new ArrayList<>(verdict.violations());
    for (String kindAtStage : earlier) {
      int at = kindAtStage.indexOf('@');
      ViolationKind kind;
      try {
        kind = ViolationKind.valueOf(kindAtStage.substring(0, Math.max(at, 0)));
      } catch (IllegalArgumentException e) {
        continue; // written by a version that knew another kind
      }
      all.add(Violation.builder(kind, kindAtStage.substring(at + 1))
          .message("found by an earlier run (verdict revision " + revision + ") in spans that did not reach this run")
          .build());
    }
    return new Verdict(verdict.flow(), verdict.keys(), VerdictStatus.FAILED, all, verdict.traceIds(),
        verdict.startEpochNanos(), verdict.decidedEpochNanos(), verdict.revision(), verdict.reason(),
        verdict.timeline(), verdict.unverified(), verdict.notes());
  }

  /**
   * Whether an instance verified again lacks data its earlier owner had: a stage or a trace link it
   * finds missing that the earlier verdict did not, or no end where that one had one. Events read
   * again start at committed offsets that differ from partition to partition.
   */
  private boolean partlyReread(Verdict verdict, InstanceIndex.Seeded seeded) {
    if (verdict.status() == VerdictStatus.INCOMPLETE && !seeded.status().equals(VerdictStatus.INCOMPLETE.name())) {
      return true;
    }
    boolean undecided = seeded.status().equals(VerdictStatus.INCOMPLETE.name());
    Set<String> seen = new java.util.HashSet<>();
    verdict.timeline().forEach(t -> seen.add(t.stage()));
    return verdict.violations().stream()
        .filter(v -> v.kind() == ViolationKind.MISSING_STAGE || v.kind() == ViolationKind.BROKEN_PROPAGATION)
        .filter(v -> !seeded.violations().contains(v.kind().name() + "@" + v.stage()))
        .anyMatch(v -> !shownWhole(v, undecided, seen));
  }

  /**
   * Whether a violation an earlier owner's verdict lacks stands on what was read again: a record
   * that carries no trace context is broken whatever came before it; and where the earlier owner
   * stopped before deciding (its verdict {@code INCOMPLETE}, input ended), a stage that no stage
   * read again follows did not come — events read again start at committed offsets, which can cut
   * off an instance's beginning, never its end.
   */
  private boolean shownWhole(Violation v, boolean undecided, Set<String> seen) {
    if (v.kind() == ViolationKind.BROKEN_PROPAGATION) {
      return PropagationCheck.LOST_CONTEXT.equals(v.expected()); // the record itself carries none
    }
    if (!undecided) {
      return false;
    }
    for (String s : seen) {
      if (spec.ancestors().getOrDefault(s, Set.of()).contains(v.stage())) {
        return false;
      }
    }
    return true;
  }

  /**
   * Delivers verdicts verified on other threads, in the order they were decided: those already
   * done, or (with {@code upTo}) every one up to and including that instance's, waiting for them.
   */
  private void deliverDecisions(InstanceState upTo, boolean all) {
    while (!verifying.isEmpty()) {
      InstanceState head = verifying.peekFirst();
      boolean needed = all || upTo != null;
      if (!needed && !head.pending.isDone()) {
        return;
      }
      verifying.pollFirst();
      head.verdict = head.pending.join();
      head.pending = null;
      announce(head);
      if (head.quietWhenVerified) {
        head.quietWhenVerified = false;
        verifiedQuiet.add(head);
      }
      if (head == upTo) {
        return;
      }
    }
  }

  /** The instance's current verdict, waiting for its verification if it runs elsewhere. */
  private Verdict verdictOf(InstanceState inst) {
    if (inst.pending != null) {
      deliverDecisions(inst, false);
    }
    return inst.verdict;
  }

  /**
   * New events reached a decided instance: amend its verdict now if the data is settled (complete
   * and trace-connected), else once a completion grace has passed after its latest event — records
   * arrive before the spans that explain them, and a violation published now and withdrawn when
   * the spans come would be a false alarm.
   */
  private void amendOrWait(InstanceState inst, long watermark) {
    verdictOf(inst);
    if (inst.overflowReason != null) {
      return; // decided INCOMPLETE for a cap; what it holds is not the whole instance
    }
    FlowInstance snapshot = snapshot(inst, watermark);
    long at = inst.lastEventTime + graceNanos;
    if (readiness.settled(snapshot) || inst.amendAt != Long.MIN_VALUE && watermark >= inst.amendAt || at <= watermark) {
      reverify(inst, snapshot); // settled, or a grace past its last event already
      return;
    }
    if (at > inst.amendAt) {
      if (inst.amendAt == Long.MIN_VALUE) {
        context.listener.amendmentWaiting(inst.verdict, true);
      }
      inst.amendAt = at;
      scheduler.schedule(at, inst, Kind.AMEND);
    }
  }

  /** Runs the checks (on any thread); a verdict that did not pass says which unreadable input names it. */
  private Verdict verify(FlowInstance snapshot, boolean complete, String reason) {
    return context.unreadable.noted(verifier.verify(snapshot, complete, reason), spec.deadline().toNanos());
  }

  private void reverify(InstanceState inst, FlowInstance snapshot) {
    boolean waited = inst.amendAt != Long.MIN_VALUE;
    inst.amendAt = Long.MIN_VALUE;
    verdictOf(inst);
    if (inst.overflowReason == null) {
      judge(inst, snapshot);
    }
    if (waited) {
      context.listener.amendmentWaiting(inst.verdict, false);
    }
  }

  private void judge(InstanceState inst, FlowInstance snapshot) {
    boolean complete = Readiness.isComplete(snapshot);
    context.stats.verifications++;
    Verdict next = verify(snapshot, complete, inst.verdict.reason());
    if (inst.seeded != null) {
      amendSeeded(inst, next);
    } else if (!next.sameOutcome(inst.verdict) && next.sameFindings(inst.verdict)) {
      // the same findings in other words (a clock bound refined as more spans came): no new revision
      inst.verdict = inst.verdict.withFindingsOf(next);
    } else if (!next.sameOutcome(inst.verdict)) {
      next = next.withRevision(inst.verdict.revision() + 1).withReason(amendedReason(inst));
      Verdict previous = inst.verdict;
      inst.verdict = next;
      context.stats.verdictsAmended++;
      context.listener.amended(previous, next);
    } else if (!next.timeline().equals(inst.verdict.timeline())) {
      inst.verdict = inst.verdict.withFindingsOf(next); // the same outcome: its violations are these
    }
  }

  /**
   * The deadline of an instance decided without all it needed has passed: judged again, so that
   * what never came fails it (a stage whose condition reads only its own event, waited for in
   * vain, had left every instance INCOMPLETE, past its deadline, and a CI run green).
   */
  private void judgeAtDeadline(InstanceState inst, long watermark) {
    inst.incompleteBeforeDeadline = false;
    if (inst.amendAt != Long.MIN_VALUE) {
      return; // an amendment waits for events that came: it judges the instance, past its deadline now
    }
    if (verdictOf(inst).status() != VerdictStatus.INCOMPLETE) {
      return; // failed already: what it still lacks cannot make it pass
    }
    FlowInstance snapshot = snapshot(inst, watermark);
    if (Readiness.isComplete(snapshot)) {
      return;
    }
    String owed = Readiness.owed(snapshot);
    context.stats.verifications++;
    Verdict next = verify(snapshot, false, "deadline passed" + (owed == null ? "" : ", still waiting for " + owed));
    if (inst.seeded != null) {
      amendSeeded(inst, next);
    } else if (!next.sameOutcome(inst.verdict)) {
      next = next.withRevision(inst.verdict.revision() + 1)
          .withReason(next.reason() + "; first decided: " + inst.decidedReason);
      Verdict previous = inst.verdict;
      inst.verdict = next;
      context.stats.verdictsAmended++;
      context.listener.amended(previous, next);
    }
  }

  /**
   * Why an amended verdict differs from the first: what came after the first decision, which stays
   * quoted — a reason that named what the first decision waited for must not read as still missing.
   */
  private static String amendedReason(InstanceState inst) {
    Set<String> came = new LinkedHashSet<>();
    for (int i = Math.min(inst.decidedEvents, inst.sightings.size()); i < inst.sightings.size(); i++) {
      came.add(inst.sightings.get(i).event.id());
    }
    String what = came.isEmpty() ? "spans or events that came after its first decision"
        : "later events (" + String.join(", ", came) + ")";
    return "amended on " + what + "; first decided: " + inst.decidedReason;
  }

  private void finalizeInstance(InstanceState inst, long watermark) {
    verdictOf(inst);
    if (dirtyDecided.remove(inst) | inst.amendAt != Long.MIN_VALUE) {
      reverify(inst, snapshot(inst, watermark));
    }
    inst.phase = InstanceState.Phase.FINAL;
    decidedCount--;
    context.stats.verdictsFinal++;
    index.finalized(inst, watermark);
    if (inst.seeded == null) { // an earlier owner's verdict that stands was final there
      context.listener.finalized(inst.verdict);
    }
    inst.release();
    // Its timers (the deadline's is 30 s after its start) stay set; they must not keep it, nor what
    // it showed the listeners (payloads in the timeline), reachable.
    DecisionScheduler.spend(inst);
    inst.verdict = null;
    inst.diverted = null;
    retainedEvents -= inst.retained;
    inst.retained = 0;
    dropFinishedAmendable();
  }

  private void dropFinishedAmendable() {
    InstanceState head;
    while ((head = amendable.peekFirst()) != null && head.phase != InstanceState.Phase.DECIDED) {
      amendable.pollFirst();
      retainedEvents -= head.retained;
      head.retained = 0;
    }
  }

  /** Events held by this flow's decided instances while they stay open to amendment. */
  long retainedEvents() {
    return retainedEvents;
  }

  /** When the earliest-decided instance still open to amendment was decided; {@code Long.MAX_VALUE}: none. */
  long oldestAmendable() {
    dropFinishedAmendable();
    InstanceState head = amendable.peekFirst();
    return head == null ? Long.MAX_VALUE : head.decidedAt;
  }

  /**
   * Ends the amendment window of the earliest-decided instance now (its verdict becomes final
   * as it stands), to bring the events held under the engine's cap; returns whether there was one.
   */
  boolean finalizeOldest(long watermark) {
    dropFinishedAmendable();
    InstanceState head = amendable.peekFirst();
    if (head == null) {
      return false;
    }
    finalizeInstance(head, watermark);
    return true;
  }

  /** The instance as the checks see it: its sightings joined to the messaging spans known now. */
  private FlowInstance snapshot(InstanceState inst, long watermark) {
    context.stats.snapshots++;
    List<Observation> observations = new ArrayList<>(inst.sightings.size());
    for (Sighting s : inst.sightings) {
      observations.add(observation(s));
    }
    List<Diversion> diverted = List.of();
    if (inst.diverted != null) {
      diverted = new ArrayList<>(inst.diverted.size());
      for (InstanceState.Diverted d : inst.diverted) {
        InstanceState to = d.to().current();
        if (to != inst && !matcher.anyEntry(to.eventIds)) { // else merged back, or an instance of its own after all
          diverted.add(new Diversion(observation(d.first()), keysOf(to), Set.of()));
        }
      }
    }
    Diversion from = null;
    if (inst.divertedFrom != null && !matcher.anyEntry(inst.eventIds) && inst.divertedFrom.current() != inst) {
      InstanceState owner = inst.divertedFrom.current();
      from = new Diversion(null, keysOf(owner), accountedBy(owner.eventIds));
    }
    boolean beganBefore = context.midFlowStart && from == null && inst.divertedFrom == null
        && !matcher.anyEntry(inst.eventIds) && inst.start < context.inputStartNanos + deadlineNanos;
    return new FlowInstance(spec, keysOf(inst), observations, inst.start, watermark,
        watermark >= inst.start + deadlineNanos, context.sawSpans, diverted, from, beganBefore);
  }

  /**
   * A sighting as the checks see it, joined to the messaging spans known now. The observation is
   * made again only when a join changed (a live instance is looked at every time spans arrive).
   */
  private Observation observation(Sighting s) {
    Observation o = s.observed;
    if (s.record != null) {
      KafkaRecord r = s.record;
      if (s.producer == null) {
        s.producer = context.spans.producerOf(r, s.context).orElse(null);
      }
      s.addConsumers(context.spans.consumersOf(r, s.context));
      boolean lost = spansLost(r, s.context);
      if (o == null || o.span() != s.producer || s.observedConsumers != s.consumers || o.spansLost() != lost) {
        long time = s.producer != null ? s.producer.startEpochNanos() : s.time;
        o = new Observation(s.event, time, s.payload, s.problems, r, s.producer, s.consumers, s.context, s.keys, lost,
            s.otherInstance);
        s.observed = o;
        s.observedConsumers = s.consumers;
      }
      return o;
    }
    if (o == null) {
      Span span = s.span;
      o = new Observation(s.event, s.time, s.payload, s.problems, null, span, List.of(),
          new TraceContext(span.traceId(), span.spanId(), 1), s.keys, false, s.otherInstance);
      s.observed = o;
    }
    return o;
  }

  /**
   * The events an instance whose key changed on the way accounts for, seen from the instance that
   * began part-way through its trace: those it observed, and every event of their stages and of the
   * stages before them — what it did not observe of those (an unsampled span) its own verdict says.
   */
  private Set<String> accountedBy(Set<String> observed) {
    Set<String> stages = new java.util.HashSet<>();
    ArrayDeque<String> todo = new ArrayDeque<>();
    for (String id : observed) {
      EventSpec e = spec.event(id);
      if (e != null && stages.add(e.stageId())) {
        todo.add(e.stageId());
      }
    }
    while (!todo.isEmpty()) {
      StageSpec s = spec.stage(todo.poll());
      if (s != null) {
        for (String p : s.after()) {
          if (stages.add(p)) {
            todo.add(p);
          }
        }
      }
    }
    Set<String> out = new java.util.HashSet<>(observed);
    for (String id : stages) {
      StageSpec s = spec.stage(id);
      if (s != null) {
        s.events().forEach(e -> out.add(e.id()));
      }
    }
    return out;
  }

  /** An instance's keys in the spec's order. */
  private Map<String, String> keysOf(InstanceState inst) {
    Map<String, String> keys = new LinkedHashMap<>();
    for (String k : spec.keys()) {
      String v = inst.keys.get(k);
      if (v != null) {
        keys.put(k, v);
      }
    }
    return keys;
  }
}
