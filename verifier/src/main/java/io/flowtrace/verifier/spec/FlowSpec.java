package io.flowtrace.verifier.spec;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A declared flow: its business keys, stages (a graph: {@code after} edges, data-chosen
 * alternatives via {@code when}), enrichment, transformation rules, idempotency, latency budgets,
 * the terminal stage(s) and the instance deadline. Immutable; built by {@link FlowSpecLoader}.
 *
 * @param tolerance slack for comparing times on one clock (Kafka record times have millisecond precision)
 * @param clockSkew the largest clock difference assumed between hosts the data does not relate
 * @param spans whether every span of a sampled trace is expected ({@link SpanCompleteness#COMPLETE}) or
 *     spans may be lost on the way (tail sampling, lossy pipelines)
 * @param redact field paths masked in every payload of the flow wherever a report shows it (events
 *     add their own, {@link EventSpec#redact()}); checks still read the real values
 */
public record FlowSpec(
    String name,
    String description,
    Path source,
    List<String> keys,
    Duration deadline,
    Duration tolerance,
    Duration clockSkew,
    SpanCompleteness spans,
    List<StageSpec> stages,
    List<EnrichmentSpec> enrichment,
    List<RuleSpec> rules,
    List<IdempotencySpec> idempotency,
    List<BudgetSpec> budgets,
    List<FieldPath> redact) {

  /** Default instance deadline when a spec names none. */
  public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(30);
  /** Default clock tolerance for ordering (Kafka record times have millisecond precision). */
  public static final Duration DEFAULT_TOLERANCE = Duration.ofMillis(1);
  /**
   * Default largest clock difference assumed between two hosts whose clocks the data cannot relate
   * (no producer/consumer or parent/child edge between them): 100 ms.
   */
  public static final Duration DEFAULT_CLOCK_SKEW = Duration.ofMillis(100);

  public FlowSpec {
    requireNonNull(clockSkew, "clockSkew");
    requireNonNull(spans, "spans");
    keys = List.copyOf(keys);
    stages = List.copyOf(stages);
    enrichment = List.copyOf(enrichment);
    rules = List.copyOf(rules);
    idempotency = List.copyOf(idempotency);
    budgets = List.copyOf(budgets);
    redact = redact == null ? List.of() : List.copyOf(redact);
  }

  /** The same flow with another deadline. */
  public FlowSpec withDeadline(Duration newDeadline) {
    return new FlowSpec(name, description, source, keys, newDeadline, tolerance, clockSkew, spans, stages,
        enrichment, rules, idempotency, budgets, redact);
  }

  /** The same flow with another span completeness. */
  public FlowSpec withSpans(SpanCompleteness newSpans) {
    return new FlowSpec(name, description, source, keys, deadline, tolerance, clockSkew, newSpans, stages,
        enrichment, rules, idempotency, budgets, redact);
  }

  /** The paths masked in payloads of {@code eventId}: the flow's, then the event's own. */
  public List<FieldPath> redactedPaths(String eventId) {
    EventSpec e = event(eventId);
    if (e == null || e.redact().isEmpty()) {
      return redact;
    }
    List<FieldPath> all = new ArrayList<>(redact);
    all.addAll(e.redact());
    return all;
  }

  /** Whether any payload of the flow has fields to mask. */
  public boolean redacts() {
    return !redact.isEmpty() || events().stream().anyMatch(e -> !e.redact().isEmpty());
  }

  public StageSpec stage(String id) {
    for (StageSpec s : stages) {
      if (s.id().equals(id)) {
        return s;
      }
    }
    return null;
  }

  /** All events of all stages, in declaration order. */
  public List<EventSpec> events() {
    List<EventSpec> all = new ArrayList<>();
    for (StageSpec s : stages) {
      all.addAll(s.events());
    }
    return all;
  }

  public EventSpec event(String id) {
    for (StageSpec s : stages) {
      for (EventSpec e : s.events()) {
        if (e.id().equals(id)) {
          return e;
        }
      }
    }
    return null;
  }

  /** Stages without predecessors: where an instance starts. */
  public List<StageSpec> entryStages() {
    return stages.stream().filter(s -> s.after().isEmpty()).toList();
  }

  public List<StageSpec> terminalStages() {
    return stages.stream().filter(StageSpec::terminal).toList();
  }

  /** Topic → events observed on it. */
  public Map<String, List<EventSpec>> eventsByTopic() {
    Map<String, List<EventSpec>> byTopic = new LinkedHashMap<>();
    for (EventSpec e : events()) {
      if (e.topic() != null) {
        byTopic.computeIfAbsent(e.topic(), t -> new ArrayList<>()).add(e);
      }
    }
    return byTopic;
  }

  /** Stage id → the stages reachable before it (transitively through {@code after}). */
  public Map<String, Set<String>> ancestors() {
    Map<String, Set<String>> result = new HashMap<>();
    for (StageSpec s : stages) {
      Set<String> seen = new java.util.LinkedHashSet<>();
      java.util.ArrayDeque<String> todo = new java.util.ArrayDeque<>(s.after());
      while (!todo.isEmpty()) {
        String id = todo.pop();
        if (seen.add(id)) {
          StageSpec p = stage(id);
          if (p != null) {
            todo.addAll(p.after());
          }
        }
      }
      result.put(s.id(), seen);
    }
    return result;
  }
}
