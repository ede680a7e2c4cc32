package io.flowtrace.verifier.check;

import io.flowtrace.verifier.model.FlowInstance;
import io.flowtrace.verifier.model.Observation;
import io.flowtrace.verifier.model.Visibility;
import io.flowtrace.verifier.rules.Evaluation;
import io.flowtrace.verifier.schema.SchemaProblem;
import io.flowtrace.verifier.spec.RuleSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import tools.jackson.databind.JsonNode;

/**
 * {@code BAD_TRANSFORMATION} for every transformation rule that is false, naming the rule and the
 * values it saw. A rule runs once all events it reads have a payload; a rule that cannot be
 * evaluated is reported too, unless a payload it reads already broke its schema (that is the
 * violation then).
 */
public final class RuleCheck implements Check {
  @Override
  public List<Violation> check(FlowInstance instance) {
    List<Violation> out = new ArrayList<>();
    Map<String, JsonNode> payloads = instance.firstPayloads();
    for (RuleSpec rule : instance.spec().rules()) {
      read(instance, rule, payloads, out, null);
    }
    return out;
  }

  /**
   * Judges a rule: its violations into {@code violations}, and into {@code undecided} a rule false
   * for the occurrence of a repeated event the clocks put first but true for one they cannot rule
   * out; either may be {@code null}.
   */
  private static void read(FlowInstance instance, RuleSpec rule, Map<String, JsonNode> payloads,
      List<Violation> violations, List<Unverified> undecided) {
    if (!payloads.keySet().containsAll(rule.expression().referencedVariables()) || !hasAll(instance, rule.requires())) {
      return;
    }
    String each = repeatedLast(instance, rule);
    Map<String, JsonNode> bound = firstUnseen(instance, rule, each) == null ? oneDelivery(instance, rule, payloads) : null;
    if (bound == null) {
      return; // no delivery observed with all it reads, or a first occurrence unseen: see unverified()
    }
    if (each == null) {
      judge(instance, rule, followed(instance, rule, bound, null), subject(instance, rule), violations, undecided, null);
      return;
    }
    Set<String> said = new java.util.HashSet<>();
    for (Observation o : instance.all(each)) {
      if (o.payload() != null && !instance.retried(o)) {
        Map<String, JsonNode> one = new java.util.HashMap<>(bound);
        one.put(each, o.payload());
        judge(instance, rule, followed(instance, rule, one, o), o, violations, undecided, said);
      }
    }
  }

  /**
   * The payloads a rule reads: {@code likely}, and where an occurrence of a repeated event after the
   * one the clocks put first may be the one followed all the same, {@code alternative} with it
   * instead, and {@code why} in words.
   */
  private record Bound(Map<String, JsonNode> likely, Map<String, JsonNode> alternative, String why) {}

  /**
   * A violation when the rule is false (or cannot be evaluated) over what it read, shown on {@code
   * subject}, unless it holds over an occurrence the clocks cannot rule out (then {@code undecided});
   * once per message where {@code said} is given (a redelivered copy says the same).
   */
  private static void judge(FlowInstance instance, RuleSpec rule, Bound bound, Observation subject,
      List<Violation> violations, List<Unverified> undecided, Set<String> said) {
    Evaluation e = rule.expression().evaluate(bound.likely());
    if (e.isTrue()) {
      return;
    }
    if (e.failed() && (rule.expression().referencedVariables().stream()
        .map(instance::first).anyMatch(o -> o != null && !o.schemaProblems().isEmpty())
        || !subject.schemaProblems().isEmpty())
        || readsSchemaViolation(instance, rule, subject)) {
      return; // the SCHEMA_VIOLATION of what it read is the report (a score sent as "806", not 806)
    }
    String stage = rule.stage() != null ? rule.stage() : subject.stageId();
    if (bound.alternative() != null && rule.expression().evaluate(bound.alternative()).isTrue()) {
      if (undecided != null) {
        undecided.add(new Unverified("rule", stage, rule.name(), "false for " + bound.why()));
      }
      return;
    }
    if (violations == null) {
      return;
    }
    String seen = e.observed().entrySet().stream()
        .map(x -> x.getKey() + " = " + x.getValue())
        .collect(Collectors.joining(", "));
    String message = e.failed()
        ? "rule '" + rule.name() + "' could not be evaluated: " + e.error()
        : "rule '" + rule.name() + "' is false: " + rule.expression().oneLine();
    if (!seen.isEmpty()) {
      message += " (saw " + seen + ")";
    }
    if (said != null && !said.add(message)) {
      return;
    }
    violations.add(Violation.builder(ViolationKind.BAD_TRANSFORMATION, stage)
        .event(subject.eventId())
        .field(rule.field())
        .message(message)
        .expected(rule.expression().oneLine())
        .actual(seen.isEmpty() ? String.valueOf(e.value()) : seen)
        .evidence(Evidence.of(subject))
        .build());
  }

