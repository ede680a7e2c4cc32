package io.flowtrace.verifier.model;

import io.flowtrace.verifier.spec.EventSpec;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.StageSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * An assembled flow instance: everything observed for one business transaction, across traces,
 * as of {@code asOfEpochNanos}. Immutable; checks are pure functions of it. What follows from the
 * observations alone — which span events are unobserved by design ({@link #visibility()}), which
 * path the data calls for ({@link #paths()}) and how the hosts' clocks relate ({@link #clocks()}) —
 * is worked out once, on first use.
 */
public final class FlowInstance {

  private final FlowSpec spec;
  private final Map<String, String> keys;
  private final List<Observation> observations;
  private final long startEpochNanos;
  private final long asOfEpochNanos;
  private final boolean deadlinePassed;
  private final boolean sawSpans;
  private final List<Diversion> diverted;
  private final Diversion divertedFrom;
  private Visibility visibility;
  private FlowPaths paths;
  private Clocks clocks;
  private Offsets offsets;

  /**
   * @param keys business keys by name, in the spec's key order (a key may be unknown: absent)
   * @param observations every occurrence of every declared event (sorted here by time)
   * @param startEpochNanos the earliest observation's time (the deadline runs from here)
   * @param asOfEpochNanos the stream's event time when this snapshot was taken
   * @param deadlinePassed whether {@code asOf} is past {@code start + spec.deadline}
   * @param sawSpans whether the source delivered spans at all (propagation can only be judged then)
   */
  public FlowInstance(FlowSpec spec, Map<String, String> keys, List<Observation> observations, long startEpochNanos,
      long asOfEpochNanos, boolean deadlinePassed, boolean sawSpans) {
    this(spec, keys, observations, startEpochNanos, asOfEpochNanos, deadlinePassed, sawSpans, List.of(), null);
  }

  /**
   * As above, knowing which events of this instance's traces went to instances of their own
   * ({@code diverted}, each with where it went) and, for an instance that began part-way through
   * the flow in another instance's trace, where it came from ({@code divertedFrom}, or {@code null}).
   */
  public FlowInstance(FlowSpec spec, Map<String, String> keys, List<Observation> observations, long startEpochNanos,
      long asOfEpochNanos, boolean deadlinePassed, boolean sawSpans, List<Diversion> diverted, Diversion divertedFrom) {
    this(spec, keys, observations, startEpochNanos, asOfEpochNanos, deadlinePassed, sawSpans, diverted, divertedFrom,
        false);
  }

  /**
   * As above, knowing whether the instance may have begun before the input did
   * ({@code beganBeforeInput}: its entry not seen, its first event within a deadline of the input's
   * first, in an input that may begin mid-traffic).
   */
  public FlowInstance(FlowSpec spec, Map<String, String> keys, List<Observation> observations, long startEpochNanos,
      long asOfEpochNanos, boolean deadlinePassed, boolean sawSpans, List<Diversion> diverted, Diversion divertedFrom,
      boolean beganBeforeInput) {
    this.beganBeforeInput = beganBeforeInput;
    this.diverted = List.copyOf(diverted);
    this.divertedFrom = divertedFrom;
    this.spec = Objects.requireNonNull(spec, "spec");
    this.keys = Collections.unmodifiableMap(new LinkedHashMap<>(keys));
    List<Observation> sorted = new ArrayList<>(observations);
    sorted.sort(Comparator.comparingLong(Observation::timeEpochNanos));
    this.observations = List.copyOf(sorted);
    this.startEpochNanos = startEpochNanos;
    this.asOfEpochNanos = asOfEpochNanos;
    this.deadlinePassed = deadlinePassed;
    this.sawSpans = sawSpans;
  }

  private final boolean beganBeforeInput;
  /** Attempts retried after failing ({@link #retried}); found on first use. */
  private Set<Observation> retried;
  /** Of those, the last attempts observed, answered by one whose span did not arrive ({@link #answeredUnseen}). */
  private Set<Observation> answeredUnseen;

  public FlowSpec spec() {
    return spec;
  }

  /** Whether the instance may have begun before the input did: what came before is not in it. */
  public boolean beganBeforeInput() {
    return beganBeforeInput;
  }

  public Map<String, String> keys() {
    return keys;
  }

  /** Every occurrence of every declared event, ordered by time. */
  public List<Observation> observations() {
    return observations;
  }

  public long startEpochNanos() {
    return startEpochNanos;
  }

  public long asOfEpochNanos() {
    return asOfEpochNanos;
  }

  public boolean deadlinePassed() {
    return deadlinePassed;
  }

  public boolean sawSpans() {
    return sawSpans;
  }

  /**
   * Whether the data shows the event's stage was not to happen (a branch its condition closed):
   * whatever that event would have shown is then not left unverified — there was nothing to verify.
   */
  public boolean offPath(String eventId) {
    EventSpec e = spec.event(eventId);
    return e != null && paths().requirement(e.stageId()) == FlowPaths.Requirement.FORBIDDEN;
  }

  /** Events of this instance's traces that carried other key values and began instances of their own. */
  public List<Diversion> diverted() {
    return diverted;
  }

  /**
   * The instance in whose trace this one began part-way through the flow, with no entry event of
   * its own ({@code null} when it did not).
   */
  public Diversion divertedFrom() {
    return divertedFrom;
  }

  /** Which span events were not seen by design (unsampled traces, lossy span pipelines). */
  public Visibility visibility() {
    if (visibility == null) {
      visibility = Visibility.of(this);
    }
    return visibility;
  }

  /** Which stages the data calls for. */
  public FlowPaths paths() {
    if (paths == null) {
      paths = FlowPaths.of(this);
    }
    return paths;
  }

  /** Its times as offsets from its start, on clocks corrected as far as the data tells ({@link Offsets}). */
  public Offsets offsets() {
    if (offsets == null) {
      offsets = Offsets.of(this);
    }
    return offsets;
  }

  /** How the clocks of the hosts involved relate, from the happens-before edges in the data. */
  public Clocks clocks() {
    if (clocks == null) {
      clocks = Clocks.of(this);
    }
    return clocks;
  }

  /** Every occurrence of an event, in time order. */
  public List<Observation> all(String eventId) {
    List<Observation> out = new ArrayList<>(2);
    for (Observation o : observations) {
      if (o.eventId().equals(eventId)) {
        out.add(o);
      }
    }
    return out;
  }

  /**
   * Whether the occurrence is an attempt that failed and was made again: a span of the event that
   * ended in error (status ERROR, or HTTP 5xx, 429 or 408) with a later occurrence of the same event
   * in the instance — a call retried after a 503 — or, where spans may be missing, the last one
   * observed when the flow went on past its stage (the attempt that answered was not exported). Its
   * payload (an error body) is not what the flow carried on: schemas, rules and enrichment read the
   * attempt that answered ({@link #answered}).
   */
  public boolean retried(Observation o) {
    return !o.isRecord() && o.span() != null && retried().contains(o);
  }

  /** The {@link #retried} attempts, found once: most instances have none. */
  private Set<Observation> retried() {
    Set<Observation> r = retried;
    if (r == null) {
      r = Set.of();
      Map<String, Long> latest = null;
      for (Observation o : observations) {
        if (o.isRecord() || o.span() == null || !failed(o.span())) {
          continue;
        }
        if (latest == null) {
          latest = new java.util.HashMap<>();
          for (Observation x : observations) {
            latest.merge(x.eventId(), x.timeEpochNanos(), Math::max);
          }
          r = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        }
        if (latest.get(o.eventId()) > o.timeEpochNanos()) {
          r.add(o);
        } else if (answeredUnseen(o)) {
          r.add(o);
          if (answeredUnseen == null) {
            answeredUnseen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
          }
          answeredUnseen.add(o);
        }
      }
      retried = r;
    }
    return r;
  }

  /**
   * Whether a failed attempt, the last one observed, was answered by one whose span did not arrive:
   * the flow says spans may be missing, and it went on to a stage that comes after the attempt's.
   */
  private boolean answeredUnseen(Observation failed) {
    if (spec.spans() != io.flowtrace.verifier.spec.SpanCompleteness.MAY_BE_MISSING) {
      return false;
    }
    Map<String, Set<String>> ancestors = spec.ancestors();
    for (Observation o : observations) {
      if (ancestors.getOrDefault(o.stageId(), Set.of()).contains(failed.stageId())) {
        return true;
      }
    }
    return false;
  }

  private static boolean failed(io.flowtrace.tracer.model.Span span) {
    return failure(span) != null;
  }

  /**
   * How a span's attempt failed, in words — {@code HTTP 503}, {@code status ERROR} — or {@code null}
   * when it did not: an error status, or an HTTP status a client retries (5xx, 429, 408).
   */
  public static String failure(io.flowtrace.tracer.model.Span span) {
    String code = span.firstAttribute("http.response.status_code", "http.status_code");
    if (code != null) {
      try {
        long c = Long.parseLong(code.trim());
        if (c >= 500 || c == 429 || c == 408) {
          return "HTTP " + c;
        }
      } catch (NumberFormatException e) {
        // not a number: the span's status decides
      }
    }
    return span.error() ? "status ERROR" : null;
  }

  /** The first occurrence of an event that is not a {@link #retried} attempt, or {@code null}. */
  public Observation answered(String eventId) {
    Observation first = null;
    for (Observation o : observations) {
      if (o.eventId().equals(eventId)) {
        if (!retried(o)) {
          return o;
        }
        if (first == null) {
          first = o;
        }
      }
    }
    return first;
  }

  /**
   * Of an event's occurrences (failed attempts left out), the one {@code later} followed: the one
   * whose consumer made it, else the last before it by the hosts' clocks' best estimate; {@code
   * null} when none came before it. Where a step was retried until it worked (a courier search that
   * found none, then one that did; a transfer rejected, then settled), what came after it followed
   * the attempt that worked. See {@link #mayHaveFollowed} for those the clocks cannot rule out.
   */
  public Observation followedBy(String eventId, Observation later) {
    List<Observation> occurrences = answeredOccurrences(eventId);
    if (occurrences.size() < 2) {
      return occurrences.isEmpty() ? null : occurrences.get(0);
    }
    Observation cause = later.causeAmong(occurrences);
    if (cause != null) {
      return cause;
    }
    int likely = lastBefore(occurrences, later);
    return likely < 0 ? null : occurrences.get(likely);
  }

  /**
   * Occurrences after the one {@link #followedBy} names that {@code later} may have followed all the
   * same, for all the clocks tell: a settled transfer stamped 30 ms after the close it caused, by a
   * clock the data does not bound, within the flow's {@code clockSkew}. Empty when a consumer's span
   * ties {@code later} to its cause, or nothing is that close.
   */
  public List<Observation> mayHaveFollowed(String eventId, Observation later) {
    List<Observation> occurrences = answeredOccurrences(eventId);
    if (occurrences.size() < 2 || later.causeAmong(occurrences) != null) {
      return List.of();
    }
    List<Observation> out = new ArrayList<>(1);
    for (int i = lastBefore(occurrences, later) + 1; i < occurrences.size(); i++) {
      if (clocks().gap(occurrences.get(i), later).max() >= 0) {
        out.add(occurrences.get(i));
      }
    }
    return out;
  }

  /** The index of the last occurrence before {@code later} by the clocks' best estimate, or -1. */
  private int lastBefore(List<Observation> occurrences, Observation later) {
    for (int i = occurrences.size() - 1; i >= 0; i--) {
      if (clocks().gap(occurrences.get(i), later).estimate() >= 0) {
        return i;
      }
    }
    return -1;
  }

  private List<Observation> answeredOccurrences(String eventId) {
    List<Observation> occurrences = new ArrayList<>(2);
    for (Observation o : observations) {
      if (o.eventId().equals(eventId) && !retried(o)) {
        occurrences.add(o);
      }
    }
    return occurrences;
  }

  /** The last occurrence of an event with a payload, failed attempts left out, or {@code null}. */
  public Observation lastAnswered(String eventId) {
    Observation last = null;
    for (Observation o : observations) {
      if (o.eventId().equals(eventId) && o.payload() != null && !retried(o)) {
        last = o;
      }
    }
    return last;
  }

  /** Whether an event happened more than once with a payload, failed attempts left out. */
  public boolean repeated(String eventId) {
    int n = 0;
    for (Observation o : observations) {
      if (o.eventId().equals(eventId) && o.payload() != null && !retried(o) && ++n > 1) {
        return true;
      }
    }
    return false;
  }

  /** The first occurrence of an event, or {@code null}. */
  public Observation first(String eventId) {
    for (Observation o : observations) {
      if (o.eventId().equals(eventId)) {
        return o;
      }
    }
    return null;
  }

  public boolean has(String eventId) {
    return first(eventId) != null;
  }

  /** Whether the event was observed or is unobserved by design (see {@link #visibility()}). */
  public boolean accountedFor(String eventId) {
    return has(eventId) || visibility().isUnobserved(eventId);
  }

  /** Whether every event of the stage is accounted for: observed, or unobserved by design. */
  public boolean stageComplete(String stageId) {
    StageSpec stage = spec.stage(stageId);
    if (stage == null) {
      return false;
    }
    for (EventSpec e : stage.events()) {
      if (!accountedFor(e.id())) {
        return false;
      }
    }
    return true;
  }

  /** Whether any event of the stage was observed. */
  public boolean stageSeen(String stageId) {
    StageSpec stage = spec.stage(stageId);
    return stage != null && stage.events().stream().anyMatch(e -> has(e.id()));
  }

  /**
   * A terminal stage the instance reached: one seen with every event accounted for, or else one its
   * path requires whose events are all unobserved by design (an unsampled trace exports no span of
   * a stage made of spans alone); {@code null} when none was reached.
   */
  public StageSpec terminalReached() {
    StageSpec unseen = null;
    for (StageSpec s : spec.terminalStages()) {
      if (!stageComplete(s.id())) {
        continue;
      }
      if (stageSeen(s.id())) {
        return s;
      }
      if (unseen == null && paths().requirement(s.id()) == FlowPaths.Requirement.REQUIRED) {
        unseen = s;
      }
    }
    return unseen;
  }

  /**
   * Whether the stage happened in the instance this one's trace began in, before a key changed on
   * the way ({@link Visibility.Cause#BEFORE_KEY_CHANGED}): every event of it is accounted for there.
   */
  public boolean stageBeforeKeyChanged(String stageId) {
    StageSpec stage = spec.stage(stageId);
    if (stage == null || divertedFrom() == null) {
      return false;
    }
    for (EventSpec e : stage.events()) {
      Visibility.Unobserved u = visibility().unobserved(e.id());
      if (u == null || u.cause() != Visibility.Cause.BEFORE_KEY_CHANGED) {
        return false;
      }
    }
    return true;
  }

  /** Whether every event of the stage is unobserved by design (the stage may have happened unseen). */
  public boolean stageUnobserved(String stageId) {
    StageSpec stage = spec.stage(stageId);
    return stage != null && stage.events().stream().allMatch(e -> visibility().isUnobserved(e.id()));
  }

  /** Earliest time of the stage's first occurrences, or {@code Long.MAX_VALUE} when unseen. */
  public long stageStart(String stageId) {
    Observation o = stageFirst(stageId);
    return o == null ? Long.MAX_VALUE : o.timeEpochNanos();
  }

  /** The earliest of the stage's events' first occurrences (the first listed at a tie), or {@code null}. */
  public Observation stageFirst(String stageId) {
    Observation best = null;
    for (EventSpec e : spec.stage(stageId).events()) {
      Observation o = first(e.id());
      if (o != null && (best == null || o.timeEpochNanos() < best.timeEpochNanos())) {
        best = o;
      }
    }
    return best;
  }

  /** Latest time among the stage's first occurrences, or {@code Long.MIN_VALUE} when unseen. */
  public long stageEnd(String stageId) {
    long t = Long.MIN_VALUE;
    for (EventSpec e : spec.stage(stageId).events()) {
      Observation o = first(e.id());
      if (o != null) t = Math.max(t, o.timeEpochNanos());
    }
    return t;
  }

  /**
   * Each event's payload as the flow carried it on — its first occurrence's, or for an event
   * retried after failing, the attempt's that {@link #answered} — by event id (events without a
   * payload are absent).
   */
  public Map<String, JsonNode> firstPayloads() {
    Map<String, JsonNode> out = new java.util.HashMap<>();
    boolean anyRetried = !retried().isEmpty();
    for (Observation o : observations) {
      if (o.payload() != null && !(anyRetried && retried(o))) {
        out.putIfAbsent(o.eventId(), o.payload());
      }
    }
    if (anyRetried) {
      for (Observation o : observations) { // an event whose every attempt failed: its first
        if (o.payload() != null && (answeredUnseen == null || !answeredUnseen.contains(o))) {
          out.putIfAbsent(o.eventId(), o.payload());
        }
      }
    }
    return out;
  }

  /** A short text of the keys: {@code requestId=…, orderId=…}. */
  public String describeKeys() {
    StringBuilder sb = new StringBuilder();
    keys.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(k).append('=').append(v));
    return sb.toString();
  }

  @Override
  public String toString() {
    return "FlowInstance{" + spec.name() + " " + describeKeys() + ", " + observations.size() + " observations}";
  }
}
