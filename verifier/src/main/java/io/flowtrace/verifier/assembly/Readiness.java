package io.flowtrace.verifier.assembly;

import io.flowtrace.tracer.model.Span;
import io.flowtrace.verifier.check.PropagationCheck;
import io.flowtrace.verifier.model.FlowInstance;
import io.flowtrace.verifier.model.Visibility;
import io.flowtrace.verifier.model.FlowPaths;
import io.flowtrace.verifier.model.FlowPaths.Requirement;
import io.flowtrace.verifier.model.Observation;
import io.flowtrace.verifier.spec.EventSpec;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.SpanCompleteness;
import io.flowtrace.verifier.spec.StageSpec;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Whether an instance's data is ready to be judged, and if not what it still waits for: its
 * required stages, the root span of a disconnected trace, a messaging span a sampled record names,
 * span events an exporter may still hold, or the input's first spans. Reads an instance snapshot
 * and what the engine has seen (the span index, the roots arrived); decides nothing itself.
 */
final class Readiness {
  private static final PropagationCheck PROPAGATION = new PropagationCheck();

  private final FlowSpec spec;
  private final EngineContext context;

  Readiness(FlowSpec spec, EngineContext context) {
    this.spec = spec;
    this.context = context;
  }

  /**
   * Whether the data can be decided on now: complete, trace-connected, and not waiting for spans
   * that a lossy pipeline may still deliver. Unsampled traces are not waited for: their spans never come.
   */
  boolean settled(FlowInstance snapshot) {
    if (!isComplete(snapshot) || snapshot.visibility().awaitsLostSpans()) {
      return false;
    }
    if (!context.sawSpans) {
      return !awaitsFirstSpans(snapshot);
    }
    return PROPAGATION.check(snapshot).isEmpty() && awaitedMessagingSpan(snapshot) == null;
  }