  /**
   * The event of the rule's last stage — the one no other event it reads comes after — where it
   * happened more than once (a transfer rejected, then settled; a document uploaded for each
   * request): the rule holds for each occurrence, read with what that occurrence followed.
   * {@code null} otherwise, and for an event read together with a callback's calls.
   */
  private static String repeatedLast(FlowInstance instance, RuleSpec rule) {
    Set<String> variables = rule.expression().referencedVariables();
    String last = null;
    for (String v : variables) {
      if (instance.repeated(v)) {
        if (last != null) {
          return null;
        }
        last = v;
      }
    }
    if (last == null || partnered(instance, rule, last)) {
      return null;
    }
    Map<String, Set<String>> ancestors = instance.spec().ancestors();
    String stage = instance.spec().event(last).stageId();
    for (String w : variables) {
      String other = instance.spec().event(w).stageId();
      if (!w.equals(last) && (other.equals(stage) || ancestors.getOrDefault(other, Set.of()).contains(stage))) {
        return null; // another event it reads comes after it, or with it
      }
    }
    return last;
  }

  @Override
  public List<Unverified> unverified(FlowInstance instance) {
    List<Unverified> out = new ArrayList<>();
    Map<String, JsonNode> firsts = null;
    for (RuleSpec rule : instance.spec().rules()) {
      if (rule.expression().referencedVariables().stream().anyMatch(instance::repeated)) {
        firsts = firsts == null ? instance.firstPayloads() : firsts;
        read(instance, rule, firsts, null, out);
      }
      java.util.Collection<String> reads = reads(rule);
      String unobserved = null;
      Visibility.Unobserved why = null;
      boolean rest = true;
      if (anyOffPath(instance, reads)) {
        continue; // it reads an event of a branch the data did not take
      }
      for (String v : reads) {
        Visibility.Unobserved u = instance.visibility().unobserved(v);
        if (u != null) {
          unobserved = unobserved == null ? v : unobserved + ", " + v;
          why = why == null ? u : why;
        } else {
          rest &= instance.has(v);
        }
      }
      if (why != null && rest) {
        String stage = rule.stage() != null ? rule.stage() : instance.spec().event(why.eventId()).stageId();
        out.add(new Unverified("rule", stage, rule.name(), "reads " + unobserved + ", not observed: " + why.reason()));
      } else if (why == null && rest) {
        firsts = firsts == null ? instance.firstPayloads() : firsts;
        String unseen = firstUnseen(instance, rule, repeatedLast(instance, rule));
        String unread = unread(instance, rule, firsts);
        if (unread != null) {
          String stage = rule.stage() != null ? rule.stage() : instance.spec().event(unread).stageId();
          Observation o = instance.first(unread);
          out.add(new Unverified("rule", stage, rule.name(), "reads " + unread + ", whose payload could not be read"
              + (o == null || o.schemaProblems().isEmpty() ? "" : " (" + o.schemaProblems().get(0).message() + ")")));
        } else if (unseen != null) {
          String stage = rule.stage() != null ? rule.stage() : instance.spec().event(unseen).stageId();
          out.add(new Unverified("rule", stage, rule.name(), "reads the first " + unseen + ", which may not have been"
              + " observed: the first observed came after one that was not (" + instance.visibility()
              .partlyObserved(unseen).reason() + ")"));
        } else if (oneDelivery(instance, rule, firsts) == null) {
          String first = rule.expression().referencedVariables().iterator().next();
          String stage = rule.stage() != null ? rule.stage() : instance.spec().event(first).stageId();
          out.add(new Unverified("rule", stage, rule.name(), "reads " + String.join(", ",
              rule.expression().referencedVariables()) + ", of which no one delivery in a trace of its own was observed"
              + " with all (the others' traces were not sampled, or their records carry no trace context)"));
        }
      }
    }
    return out;
  }

