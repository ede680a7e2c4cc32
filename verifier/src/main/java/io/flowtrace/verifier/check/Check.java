package io.flowtrace.verifier.check;

import io.flowtrace.verifier.assembly.FlowInstance;
import java.util.List;

/**
 * One kind of check: a pure function of an assembled instance. No I/O, no clocks: everything it
 * needs (payloads, spans, times, whether the deadline passed) is in the {@link FlowInstance}.
 */
@FunctionalInterface
public interface Check {
  List<Violation> check(FlowInstance instance);
}
