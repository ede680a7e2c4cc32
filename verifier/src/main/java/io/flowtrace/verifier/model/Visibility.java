package io.flowtrace.verifier.model;

import io.flowtrace.tracer.model.Span;
import io.flowtrace.verifier.spec.EventSpec;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.SpanCompleteness;
import io.flowtrace.verifier.spec.StageSpec;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which declared events of an instance were not seen <em>by design</em>, and why. Records are
 * never sampled, so only span events can be unobserved but for the last cause:
 *
 * <ul>
 *   <li>{@link Cause#UNSAMPLED}: the records of the span's trace carry a {@code traceparent} whose
 *       sampled flag is clear — that trace exports no spans (head sampling). The trace is found
 *       through the span's <em>witnesses</em>: the records that share its trace by the flow's
 *       shape (its stage's records; else the nearest earlier stage's; else the next stage's; an
 *       event declared {@code trace: new} is witnessed only by the records after it in its stage).
 *       A webhook's new trace samples on its own, so one instance can be partly sampled. Where the
 *       flow's trace broke next to the span (records without a context, a consumer that began a
 *       trace of its own), the traces on both sides of the break are read ({@link #acrossBreak}).
 *   <li>{@link Cause#MAY_BE_MISSING}: the flow says {@code spans: may-be-missing} (tail sampling,
 *       lossy pipelines) and the span did not arrive although its trace is sampled.
 *   <li>{@link Cause#BEFORE_KEY_CHANGED}: the instance began part-way through the flow, in the trace
 *       of another instance whose keys its events contradict (a key changed on the way), and that
 *       instance observed the event: it happened, under the keys the flow had before. That
 *       instance's verdict reports the changed key; this one does not report the stages again.
 * </ul>
 *
 * Any other absent span event is missing. Pure function of the instance.
 */
public final class Visibility {

  /** Why an event was not observed although it may have happened. */
  public enum Cause {
    /** Its trace was not sampled: its spans are not exported by design. */
    UNSAMPLED,
    /** The flow allows spans of sampled traces to be lost ({@code spans: may-be-missing}). */
    MAY_BE_MISSING,
    /**
     * Its trace's spans were exported while the engine was not running (a restart), or after the
     * input's spans ended or a file of them was cut off: they went elsewhere.
     */
    SPANS_LOST,
    /** It happened in the instance this one's trace began in, under the keys the flow had before they changed. */
    BEFORE_KEY_CHANGED,
    /**
     * A record of another of its deliveries carries no trace context: which trace that delivery's
     * spans were in, and whether it was sampled, cannot be told.
     */
    LOST_CONTEXT,
    /**
     * Its records carry no trace context, so its trace is not known, and the instance's traces are
     * head-sampled (one of them was not sampled): it may well be in an unsampled trace.
     */
    UNKNOWN_TRACE
  }

  /**
   * Why one event is unobserved: the cause and the trace that says so (if known); for {@link
   * Cause#BEFORE_KEY_CHANGED}, {@code instance} names the instance that observed it
   * ({@code orderId=o-1}).
   */
  public record Unobserved(String eventId, Cause cause, String traceId, String instance) {
    public Unobserved(String eventId, Cause cause, String traceId) {
      this(eventId, cause, traceId, null);
    }

    /** The reason in words: {@code unsampled trace 4bf92f…}. */
    public String reason() {
      return switch (cause) {
        case BEFORE_KEY_CHANGED -> "it happened in the instance " + instance + ", in whose trace this one began:"
            + " a key changed on the way";
        case UNSAMPLED -> "unsampled trace " + traceId;
        case SPANS_LOST -> "the spans of trace " + traceId + " did not reach this run (exported before it started,"
            + " not yet when it stopped, or where a file of spans could not be read)";
        case MAY_BE_MISSING -> traceId == null
            ? "its span did not arrive (spans: may-be-missing)"
            : "its span did not arrive in trace " + traceId + " (spans: may-be-missing)";
        case LOST_CONTEXT -> "a record of another delivery (" + instance + ") carries no trace context: the trace of"
            + " that delivery's spans, and whether it was sampled, is not known";
        case UNKNOWN_TRACE -> "its records carry no trace context, so its trace is not known, and this instance's"
            + " traces are head-sampled (trace " + traceId + " was not sampled)";
      };
    }
  }

  private static final Visibility NONE = new Visibility(Map.of(), Map.of(), Set.of(), Map.of());

  private final Map<String, Unobserved> unobserved;
  private final Map<String, Unobserved> partly;
  /** Of the {@link #partly} observed events, those an unobserved occurrence of may have preceded. */
  private final Set<String> notFirst;
  private final Map<String, EventSpec> callbacks;

  private Visibility(Map<String, Unobserved> unobserved, Map<String, Unobserved> partly, Set<String> notFirst,
      Map<String, EventSpec> callbacks) {
    this.unobserved = unobserved;
    this.partly = partly;
    this.notFirst = notFirst;
    this.callbacks = callbacks;
  }

  static Visibility of(FlowInstance instance) {
    FlowSpec spec = instance.spec();
    Map<String, Unobserved> out = null;
    Map<String, Unobserved> partly = null;
    Set<String> notFirst = null;
    Diversion from = instance.divertedFrom();
    Map<String, EventSpec> callbacks = callbacksOf(spec);
    for (EventSpec event : spec.events()) {
      if (from != null && !instance.has(event.id()) && from.events().contains(event.id())) {
        out = out == null ? new LinkedHashMap<>() : out;
        out.put(event.id(), new Unobserved(event.id(), Cause.BEFORE_KEY_CHANGED, null,
            from.describeKeys(spec.keys())));
        continue;
      }
      if (event.isTopic()) {
        continue;
      }
      if (instance.has(event.id())) {
        Unobserved some = someUnobserved(instance, event, callbacks);
        if (some != null) {
          partly = partly == null ? new LinkedHashMap<>() : partly;
          partly.put(event.id(), some);
          if (unobservedBefore(instance, event, callbacks)) {
            notFirst = notFirst == null ? new HashSet<>() : notFirst;
            notFirst.add(event.id());
          }
        }
        continue;
      }
      Unobserved u = judge(instance, event);
      if (u != null) {
        if (out == null) {
          out = new LinkedHashMap<>();
        }
        out.put(event.id(), u);
      }
    }
    return out == null && partly == null && callbacks.isEmpty() ? NONE
        : new Visibility(out == null ? Map.of() : Collections.unmodifiableMap(out),
            partly == null ? Map.of() : Collections.unmodifiableMap(partly),
            notFirst == null ? Set.of() : Collections.unmodifiableSet(notFirst), callbacks);
  }

  /** {@link #callbacks} of each flow, found once per spec rather than at every verification (by identity). */
  private static final Map<FlowSpec, Map<String, EventSpec>> CALLBACKS =
      Collections.synchronizedMap(new java.util.IdentityHashMap<>());

  private static Map<String, EventSpec> callbacksOf(FlowSpec spec) {
    Map<String, EventSpec> known = CALLBACKS.get(spec);
    if (known == null) {
      known = Collections.unmodifiableMap(callbacks(spec));
      if (CALLBACKS.size() >= 256) {
        CALLBACKS.clear(); // specs reloaded many times (tests): keep it bounded
      }
      CALLBACKS.put(spec, known);
    }
    return known;
  }

  /**
   * Each event that happens in the trace a callback began (an event declared {@code trace: new}),
   * by the flow's shape, mapped to that callback: the callback itself, what comes after it in its
   * stage, and the stages after (through stages without a callback of their own, where every stage
   * before agrees). When the callback repeats, these events happen again, once in each delivery's
   * trace. Empty for a flow without callbacks.
   */
  private static Map<String, EventSpec> callbacks(FlowSpec spec) {
    boolean any = false;
    for (StageSpec s : spec.stages()) {
      for (EventSpec e : s.events()) {
        any |= e.newTrace();
      }
    }
    if (!any) {
      return Map.of();
    }
    Map<String, StageSpec> byId = new HashMap<>();
    spec.stages().forEach(s -> byId.put(s.id(), s));
    Map<String, EventSpec> exits = new HashMap<>();
    Map<String, EventSpec> out = new HashMap<>();
    for (StageSpec s : spec.stages()) {
      EventSpec callback = entering(s, byId, exits, new HashSet<>());
      EventSpec previous = null;
      for (EventSpec e : s.events()) {
        callback = e.newTrace() && !e.onSameSpanAs(previous) ? e : callback;
        if (callback != null) {
          out.put(e.id(), callback);
        }
        previous = e;
      }
    }
    return out;
  }

  /** The callback whose trace the stage begins in: the one every stage before it ends in, or null. */
  private static EventSpec entering(StageSpec stage, Map<String, StageSpec> byId, Map<String, EventSpec> exits,
      Set<String> visiting) {
    EventSpec agreed = null;
    boolean first = true;
    for (String id : stage.after()) {
      StageSpec p = byId.get(id);
      EventSpec exit = null;
      if (p != null && exits.containsKey(id)) {
        exit = exits.get(id);
      } else if (p != null && visiting.add(id)) {
        EventSpec previous = null;
        for (EventSpec e : p.events()) {
          exit = e.newTrace() && !e.onSameSpanAs(previous) ? e : exit;
          previous = e;
        }
        exit = exit != null ? exit : entering(p, byId, exits, visiting);
        exits.put(id, exit);
      }
      if (!first && exit != agreed) {
        return null;
      }
      agreed = exit;
      first = false;
    }
    return agreed;
  }

  /**
   * For an observed event that starts a new trace per occurrence (a webhook delivered twice): an
   * occurrence whose trace was not sampled — a witness record in an unsampled trace none of its
   * observed occurrences is in; where spans may be missing, in a sampled one too — or {@code null}
   * when every occurrence is observed.
   */
  private static Unobserved someUnobserved(FlowInstance instance, EventSpec event, Map<String, EventSpec> callbacks) {
    EventSpec callback = callbacks.get(event.id());
    if (callback == null) {
      return null;
    }
    Set<String> seenTraces = new HashSet<>();
    for (Observation o : instance.all(event.id())) {
      seenTraces.add(o.traceId());
    }
    boolean mayBeMissing = instance.spec().spans() == SpanCompleteness.MAY_BE_MISSING;
    Set<String> deliveries = new HashSet<>();
    Observation traceless = null;
    int untraced = 0;
    for (String witness : witnesses(instance.spec(), event)) {
      if (callbacks.get(witness) != callback) {
        continue; // a record of another trace: the entry's, or another callback's
      }
      for (Observation o : instance.all(witness)) {
        if (o.trace() == null) {
          traceless = traceless == null ? o : traceless;
          untraced++;
          continue;
        }
        deliveries.add(o.trace().traceId());
        if (seenTraces.contains(o.trace().traceId())) {
          continue;
        }
        if (!o.sampled()) {
          return new Unobserved(event.id(), o.spansLost() ? Cause.SPANS_LOST : Cause.UNSAMPLED, o.trace().traceId());
        }
        if (mayBeMissing) {
          // a sampled delivery whose span did not arrive: spans may be missing (tail sampling, drops)
          return new Unobserved(event.id(), Cause.MAY_BE_MISSING, o.trace().traceId());
        }
      }
    }
    if (traceless != null && deliveries.size() + untraced > seenTraces.size()) {
      // more deliveries than traces it was seen in, one of them with no trace to tell which
      return new Unobserved(event.id(), Cause.LOST_CONTEXT, null, traceless.describe());
    }
    return null;
  }

  /**
   * Whether a delivery of a partly observed callback event whose span was not observed may have come
   * before the first one observed: its records (or a record with no trace to tell) came before
   * those of the delivery observed first.
   */
  private static boolean unobservedBefore(FlowInstance instance, EventSpec event, Map<String, EventSpec> callbacks) {
    EventSpec callback = callbacks.get(event.id());
    Observation first = instance.first(event.id());
    Set<String> seenTraces = new HashSet<>();
    for (Observation o : instance.all(event.id())) {
      seenTraces.add(o.traceId());
    }
    long observedFirst = Long.MAX_VALUE;
    long other = Long.MAX_VALUE;
    for (String witness : witnesses(instance.spec(), event)) {
      if (callbacks.get(witness) != callback) {
        continue;
      }
      for (Observation o : instance.all(witness)) {
        String trace = o.trace() == null ? null : o.trace().traceId();
        if (trace != null && trace.equals(first.traceId())) {
          observedFirst = Math.min(observedFirst, o.timeEpochNanos());
        } else if (trace == null || !seenTraces.contains(trace)) {
          other = Math.min(other, o.timeEpochNanos());
        }
      }
    }
    return other < (observedFirst == Long.MAX_VALUE ? first.timeEpochNanos() : observedFirst);
  }

  private static Unobserved judge(FlowInstance instance, EventSpec event) {
    FlowSpec spec = instance.spec();
    List<String> witnesses = witnesses(spec, event);
    Traces t = traces(instance, witnesses);
    if (!event.newTrace()) {
      t = acrossBreak(instance, event, witnesses, t);
    }
    if (t.sampled == null && t.unsampled != null) {
      return new Unobserved(event.id(), t.lost ? Cause.SPANS_LOST : Cause.UNSAMPLED, t.unsampled);
    }
    if (t.sampled == null && t.untraced) {
      // its trace cannot be known; where the instance's traces are head-sampled, it may be unsampled
      for (Observation o : instance.observations()) {
        if (o.record() != null && o.trace() != null && !o.sampled()) {
          return new Unobserved(event.id(), Cause.UNKNOWN_TRACE, o.trace().traceId());
        }
      }
    }
    if (spec.spans() == SpanCompleteness.MAY_BE_MISSING) {
      return new Unobserved(event.id(), Cause.MAY_BE_MISSING, t.sampled);
    }
    return null;
  }

  /**
   * The span's trace where the flow's trace broke next to it. A stage of spans alone whose service
   * began a trace of its own (a consumer that links to the record it read, or lost its context) is
   * in the trace the records after it carry. Witnesses that came without a trace context (their
   * producer did not send it) leave two traces the span may be in: its service's, if a consumer
   * span shows it took those records in a trace of its own; else the flow's trace before the
   * break (the producer's, whose spans the stage's own may be) or the one after it (the consumer's)
   * — where either was not sampled, the span may well be in it, and is not missing.
   */
  private static Traces acrossBreak(FlowInstance instance, EventSpec event, List<String> witnesses, Traces t) {
    FlowSpec spec = instance.spec();
    StageSpec stage = spec.stage(event.stageId());
    boolean own = witnesses.stream().anyMatch(w -> spec.event(w) != null && stage.id().equals(spec.event(w).stageId()));
    if (!own && t.sampled != null) {
      Traces after = traces(instance, laterWitnesses(spec, stage));
      return after.sampled == null && after.unsampled != null ? after : t;
    }
    if (!t.untraced()) {
      return t;
    }
    String service = event.span() == null ? null : event.span().service();
    for (String w : witnesses) {
      for (Observation o : instance.all(w)) {
        if (o.trace() == null && service != null) {
          for (Span c : o.consumers()) {
            if (service.equals(c.service())) {
              return new Traces(c.traceId(), null, false, false); // exported: a sampled trace of its own
            }
          }
        }
      }
    }
    Traces before = new Traces(null, null, false, false);
    for (List<String> level : earlierLevels(spec, stage, Integer.MAX_VALUE)) {
      before = traces(instance, level);
      if (before.sampled != null || before.unsampled != null) {
        break;
      }
    }
    Traces after = traces(instance, laterWitnesses(spec, stage));
    if (before.sampled == null && before.unsampled != null) {
      return before;
    }
    if (after.sampled == null && after.unsampled != null) {
      return after;
    }
    return before.sampled != null ? before : after;
  }

  /**
   * What the nearest witnesses that carry a trace say: a sampled trace, an unsampled one (and
   * whether its spans were lost); {@code untraced} when witnesses were observed and none carried a
   * trace context.
   */
  private record Traces(String sampled, String unsampled, boolean lost, boolean untraced) {}

  private static Traces traces(FlowInstance instance, List<String> witnesses) {
    String unsampledTrace = null;
    String sampledTrace = null;
    boolean lost = false;
    boolean observed = false;
    for (String witness : witnesses) {
      for (Observation o : instance.all(witness)) {
        observed = true;
        if (o.trace() == null) {
          continue;
        }
        if (o.sampled()) {
          sampledTrace = o.trace().traceId();
        } else if (unsampledTrace == null) {
          unsampledTrace = o.trace().traceId();
          lost = o.spansLost();
        }
      }
      if (sampledTrace != null || unsampledTrace != null) {
        break; // the nearest witnesses that carry a trace decide
      }
    }
    return new Traces(sampledTrace, unsampledTrace, lost, observed && sampledTrace == null && unsampledTrace == null);
  }

  /** The records of the stages before {@code stage}, level by level, nearest first (latest listed first in each); at most {@code most} levels. */
  private static List<List<String>> earlierLevels(FlowSpec spec, StageSpec stage, int most) {
    List<List<String>> levels = new ArrayList<>();
    Deque<String> todo = new ArrayDeque<>(stage.after());
    Set<String> seen = new HashSet<>();
    while (!todo.isEmpty() && levels.size() < most) {
      List<String> level = new ArrayList<>();
      List<String> ids = new ArrayList<>(todo);
      todo.clear();
      for (String id : ids) {
        StageSpec p = spec.stage(id);
        if (p == null || !seen.add(id)) {
          continue;
        }
        List<EventSpec> events = p.events();
        for (int i = events.size() - 1; i >= 0; i--) {
          if (events.get(i).isTopic()) {
            level.add(events.get(i).id());
          }
        }
        todo.addAll(p.after());
      }
      if (!level.isEmpty()) {
        levels.add(level);
      }
    }
    return levels;
  }

  /**
   * The records of the nearest stages after {@code stage} that have any, up to an event that starts
   * a new trace (stages of spans alone in between are passed through).
   */
  private static List<String> laterWitnesses(FlowSpec spec, StageSpec stage) {
    List<String> out = new ArrayList<>();
    Set<String> frontier = new HashSet<>(Set.of(stage.id()));
    Set<String> seen = new HashSet<>(frontier);
    while (out.isEmpty() && !frontier.isEmpty()) {
      // stages of spans alone in between (a payment call after a request) carry the trace on
      Set<String> next = new HashSet<>();
      for (StageSpec s : spec.stages()) {
        if (java.util.Collections.disjoint(s.after(), frontier) || !seen.add(s.id())) {
          continue;
        }
        boolean continues = true;
        for (EventSpec e : s.events()) {
          if (e.newTrace()) {
            continues = false;
            break;
          }
          if (e.isTopic()) {
            out.add(e.id());
          }
        }
        if (continues) {
          next.add(s.id());
        }
      }
      frontier = next;
    }
    return out;
  }

  /**
   * Record events that share the span event's trace, nearest first: its stage's records in the
   * same trace segment (a stage splits where an event starts a new trace); else
   * the records of the nearest earlier stages (latest listed first); else the next stages' records.
   */
  public static List<String> witnesses(FlowSpec spec, EventSpec event) {
    StageSpec stage = spec.stage(event.stageId());
    List<String> out = new ArrayList<>();
    // The stage splits into trace segments where an event starts a new trace; the event's segment
    // holds its trace's records.
    List<EventSpec> segment = new ArrayList<>();
    boolean found = false;
    for (EventSpec e : stage.events()) {
      if (e.newTrace() && !segment.isEmpty() && !e.onSameSpanAs(segment.get(segment.size() - 1))) {
        if (found) {
          break;
        }
        segment.clear();
      }
      segment.add(e);
      found |= e == event;
    }
    for (EventSpec e : segment) {
      if (e.isTopic()) {
        out.add(e.id());
      }
    }
    if (!out.isEmpty() || segment.get(0).newTrace()) {
      return out;
    }
    List<List<String>> earlier = earlierLevels(spec, stage, 1);
    return earlier.isEmpty() ? laterWitnesses(spec, stage) : earlier.get(0);
  }

  /**
   * Whether both events happen in the trace of one callback (an event declared {@code trace: new}),
   * so that each delivery of the callback has its own occurrences of both, each in its own trace.
   */
  public boolean inOneCallbackTrace(String eventId, String otherEventId) {
    EventSpec callback = callbacks.get(eventId);
    return callback != null && callback == callbacks.get(otherEventId);
  }

  /** Whether the event is unobserved by design (never true for an observed event). */
  public boolean isUnobserved(String eventId) {
    return unobserved.containsKey(eventId);
  }

  /** Why the event is unobserved, or {@code null} when it is observed or missing. */
  public Unobserved unobserved(String eventId) {
    return unobserved.get(eventId);
  }

  /** Every unobserved event, in the spec's order. */
  public Map<String, Unobserved> all() {
    return unobserved;
  }

  /**
   * Whether some occurrences of an observed event are unobserved by design (one webhook delivery
   * sampled, another not): its first observed occurrence need not be its first.
   */
  public boolean isPartlyObserved(String eventId) {
    return partly.containsKey(eventId);
  }

  /**
   * Whether an occurrence of an observed event that was not observed may have come before the
   * first one observed (a webhook's first delivery not sampled, its second sampled): what reads
   * the event's first occurrence cannot take the first observed for it.
   */
  public boolean mayPrecedeFirstObserved(String eventId) {
    return notFirst.contains(eventId);
  }

  /** Why an observed event has unobserved occurrences, or {@code null}. */
  public Unobserved partlyObserved(String eventId) {
    return partly.get(eventId);
  }

  /** Whether some event is unobserved only because spans may be missing (worth waiting for). */
  public boolean awaitsLostSpans() {
    for (Unobserved u : unobserved.values()) {
      if (u.cause() == Cause.MAY_BE_MISSING) {
        return true;
      }
    }
    return false;
  }
}
