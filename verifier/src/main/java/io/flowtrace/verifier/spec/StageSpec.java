package io.flowtrace.verifier.spec;

import io.flowtrace.verifier.rules.CompiledExpression;
import java.util.List;

/**
 * A stage of a flow: the events that make it happen, the stages it must follow ({@code after}; any
 * of them that happened), an optional data condition ({@code when}) that decides whether this
 * stage is the path the flow must take, whether it ends the flow, and whether it may be left out
 * ({@code optional}: a step some instances take and others do not, with no field to say which — a
 * rating the customer may leave). An optional stage that happened is checked like any other and
 * the stages after it are then due; one that did not is not missing, and the stages after it must
 * not happen. A {@code fanIn} stage follows every occurrence of the stages it comes after (a refund
 * after each item's inspection), not only their first; an occurrence that repeats an earlier one
 * (a redelivery, a resend) is not another. Stages of one {@code choice} (a kitchen accepting or
 * rejecting an order, on two topics, with nothing earlier to say which) are its ways: exactly one
 * of them happens once the stages they follow did — the first that happened is the way taken, any
 * other is not to happen, and none by the deadline is missing ({@code null}: no choice).
 */
public record StageSpec(String id, List<String> after, CompiledExpression when, boolean terminal, boolean optional,
    List<EventSpec> events, boolean fanIn, String choice) {

  public StageSpec {
    after = List.copyOf(after);
    events = List.copyOf(events);
  }
}
