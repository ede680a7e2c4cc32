package io.flowtrace.junit;

import io.flowtrace.junit.internal.LiveSession;
import io.flowtrace.junit.internal.ProvisionalVerdicts;
import io.flowtrace.junit.internal.TestWindow;
import io.flowtrace.junit.internal.TestWindow.Entry;
import io.flowtrace.verifier.model.FlowInstance;
import io.flowtrace.verifier.model.Observation;
import io.flowtrace.verifier.spec.BudgetSpec;
import io.flowtrace.verifier.spec.EventSpec;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.IdempotencySpec;
import io.flowtrace.verifier.spec.StageSpec;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Waiting for verdicts, and the idempotency probe. */
final class Outcomes {

  /** Idempotency window when the flow names no latency budget for its effects. */
  static final Duration DEFAULT_IDEMPOTENCY_WINDOW = Duration.ofSeconds(2);

  private Outcomes() {}

  /**
   * The one instance of the flow with these key values that started during the test: once decided
   * and settled, or, if the timeout passes first, as judged then.
   */
  static FlowOutcome awaitOne(LiveSession session, String flow, Map<String, String> keys, Duration timeout) {
    session.spec(flow); // fails at once on an unknown name
    long settle = session.config().settle().toNanos();
    TestWindow window = session.window();
    session.await(() -> {
      List<Entry> m = matching(window.entries(), flow, keys);
      return m.size() > 1 || m.size() == 1 && m.get(0).decided() && settled(m.get(0), settle);
    }, System.nanoTime() + timeout.toNanos());
    List<Entry> matches = matching(window.entries(), flow, keys);
    if (matches.size() > 1) {
      throw ambiguous(flow, keys, matches);
    }
    if (matches.size() == 1 && matches.get(0).decided()) {
      Entry first = matches.get(0);
      session.await(() -> settled(window.find(first), settle), System.nanoTime() + settle + timeout.toNanos());
      return outcome(window.find(first), true, null);
    }
    TestWindow judged = judge(session, window);
    List<Entry> provisional = matching(judged.entries(), flow, keys).stream().filter(Entry::decided).toList();
    if (provisional.size() > 1) {
      throw ambiguous(flow, keys, provisional);
    }
    if (provisional.isEmpty()) {
      throw new AssertionError("Expected a " + Messages.subject(flow, keys) + " within "
          + Messages.duration(timeout) + ", but none was seen; " + Messages.seen(received(session)));
    }
    return outcome(provisional.get(0), false, null);
  }

  /**
   * Every instance that started during the test (with one of its flow's entry stages), once each
   * is decided and settled and no telemetry came for the settle time, or as judged when the timeout
   * passes. Empty when none started.
   */
  static List<FlowOutcome> awaitAll(LiveSession session, Duration timeout) {
    return awaitAll(session, timeout, false, 1);
  }

  /** {@link #awaitAll(LiveSession, Duration)}, waiting also until at least {@code atLeast} flows started. */
  static List<FlowOutcome> awaitAll(LiveSession session, Duration timeout, int atLeast) {
    return awaitAll(session, timeout, false, atLeast);
  }

  /**
   * {@link #awaitAll(LiveSession, Duration)}; with {@code noneIsDone}, a test in which no flow
   * started is done once no telemetry came for the settle time (instead of waiting for one to start).
   */
  private static List<FlowOutcome> awaitAll(LiveSession session, Duration timeout, boolean noneIsDone, int atLeast) {
    long settle = session.config().settle().toNanos();
    TestWindow window = session.window();
    long[] seen = {-1, 0};
    List<List<Entry>> started = new ArrayList<>(List.of(List.of()));
    session.await(() -> {
      int count = window.telemetryCount();
      if (count != seen[0]) {
        seen[0] = count;
        seen[1] = System.nanoTime();
        started.set(0, started(session, ProvisionalVerdicts.asOf(session.specs(), window,
            LiveSession.nowEpochNanos(), session.config().completionGrace())));
      }
      if (started.get(0).isEmpty() && !noneIsDone || started.get(0).size() < atLeast
          || System.nanoTime() - seen[1] < settle) {
        return false;
      }
      for (Entry s : started.get(0)) {
        Entry live = window.find(s);
        if (live == null || !live.decided() || !settled(live, settle)) {
          return false;
        }
      }
      return true;
    }, System.nanoTime() + timeout.toNanos());
    List<FlowOutcome> out = new ArrayList<>();
    for (Entry s : started(session, judge(session, window))) {
      Entry live = window.find(s);
      out.add(live != null && live.decided() && live.snapshot() != null ? outcome(live, true, null)
          : outcome(s, false, null));
    }
    return out;
  }

