package io.flowtrace.verifier.assembly;

import io.flowtrace.verifier.report.Verdict;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * One flow instance being assembled: its keys, traces and sightings, and where it is in its life
 * (open, decided and open to amendment, final, or merged into another). Engine thread only.
 */
final class InstanceState {

  /** Where an instance is in its life. */
  enum Phase { OPEN, DECIDED, FINAL, MERGED }

  final long id;
  final FlowState flow;
  /** What its decision timers name; no longer this instance once it is final. */
  final DecisionScheduler.Target timers = new DecisionScheduler.Target(this);
  final Map<String, String> keys = new LinkedHashMap<>(4);
  final List<Sighting> sightings = new ArrayList<>(20);
  final Set<String> identities = new HashSet<>();
  final Set<String> eventIds = new HashSet<>();
  final Set<String> traces = new LinkedHashSet<>(4);
  long start = Long.MAX_VALUE;
  long terminalAt = Long.MIN_VALUE;
  /** After the grace: spans waited for until a grace past the deadline ({@link #awaitedPastDeadline}), or a side stage until the deadline; or {@code null}. */
  String awaiting;
  /** At the deadline: spans that may still be in an exporter's batch, waited for a grace past it; or {@code null}. */
  String awaitedPastDeadline;
  /** Traces of its that other instances are in as well (a batch's), or {@code null}: made on first use. */
  Set<String> sharedTraces;

  void shareTrace(String traceId) {
    if (sharedTraces == null) {
      sharedTraces = new HashSet<>(2);
    }
    sharedTraces.add(traceId);
  }

  /** Decided before its deadline without all it needed: judged again when the deadline passes. */
  boolean incompleteBeforeDeadline;
  /** Event time of the latest event added. */
  long lastEventTime = Long.MIN_VALUE;
  /** When a waiting amendment is due ({@link Long#MIN_VALUE}: none waits). */
  long amendAt = Long.MIN_VALUE;
  Phase phase = Phase.OPEN;
  Verdict verdict;
  /** A verification running on another thread, or {@code null}. */
  CompletableFuture<Verdict> pending;
  /** Quiet (nothing still to come can reach it) while {@link #pending}: made final once its verdict is delivered. */
  boolean quietWhenVerified;
  /** Decided because its data was complete (not by a timer): its decision latency is measured when its verdict is delivered. */
  boolean decidedByData;
  InstanceState mergedInto;
  /** Coordinates of its records that carried no trace context ({@link InstanceIndex#untraced}), or {@code null}. */
  List<String> untraced;
  /** The open set it is in, which counts its sightings; {@code null} once it is no longer open. */
  OpenInstances openIn;
  /** Position in the engine's open order (across flows), for the in-flight cap. */
  long openSeq;
  /** When (monotonic) the latest event for it arrived, for decision latency. */
  long lastArrival;
  /** Tags of the sources its events came from (see {@link LiveHooks#source}). */
  final BitSet sources = new BitSet();
  /** Event time at which it was decided. */
  long decidedAt;
  /** Why it was first decided, and how many events it held then (an amendment says what came since). */
  String decidedReason;
  int decidedEvents;
  /** Events it held when decided, counted against the engine's retention cap until it is final. */
  int retained;
  /**
   * The verdict an earlier owner published for this instance, which it is being verified again
   * against (rebuilt from its first event after a handover or restart), or {@code null}.
   */
  InstanceIndex.Seeded seeded;
  /** Why the instance was decided early for a cap ({@code null}: it was not). */
  String overflowReason;
  /**
   * Instances that events of its traces began, not being entry events, because they carried other
   * key values; {@code null} while there are none.
   */
  List<Diverted> diverted;
  /** The instance in whose trace this one began with an event that is not an entry event, or {@code null}. */
  InstanceState divertedFrom;

  /** An instance an event of this one's trace began, and that event. */
  record Diverted(InstanceState to, Sighting first) {}

  InstanceState(long id, FlowState flow) {
    this.id = id;
    this.flow = flow;
  }

  /** The instance this one was merged into, transitively (itself when it was not). */
  InstanceState current() {
    InstanceState i = this;
    while (i.mergedInto != null) {
      i = i.mergedInto;
    }
    return i;
  }

  /** Adds a sighting unless the same occurrence is already here; returns whether it was new. */
  boolean add(Sighting s) {
    if (!identities.add(s.event.id() + '|' + s.identity())) {
      return false;
    }
    sightings.add(s);
    if (openIn != null) {
      openIn.sightingAdded();
    }
    eventIds.add(s.event.id());
    lastEventTime = Math.max(lastEventTime, s.time);
    start = Math.min(start, s.time);
    return true;
  }

  /** Whether none of these keys names another value than the instance's own. */
  boolean compatible(Map<String, String> other) {
    for (Map.Entry<String, String> k : other.entrySet()) {
      String mine = keys.get(k.getKey());
      if (mine != null && !mine.equals(k.getValue())) {
        return false;
      }
    }
    return true;
  }

  /** Forgets what it held (final, discarded or merged away): only its verdict stays. */
  void release() {
    if (openIn != null) {
      openIn.sightingsReleased(sightings.size());
    }
    sightings.clear();
    identities.clear();
  }
}
