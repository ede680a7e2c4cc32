package io.flowtrace.verifier.report;

import io.flowtrace.verifier.check.Check;
import io.flowtrace.verifier.check.EnrichmentCheck;
import io.flowtrace.verifier.check.IdempotencyCheck;
import io.flowtrace.verifier.check.KeyCheck;
import io.flowtrace.verifier.check.LatencyCheck;
import io.flowtrace.verifier.check.OrderCheck;
import io.flowtrace.verifier.check.PropagationCheck;
import io.flowtrace.verifier.check.RuleCheck;
import io.flowtrace.verifier.check.SchemaCheck;
import io.flowtrace.verifier.check.StageCheck;
import io.flowtrace.verifier.check.Unverified;
import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.check.ViolationKind;
import io.flowtrace.verifier.model.Clocks;
import io.flowtrace.verifier.model.Diversion;
import io.flowtrace.verifier.model.FlowInstance;
import io.flowtrace.verifier.model.Observation;
import io.flowtrace.verifier.model.Offsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs every check on an assembled instance and turns the result into a {@link Verdict}. Pure: the
 * same instance always gives the same verdict. The checks read the real payloads; the verdict is
 * what reports may show, so the spec's {@code redact} fields are masked in it by {@link Redaction}
 * here, the one place verdicts are made.
 */
public final class FlowVerifier {

  private final List<Check> checks;

  public FlowVerifier(List<Check> checks) {
    this.checks = List.copyOf(checks);
  }

  /** The verifier with every check of the contract, in report order. */
  public static FlowVerifier standard() {
    return new FlowVerifier(List.of(new StageCheck(), new SchemaCheck(), new KeyCheck(), new EnrichmentCheck(),
        new RuleCheck(), new IdempotencyCheck(), new OrderCheck(), new LatencyCheck(),
        new PropagationCheck()));
  }

  /**
   * Verifies the instance.
   *
   * @param complete whether the instance reached its terminal stage with everything it needs
   */
  public Verdict verify(FlowInstance instance, boolean complete, String reason) {
    List<Violation> violations = new ArrayList<>();
    List<Unverified> unverified = new ArrayList<>();
    for (Check check : checks) {
      violations.addAll(check.check(instance));
      unverified.addAll(check.unverified(instance));
    }
    violations = withoutEchoes(violations);
    if (instance.beganBeforeInput() && (!violations.isEmpty() || !complete)) {
      // what it lacks, and what it seems to say, may be what came before the input began
      for (Violation v : violations) {
        unverified.add(new Unverified("stage", v.stage(), v.event() == null ? v.stage() : v.event(),
            v.kind() + " not judged: the instance may have begun before the input did (its entry not seen, its first"
                + " event within a deadline of the input's first): " + v.message()));
      }
      violations = new ArrayList<>();
      reason = "may have begun before the input did: its entry was not seen";
      complete = false;
    }
    VerdictStatus status = !violations.isEmpty() ? VerdictStatus.FAILED
        : complete ? VerdictStatus.PASSED
        : instance.deadlinePassed() && !instance.beganBeforeInput() ? VerdictStatus.FAILED : VerdictStatus.INCOMPLETE;
    Set<String> traces = new LinkedHashSet<>();
    List<TimelineEntry> timeline = new ArrayList<>();
    Offsets offsets = instance.offsets();
    for (Observation o : instance.observations()) {
      if (o.traceId() != null) {
        traces.add(o.traceId());
      }
      String where = o.record() != null ? o.record().coordinates()
          : o.span().service() + " " + o.span().kind() + " '" + o.span().name() + "'";
      timeline.add(new TimelineEntry(o.stageId(), o.eventId(), where,
          offsets.at(o), o.traceId(), detail(instance, o, offsets)));
    }
    if (offsets.corrected()) {
      // in corrected time order; at one time, a stage before the stages that come after it
      Map<String, Integer> stageOrder = new java.util.HashMap<>();
      instance.spec().stages().forEach(st -> stageOrder.put(st.id(), stageOrder.size()));
      timeline.sort(java.util.Comparator.comparingLong(TimelineEntry::offsetNanos)
          .thenComparingInt(t -> stageOrder.getOrDefault(t.stage(), 0)));
    }
    return Redaction.of(instance).apply(new Verdict(instance.spec().name(), instance.keys(), status, violations,
        new ArrayList<>(traces), instance.startEpochNanos(), instance.asOfEpochNanos(), 0, reason, timeline,
        unverified, notes(instance)));
  }