  static boolean requiredStagesPresent(FlowInstance snapshot) {
    FlowPaths paths = snapshot.paths();
    for (StageSpec s : snapshot.spec().stages()) {
      Requirement r = paths.requirement(s.id());
      boolean owed = r == Requirement.UNDECIDED || r == Requirement.REQUIRED && !snapshot.stageComplete(s.id());
      if (owed && !decidedElsewhere(snapshot, s)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether a stage's condition read only events that happened in the instance whose trace this
   * one began in, part-way through the flow (a key changed on the way): the choice was made there,
   * and that instance's verdict tells it; this one neither waits for nor judges it.
   */
  private static boolean decidedElsewhere(FlowInstance snapshot, StageSpec s) {
    return snapshot.divertedFrom() != null && decidedElsewhere(snapshot, s, 0);
  }

  /** As above, for a stage with a condition, or one that follows only such stages (a side step's second call). */
  private static boolean decidedElsewhere(FlowInstance snapshot, StageSpec s, int depth) {
    if (s == null || depth > 64) {
      return false;
    }
    if (s.when() == null) {
      return !s.after().isEmpty() && s.after().stream().allMatch(p -> decidedElsewhere(snapshot, snapshot.spec().stage(p),
          depth + 1));
    }
    if (s.when().referencedVariables().isEmpty()) {
      return false;
    }
    for (String v : s.when().referencedVariables()) {
      Visibility.Unobserved u = snapshot.visibility().unobserved(v);
      if (u == null || u.cause() != Visibility.Cause.BEFORE_KEY_CHANGED) {
        return false;
      }
    }
    return true;
  }

  /**
   * What an instance whose terminal stage was seen still owes, in words, or {@code null}: a required
   * stage not complete ({@code stage 'notified'}), or what tells whether a stage is needed at all,
   * where its condition reads events not seen ({@code the condition of stage 'rejected' (it reads
   * food_orders_rejected, not seen)}).
   */
  static String owed(FlowInstance snapshot) {
    FlowPaths paths = snapshot.paths();
    for (StageSpec s : snapshot.spec().stages()) {
      Requirement r = paths.requirement(s.id());
      if (decidedElsewhere(snapshot, s)) {
        continue;
      }
      if (r == Requirement.REQUIRED && !snapshot.stageComplete(s.id())) {
        return "stage '" + s.id() + "'";
      }
      if (r == Requirement.UNDECIDED && s.choice() != null && s.when() == null) {
        return "a way of choice '" + s.choice() + "'";
      }
      if (r == Requirement.UNDECIDED) {
        List<String> unseen = new ArrayList<>();
        if (s.when() != null) {
          for (String v : new java.util.TreeSet<>(s.when().referencedVariables())) {
            if (!snapshot.has(v)) {
              unseen.add(v);
            }
          }
        }
        return "the condition of stage '" + s.id() + "'"
            + (unseen.isEmpty() ? "" : " (it reads " + String.join(", ", unseen) + ", not seen)");
      }
    }
    return null;
  }

  static boolean isComplete(FlowInstance snapshot) {
    return snapshot.terminalReached() != null && requiredStagesPresent(snapshot);
  }

  /**
   * What spans the instance, its terminal stage seen, waits for past the grace (a description), or
   * {@code null}: the spans of the instance's stages still on their way once the input has
   * delivered spans, unless the flow's spans may be missing; before that, when
   * spans are expected ({@link FlowEngine.Builder#expectSpans}) and a record says its trace is
   * sampled, the first spans themselves.
   */
  String awaited(FlowInstance snapshot) {
    return awaited(snapshot, false);
  }

  /**
   * As {@link #awaited(FlowInstance)}; with {@code upstreamOnly}, span events are awaited only in
   * stages all of whose predecessors are complete — for an instance that lacks a record, the spans
   * of the stages after the one where it stopped cannot make it any less incomplete.
   */
  String awaited(FlowInstance snapshot, boolean upstreamOnly) {
    if (context.sawSpans) {
      // spans that may never come (a tail sampler, a lossy pipeline) are waited for the grace alone:
      // past it, what they would show is not verified, and one that still comes amends the verdict
      return spec.spans() == SpanCompleteness.MAY_BE_MISSING ? null : awaitedSpans(snapshot, upstreamOnly);
    }
    return awaitsFirstSpans(snapshot) ? "the first spans (none has arrived yet)" : null;
  }

  /**
   * Whether no span has arrived yet where spans are expected, and a record of the instance carries
   * a sampled trace: judged now it would lack every span (stages missing, propagation unjudged),
   * while an exporter's first batch is typically seconds behind the records it traced.
   */
  boolean awaitsFirstSpans(FlowInstance snapshot) {
    if (context.sawSpans || !context.spansExpected) {
      return false;
    }
    return snapshot.observations().stream().anyMatch(Readiness::sampledRecord);
  }

  /** A record whose {@code traceparent} says its trace is sampled: its spans are exported. */
  static boolean sampledRecord(Observation o) {
    return o.isRecord() && o.trace() != null && o.sampled();
  }

  /**
   * What spans the instance, its terminal stage seen, waits for past the grace (a description), or
   * {@code null}: the root span of a disconnected trace, a messaging span on its way, else the span
   * events that alone keep a required stage incomplete (a stage also missing a record is incomplete
   * whatever comes, but another one's spans may still arrive and withdraw a false MISSING_STAGE).
   */
  private String awaitedSpans(FlowInstance snapshot, boolean upstreamOnly) {
    Set<String> unrooted = awaitedRoots(snapshot);
    if (!unrooted.isEmpty()) {
      return "the spans of trace " + unrooted.iterator().next();
    }
    String messaging = awaitedMessagingSpan(snapshot);
    if (messaging != null) {
      return messaging;
    }
    if (isComplete(snapshot)) {
      return null;
    }
    FlowPaths paths = snapshot.paths();
    List<String> missing = new ArrayList<>();
    for (StageSpec s : snapshot.spec().stages()) {
      // A stage whose condition is undecided waits with the rest: the data it reads may be in the
      // very spans awaited (a payment's response choosing between capture and cancel).
      if (paths.requirement(s.id()) != Requirement.REQUIRED || snapshot.stageComplete(s.id())) {
        continue;
      }
      if (upstreamOnly && !s.after().stream()
          .allMatch(p -> snapshot.stageComplete(p) || paths.requirement(p) != Requirement.REQUIRED)) {
        continue;
      }
      List<String> spansOfStage = new ArrayList<>();
      boolean recordMissing = false;
      for (EventSpec e : s.events()) {
        if (!snapshot.has(e.id())) {
          recordMissing |= e.isTopic();
          spansOfStage.add(e.id());
        }
      }
      if (!recordMissing) {
        missing.addAll(spansOfStage); // else the stage is missing a record: no exporter holds that back
      }
    }
    return missing.isEmpty() ? null : "the span event" + (missing.size() == 1 ? " " : "s ") + String.join(", ", missing);
  }

  /**
   * A required stage lacking a record that no stage seen follows (a description), or {@code null}:
   * a side step, such as a batch consumer's award, may come after the terminal stage, up to the
   * flow's deadline. A stage that a seen one follows should have come before it: it is not awaited.
   */
  String awaitedSideStage(FlowInstance snapshot) {
    FlowPaths paths = snapshot.paths();
    Set<String> followed = null;
    for (StageSpec s : spec.stages()) {
      if (paths.requirement(s.id()) != Requirement.REQUIRED || snapshot.stageComplete(s.id()) || !lacksARecord(snapshot, s)) {
        continue;
      }
      if (followed == null) {
        followed = followedBySeenStages(snapshot);
      }
      if (!followed.contains(s.id())) {
        return "stage " + s.id();
      }
    }
    return null;
  }

  /** The stages a stage seen in the instance follows, directly or through others. */
  private Set<String> followedBySeenStages(FlowInstance snapshot) {
    Set<String> followed = new HashSet<>();
    List<String> todo = new ArrayList<>();
    for (StageSpec s : spec.stages()) {
      if (snapshot.stageSeen(s.id())) {
        todo.addAll(s.after());
      }
    }
    while (!todo.isEmpty()) {
      String id = todo.remove(todo.size() - 1);
      StageSpec s = spec.stage(id);
      if (followed.add(id) && s != null) {
        todo.addAll(s.after());
      }
    }
    return followed;
  }

  private static boolean lacksARecord(FlowInstance snapshot, StageSpec s) {
    for (EventSpec e : s.events()) {
      if (e.isTopic() && !snapshot.has(e.id())) {
        return true;
      }
    }
    return false;
  }

  /** Whether a required stage not complete lacks a record: no span still to come completes it. */
  static boolean lacksARecord(FlowInstance snapshot) {
    FlowPaths paths = snapshot.paths();
    for (StageSpec s : snapshot.spec().stages()) {
      if (paths.requirement(s.id()) == Requirement.REQUIRED && !snapshot.stageComplete(s.id())
          && lacksARecord(snapshot, s)) {
        return true;
      }
    }
    return false;
  }

  /**
   * A messaging span the data shows is on its way (a description), or {@code null}: the producer
   * span a sampled record's {@code traceparent} names, on a topic whose producers are traced; or the
   * consumer span of a record whose consumer carried its trace on — an event of a following stage in
   * that trace hangs from a parent span not arrived — on a topic whose consumers are traced. Both
   * are what orders events across hosts (a record sent before its cause was received) and are
   * exported in batches apart from the records; a verdict taken without them may be overturned.
   */
  String awaitedMessagingSpan(FlowInstance snapshot) {
    List<Observation> observations = snapshot.observations();
    for (Observation o : observations) {
      if (!sampledRecord(o)) {
        continue;
      }
      String topic = o.record().topic();
      if (o.producer() == null && context.spans.sendsTraced(topic)) {
        return "the producer span of " + o.describe();
      }
      if (o.consumers().isEmpty() && context.spans.receivesTraced(topic) && continuedFromMissingParent(snapshot, o)) {
        return "the consumer span of " + o.describe();
      }
    }
    return null;
  }

  /** Whether an event of a stage that follows {@code o}'s, in its trace, hangs from a span not arrived. */
  boolean continuedFromMissingParent(FlowInstance snapshot, Observation o) {
    Set<String> held = null;
    for (Observation next : snapshot.observations()) {
      Span span = next.span();
      if (span == null || span.parentSpanId().isEmpty() || !span.traceId().equals(o.traceId())
          || !spec.stage(next.stageId()).after().contains(o.stageId())) {
        continue;
      }
      if (held == null) {
        held = new HashSet<>();
        for (Observation x : snapshot.observations()) {
          if (x.span() != null) {
            held.add(x.span().spanId());
          }
          for (Span c : x.consumers()) {
            held.add(c.spanId());
          }
        }
      }
      if (!held.contains(span.parentSpanId()) && !context.spans.holds(span.parentSpanId())) {
        return true;
      }
    }
    return false;
  }

  /** Disconnected traces whose root span has not arrived at all (not merely without a link). */
  Set<String> awaitedRoots(FlowInstance snapshot) {
    Set<String> unrooted = PROPAGATION.unrootedTraces(snapshot);
    unrooted.removeIf(context::rootArrived);
    return unrooted;
  }
}
