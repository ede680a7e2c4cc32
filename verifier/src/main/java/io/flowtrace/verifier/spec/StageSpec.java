package io.flowtrace.verifier.spec;

import io.flowtrace.verifier.rules.CompiledExpression;
import java.util.List;

/**
 * A stage of a flow: the events that make it happen, the stages it must follow ({@code after}; any
 * of them that happened), an optional data condition ({@code when}) that decides whether this
 * stage is the path the flow must take, and whether it ends the flow.
 */
public record StageSpec(
    String id, List<String> after, CompiledExpression when, boolean terminal, List<EventSpec> events) {

  public StageSpec {
    after = List.copyOf(after);
    events = List.copyOf(events);
  }
}
