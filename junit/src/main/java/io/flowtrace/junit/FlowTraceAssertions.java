package io.flowtrace.junit;

/**
 * Static entry points to the flow assertions of the {@link FlowTraceExtension} running the current
 * test:
 *
 * <pre>{@code
 * import static io.flowtrace.junit.FlowTraceAssertions.assertThatFlow;
 *
 * assertThatFlow("order-creation").withKey("orderId", id)
 *     .completesWithin(Duration.ofSeconds(10))
 *     .hasNoViolations();
 * }</pre>
 */
public final class FlowTraceAssertions {

  private FlowTraceAssertions() {}

  /** Assertions on one instance of the named flow that started during the current test. */
  public static FlowAssert assertThatFlow(String flow) {
    return FlowTraceExtension.current().assertThatFlow(flow);
  }

  /** Assertions on every flow instance that started during the current test. */
  public static AllFlowsAssert assertThatAllFlows() {
    return FlowTraceExtension.current().assertThatAllFlows();
  }
}
