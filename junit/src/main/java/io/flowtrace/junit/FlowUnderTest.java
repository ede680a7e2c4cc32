package io.flowtrace.junit;

import io.flowtrace.junit.internal.LiveSession;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The flow instance an assertion is about: a flow's name, the key values that pick the instance
 * out of those the test started, and how long to wait for its verdict. Its {@link #outcome()} is
 * looked up (waiting) on first use and then kept. Made by {@code assertThatFlow(...)}.
 */
public final class FlowUnderTest {

  private final LiveSession session;
  private final String flow;
  private final Map<String, String> keys;
  private final Duration timeout;
  private FlowOutcome outcome;

  FlowUnderTest(LiveSession session, String flow, Map<String, String> keys, Duration timeout, FlowOutcome outcome) {
    this.session = session;
    this.flow = flow;
    this.keys = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(keys));
    this.timeout = timeout;
    this.outcome = outcome;
  }

  /** The flow's name. */
  public String flow() {
    return flow;
  }

  /** The key values the instance must have. */
  public Map<String, String> keys() {
    return keys;
  }

  /** How long {@link #outcome()} waits for the engine to decide the instance. */
  public Duration timeout() {
    return timeout;
  }

  /**
   * The instance's outcome: waits until the engine decided it and its verdict stayed unchanged for
   * the settle time, or until the timeout (then the verdict is provisional, see {@link
   * FlowOutcome#decided()}).
   *
   * @throws AssertionError when no such instance started during the test, or several did
   */
  public synchronized FlowOutcome outcome() {
    if (outcome == null) {
      outcome = Outcomes.awaitOne(session, flow, keys, timeout);
    }
    return outcome;
  }

  LiveSession session() {
    return session;
  }

  /** The outcome, noted as one whose verdict an assertion looked at (see {@code failOnAnyFailedFlow}). */
  FlowOutcome verdictAsserted() {
    FlowOutcome o = outcome();
    Outcomes.acknowledge(session, o);
    return o;
  }

  /** @throws IllegalArgumentException when the flow has no such key (the wait would be for nothing) */
  FlowUnderTest withKey(String name, String value) {
    java.util.List<String> declared = session.spec(flow).keys();
    if (!declared.contains(name)) {
      throw new IllegalArgumentException("flowtrace: flow " + flow + " has no key '" + name + "'"
          + Messages.didYouMean(name, declared)
          + (declared.isEmpty() ? "; it declares no keys (its instances are joined by trace)" : "; its keys are " + declared));
    }
    Map<String, String> more = new LinkedHashMap<>(keys);
    more.put(name, value);
    return new FlowUnderTest(session, flow, more, timeout, null);
  }

  FlowUnderTest within(Duration wait) {
    return new FlowUnderTest(session, flow, keys, wait, null);
  }

  FlowUnderTest resolvedAs(FlowOutcome resolved) {
    return new FlowUnderTest(session, flow, keys, timeout, resolved);
  }

  /** {@code flow order-creation [orderId=ord-1]}. */
  @Override
  public String toString() {
    return Messages.subject(flow, keys);
  }
}
