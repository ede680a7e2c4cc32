package io.flowtrace.junit;

import static java.util.Objects.requireNonNull;

import io.flowtrace.verifier.report.VerdictStatus;
import java.time.Duration;
import java.util.List;
import org.assertj.core.api.AbstractAssert;

/**
 * Assertions on every flow instance that started during the current test: "every flow that
 * happened passed".
 *
 * <pre>{@code
 * assertThatAllFlows().within(Duration.ofSeconds(10)).haveNoViolations();
 * }</pre>
 */
public final class AllFlowsAssert extends AbstractAssert<AllFlowsAssert, FlowsUnderTest> {

  AllFlowsAssert(FlowsUnderTest actual) {
    super(actual, AllFlowsAssert.class);
  }

  /** Waits up to {@code timeout} for the flows; after that the undecided ones are judged as they stand. */
  public AllFlowsAssert within(Duration timeout) {
    requireNonNull(timeout, "timeout");
    AllFlowsAssert next = new AllFlowsAssert(actual.within(timeout));
    next.info.description(info.description());
    return next;
  }

  /**
   * Asserts that at least one flow started during the test and that every one passed; the message
   * shows each that did not, with its violations and timeline.
   */
  public AllFlowsAssert haveNoViolations() {
    List<FlowOutcome> outcomes = actual.outcomes();
    outcomes.forEach(actual::verdictAsserted);
    if (outcomes.isEmpty()) {
      failWithMessage("%s", "Expected the flows of this test to have no violations, but no flow started within "
          + Messages.duration(actual.timeout()));
    }
    List<FlowOutcome> bad = outcomes.stream().filter(o -> o.status() != VerdictStatus.PASSED).toList();
    if (!bad.isEmpty()) {
      StringBuilder sb = new StringBuilder(outcomes.size() == 1
          ? "Expected the flow of this test to have no violations, but it has not:"
          : "Expected the " + outcomes.size() + " flows of this test to have no violations, but " + bad.size()
              + (bad.size() == 1 ? " has" : " have") + " not:");
      for (FlowOutcome o : bad) {
        sb.append("\n").append(Messages.block(o)).append(Messages.how(o, actual.timeout()));
      }
      failWithMessage("%s", sb.toString());
    }
    return this;
  }

  /**
   * Asserts how many flows started during the test, waiting (up to the timeout given to {@link
   * #within}) until that many did and all are decided.
   */
  public AllFlowsAssert hasSize(int expected) {
    List<FlowOutcome> outcomes = actual.outcomes(expected);
    if (outcomes.size() != expected) {
      StringBuilder sb = new StringBuilder("Expected " + expected + (expected == 1 ? " flow" : " flows")
          + " to start during this test, but " + outcomes.size() + (outcomes.isEmpty() ? " did.\n" + actual.seen()
          : " did:"));
      outcomes.forEach(o -> sb.append("\n  - ").append(Messages.subject(o)).append(" (").append(o.status()).append(')'));
      failWithMessage("%s", sb.toString());
    }
    return this;
  }

  /** The outcomes (waiting for them as the assertions do), for assertions of your own. */
  public List<FlowOutcome> outcomes() {
    return actual.outcomes();
  }
}
