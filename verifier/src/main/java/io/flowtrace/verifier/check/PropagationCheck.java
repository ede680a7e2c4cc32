package io.flowtrace.verifier.check;

import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanLink;
import io.flowtrace.verifier.internal.Texts;
import io.flowtrace.verifier.model.FlowInstance;
import io.flowtrace.verifier.model.Observation;
import io.flowtrace.verifier.model.Visibility;
import io.flowtrace.verifier.spec.EventSpec;
import io.flowtrace.verifier.spec.SpanCompleteness;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code BROKEN_PROPAGATION}: a Kafka hop left its producer's trace. The blame goes where the
 * context was lost:
 *
 * <ul>
 *   <li>a record without a {@code traceparent} header is reported at that record (with its
 *       producer span when it was found by topic/partition/offset) — unless its event says
 *       {@code trace: none}, a producer that does not trace; the traces its consumers then start
 *       are consequences of that loss and not reported again;
 *   <li>otherwise the instance's traces are connected starting from its entry events and the
 *       events declared to start a new trace ({@code trace: new}); a record's consumer spans carry
 *       the trace on (as children, or through a link from a new trace); an event in a trace nothing
 *       connects to is reported once per trace, at its first event.
 * </ul>
 *
 * A trace whose records say "not sampled" exports no spans, so the consumer span that would link
 * it cannot be seen: a disconnected unsampled trace is reported as not verified, not as broken —
 * also before the source has delivered any span, when no hop is judged at all, so that a sidecar
 * deciding its first orders before the exporter's first batch lists what replay lists.
 */
public final class PropagationCheck implements Check {
  /** What a record that lost the trace context (no {@code traceparent}, or one that is not W3C) was expected to carry. */
  public static final String LOST_CONTEXT = "traceparent header";


  @Override
  public List<Violation> check(FlowInstance instance) {
    List<Violation> out = new ArrayList<>();
    analyze(instance, out, null, null);
    return out;
  }

  @Override
  public List<Unverified> unverified(FlowInstance instance) {
    List<Unverified> out = new ArrayList<>();
    analyze(instance, null, out, null);
    return out;
  }

  /** Whether two records without trace context are one send made again: one event, key and value. */
  private static boolean sameSend(Observation a, Observation b) {
    return a.eventId().equals(b.eventId()) && java.util.Objects.equals(a.record().key(), b.record().key())
        && java.util.Arrays.equals(a.record().value(), b.record().value());
  }

  /**
   * The traces this check finds disconnected although their root span — the one that would
   * continue or link the trace — has not arrived: not one of their spans yet, or only spans below
   * the root (a producer span exported while its service's consumer span is still in another
   * batch). The hop may well be intact. A live verifier waits for them (up to the flow's deadline)
   * before it calls the hop broken; at the end of the input they count as broken.
   */
  public Set<String> unrootedTraces(FlowInstance instance) {
    Set<String> unrooted = new LinkedHashSet<>();
    analyze(instance, new ArrayList<>(), null, unrooted);
    return unrooted;
  }

  /** Whether a record of the instance carries trace context: its flow is traced. */
  private static boolean anyTraced(FlowInstance instance) {
    for (Observation o : instance.observations()) {
      if (o.isRecord() && o.trace() != null) {
        return true;
      }
    }
    return false;
  }

