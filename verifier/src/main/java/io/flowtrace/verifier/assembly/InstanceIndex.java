package io.flowtrace.verifier.assembly;

import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanLink;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where one flow's events belong: instances by business key ({@code requestId=…}) and by trace,
 * events waiting for their trace's instance to be known, and the keys and traces of instances
 * already final (so a late event is recognised as such). Keys and traces of two instances that
 * turn out to be one are merged here.
 */
final class InstanceIndex {

  /** Where a group of sightings belongs. */
  sealed interface Route permits Join, Open, Wait, Late {}

  /**
   * Joins an instance (possibly the merge of several); {@code apart}: an instance another of the
   * keys named, whose keys contradict it (the event carried a value of another instance), or
   * {@code null}.
   */
  record Join(InstanceState instance, InstanceState apart) implements Route {
    Join(InstanceState instance) {
      this(instance, null);
    }
  }

  /** Opens a new instance. */
  record Open() implements Route {}

  /** Waits for its trace's instance (kept until the pending horizon). */
  record Wait() implements Route {}

  /** Belongs to an instance already final: by these keys (or {@code trace}), final since {@code finalizedAt}. */
  record Late(Map<String, String> keys, long finalizedAt) implements Route {}

  private final List<String> keyNames;
  /** The flow's deadline: an instance decided and past it when another began is over ({@link #dropEnded}). */
  private final long deadlineNanos;
  private final Map<String, InstanceState> byKey = new HashMap<>();
  private final Map<String, InstanceState> byTrace = new HashMap<>();
  private final Map<String, List<List<Sighting>>> waiting = new HashMap<>();
  private final ArrayDeque<Waiting> waitingOrder = new ArrayDeque<>();
  /** Keys and traces of final instances, with the event time they became final. */
  private final LinkedHashMap<String, Long> finalizedKeys;
  private final LinkedHashMap<String, Long> finalizedTraces;
  private final LinkedHashMap<String, Seeded> seeded;
  private final LinkedHashMap<String, Seeded> seededTraces;
  /** Events of instances decided elsewhere, read again before the entry event that reopens them. */
  private final Map<Seeded, List<Held>> held = new java.util.IdentityHashMap<>();
  /**
   * Instances by the coordinates of a record of theirs that carried no trace context: the
   * producer's and consumers' spans, found by offset when they come, bring their traces to it.
   */
  private final Map<String, InstanceState> untraced = new HashMap<>();
  private final ArrayDeque<HeldMark> heldOrder = new ArrayDeque<>();

  private record Waiting(long time, String traceId) {}

  /** An event group held for an instance decided elsewhere (see {@link #hold}). */
  record Held(List<Sighting> group, Map<String, String> keys, String traceId) {}

  private record HeldMark(long time, Seeded seeded) {}

  /** The flow's entry events: an instance whose entry came in a trace began it. */
  private final Set<String> entryEvents;

  InstanceIndex(List<String> keyNames, int finalizedCapacity, long deadlineNanos) {
    this(keyNames, finalizedCapacity, deadlineNanos, Set.of());
  }

  InstanceIndex(List<String> keyNames, int finalizedCapacity, long deadlineNanos, Set<String> entryEvents) {
    this.entryEvents = Set.copyOf(entryEvents);
    this.keyNames = List.copyOf(keyNames);
    this.deadlineNanos = deadlineNanos;
    this.finalizedKeys = boundedMap(finalizedCapacity);
    this.finalizedTraces = boundedMap(finalizedCapacity);
    this.seeded = boundedMap(finalizedCapacity);
    this.seededTraces = boundedMap(finalizedCapacity);
  }

