package io.flowtrace.junit;

import io.flowtrace.verifier.check.Violation;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;
import org.assertj.core.api.AbstractAssert;

/**
 * Assertions on the violations of one kind a flow instance has (from {@link
 * FlowAssert#hasViolation}); each narrows them down to those that match, and fails when none does.
 * {@code actual} is the first that still matches.
 */
public final class ViolationAssert extends AbstractAssert<ViolationAssert, Violation> {

  private final List<Violation> candidates;
  private final FlowOutcome outcome;
  private final String subject;

  ViolationAssert(List<Violation> candidates, FlowOutcome outcome, String subject) {
    super(candidates.get(0), ViolationAssert.class);
    this.candidates = candidates;
    this.outcome = outcome;
    this.subject = subject;
  }

  /** Asserts the violation is reported at this stage. */
  public ViolationAssert atStage(String stage) {
    return narrow("at stage " + stage, v -> v.stage().equals(stage), v -> "at " + v.stage());
  }

  /** Asserts the violation names this field (e.g. {@code total}, {@code data.orderId}). */
  public ViolationAssert onField(String field) {
    return narrow("on field " + field, v -> Objects.equals(v.field(), field), v -> "on " + v.field());
  }

  /** Asserts the violation is about this event (e.g. {@code orders_created}). */
  public ViolationAssert onEvent(String event) {
    return narrow("about event " + event, v -> Objects.equals(v.event(), event), v -> "about " + v.event());
  }

  /** Asserts the violation's expected value. */
  public ViolationAssert withExpected(String expected) {
    return narrow("expecting " + expected, v -> Objects.equals(v.expected(), expected),
        v -> "expecting " + v.expected());
  }

  /** Asserts the violation's actual value. */
  public ViolationAssert withActual(String value) {
    return narrow("with actual " + value, v -> Objects.equals(v.actual(), value), v -> "with actual " + v.actual());
  }

  /** Asserts the violation's message contains this text. */
  public ViolationAssert withMessageContaining(String text) {
    return narrow("with a message containing \"" + text + "\"", v -> v.message().contains(text),
        v -> "\"" + v.message() + "\"");
  }

  /** The flow outcome the violation belongs to. */
  public FlowOutcome outcome() {
    return outcome;
  }

  private ViolationAssert narrow(String what, Predicate<Violation> test, Function<Violation, String> describe) {
    List<Violation> kept = candidates.stream().filter(test).toList();
    if (kept.isEmpty()) {
      List<String> found = candidates.stream().map(describe).distinct().toList();
      failWithMessage("%s", "Expected " + subject + " to be " + what + ", but it is "
          + String.join(" / ", found) + ":\n" + Messages.block(outcome) + FailurePages.write(outcome));
    }
    ViolationAssert next = new ViolationAssert(kept, outcome, subject);
    next.info.description(info.description());
    return next;
  }
}