  private static List<String> notes(FlowInstance instance) {
    Diversion from = instance.divertedFrom();
    if (from == null || instance.observations().isEmpty()) {
      return instance.clocks().notes();
    }
    Observation first = instance.observations().get(0);
    List<String> notes = new ArrayList<>(instance.clocks().notes());
    notes.add("this instance began part-way through the flow, with " + first.eventId() + " (" + first.describe()
        + "), in a trace of the instance " + from.describeKeys(instance.spec().keys())
        + ": a key changed on the way, and its events belong to that instance");
    return notes;
  }

  private static TimelineEntry.Detail detail(FlowInstance instance, Observation o, Offsets offsets) {
    io.flowtrace.tracer.model.Span span = o.span();
    List<TimelineEntry.Consumer> consumers = new ArrayList<>(o.consumers().size());
    for (io.flowtrace.tracer.model.Span c : o.consumers()) {
      consumers.add(new TimelineEntry.Consumer(c.service(), c.traceId(), c.spanId(),
          offsets.at(Clocks.domain(c), c.startEpochNanos()),
          o.isRecord() && !offsets.alike(Clocks.domain(o), Clocks.domain(c))));
    }
    consumers.sort(java.util.Comparator.comparingLong(TimelineEntry.Consumer::offsetNanos));
    List<String> problems = new ArrayList<>(o.schemaProblems().size());
    o.schemaProblems().forEach(p -> problems.add(p.path() + ": " + p.message()));
    return new TimelineEntry.Detail(
        span == null ? null : span.service(),
        span == null ? null : span.kind().name(),
        span == null ? null : span.name(),
        span == null ? null : span.spanId(),
        span == null || span.parentSpanId().isEmpty() ? null : span.parentSpanId(),
        span == null ? 0 : Math.max(0, span.endEpochNanos() - span.startEpochNanos()),
        o.isRecord() ? o.record().topic() : null,
        o.isRecord() ? o.record().partition() : null,
        o.isRecord() ? o.record().offset() : null,
        o.isRecord() ? offsets.at(Clocks.domain(o), o.record().timestampNanos()) : 0,
        consumers,
        o.payload(),
        problems,
        o.sampled(),
        o.spansLost(),
        span == null || o.isRecord() ? null : span.firstAttribute("url.full", "http.url", "http.route", "url.path"),
        instance.retried(o) ? FlowInstance.failure(span) : null);
  }

  /**
   * A required field an enrichment names is reported as MISSING_ENRICHMENT; the schema's
   * "required property" complaint about the same field of the same event is the same loss, so it
   * is dropped.
   */
  private static List<Violation> withoutEchoes(List<Violation> violations) {
    Set<String> enrichment = new java.util.HashSet<>();
    for (Violation v : violations) {
      if (v.kind() == ViolationKind.MISSING_ENRICHMENT) {
        enrichment.add(v.event() + "|" + v.field());
      }
    }
    if (enrichment.isEmpty()) {
      return violations;
    }
    List<Violation> out = new ArrayList<>();
    for (Violation v : violations) {
      if (v.kind() == ViolationKind.SCHEMA_VIOLATION && enrichment.contains(v.event() + "|" + v.field())) {
        continue;
      }
      out.add(v);
    }
    return out;
  }
}
