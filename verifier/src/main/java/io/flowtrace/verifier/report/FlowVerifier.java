package io.flowtrace.verifier.report;

import io.flowtrace.verifier.check.Check;
import io.flowtrace.verifier.check.EnrichmentCheck;
import io.flowtrace.verifier.check.IdempotencyCheck;
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
    return new FlowVerifier(List.of(new StageCheck(), new SchemaCheck(), new EnrichmentCheck(),
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
    VerdictStatus status = !violations.isEmpty() ? VerdictStatus.FAILED
        : complete ? VerdictStatus.PASSED
        : instance.deadlinePassed() ? VerdictStatus.FAILED : VerdictStatus.INCOMPLETE;
    Set<String> traces = new LinkedHashSet<>();
    List<TimelineEntry> timeline = new ArrayList<>();
    Corrections corrections = new Corrections(instance);
    for (Observation o : instance.observations()) {
      if (o.traceId() != null) {
        traces.add(o.traceId());
      }
      String where = o.record() != null ? o.record().coordinates()
          : o.span().service() + " " + o.span().kind() + " '" + o.span().name() + "'";
      timeline.add(new TimelineEntry(o.stageId(), o.eventId(), where,
          corrections.offset(Clocks.domain(o), o.timeEpochNanos()), o.traceId(), detail(instance, o, corrections)));
    }
    timeline = corrections.rebased(timeline);
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

  private static TimelineEntry.Detail detail(FlowInstance instance, Observation o, Corrections corrections) {
    io.flowtrace.tracer.model.Span span = o.span();
    List<TimelineEntry.Consumer> consumers = new ArrayList<>(o.consumers().size());
    for (io.flowtrace.tracer.model.Span c : o.consumers()) {
      consumers.add(new TimelineEntry.Consumer(c.service(), c.traceId(), c.spanId(),
          corrections.offset(Clocks.domain(c), c.startEpochNanos())));
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
        o.isRecord() ? corrections.offset(Clocks.domain(o), o.record().timestampNanos()) : 0,
        consumers,
        o.payload(),
        problems,
        o.sampled(),
        o.spansLost(),
        span == null || o.isRecord() ? null : span.firstAttribute("url.full", "http.route", "url.path"),
        instance.retried(o) ? FlowInstance.failure(span) : null);
  }

  /**
   * Times as offsets from the instance's start on its first event's clock, each corrected by the
   * skew the data proves between its clock and that one ({@link Clocks#corrections}: 0 where
   * nothing relates the two), so that pictures drawn from the timeline show what caused what in
   * order — not a consumer before its producer because one host's clock runs 40 ms ahead. Where
   * the data does not relate two clocks (a trace sampled out: records only), the flow's own stage
   * order does, as far as the data and the flow's {@code clockSkew} allow: a stage is not drawn
   * before a stage it comes after because its producer's clock is behind, a skew the checks
   * allowed; one further ahead is drawn where it happened.
   */
  private static final class Corrections {
    private final FlowInstance instance;
    private final Map<String, Long> shifts;
    private final Map<String, Integer> stageOrder = new java.util.HashMap<>();

    Corrections(FlowInstance instance) {
      this.instance = instance;
      instance.spec().stages().forEach(st -> stageOrder.put(st.id(), stageOrder.size()));
      this.shifts = instance.observations().isEmpty() ? Map.of()
          : declaredOrder(instance).corrections(Clocks.domain(instance.observations().get(0)));
    }

    /**
     * The instance's clocks bounded further by the order of its stages' first events, and by a
     * record's time (stamped on its producer's clock, within its producer span) before its consumers.
     */
    private static Clocks declaredOrder(FlowInstance instance) {
      Clocks clocks = instance.clocks();
      for (Observation o : instance.observations()) {
        io.flowtrace.tracer.model.Span p = o.isRecord() ? o.producer() : null;
        long stamped = o.isRecord() ? o.record().timestampNanos() : 0;
        if (p == null || stamped < p.startEpochNanos() || stamped > p.endEpochNanos()) {
          continue;
        }
        for (io.flowtrace.tracer.model.Span c : o.consumers()) {
          clocks = clocks.withBound(Clocks.domain(o), Clocks.domain(c), stamped - c.startEpochNanos());
        }
      }
      // only as far as the skew allowed: a stage further ahead of its predecessor is out of order
      // (an ORDER_VIOLATION), and is drawn where it happened, not bent into the declared order
      long allowance = instance.spec().clockSkew().toNanos();
      for (io.flowtrace.verifier.spec.StageSpec stage : instance.spec().stages()) {
        Observation later = instance.stageFirst(stage.id());
        for (String before : stage.after()) {
          Observation earlier = later == null ? null : instance.stageFirst(before);
          long gap = earlier == null ? 0 : earlier.timeEpochNanos() - later.timeEpochNanos();
          if (earlier != null && gap <= allowance) {
            clocks = clocks.withBound(Clocks.domain(earlier), Clocks.domain(later), gap);
          }
        }
      }
      return clocks;
    }

    long offset(String domain, long epochNanos) {
      return epochNanos - instance.startEpochNanos() + shifts.getOrDefault(domain, 0L);
    }

    /** In corrected time order; shifted so that the earliest is at 0 when a correction put one before it. */
    List<TimelineEntry> rebased(List<TimelineEntry> timeline) {
      if (shifts.values().stream().allMatch(v -> v == 0)) {
        return timeline;
      }
      long min = timeline.stream().mapToLong(TimelineEntry::offsetNanos).min().orElse(0);
      long by = Math.min(min, 0);
      List<TimelineEntry> out = new ArrayList<>(timeline.size());
      for (TimelineEntry t : timeline) {
        out.add(by == 0 ? t : t.shifted(-by));
      }
      // at one time, a stage before the stages that come after it
      out.sort(java.util.Comparator.comparingLong(TimelineEntry::offsetNanos)
          .thenComparingInt(t -> stageOrder.getOrDefault(t.stage(), 0)));
      return out;
    }
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
