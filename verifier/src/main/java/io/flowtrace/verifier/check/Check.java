package io.flowtrace.verifier.check;

import io.flowtrace.verifier.model.FlowInstance;
import java.util.List;

/**
 * One kind of check: a pure function of an assembled instance. No I/O, no clocks: everything it
 * needs (payloads, spans, times, whether the deadline passed, which events are unobserved by
 * design) is in the {@link FlowInstance}.
 */
@FunctionalInterface
public interface Check {
  List<Violation> check(FlowInstance instance);

  /**
   * What this check could not verify on the instance because an event it needs is unobserved by
   * design (see {@link io.flowtrace.verifier.model.Visibility}). Defaults to nothing.
   */
  default List<Unverified> unverified(FlowInstance instance) {
    return List.of();
  }
}
