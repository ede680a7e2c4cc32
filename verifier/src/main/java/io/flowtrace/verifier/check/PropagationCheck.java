package io.flowtrace.verifier.check;

import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanLink;
import io.flowtrace.verifier.assembly.FlowInstance;
import io.flowtrace.verifier.assembly.Observation;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code BROKEN_PROPAGATION}: a Kafka hop left its producer's trace. The instance's traces are
 * connected starting from its entry events and the events declared to start a new trace
 * ({@code trace: new}); a record's consumer spans carry the trace on (as children, or through a
 * link from a new trace). A record without a {@code traceparent} header, or produced in a trace
 * nothing connects to, is reported once per disconnected trace.
 */
public final class PropagationCheck implements Check {
  @Override
  public List<Violation> check(FlowInstance instance) {
    List<Violation> out = new ArrayList<>();
    if (!instance.sawSpans()) {
      return out;
    }
    Set<String> connected = new HashSet<>();
    for (Observation o : instance.observations()) {
      boolean entry = instance.spec().stage(o.stageId()).after().isEmpty();
      if ((entry || o.event().newTrace()) && o.trace() != null) {
        connected.add(o.trace().traceId());
      }
    }
    if (connected.isEmpty() && !instance.observations().isEmpty()) {
      Observation first = instance.observations().get(0);
      if (first.trace() != null) {
        connected.add(first.trace().traceId());
      }
    }
    // Grow the connected set to a fixpoint: consumers of connected records carry the trace on.
    boolean grew = true;
    while (grew) {
      grew = false;
      for (Observation o : instance.observations()) {
        if (o.record() == null || o.trace() == null || !connected.contains(o.trace().traceId())) {
          continue;
        }
        for (Span c : o.consumers()) {
          if (continues(c, o) && connected.add(c.traceId())) {
            grew = true;
          }
        }
      }
      for (Observation o : instance.observations()) {
        if (o.span() == null || o.trace() == null || connected.contains(o.span().traceId())) {
          continue;
        }
        for (SpanLink link : o.span().links()) {
          if (connected.contains(link.traceId()) && connected.add(o.span().traceId())) {
            grew = true;
          }
        }
      }
    }
    Set<String> reported = new LinkedHashSet<>();
    for (Observation o : instance.observations()) {
      if (o.record() != null && o.trace() == null) {
        out.add(Violation.builder(ViolationKind.BROKEN_PROPAGATION, o.stageId())
            .event(o.eventId())
            .message(o.describe() + " has no traceparent header: its producer did not propagate the trace")
            .expected("traceparent header").actual("absent")
            .evidence(o.evidence()).build());
        continue;
      }
      if (o.trace() == null || connected.contains(o.trace().traceId()) || !reported.add(o.trace().traceId())) {
        continue;
      }
      String parent = previousTraceId(instance, o, connected);
      out.add(Violation.builder(ViolationKind.BROKEN_PROPAGATION, o.stageId())
          .event(o.eventId())
          .message(o.describe() + " is in trace " + o.trace().traceId()
              + ", which neither continues nor links to the flow's trace" + (parent == null ? "" : " " + parent)
              + ": the hop before " + o.eventId() + " lost the trace context")
          .expected(parent == null ? "a connected trace" : "trace " + parent)
          .actual("trace " + o.trace().traceId())
          .evidence(o.evidence()).build());
    }
    return out;
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