  private static <V> LinkedHashMap<String, V> boundedMap(int capacity) {
    return new LinkedHashMap<>(16, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
        return size() > capacity;
      }
    };
  }

  private static String token(String key, String value) {
    return key + '\u0000' + value;
  }

  /**
   * Where sightings carrying these keys, in this trace, belong. Instances two keys name are merged
   * (through {@code merger}) when their keys agree; where they contradict each other (a record
   * carrying another order's id beside its own delivery's), the event joins the one that holds its
   * trace, else the one its record key ({@code recordKey}, or {@code null}) names, else the one the
   * first key names; the other is {@link Join#apart} (and counted in {@link #conflicts}).
   */
  Route route(Map<String, String> keys, String traceId, boolean opens, Merger merger, String recordKey) {
    if (!keys.isEmpty()) {
      List<InstanceState> candidates = new ArrayList<>(2);
      String finalized = null;
      for (String key : keyNames) {
        String v = keys.get(key);
        if (v == null) {
          continue;
        }
        String token = token(key, v);
        InstanceState i = byKey.get(token);
        if (i != null) {
          i = i.current();
          if (!candidates.contains(i)) {
            candidates.add(i);
          }
        } else if (finalized == null && finalizedKeys.containsKey(token)) {
          finalized = token;
        }
      }
      if (candidates.isEmpty()) {
        if (finalized != null) {
          return new Late(keys, finalizedKeys.get(finalized));
        }
        InstanceState byT = traceId == null ? null : byTrace.get(traceId);
        if (byT != null && byT.current().compatible(keys)) {
          return new Join(byT.current());
        }
        return new Open();
      }
      // An instance its trace opened before any key was seen (a keyless span read first) is this
      // one too: live inputs deliver out of order, and it must not be decided apart.
      InstanceState byT = traceId == null ? null : byTrace.get(traceId);
      if (byT != null && byT.current().keys.isEmpty() && !candidates.contains(byT.current())) {
        candidates.add(byT.current());
      } else if (byT != null && reused(candidates, byT.current(), keys, traceId)) {
        reusedKeys++;
        if (reusedExample == null) {
          reusedExample = describe(keys, candidates.get(0), byT.current());
        }
        return new Join(byT.current());
      }
      if (candidates.size() == 1 && byT != null && tracesAnother(candidates.get(0), byT.current(), keys, traceId)) {
        conflicts++;
        return new Join(byT.current(), candidates.get(0));
      }
      InstanceState ended = candidates.size() > 1 ? dropEnded(candidates) : null;
      if (ended != null) {
        reusedKeys++;
        if (reusedExample == null) {
          reusedExample = describeEnded(keys, ended, candidates.get(0));
        }
      }
      if (candidates.size() > 1) {
        preferWhereItHappened(candidates, byT == null ? null : byT.current(),
            recordKey == null || keys.get(recordKey) == null ? null : byKey.get(token(recordKey, keys.get(recordKey))));
      }
      InstanceState target = candidates.get(0);
      InstanceState apart = null;
      for (int i = 1; i < candidates.size(); i++) {
        if (target.compatible(candidates.get(i).keys)) {
          target = merger.merge(target, candidates.get(i));
        } else {
          conflicts++;
          apart = apart == null ? candidates.get(i) : apart;
        }
      }
      return new Join(target, apart);
    }
    if (traceId != null && byTrace.containsKey(traceId)) {
      return new Join(byTrace.get(traceId).current());
    }
    if (traceId != null && finalizedTraces.containsKey(traceId)) {
      return new Late(Map.of("trace", traceId), finalizedTraces.get(traceId));
    }
    return opens ? new Open() : new Wait();
  }

  /**
   * Puts first, of candidates whose keys contradict the first's, the one holding the event's trace,
   * else the one its record key names: where the event happened, not a value it carried.
   */
  private static void preferWhereItHappened(List<InstanceState> candidates, InstanceState traceOwner,
      InstanceState recordKeyOwner) {
    InstanceState first = candidates.get(0);
    for (InstanceState preferred : new InstanceState[] {traceOwner, recordKeyOwner}) {
      preferred = preferred == null ? null : preferred.current();
      if (preferred != null && candidates.contains(preferred)) {
        if (preferred != first && !first.compatible(preferred.keys)) {
          candidates.remove(preferred);
          candidates.add(0, preferred);
        }
        return;
      }
    }
  }

  /**
   * Instances a key value of theirs was taken from by a later instance (a value given out again),
   * kept here until final: no key may lead to them any more, and they must not be forgotten.
   */
  private final Set<InstanceState> shadowed = new java.util.LinkedHashSet<>();

  /**
   * Leaves out of {@code candidates} an instance decided before another of them began that is over:
   * its deadline had passed by then, or it is the part of another flow whose key changed on the way
   * ({@link InstanceState#divertedFrom}), in none of the others' traces. A key value given out again
   * (a phone number recycled, minutes later) named it, and merged with it the later instance failed
   * for events of the earlier. Returns the one left out, or {@code null}.
   */
  private InstanceState dropEnded(List<InstanceState> candidates) {
    long latestStart = Long.MIN_VALUE;
    for (InstanceState c : candidates) {
      latestStart = Math.max(latestStart, c.start);
    }
    InstanceState dropped = null;
    for (java.util.Iterator<InstanceState> it = candidates.iterator(); it.hasNext() && candidates.size() > 1; ) {
      InstanceState c = it.next();
      if (c.phase == InstanceState.Phase.DECIDED && c.start != Long.MAX_VALUE && latestStart != Long.MAX_VALUE
          && (latestStart - c.start > deadlineNanos
              || c.divertedFrom != null && latestStart > c.start && sharesNoTrace(c, candidates))) {
        it.remove();
        dropped = c;
      }
    }
    return dropped;
  }

  private static boolean sharesNoTrace(InstanceState c, List<InstanceState> candidates) {
    for (InstanceState o : candidates) {
      if (o != c && !java.util.Collections.disjoint(o.traces, c.traces)) {
        return false;
      }
    }
    return true;
  }

  /** Key conflicts met: two keys of one event naming two incompatible instances. */
  long conflicts;
  /** Events joined to their trace's instance although a key value of theirs named another ({@link #reused}). */
  long reusedKeys;
  /** The first of them, in words, or {@code null}. */
  String reusedExample;

  /**
   * Whether an event whose keys name only instances of other traces, which its own trace's
   * instance contradicts, belongs to its trace's instance: a key value reused by a later instance
   * (a locker compartment, a table number) named the earlier one, while the event happened within
   * the later one's trace. Where the named instance is in the event's trace as well (a producer
   * that sends one hard-coded trace context for every record), the key decides as before.
   */
  /**
   * Whether an event its key places in {@code named} happened in a trace {@code owner} began — its
   * entry event or a root span of its is in it, none of {@code named}'s events, and no other
   * instance's — while {@code owner} holds another value of that key: a refund published in one
   * dispute's own trace under another dispute's id (trial P). The trace says where it happened; the
   * key is the defect. A trace no instance began (a batch consumer's), or several did (a batch
   * import's), decides nothing.
   */
  private boolean tracesAnother(InstanceState named, InstanceState owner, Map<String, String> keys,
      String traceId) {
    if (owner == named || owner.compatible(keys) || named.traces.contains(traceId)
        || owner.sharedTraces != null && owner.sharedTraces.contains(traceId)) {
      return false;
    }
    for (Sighting s : owner.sightings) {
      boolean root = s.span != null && s.span.traceId().equals(traceId)
          && (s.span.parentSpanId() == null || s.span.parentSpanId().isEmpty());
      String trace = s.span != null ? s.span.traceId() : s.context != null ? s.context.traceId() : null;
      if (root || entryEvents.contains(s.event.id()) && traceId.equals(trace)) {
        return true;
      }
    }
    return false;
  }

  private static boolean reused(List<InstanceState> candidates, InstanceState owner, Map<String, String> keys,
      String traceId) {
    if (candidates.contains(owner) || !owner.compatible(keys)) {
      return false;
    }
    for (InstanceState c : candidates) {
      if (c.traces.contains(traceId) || c.compatible(owner.keys)) {
        return false;
      }
    }
    return true;
  }

  private String describe(Map<String, String> keys, InstanceState named, InstanceState owner) {
    StringBuilder shared = new StringBuilder();
    keys.forEach((k, v) -> {
      if (v.equals(named.keys.get(k))) {
        shared.append(shared.length() == 0 ? "" : ", ").append(k).append('=').append(v);
      }
    });
    StringBuilder apart = new StringBuilder();
    owner.keys.forEach((k, v) -> {
      String other = named.keys.get(k);
      if (other != null && !other.equals(v)) {
        apart.append(apart.length() == 0 ? "" : ", ").append(k).append(' ').append(other).append(" and ").append(v);
      }
    });
    return shared + " named two instances (" + apart + ")";
  }

  /** {@code msisdn=+316… named an instance that was over (…); given out again to orderId o-2}. */
  private String describeEnded(Map<String, String> keys, InstanceState ended, InstanceState kept) {
    StringBuilder shared = new StringBuilder();
    keys.forEach((k, v) -> {
      if (v.equals(ended.keys.get(k))) {
        shared.append(shared.length() == 0 ? "" : ", ").append(k).append('=').append(v);
      }
    });
    String which = ended.divertedFrom != null
        ? "what " + keysOf(ended.divertedFrom.current()) + " left under it where a key changed on the way"
        : "decided past its deadline";
    return shared + " named an instance that was over (" + which + "); given out again to " + keysOf(kept);
  }

  private static String keysOf(InstanceState inst) {
    StringBuilder sb = new StringBuilder();
    inst.keys.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(k).append(' ').append(v));
    return sb.toString();
  }

  /** Keeps sightings until their trace's instance is known. */
  void await(String traceId, List<Sighting> group) {
    if (traceId != null) {
      waiting.computeIfAbsent(traceId, t -> new ArrayList<>(1)).add(group);
      waitingOrder.add(new Waiting(group.get(0).time, traceId));
    }
  }

  /** Indexes an instance's new key; true when it is new to the instance. */
  boolean addKey(InstanceState instance, String key, String value) {
    if (instance.keys.putIfAbsent(key, value) == null) {
      InstanceState before = byKey.put(token(key, value), instance);
      if (before != null && before.current() != instance.current()) {
        shadowed.add(before); // a value given out again: the earlier holder is still to be decided
      }
      return true;
    }
    return false;
  }

  /** Indexes an instance's trace; returns the sightings that waited for it (empty when none or not new). */
  List<List<Sighting>> addTrace(InstanceState instance, String traceId) {
    if (traceId == null || !instance.traces.add(traceId)) {
      return List.of();
    }
    InstanceState before = byTrace.putIfAbsent(traceId, instance);
    if (before != null && before.current() != instance.current()) {
      before.current().shareTrace(traceId); // several instances in one trace: it tells none of them apart
    }
    List<List<Sighting>> w = waiting.remove(traceId);
    return w == null ? List.of() : w;
  }

  /** The instance the trace belongs to, or {@code null}. */
  InstanceState ownerOf(String traceId) {
    InstanceState inst = traceId == null ? null : byTrace.get(traceId);
    return inst == null ? null : inst.current();
  }

  /**
   * The instance a messaging span's trace belongs to, else the one the traces it links to belong
   * to, or {@code null}. A span linked to traces of different instances (a batch read several
   * flows' records) is none of theirs: its trace's records would otherwise join whichever came first.
   */
  InstanceState instanceOf(Span span) {
    InstanceState inst = byTrace.get(span.traceId());
    if (inst != null) {
      return inst.current();
    }
    for (SpanLink link : span.links()) {
      InstanceState linked = byTrace.get(link.traceId());
      if (linked == null) {
        continue;
      }
      if (inst != null && inst != linked.current()) {
        return null;
      }
      inst = linked.current();
    }
    return inst;
  }

  /** Points {@code gone}'s keys and traces at {@code keep}. */
  void merged(InstanceState gone, InstanceState keep) {
    gone.keys.forEach((k, v) -> {
      keep.keys.putIfAbsent(k, v);
      byKey.put(token(k, v), keep);
    });
    for (String t : gone.traces) {
      keep.traces.add(t);
      byTrace.put(t, keep);
    }
    if (gone.untraced != null) {
      for (String at : gone.untraced) {
        untraced.put(at, keep);
        if (keep.untraced == null) {
          keep.untraced = new ArrayList<>(1);
        }
        keep.untraced.add(at);
      }
    }
  }

  /** Remembers that the instance holds a record that carried no trace context. */
  void untraced(InstanceState inst, String topic, int partition, long offset) {
    String at = coordinates(topic, partition, offset);
    untraced.put(at, inst);
    if (inst.untraced == null) {
      inst.untraced = new ArrayList<>(1);
    }
    inst.untraced.add(at);
  }

  /** Whether any instance holds a record that carried no trace context. */
  boolean anyUntraced() {
    return !untraced.isEmpty();
  }

  /** The instance holding the record at these coordinates that carried no trace context, or {@code null}. */
  InstanceState untracedAt(String topic, int partition, long offset) {
    if (untraced.isEmpty()) {
      return null;
    }
    InstanceState inst = untraced.get(coordinates(topic, partition, offset));
    return inst == null ? null : inst.current();
  }

  private void dropUntraced(InstanceState inst) {
    if (inst.untraced != null) {
      for (String at : inst.untraced) {
        untraced.remove(at, inst);
      }
    }
  }

  private static String coordinates(String topic, int partition, long offset) {
    return topic + '\u0000' + partition + '\u0000' + offset;
  }

  /** Forgets an instance without remembering it (another engine assembles it now). */
  void forget(InstanceState inst) {
    dropUntraced(inst);
    inst.keys.forEach((k, v) -> byKey.remove(token(k, v), inst));
    for (String t : inst.traces) {
      byTrace.remove(t, inst);
    }
  }

  /** An instance became final at {@code at}: its keys and traces now mark events as late. */
  void finalized(InstanceState inst, long at) {
    dropUntraced(inst);
    if (!shadowed.isEmpty()) {
      shadowed.removeIf(x -> x.current() == inst);
    }
    for (Map.Entry<String, String> k : inst.keys.entrySet()) {
      String token = token(k.getKey(), k.getValue());
      InstanceState holder = byKey.get(token);
      if (holder != null && holder.current() != inst) {
        continue; // the value is a later instance's now (given out again): it stays that one's
      }
      byKey.remove(token);
      finalizedKeys.put(token, at);
    }
    for (String t : inst.traces) {
      InstanceState owner = byTrace.get(t);
      if (owner != null && owner.current() == inst) {
        byTrace.remove(t);
      }
      finalizedTraces.put(t, at);
    }
  }

  /**
   * An instance decided elsewhere whose published verdict is known: its revision, status and
   * violations ({@code kind@stage}).
   */
  record Seeded(Map<String, String> keys, Collection<String> traceIds, int revision, String status,
      Set<String> violations) {}

  /** Remembers an instance decided elsewhere with its verdict, so that it can be verified again. */
  void markFinalized(Seeded decided) {
    markFinalized(decided.keys(), decided.traceIds());
    decided.keys().forEach((k, v) -> {
      if (!byKey.containsKey(token(k, v))) {
        seeded.put(token(k, v), decided);
      }
    });
    for (String t : decided.traceIds()) {
      if (!byTrace.containsKey(t)) {
        seededTraces.put(t, decided);
      }
    }
  }

  /** The instance decided elsewhere, with a known verdict, that one of these keys or this trace names; or {@code null}. */
  Seeded seededOf(Map<String, String> keys, String traceId) {
    for (Map.Entry<String, String> k : keys.entrySet()) {
      Seeded found = seeded.get(token(k.getKey(), k.getValue()));
      if (found != null) {
        return found;
      }
    }
    return traceId == null ? null : seededTraces.get(traceId);
  }

  /**
   * Keeps an event of an instance decided elsewhere that was read again before the entry event
   * that reopens it (from another partition, say), to join it when it does ({@link #takeHeld}).
   */
  void hold(Seeded instance, Held event) {
    held.computeIfAbsent(instance, s -> new ArrayList<>(2)).add(event);
    heldOrder.add(new HeldMark(event.group().get(0).time, instance));
  }

  /** The events held for an instance now reopened, in the order they were read. */
  List<Held> takeHeld(Seeded instance) {
    List<Held> h = held.remove(instance);
    return h == null ? List.of() : h;
  }

  /** Removes and returns the events held since before {@code horizon} (all with {@link Long#MAX_VALUE}): their instance was not read again. */
  List<Held> dropHeldBefore(long horizon) {
    List<Held> dropped = new ArrayList<>();
    while (!heldOrder.isEmpty() && heldOrder.peekFirst().time() < horizon) {
      List<Held> h = held.remove(heldOrder.pollFirst().seeded());
      if (h != null) {
        dropped.addAll(h);
      }
    }
    return dropped;
  }

  /**
   * The instance decided elsewhere that one of these keys names, no longer counted as final (its
   * keys and traces route to a new instance from now on), or {@code null} when none is known.
   */
  Seeded reopen(Map<String, String> keys) {
    Seeded found = null;
    for (Map.Entry<String, String> k : keys.entrySet()) {
      found = seeded.get(token(k.getKey(), k.getValue()));
      if (found != null) {
        break;
      }
    }
    if (found != null) {
      for (Map.Entry<String, String> k : found.keys().entrySet()) {
        String token = token(k.getKey(), k.getValue());
        seeded.remove(token);
        finalizedKeys.remove(token);
      }
      found.traceIds().forEach(finalizedTraces::remove);
      found.traceIds().forEach(seededTraces::remove);
    }
    return found;
  }

  /** Remembers an instance decided elsewhere: its keys and traces count as final. */
  void markFinalized(Map<String, String> keys, Collection<String> traceIds) {
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

  /**
   * Drops sightings that waited since before {@code horizon} for a trace that never came; returns
   * their groups.
   */
  List<List<Sighting>> dropWaitingBefore(long horizon) {
    List<List<Sighting>> dropped = List.of();
    while (!waitingOrder.isEmpty() && waitingOrder.peekFirst().time() < horizon) {
      List<List<Sighting>> groups = waiting.remove(waitingOrder.pollFirst().traceId());
      if (groups != null) {
        if (dropped.isEmpty()) {
          dropped = new ArrayList<>();
        }
        dropped.addAll(groups);
      }
    }
    return dropped;
  }

  /** Every instance the index knows (for the end of the input). */
  Set<InstanceState> instances() {
    Set<InstanceState> all = new LinkedHashSet<>();
    byKey.values().forEach(i -> all.add(i.current()));
    shadowed.forEach(i -> all.add(i.current()));
    byTrace.values().forEach(i -> all.add(i.current()));
    return all;
  }

  /** Drops every sighting still waiting for its trace; returns their groups. */
  List<List<Sighting>> clearWaiting() {
    List<List<Sighting>> dropped = new ArrayList<>();
    for (List<List<Sighting>> groups : waiting.values()) {
      dropped.addAll(groups);
    }
    waiting.clear();
    waitingOrder.clear();
    return dropped;
  }

  /** Merges two instances found to be one; returns the survivor. */
  @FunctionalInterface
  interface Merger {
    InstanceState merge(InstanceState a, InstanceState b);
  }
}
