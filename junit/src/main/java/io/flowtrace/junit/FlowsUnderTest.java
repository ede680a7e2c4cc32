package io.flowtrace.junit;

import io.flowtrace.junit.internal.LiveSession;
import java.time.Duration;
import java.util.List;

/**
 * Every flow instance that started during the current test, and how long to wait for them.
 * {@link #outcomes()} is looked up (waiting) on first use and then kept. Made by {@code
 * assertThatAllFlows()}.
 */
public final class FlowsUnderTest {

  private final LiveSession session;
  private final Duration timeout;
  private List<FlowOutcome> outcomes;

  FlowsUnderTest(LiveSession session, Duration timeout) {
    this.session = session;
    this.timeout = timeout;
  }

  /** How long {@link #outcomes()} waits for the flows to be decided. */
  public Duration timeout() {
    return timeout;
  }

  /**
   * The outcome of every instance that started during the test (one of its flow's entry stages
   * happened in it): waits until each is decided and settled and no telemetry came for the settle
   * time, or until the timeout (then the undecided ones are judged as they stand). Empty when none
   * started.
   */
  public synchronized List<FlowOutcome> outcomes() {
    if (outcomes == null) {
      outcomes = Outcomes.awaitAll(session, timeout);
    }
    return outcomes;
  }

  /**
   * As {@link #outcomes()}, also waiting (up to the timeout) until at least {@code expected}
   * instances started: a flow whose first event is still on its way is not missed.
   */
  synchronized List<FlowOutcome> outcomes(int expected) {
    if (outcomes == null || outcomes.size() < expected) {
      outcomes = Outcomes.awaitAll(session, timeout, expected);
    }
    return outcomes;
  }

  /** Notes that an assertion looked at this outcome's verdict (see {@code failOnAnyFailedFlow}). */
  void verdictAsserted(FlowOutcome o) {
    Outcomes.acknowledge(session, o);
  }

  /** What reached the extension, in words (for a failure that found fewer flows than expected). */
  String seen() {
    return Outcomes.received(session).summary();
  }

  FlowsUnderTest within(Duration wait) {
    return new FlowsUnderTest(session, wait);
  }

  @Override
  public String toString() {
    return "the flows of this test";
  }
}
