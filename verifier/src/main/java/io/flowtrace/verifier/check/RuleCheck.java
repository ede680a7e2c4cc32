package io.flowtrace.verifier.check;

import io.flowtrace.verifier.model.FlowInstance;
import io.flowtrace.verifier.model.Observation;
import io.flowtrace.verifier.model.Visibility;
import io.flowtrace.verifier.rules.Evaluation;
import io.flowtrace.verifier.spec.RuleSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
      if (!payloads.keySet().containsAll(rule.expression().referencedVariables()) || !hasAll(instance, rule.requires())) {
        continue;
      }
      Evaluation e = rule.expression().evaluate(payloads);
      if (e.isTrue()) {
        continue;
      }
      Observation subject = subject(instance, rule);
      if (e.failed() && rule.expression().referencedVariables().stream()
          .map(instance::first).anyMatch(o -> o != null && !o.schemaProblems().isEmpty())) {
        continue;
      }
      String seen = e.observed().entrySet().stream()
          .map(x -> x.getKey() + " = " + x.getValue())
          .collect(Collectors.joining(", "));
      String stage = rule.stage() != null ? rule.stage() : subject.stageId();
      String message = e.failed()
          ? "rule '" + rule.name() + "' could not be evaluated: " + e.error()
          : "rule '" + rule.name() + "' is false: " + rule.expression().source().trim();
      if (!seen.isEmpty()) {
        message += " (saw " + seen + ")";
      }
      out.add(Violation.builder(ViolationKind.BAD_TRANSFORMATION, stage)
          .event(subject.eventId())
          .field(rule.field())
          .message(message)
          .expected(rule.expression().source().trim())
          .actual(seen.isEmpty() ? String.valueOf(e.value()) : seen)
          .evidence(Evidence.of(subject))
          .build());
    }
    return out;
  }

  @Override
  public List<Unverified> unverified(FlowInstance instance) {
    List<Unverified> out = new ArrayList<>();
    for (RuleSpec rule : instance.spec().rules()) {
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
      }
    }
    return out;
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
