package io.flowtrace.verifier.model;

import io.flowtrace.verifier.rules.Evaluation;
import io.flowtrace.verifier.spec.EventSpec;
import io.flowtrace.verifier.spec.StageSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * Which stages an instance's data calls for. A stage is {@code REQUIRED} when a predecessor is
 * required and its {@code when} condition (if any) is true, {@code FORBIDDEN} when its condition is
 * false or every predecessor is forbidden, and {@code UNDECIDED} while the data the condition reads
 * has not been seen. An optional stage is required once it happened (or a stage that follows only
 * it did), else not taken.
 *
 * <p>When the condition reads an event that is unobserved by design (its trace was not sampled,
 * see {@link Visibility}), the path is taken from what was observed instead: the alternative
 * whose events were seen is required, its siblings forbidden, both <em>assumed</em> (the condition
 * itself is not verified). If no alternative was seen, they form an <em>open choice</em>: one of
 * them must happen, so the stages after them are required.
 */
public final class FlowPaths {

  /** Whether the data calls for a stage. */
  public enum Requirement { REQUIRED, FORBIDDEN, UNDECIDED }

  private final Map<String, Requirement> requirements;
  private final Map<String, Evaluation> conditions;
  private final Map<String, String> assumed;
  private final Set<String> openChoice;
  private final Map<String, String> taken;

  private FlowPaths(Map<String, Requirement> requirements, Map<String, Evaluation> conditions,
      Map<String, String> assumed, Set<String> openChoice, Map<String, String> taken) {
    this.requirements = requirements;
    this.conditions = conditions;
    this.assumed = assumed;
    this.openChoice = openChoice;
    this.taken = taken;
  }

  /** The paths of an instance (also memoized as {@link FlowInstance#paths()}). */
  public static FlowPaths of(FlowInstance instance) {
    Resolver r = new Resolver(instance);
    for (StageSpec stage : instance.spec().stages()) {
      r.resolve(stage, 0);
    }
    return new FlowPaths(r.req, r.cond, r.assumed.isEmpty() ? Map.of() : Collections.unmodifiableMap(r.assumed),
        r.open.isEmpty() ? Set.of() : Collections.unmodifiableSet(r.open),
        r.taken.isEmpty() ? Map.of() : Collections.unmodifiableMap(r.taken));
  }

  private static final class Resolver {
    final FlowInstance instance;
    final Map<String, JsonNode> payloads;
    final Map<String, Requirement> req = new LinkedHashMap<>();
    final Map<String, Evaluation> cond = new HashMap<>();
    final Map<String, String> assumed = new LinkedHashMap<>();
    final Set<String> open = new LinkedHashSet<>();
    final Map<String, String> taken = new HashMap<>();
    Map<String, Set<String>> ancestors;

    Resolver(FlowInstance instance) {
      this.instance = instance;
      this.payloads = instance.firstPayloads();
    }

    Requirement resolve(StageSpec stage, int depth) {
      Requirement known = req.get(stage.id());
      if (known != null) {
        return known;
      }
      if (depth > 64) {
        return Requirement.UNDECIDED;
      }
      Requirement fromPredecessors;
      if (stage.after().isEmpty()) {
        fromPredecessors = Requirement.REQUIRED;
      } else {
        boolean anyRequired = false;
        boolean anyOpen = false;
        boolean allForbidden = true;
        for (String p : stage.after()) {
          StageSpec ps = instance.spec().stage(p);
          Requirement r = ps == null ? Requirement.FORBIDDEN : resolve(ps, depth + 1);
          anyRequired |= r == Requirement.REQUIRED;
          anyOpen |= open.contains(p);
          allForbidden &= r == Requirement.FORBIDDEN || open.contains(p);
        }
        // One stage of an open choice must happen, so a stage after all of them is required.
        fromPredecessors = anyRequired || (anyOpen && allForbidden) ? Requirement.REQUIRED
            : allForbidden ? Requirement.FORBIDDEN : Requirement.UNDECIDED;
      }
      Requirement result = fromPredecessors;
      if (stage.when() != null && fromPredecessors != Requirement.FORBIDDEN) {
        result = condition(stage, fromPredecessors, depth);
      }
      if (stage.choice() != null && result != Requirement.FORBIDDEN) {
        result = choose(stage, result);
      }
      if (stage.optional() && result != Requirement.FORBIDDEN && !instance.stageSeen(stage.id())
          && !impliedByFollower(stage)) {
        result = Requirement.FORBIDDEN; // not taken: due only once it happens
      }
      req.put(stage.id(), result);
      return result;
    }