  /**
   * For {@code failOnAnyFailedFlow}: waits for every flow that started during the test (as {@link
   * #awaitAll} does; when none did, until nothing arrived for the settle time: what the test sent
   * last may still be on its way) and throws when one that no assertion looked at did not pass.
   */
  static void failUnlessAllPassed(LiveSession session, Duration timeout) {
    TestWindow window = session.window();
    List<FlowOutcome> outcomes = awaitAll(session, timeout, true, 0);
    List<FlowOutcome> bad = new ArrayList<>();
    for (FlowOutcome o : outcomes) {
      Entry e = new Entry(o.flow(), o.keys(), Set.copyOf(o.verdict().traceIds()), o.verdict(), o.instance(), 0, false);
      if (o.status() != io.flowtrace.verifier.report.VerdictStatus.PASSED && !window.acknowledged(e)) {
        bad.add(o);
      }
    }
    if (bad.isEmpty()) {
      return;
    }
    StringBuilder sb = new StringBuilder(outcomes.size() == 1
        ? "Expected the flow of this test to have no violations (failOnAnyFailedFlow), but it has not:"
        : "Expected the " + outcomes.size() + " flows of this test to have no violations (failOnAnyFailedFlow), but "
            + bad.size() + (bad.size() == 1 ? " has" : " have") + " not:");
    for (FlowOutcome o : bad) {
      sb.append("\n").append(Messages.block(o)).append(Messages.how(o, timeout)).append(FailurePages.write(o));
    }
    throw new AssertionError(sb.toString());
  }

  /** What the session received, in this test and in the class, and the flows of the test as they stand. */
  static Received received(LiveSession session) {
    TestWindow window = session.window();
    List<Received.Flow> flows = new ArrayList<>();
    // every instance that started, as the window's telemetry shows it now; its verdict the live
    // engine's, none while that has not decided it (a provisional one would call it failed)
    for (Entry e : started(session, ProvisionalVerdicts.asOf(session.specs(), window, LiveSession.nowEpochNanos(),
        session.config().completionGrace()))) {
      Entry live = window.find(e);
      flows.add(new Received.Flow(e.flow(), e.keys(), live != null && live.decided() ? live.verdict() : null));
    }
    return new Received(
        new Received.Counts(window.tally().spansByService(), window.tally().recordsByTopic()),
        new Received.Counts(session.tally().spansByService(), session.tally().recordsByTopic()),
        flows, session.exporterShutdowns(), session.openTelemetryServices(), session.otlpTracesUrl(),
        session.topics(), session.bootstrapServers());
  }

  /** Notes that an assertion looked at this outcome's verdict (for {@code failOnAnyFailedFlow}). */
  static void acknowledge(LiveSession session, FlowOutcome o) {
    session.window().acknowledge(o.flow(), o.keys(), Set.copyOf(o.verdict().traceIds()));
  }

  /**
   * Sends the instance's occurrence of the trigger to the system again, waits until the re-sent
   * trigger is seen in the instance and the idempotency window has passed, and counts the
   * trigger's declared side effects before and after.
   */
  static FlowOutcome redeliver(LiveSession session, FlowOutcome before, String eventOrStage, URI target,
      Duration timeout) {
    FlowSpec spec = session.spec(before.flow());
    EventSpec trigger = trigger(spec, eventOrStage);
    List<String> effects = effects(spec, trigger);
    Observation occurrence = before.instance().first(trigger.id());
    if (occurrence == null) {
      throw new AssertionError("Expected " + Messages.subject(before) + " to have an occurrence of " + trigger.id()
          + " to redeliver, but it has none:\n" + Messages.block(before));
    }
    Map<String, Integer> effectsBefore = count(before.instance(), effects);
    int triggersBefore = FlowOutcome.occurrences(before.instance(), trigger.id());
    TestWindow window = session.window();
    Set<String> traces = Set.copyOf(before.verdict().traceIds());
    String sent = session.redeliverer().redeliver(occurrence,
        trigger.payload() == null ? null : trigger.payload().attribute(), target);
    long sentAt = System.nanoTime();
    boolean observed = session.await(() -> {
      Entry now = window.find(before.flow(), before.keys(), traces);
      return now != null && now.snapshot() != null
          && FlowOutcome.occurrences(now.snapshot(), trigger.id()) > triggersBefore;
    }, sentAt + timeout.toNanos());
    if (observed) {
      long settle = session.config().settle().toNanos();
      long windowEnd = sentAt + idempotencyWindow(session, spec, effects).toNanos();
      session.await(() -> System.nanoTime() >= windowEnd
          && settled(window.find(before.flow(), before.keys(), traces), settle), windowEnd + timeout.toNanos());
    }
    Entry after = window.find(before.flow(), before.keys(), traces);
    FlowInstance instance = after != null && after.snapshot() != null ? after.snapshot() : before.instance();
    Redelivery redelivery = new Redelivery(trigger.id(), sent, observed, effectsBefore, count(instance, effects));
    return new FlowOutcome(after != null && after.verdict() != null ? after.verdict() : before.verdict(), instance,
        true, redelivery);
  }