  /**
   * An event the rule reads that was observed without a payload because its schema could not be had
   * (a registry that did not answer), or {@code null}. A payload that could not be decoded for a
   * fault of its own is the {@code SCHEMA_VIOLATION} already.
   */
  private static String unread(FlowInstance instance, RuleSpec rule, Map<String, JsonNode> firsts) {
    for (String v : rule.expression().referencedVariables()) {
      Observation o = firsts.containsKey(v) ? null : instance.first(v);
      if (o != null && o.schemaProblems().stream().anyMatch(SchemaProblem::unavailable)) {
        return v;
      }
    }
    return null;
  }

  /**
   * The payloads a rule reads: each event's first, but where it reads two or more events that
   * happen in one callback's trace (a webhook and the call its handler makes), those of the first
   * delivery observed with all of them — a delivery whose trace was not sampled left some out, and
   * another delivery's are other values. {@code null} when no one delivery has them all.
   */
  private static Map<String, JsonNode> oneDelivery(FlowInstance instance, RuleSpec rule, Map<String, JsonNode> firsts) {
    List<String> together = new ArrayList<>();
    for (String v : rule.expression().referencedVariables()) {
      if (together.isEmpty() ? partnered(instance, rule, v) : instance.visibility().inOneCallbackTrace(together.get(0), v)) {
        together.add(v);
      }
    }
    if (together.isEmpty() || oneTrace(instance, together)) {
      return firsts;
    }
    for (Observation o : instance.all(together.get(0))) {
      Map<String, JsonNode> bound = new java.util.HashMap<>(firsts);
      for (String v : together) {
        Observation p = o.traceId() == null ? null : inTrace(instance, v, o.traceId());
        if (p == null) {
          bound = null;
          break;
        }
        bound.put(v, p.payload());
      }
      if (bound != null) {
        return bound;
      }
    }
    return null;
  }

  /**
   * The payloads with, for an event the rule reads that happened several times in a stage before
   * another event it reads (a courier search retried until one was found, then the pickup), the
   * occurrence that later event followed: the one whose consumer made it, else the last before it —
   * not the first, a search that found no courier. Events read together with a callback's calls
   * keep their delivery's payloads.
   */
  private static Bound followed(FlowInstance instance, RuleSpec rule, Map<String, JsonNode> bound, Observation last) {
    Set<String> variables = rule.expression().referencedVariables();
    if (variables.size() < 2) {
      return new Bound(bound, null, null);
    }
    Map<String, JsonNode> out = bound;
    Map<String, JsonNode> alternative = null;
    String why = null;
    Map<String, Set<String>> ancestors = null;
    for (String v : variables) {
      if (last != null && v.equals(last.eventId()) || !instance.repeated(v) || partnered(instance, rule, v)) {
        continue;
      }
      ancestors = ancestors == null ? instance.spec().ancestors() : ancestors;
      String stage = instance.spec().event(v).stageId();
      Observation follower = last != null && ancestors.getOrDefault(last.stageId(), Set.of()).contains(stage) ? last
          : follower(instance, variables, stage, ancestors);
      Observation source = follower == null ? null : instance.followedBy(v, follower);
      if (source != null && source.payload() != null && source.payload() != out.get(v)) {
        out = out == bound ? new java.util.HashMap<>(bound) : out;
        out.put(v, source.payload());
      }
      List<Observation> maybe = follower == null ? List.of() : instance.mayHaveFollowed(v, follower);
      Observation other = maybe.isEmpty() ? null : maybe.get(maybe.size() - 1);
      if (other != null && other.payload() != null) {
        alternative = alternative == null ? new java.util.HashMap<>() : alternative;
        alternative.put(v, other.payload());
        why = (source == null ? "the first " + v : v + " " + source.describe()) + ", true for " + other.describe()
            + ": which of them " + follower.eventId() + " (" + follower.describe() + ") followed, the hosts' clocks"
            + " cannot tell (within the flow's clockSkew of each other, no trace relates them)";
      }
    }
    if (alternative != null) {
      Map<String, JsonNode> others = alternative;
      alternative = new java.util.HashMap<>(out);
      alternative.putAll(others);
    }
    return new Bound(out, alternative, why);
  }

