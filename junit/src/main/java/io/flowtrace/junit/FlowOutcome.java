package io.flowtrace.junit;

import static java.util.Objects.requireNonNull;

import io.flowtrace.verifier.check.Unverified;
import io.flowtrace.verifier.model.FlowInstance;
import io.flowtrace.verifier.model.Observation;
import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.report.ConsoleReport;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * What became of one flow instance during a test: its verdict and the assembled instance it was
 * made from (every occurrence of every declared event, with its decoded payload).
 *
 * @param verdict the verdict: the engine's, amended by anything that came later; or, when the
 *     instance was not decided in time, the verdict as of the moment the wait ended, as if the
 *     flow's deadline had passed then
 * @param instance the assembled instance the verdict was made from
 * @param decided whether the engine decided the instance (it reached its terminal stage, or its
 *     deadline passed) within the wait; {@code false} for the provisional verdict
 * @param redelivery the idempotency probe this outcome follows, or {@code null}
 */
public record FlowOutcome(Verdict verdict, FlowInstance instance, boolean decided, Redelivery redelivery) {

  public FlowOutcome {
    requireNonNull(verdict, "verdict");
    requireNonNull(instance, "instance");
  }

  /** The flow's name. */
  public String flow() {
    return verdict.flow();
  }

  /** The instance's business keys, e.g. {@code requestId} and {@code orderId}. */
  public Map<String, String> keys() {
    return verdict.keys();
  }

  public VerdictStatus status() {
    return verdict.status();
  }

  public List<Violation> violations() {
    return verdict.violations();
  }

  /**
   * {@code FULL} when every check ran on everything it needs; {@code PARTIAL} when something was
   * unobserved by design (the spans of an unsampled trace) and the checks that needed it could not
   * run — a {@code PASSED} instance then passed every check that could.
   */
  public Verdict.Verification verification() {
    return verdict.verification();
  }

  /** What could not be verified, and why (empty when fully verified). */
  public List<Unverified> unverified() {
    return verdict.unverified();
  }

  /** The first occurrence's decoded payload of an event (e.g. {@code orders_created}), if any. */
  public Optional<JsonNode> payload(String eventId) {
    List<JsonNode> all = payloads(eventId);
    return all.isEmpty() ? Optional.empty() : Optional.of(all.get(0));
  }

  /** The decoded payload of every occurrence of an event, in time order (undecodable ones left out). */
  public List<JsonNode> payloads(String eventId) {
    List<JsonNode> out = new ArrayList<>();
    for (Observation o : instance.all(eventId)) {
      if (o.payload() != null) {
        out.add(o.payload());
      }
    }
    return out;
  }

  /** How many distinct occurrences (spans, records) of the event the instance has. */
  public int occurrences(String eventId) {
    return occurrences(instance, eventId);
  }

  static int occurrences(FlowInstance instance, String eventId) {
    Set<String> distinct = new LinkedHashSet<>();
    for (Observation o : instance.all(eventId)) {
      distinct.add(o.identity());
    }
    return distinct.size();
  }

  /** The verdict as the console report prints it: keys, violations with expected vs actual, timeline. */
  public String report() {
    return ConsoleReport.format(verdict);
  }

  @Override
  public String toString() {
    return report();
  }
}