  /** The event to redeliver: the event of that id, or the stage's idempotency trigger (else its first event). */
  static EventSpec trigger(FlowSpec spec, String eventOrStage) {
    EventSpec event = spec.event(eventOrStage);
    if (event != null) {
      return event;
    }
    StageSpec stage = spec.stage(eventOrStage);
    if (stage == null) {
      throw new IllegalArgumentException("flowtrace: flow " + spec.name() + " has no event or stage '" + eventOrStage
          + "'; its events are " + spec.events().stream().map(EventSpec::id).toList());
    }
    for (EventSpec e : stage.events()) {
      if (spec.idempotency().stream().anyMatch(i -> i.trigger().equals(e.id()))) {
        return e;
      }
    }
    return stage.events().get(0);
  }

  /**
   * The side effects a redelivered trigger must not repeat: the effects of its idempotency specs,
   * or, when it has none, every event of the stages after its own.
   */
  static List<String> effects(FlowSpec spec, EventSpec trigger) {
    Set<String> effects = new LinkedHashSet<>();
    for (IdempotencySpec i : spec.idempotency()) {
      if (i.trigger().equals(trigger.id())) {
        effects.addAll(i.effects());
      }
    }
    if (effects.isEmpty()) {
      Map<String, Set<String>> ancestors = spec.ancestors();
      for (StageSpec s : spec.stages()) {
        if (ancestors.get(s.id()).contains(trigger.stageId())) {
          s.events().forEach(e -> effects.add(e.id()));
        }
      }
    }
    effects.remove(trigger.id());
    return List.copyOf(effects);
  }

  /** The configured window, else the longest latency budget that ends at an effect, else 2 s. */
  private static Duration idempotencyWindow(LiveSession session, FlowSpec spec, List<String> effects) {
    if (session.config().idempotencyWindow() != null) {
      return session.config().idempotencyWindow();
    }
    Duration longest = null;
    for (BudgetSpec b : spec.budgets()) {
      boolean toEffect = effects.contains(b.to())
          || effects.stream().anyMatch(e -> spec.event(e) != null && spec.event(e).stageId().equals(b.to()));
      if (toEffect && (longest == null || b.within().compareTo(longest) > 0)) {
        longest = b.within();
      }
    }
    return longest != null ? longest : DEFAULT_IDEMPOTENCY_WINDOW;
  }

  private static Map<String, Integer> count(FlowInstance instance, List<String> events) {
    Map<String, Integer> out = new LinkedHashMap<>();
    for (String e : events) {
      out.put(e, FlowOutcome.occurrences(instance, e));
    }
    return out;
  }

  private static TestWindow judge(LiveSession session, TestWindow window) {
    return ProvisionalVerdicts.judge(session.specs(), window, LiveSession.nowEpochNanos(),
        session.config().completionGrace());
  }

  /** Decided instances of the replay that started in the test: they have an event of an entry stage. */
  private static List<Entry> started(LiveSession session, TestWindow replayed) {
    List<Entry> out = new ArrayList<>();
    for (Entry e : replayed.entries()) {
      if (!e.decided() || e.snapshot() == null) {
        continue;
      }
      FlowSpec spec = session.spec(e.flow());
      if (e.snapshot().observations().stream().anyMatch(o -> spec.stage(o.stageId()).after().isEmpty())) {
        out.add(e);
      }
    }
    return out;
  }

  private static List<Entry> matching(List<Entry> entries, String flow, Map<String, String> keys) {
    return entries.stream().filter(e -> e.matches(flow, keys)).toList();
  }

  /** Decided, unchanged for the settle time, and with no later events still waited on (a redelivery's). */
  private static boolean settled(Entry e, long settleNanos) {
    return e != null && !e.amending() && System.nanoTime() - e.changedNanos() >= settleNanos;
  }

  private static FlowOutcome outcome(Entry e, boolean decided, Redelivery redelivery) {
    return new FlowOutcome(e.verdict(), e.snapshot(), decided, redelivery);
  }

  private static AssertionError ambiguous(String flow, Map<String, String> keys, List<Entry> matches) {
    StringBuilder sb = new StringBuilder("Expected one " + Messages.subject(flow, keys) + ", but "
        + matches.size() + " started during this test; pick one with withKey(...):");
    for (Entry e : matches) {
      sb.append("\n  - ").append(Messages.subject(e.flow(), e.keys()));
    }
    return new AssertionError(sb.toString());
  }
}