  /** Of the other events the rule reads, the first occurrence of the earliest one of a stage after {@code stage}. */
  private static Observation follower(FlowInstance instance, Set<String> variables, String stage,
      Map<String, Set<String>> ancestors) {
    Observation follower = null;
    for (String w : variables) {
      Observation o = instance.answered(w);
      if (o != null && o.payload() != null && ancestors.getOrDefault(o.stageId(), Set.of()).contains(stage)
          && (follower == null || o.timeEpochNanos() < follower.timeEpochNanos())) {
        follower = o;
      }
    }
    return follower;
  }

  /**
   * Whether the first occurrences of the events are in one trace, or none of the events' occurrences
   * carries a trace at all (nothing to tell deliveries apart by). A first occurrence without a trace
   * beside others with one (a record that lost its context) is of a delivery that cannot be told.
   */
  private static boolean oneTrace(FlowInstance instance, List<String> events) {
    String trace = null;
    boolean traceless = false;
    for (String v : events) {
      Observation o = instance.answered(v);
      if (o == null) {
        return true;
      }
      if (o.traceId() == null) {
        traceless = true;
        continue;
      }
      if (trace != null && !trace.equals(o.traceId())) {
        return false;
      }
      trace = o.traceId();
    }
    if (!traceless) {
      return true;
    }
    for (String v : events) {
      for (Observation o : instance.all(v)) {
        if (o.traceId() != null) {
          return false;
        }
      }
    }
    return true;
  }

  private static Observation inTrace(FlowInstance instance, String event, String traceId) {
    for (Observation p : instance.all(event)) {
      if (p.payload() != null && !instance.retried(p) && traceId.equals(p.traceId())) {
        return p;
      }
    }
    return null;
  }

  /** Whether a field the rule reads broke its event's schema (there, or in what holds it, or in it). */
  private static boolean readsSchemaViolation(FlowInstance instance, RuleSpec rule, Observation subject) {
    for (String path : rule.expression().observedPaths()) {
      int dot = path.indexOf('.');
      String v = dot < 0 ? null : path.substring(0, dot);
      Observation o = v == null ? null : v.equals(subject.eventId()) ? subject : instance.first(v);
      if (o != null && o.brokeSchemaAt(path.substring(dot + 1))) {
        return true;
      }
    }
    return false;
  }

  /**
   * An event the rule reads the first occurrence of (not one delivery of a callback together with
   * the calls its handler makes) whose first occurrence may not have been observed: an upload in a
   * trace that was not sampled, before the first one observed. {@code null} when there is none.
   */
  private static String firstUnseen(FlowInstance instance, RuleSpec rule, String each) {
    for (String v : rule.expression().referencedVariables()) {
      if (!v.equals(each) && instance.visibility().mayPrecedeFirstObserved(v) && !partnered(instance, rule, v)) {
        return v;
      }
    }
    return null;
  }

  private static boolean partnered(FlowInstance instance, RuleSpec rule, String v) {
    for (String w : rule.expression().referencedVariables()) {
      if (!w.equals(v) && instance.visibility().inOneCallbackTrace(v, w)) {
        return true;
      }
    }
    return false;
  }

  /** The events a rule reads: its variables, then the events it requires (no copy unless it requires some). */
  private static java.util.Collection<String> reads(RuleSpec rule) {
    java.util.Set<String> variables = rule.expression().referencedVariables();
    if (rule.requires().isEmpty()) {
      return variables;
    }
    java.util.Set<String> reads = new java.util.LinkedHashSet<>(variables);
    reads.addAll(rule.requires());
    return reads;
  }

  private static boolean hasAll(FlowInstance instance, List<String> events) {
    for (String e : events) {
      if (!instance.has(e)) {
        return false;
      }
    }
    return true;
  }

  private static boolean anyOffPath(FlowInstance instance, java.util.Collection<String> events) {
    for (String e : events) {
      if (instance.offPath(e)) {
        return true;
      }
    }
    return false;
  }

  /** The occurrence a rule's failure is shown on: the first variable of the rule's stage, else the latest. */
  private static Observation subject(FlowInstance instance, RuleSpec rule) {
    Observation latest = null;
    for (String v : rule.expression().referencedVariables()) {
      Observation o = instance.answered(v);
      if (o == null) {
        continue;
      }
      if (rule.stage() != null && o.stageId().equals(rule.stage())) {
        return o;
      }
      if (latest == null || o.timeEpochNanos() > latest.timeEpochNanos()) {
        latest = o;
      }
    }
    return latest;
  }
}