    /**
     * A way of a choice: the one that happened first is taken, the others are not to happen; none
     * yet, each is undecided (one of them is owed).
     */
    private Requirement choose(StageSpec stage, Requirement result) {
      StageSpec first = null;
      List<StageSpec> ways = new ArrayList<>();
      for (StageSpec way : instance.spec().stages()) {
        if (stage.choice().equals(way.choice())) {
          ways.add(way);
          if (instance.stageSeen(way.id())
              && (first == null || instance.stageStart(way.id()) < instance.stageStart(first.id()))) {
            first = way;
          }
        }
      }
      for (int i = 0; i < ways.size() && first == null; i++) {
        // a stage after it alone was seen: it was taken, its own events unseen (spans of a trace not
        // sampled) or missing
        first = impliedByFollower(ways.get(i)) ? ways.get(i) : null;
      }
      for (int i = 0; i < ways.size() && first == null; i++) {
        // a way that may have happened unseen (its spans in a trace not sampled) is taken as such:
        // whether it was is not verified, and no way is owed
        first = instance.stageUnobserved(ways.get(i).id()) ? ways.get(i) : null;
        if (first != null && first != stage) {
          assumed.put(stage.id(), "not taken: " + first.id() + ", another way of choice '" + stage.choice()
              + "', may have happened unseen");
        }
      }
      if (first == null) {
        return Requirement.UNDECIDED;
      }
      taken.put(stage.id(), first.id());
      return first == stage ? result : Requirement.FORBIDDEN;
    }

    /**
     * Whether a stage that comes only after this one happened: then this one (optional) happened
     * too, and is missing if it was not seen.
     */
    private boolean impliedByFollower(StageSpec stage) {
      for (StageSpec other : instance.spec().stages()) {
        if (other.after().contains(stage.id()) && instance.stageSeen(other.id())
            && other.after().stream().noneMatch(p -> !p.equals(stage.id()) && instance.stageSeen(p))) {
          return true;
        }
      }
      return false;
    }

    /**
     * The payloads a stage's condition reads: each event's first, but for an event of an earlier
     * stage that happened several times, the occurrence the stage followed — or, while the stage has
     * not happened, the last so far: a courier search retried until it found one decides the pickup
     * by the attempt that worked.
     */
    private Map<String, JsonNode> inputs(StageSpec stage) {
      return inputs(stage, false);
    }

    /**
     * With {@code alternative}, the inputs with, for each such event, the last occurrence after the
     * one the stage followed that the clocks cannot rule out ({@link FlowInstance#mayHaveFollowed}),
     * or {@code null} when there is none.
     */
    private Map<String, JsonNode> inputs(StageSpec stage, boolean alternative) {
      Map<String, JsonNode> out = payloads;
      boolean any = false;
      for (String v : stage.when().referencedVariables()) {
        EventSpec e = instance.spec().event(v);
        if (e == null || e.stageId().equals(stage.id()) || !instance.repeated(v)) {
          continue;
        }
        ancestors = ancestors == null ? instance.spec().ancestors() : ancestors;
        if (!ancestors.getOrDefault(stage.id(), Set.of()).contains(e.stageId())) {
          continue;
        }
        Observation first = instance.stageFirst(stage.id());
        Observation source = first == null ? instance.lastAnswered(v) : instance.followedBy(v, first);
        if (alternative && first != null) {
          List<Observation> maybe = instance.mayHaveFollowed(v, first);
          if (!maybe.isEmpty()) {
            source = maybe.get(maybe.size() - 1);
            any = true;
          }
        }
        if (source != null && source.payload() != null && source.payload() != out.get(v)) {
          out = out == payloads ? new HashMap<>(payloads) : out;
          out.put(v, source.payload());
        }
      }
      return alternative && !any ? null : out;
    }