  private static void analyze(FlowInstance instance, List<Violation> violations, List<Unverified> unverified,
      Set<String> unrooted) {
    boolean judged = instance.sawSpans();
    if (!judged) {
      // No span has arrived from the source yet: a hop cannot be called broken, but a trace whose
      // records say "not sampled" will never export the span that would connect it, whatever comes.
      if (unverified == null) {
        return;
      }
      violations = null;
      unrooted = null;
    }
    Set<String> connected = new HashSet<>();
    Set<String> explained = new HashSet<>();
    for (Observation o : instance.observations()) {
      boolean entry = instance.spec().stage(o.stageId()).after().isEmpty();
      if ((entry || o.event().newTrace()) && o.trace() != null) {
        connected.add(o.trace().traceId());
      }
    }
    // A new trace whose starting span was not observed (sampled out, or missing — which is reported
    // as such): its records show where that trace is.
    // Where spans may be missing, a sampled trace holding a witness but none of the event's observed
    // occurrences is such a trace too (a first delivery whose spans were dropped, a redelivery's seen).
    boolean mayBeMissing = instance.spec().spans() == SpanCompleteness.MAY_BE_MISSING;
    for (EventSpec event : instance.spec().events()) {
      if (!event.newTrace()) {
        continue;
      }
      boolean missing = !instance.has(event.id());
      Set<String> seen = new HashSet<>();
      for (Observation o : instance.all(event.id())) {
        seen.add(o.traceId());
      }
      for (String witness : Visibility.witnesses(instance.spec(), event)) {
        for (Observation o : instance.all(witness)) {
          if (o.trace() != null && (missing || !o.sampled() || mayBeMissing && !seen.contains(o.trace().traceId()))) {
            connected.add(o.trace().traceId());
          }
        }
      }
    }
    if (connected.isEmpty() && !instance.observations().isEmpty()) {
      Observation first = instance.observations().get(0);
      if (first.trace() != null) {
        connected.add(first.trace().traceId());
      }
    }
    long firstLoss = Long.MAX_VALUE;
    List<Observation> lost = new ArrayList<>();
    for (Observation o : instance.observations()) {
      if (!o.isRecord() || o.trace() != null) {
        continue;
      }
      // the producer sent it again as it was (a retry): one loss, reported once
      boolean again = lost.stream().anyMatch(l -> sameSend(l, o));
      if (!again) {
        lost.add(o);
      }
      firstLoss = Math.min(firstLoss, o.timeEpochNanos());
      for (Span c : o.consumers()) {
        explained.add(c.traceId());
      }
      if (violations == null && !judged && unverified != null && !o.event().untraced() && anyTraced(instance)) {
        // no span has reached this engine (a restarted sidecar reading records again whose spans went
        // to its earlier run): the hop is not judged here, and one judged broken before is not disproven
        unverified.add(new Unverified("propagation", o.stageId(), o.eventId(), o.describe() + " carries no trace"
            + " context; not judged: no span of the flow has arrived"));
      }
      if (violations != null && !o.event().untraced() && !again) {
        Span producer = o.producer();
        String header = o.record().lastHeader(io.flowtrace.tracer.model.KafkaRecord.TRACEPARENT)
            .map(io.flowtrace.tracer.model.RecordHeader::valueAsString).orElse(null);
        String shown = header == null ? null : Texts.json(tools.jackson.databind.node.StringNode.valueOf(header), 80);
        violations.add(Violation.builder(ViolationKind.BROKEN_PROPAGATION, o.stageId())
            .event(o.eventId())
            .message(o.describe() + (header == null ? " has no traceparent header" : " has a traceparent header that is"
                + " not W3C trace context (" + shown + ")") + ": its producer"
                + (producer == null ? "" : " (" + producer.describe() + ")")
                + " did not propagate the trace context")
            .expected(LOST_CONTEXT).actual(header == null ? "absent" : shown)
            .evidence(Evidence.of(o)).build());
      }
    }
    grow(instance, connected);
    grow(instance, explained);
    Set<String> reported = new HashSet<>();
    for (Observation o : instance.observations()) {
      if (o.trace() == null) {
        continue;
      }
      String trace = o.trace().traceId();
      if (connected.contains(trace) || explained.contains(trace) || !reported.add(trace)) {
        continue;
      }
      if (o.timeEpochNanos() >= firstLoss) {
        continue; // after a record that lost the context: that loss is the one reported
      }
      if (!judged && o.sampled()) {
        continue;
      }
      if (!o.sampled() || instance.spec().spans() == SpanCompleteness.MAY_BE_MISSING && !spansSeenIn(instance, trace)) {
        if (unverified != null) {
          unverified.add(new Unverified("propagation", o.stageId(), o.eventId(), o.describe() + " is in trace "
              + trace + ", which no observed span connects to the flow's traces; "
              + (o.sampled() ? "its spans did not arrive (spans: may-be-missing)"
                  : "that trace is not sampled, so the span that would continue or link it is not exported")));
        }
        continue;
      }
      if (violations == null) {
        continue;
      }
      if (unrooted != null && !rootSeenIn(instance, trace)) {
        unrooted.add(trace);
      }
      String parent = previousTraceId(instance, o, connected);
      violations.add(Violation.builder(ViolationKind.BROKEN_PROPAGATION, o.stageId())
          .event(o.eventId())
          .message(o.describe() + " is in trace " + trace
              + ", which neither continues nor links to the flow's trace" + (parent == null ? "" : " " + parent)
              + ": the hop before " + o.eventId() + " lost the trace context")
          .expected(parent == null ? "a connected trace" : "trace " + parent)
          .actual("trace " + trace)
          .evidence(Evidence.of(o)).build());
    }
  }

  /** Grows a set of traces to a fixpoint: consumers that continue a record of it, spans that link to it. */
  private static void grow(FlowInstance instance, Set<String> traces) {
    if (traces.isEmpty()) {
      return;
    }
    boolean grew = true;
    while (grew) {
      grew = false;
      for (Observation o : instance.observations()) {
        if (o.isRecord() && o.trace() != null && traces.contains(o.trace().traceId())) {
          for (Span c : o.consumers()) {
            if (continues(c, o) && traces.add(c.traceId())) {
              grew = true;
            }
          }
        }
        if (!o.isRecord() && o.span() != null && !traces.contains(o.span().traceId())) {
          for (SpanLink link : o.span().links()) {
            if (traces.contains(link.traceId()) && traces.add(o.span().traceId())) {
              grew = true;
            }
          }
        }
      }
    }
  }

  /** Whether a span of {@code trace} without a parent (its root) is among the instance's spans. */
  private static boolean rootSeenIn(FlowInstance instance, String trace) {
    for (Observation o : instance.observations()) {
      if (isRootOf(o.span(), trace) || isRootOf(o.producer(), trace)) {
        return true;
      }
      for (Span c : o.consumers()) {
        if (isRootOf(c, trace)) {
          return true;
        }
      }
    }
    return false;
  }

  private static boolean isRootOf(Span span, String trace) {
    return span != null && span.traceId().equals(trace) && span.parentSpanId().isEmpty();
  }

  private static boolean spansSeenIn(FlowInstance instance, String trace) {
    for (Observation o : instance.observations()) {
      if (o.span() != null && o.span().traceId().equals(trace)) {
        return true;
      }
      for (Span c : o.consumers()) {
        if (c.traceId().equals(trace)) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Whether a consumer span carried the record's trace on: it is in the same trace, or links to the
   * record's producer span context. A span that merely names the record's offset did not.
   */
  private static boolean continues(Span consumer, Observation record) {
    if (consumer.traceId().equals(record.trace().traceId())) {
      return true;
    }
    for (SpanLink link : consumer.links()) {
      if (link.spanId().equals(record.trace().spanId()) && link.traceId().equals(record.trace().traceId())) {
        return true;
      }
    }
    return false;
  }

  private static String previousTraceId(FlowInstance instance, Observation o, Set<String> connected) {
    String best = null;
    for (Observation p : instance.observations()) {
      if (p == o) {
        break;
      }
      if (p.trace() != null && connected.contains(p.trace().traceId())) {
        best = p.trace().traceId();
      }
    }
    return best;
  }
}