    private Requirement condition(StageSpec stage, Requirement fromPredecessors, int depth) {
      Map<String, JsonNode> payloads = inputs(stage);
      Set<String> inputs = stage.when().referencedVariables();
      List<String> unobserved = new ArrayList<>();
      boolean awaited = false;
      boolean neverComing = true;
      for (String v : inputs) {
        if (!payloads.containsKey(v)) {
          if (!instance.visibility().isUnobserved(v)) {
            awaited = true;
            neverComing = neverComing && notTaken(v, depth);
          } else {
            unobserved.add(v);
          }
        }
      }
      if (awaited && neverComing) {
        // what it waits for is of paths the data did not take, and will never come: what is here
        // decides it, or it does not hold (a wallet pass for a ticket never issued)
        Evaluation e = stage.when().evaluate(payloads);
        if (!e.failed()) {
          // decided: a stage taken against it is named as such (a blocked transfer's funds reserved)
          cond.put(stage.id(), e);
        }
        return !e.failed() && e.isTrue() ? fromPredecessors : Requirement.FORBIDDEN;
      }
      if (awaited) {
        // its data may still come — unless what is here decides it alone: !(seats held) || payment
        // declined is true where the seats were not held, and no payment result will ever come
        if (!shortCircuits(stage.when().source())) {
          return Requirement.UNDECIDED;
        }
        Evaluation e = stage.when().evaluate(payloads);
        if (e.failed() || !e.isFalse() && !e.isTrue()) {
          return Requirement.UNDECIDED;
        }
        cond.put(stage.id(), e);
        return e.isFalse() ? Requirement.FORBIDDEN : fromPredecessors;
      }
      String why;
      if (unobserved.isEmpty()) {
        Evaluation e = stage.when().evaluate(payloads);
        Map<String, JsonNode> alternative = e.isTrue() || !instance.stageSeen(stage.id()) ? null : inputs(stage, true);
        if (alternative != null && stage.when().evaluate(alternative).isTrue()) {
          // false for the retried step's attempt the clocks put before the stage, true for a later one
          // within their skew of it: which the stage followed cannot be told
          assumed.put(stage.id(), "taken as observed; its condition " + stage.when().oneLine() + " was not checked:"
              + " it is false for one occurrence of what it reads and true for a later one, within the hosts' clocks'"
              + " skew of the stage's start, and which of them the stage followed cannot be told");
          return fromPredecessors;
        }
        cond.put(stage.id(), e);
        if (!e.failed()) {
          return e.isFalse() ? Requirement.FORBIDDEN : e.isTrue() ? fromPredecessors : Requirement.UNDECIDED;
        }
        // no data still to come will make it evaluable: decided by what was observed, as when unobserved
        why = "it could not be evaluated: " + e.error();
      } else {
        // what was observed may decide it alone: premium && airport is false for a standard rider,
        // whatever the unsampled span would say (CEL's && and || do not need the unknown side then)
        Evaluation e = stage.when().evaluate(payloads);
        if (!e.failed() && (e.isFalse() || e.isTrue())) {
          cond.put(stage.id(), e);
          return e.isFalse() ? Requirement.FORBIDDEN : fromPredecessors;
        }
        why = String.join(", ", unobserved) + " not observed ("
            + instance.visibility().unobserved(unobserved.get(0)).reason() + ")";
      }
      if (instance.stageSeen(stage.id()) || instance.stageBeforeKeyChanged(stage.id())) {
        assumed.put(stage.id(), "taken as observed; its condition " + stage.when().oneLine() + " was not checked: "
            + why);
        return fromPredecessors;
      }
      for (StageSpec sibling : siblings(stage)) {
        if (instance.stageSeen(sibling.id()) || instance.stageBeforeKeyChanged(sibling.id())) {
          assumed.put(stage.id(), "not taken: " + sibling.id() + " was observed instead; its condition "
              + stage.when().oneLine() + " was not checked: " + why);
          return Requirement.FORBIDDEN;
        }
      }
      if (fromPredecessors == Requirement.REQUIRED) {
        open.add(stage.id());
      }
      return Requirement.UNDECIDED;
    }

    /** Whether an event a condition reads is of a stage the data did not take: it will never come. */
    private boolean notTaken(String eventId, int depth) {
      EventSpec e = instance.spec().event(eventId);
      StageSpec of = e == null ? null : instance.spec().stage(e.stageId());
      return of != null && resolve(of, depth + 1) == Requirement.FORBIDDEN;
    }

    /** Whether a condition may be decided by part of its inputs: CEL's {@code ||}, {@code &&} and {@code ?:}. */
    private static boolean shortCircuits(String source) {
      return source.contains("||") || source.contains("&&") || source.contains("?");
    }

    private List<StageSpec> siblings(StageSpec stage) {
      List<StageSpec> out = new ArrayList<>();
      for (StageSpec other : instance.spec().stages()) {
        if (other != stage && other.when() != null && !Collections.disjoint(other.after(), stage.after())) {
          out.add(other);
        }
      }
      return out;
    }
  }

  public Requirement requirement(String stageId) {
    return requirements.getOrDefault(stageId, Requirement.UNDECIDED);
  }

  /** The evaluated {@code when} condition of a stage, or {@code null} if not evaluated. */
  public Evaluation condition(String stageId) {
    return conditions.get(stageId);
  }

  /**
   * Why a stage's requirement was taken from what was observed instead of its condition (which read
   * an unobserved event), or {@code null} when its condition decided (or it has none).
   */
  public String assumption(String stageId) {
    return assumed.get(stageId);
  }

  /** Stages with an assumed requirement, with why. */
  public Map<String, String> assumptions() {
    return assumed;
  }

  /**
   * Alternatives none of which was observed and whose conditions read unobserved events: one of
   * them must happen, but which one cannot be told.
   */
  public Set<String> openChoice() {
    return openChoice;
  }

  /**
   * For a way of a choice ({@link StageSpec#choice}), the way taken — the one that happened first —,
   * or {@code null} while none happened.
   */
  public String taken(String stageId) {
    return taken.get(stageId);
  }

  /** Whether the stage's events can all be unobserved by design (it has no record event). */
  static boolean onlySpans(StageSpec stage) {
    for (EventSpec e : stage.events()) {
      if (e.isTopic()) {
        return false;
      }
    }
    return true;
  }
}
