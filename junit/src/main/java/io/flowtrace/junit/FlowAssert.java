package io.flowtrace.junit;

import static java.util.Objects.requireNonNull;

import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.check.ViolationKind;
import io.flowtrace.verifier.report.TimelineEntry;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.api.AbstractAssert;
import tools.jackson.databind.JsonNode;

/**
 * Assertions on one flow instance of the current test, in the AssertJ manner:
 *
 * <pre>{@code
 * assertThatFlow("order-creation").withKey("orderId", id)
 *     .completesWithin(Duration.ofSeconds(10))
 *     .hasNoViolations();
 * }</pre>
 *
 * <p>Waiting is built in: the first assertion waits until the engine has decided the instance
 * (its terminal stage arrived with everything its data calls for, or its deadline passed) and the
 * verdict stayed unchanged for the settle time, up to the timeout ({@link #within}, {@link
 * #completesWithin}, else the extension's). A failure message names the instance's keys, each
 * violation with its stage, field, expected and actual values, and the flow's timeline.
 */
public final class FlowAssert extends AbstractAssert<FlowAssert, FlowUnderTest> {

  FlowAssert(FlowUnderTest actual) {
    super(actual, FlowAssert.class);
  }

  /** Picks the instance with this key value (e.g. {@code orderId}); may be given for several keys. */
  public FlowAssert withKey(String key, Object value) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    return derive(actual.withKey(key, String.valueOf(value)));
  }

  /** Waits up to {@code timeout} for the verdict; after that the verdict is judged as it stands. */
  public FlowAssert within(Duration timeout) {
    return derive(actual.within(positive(timeout)));
  }

  /**
   * Asserts that the engine decides the instance within {@code timeout}: its terminal stage arrived
   * (or the flow failed in a way that decides it). On failure the message shows the verdict as of
   * the end of the wait, as if the deadline had passed then, so the missing stage is named.
   */
  public FlowAssert completesWithin(Duration timeout) {
    FlowAssert next = within(timeout);
    FlowOutcome o = next.actual.outcome();
    if (!o.decided()) {
      next.failFor(o, "Expected " + Messages.subject(o) + " to complete within " + Messages.duration(timeout)
          + ", but it had not reached its terminal stage by then; judged as of then, as if its deadline had"
          + " passed:\n" + Messages.block(o) + (o.violations().stream().anyMatch(v -> v.kind() == ViolationKind.MISSING_STAGE)
          ? "\n(a stage that should be missing is asserted with within(timeout).hasViolation(MISSING_STAGE),"
          + " not completesWithin(timeout))" : ""));
    }
    return next;
  }

  /** Asserts that the verdict has no violation (it {@code PASSED}). */
  public FlowAssert hasNoViolations() {
    FlowOutcome o = actual.verdictAsserted();
    Redelivery r = o.redelivery();
    if (r != null && !r.observed()) {
      failFor(o, "Expected " + Messages.subject(o) + " to stay correct when " + r.event()
          + " was redelivered, but the redelivered " + r.event() + " was not seen in the flow within "
          + Messages.duration(actual.timeout()) + " (" + r.sent() + "), so nothing was shown:\n" + Messages.block(o));
    }
    List<String> extra = r == null ? List.of() : r.extraEffects();
    if (!o.violations().isEmpty() || !extra.isEmpty() || o.status() != VerdictStatus.PASSED) {
      String after = r == null ? "" : " after " + r.event() + " was redelivered (" + r.sent() + ")";
      String effects = extra.isEmpty() ? "" : "\n  side effects that happened again: " + String.join(", ", extra);
      String has = o.violations().isEmpty() ? "it is " + o.status()
          : "it has " + o.violations().size() + (o.violations().size() == 1 ? " violation" : " violations");
      failFor(o, "Expected " + Messages.subject(o) + " to have no violations" + after + ", but " + has
          + Messages.how(o, actual.timeout()) + ":" + effects + "\n" + Messages.block(o));
    }
    return this;
  }

  /** Asserts the verdict's status ({@code PASSED}, {@code FAILED}, {@code INCOMPLETE}). */
  public FlowAssert hasStatus(VerdictStatus status) {
    FlowOutcome o = actual.verdictAsserted();
    if (o.status() != status) {
      failFor(o, "Expected " + Messages.subject(o) + " to be " + status + ", but it is " + o.status()
          + Messages.how(o, actual.timeout()) + ":\n" + Messages.block(o));
    }
    return this;
  }

  /**
   * Asserts that the verdict has a violation of this kind, and moves on to it (narrow it down with
   * {@link ViolationAssert#atStage} and {@link ViolationAssert#onField}).
   */
  public ViolationAssert hasViolation(ViolationKind kind) {
    requireNonNull(kind, "kind");
    FlowOutcome o = actual.verdictAsserted();
    List<Violation> ofKind = o.violations().stream().filter(v -> v.kind() == kind).toList();
    if (ofKind.isEmpty()) {
      String has = o.violations().isEmpty() ? "it has none" : "it has only:" + Messages.list(o.violations());
      failFor(o, "Expected " + Messages.subject(o) + " to have a " + kind + " violation, but " + has
          + Messages.how(o, actual.timeout()) + "\n" + Messages.block(o));
    }
    return new ViolationAssert(ofKind, o, "the " + kind + " violation of " + Messages.subject(o));
  }

  /**
   * Asserts that every check could run on everything it needs: no span the flow calls for was
   * unobserved by design (an unsampled trace), see {@link FlowOutcome#unverified()}.
   */
  public FlowAssert isFullyVerified() {
    FlowOutcome o = actual.outcome();
    if (o.verification() != Verdict.Verification.FULL) {
      failWithMessage("%s", "Expected " + Messages.subject(o) + " to be fully verified, but it is partly verified;"
          + " not verified:" + Messages.list(o.unverified()) + "\n" + Messages.block(o));
    }
    return this;
  }

  /**
   * Asserts that some checks could not run because what they need was unobserved by design (spans
   * of an unsampled trace), while the others did: see {@link FlowOutcome#unverified()}.
   */
  public FlowAssert isPartlyVerified() {
    FlowOutcome o = actual.outcome();
    if (o.verification() != Verdict.Verification.PARTIAL) {
      failWithMessage("%s", "Expected " + Messages.subject(o) + " to be partly verified (something unobserved by"
          + " design, such as the spans of an unsampled trace), but it is fully verified:\n" + Messages.block(o));
    }
    return this;
  }

  /** Asserts that these stages happened, and first happened in this order. */
  public FlowAssert hasStagesInOrder(String... stages) {
    FlowOutcome o = actual.outcome();
    for (String stage : stages) {
      if (o.instance().spec().stages().stream().noneMatch(s -> s.id().equals(stage))) {
        List<String> ids = o.instance().spec().stages().stream().map(s -> s.id()).toList();
        throw new IllegalArgumentException("flowtrace: flow " + o.flow() + " has no stage '" + stage + "'"
            + io.flowtrace.verifier.text.Spelling.didYouMean(stage, ids) + "; its stages are " + ids);
      }
    }
    List<String> problems = new ArrayList<>();
    long previous = Long.MIN_VALUE;
    String previousStage = null;
    for (String stage : stages) {
      long at = firstOffset(o, stage);
      if (at == Long.MAX_VALUE) {
        problems.add(stage + " did not happen");
        continue;
      }
      if (at < previous) {
        problems.add(stage + " came at +" + Messages.duration(Duration.ofNanos(at)) + ", before " + previousStage
            + " at +" + Messages.duration(Duration.ofNanos(previous)));
      }
      previous = at;
      previousStage = stage;
    }
    if (!problems.isEmpty()) {
      failFor(o, "Expected " + Messages.subject(o) + " to have the stages " + List.of(stages)
          + " in this order, but " + String.join("; ", problems) + ":\n" + Messages.block(o));
    }
    return this;
  }

  /**
   * Moves on to the decoded payload of the first occurrence of an event (its id in the flow spec,
   * e.g. {@code orders_created}), for custom assertions.
   */
  public PayloadAssert payloadOf(String eventId) {
    requireNonNull(eventId, "eventId");
    FlowOutcome o = actual.outcome();
    if (o.instance().spec().event(eventId) == null) {
      throw new IllegalArgumentException("flowtrace: flow " + o.flow() + " has no event '" + eventId
          + "'; its events are " + o.instance().spec().events().stream().map(e -> e.id()).toList());
    }
    JsonNode payload = o.payload(eventId).orElse(null);
    if (payload == null) {
      String why = o.occurrences(eventId) == 0 ? "it did not happen" : "its payload could not be decoded";
      failFor(o, "Expected " + Messages.subject(o) + " to have a payload of " + eventId + ", but " + why
          + ":\n" + Messages.block(o));
    }
    return new PayloadAssert(payload, eventId + " of " + Messages.subject(o), eventId,
        io.flowtrace.verifier.report.Redaction.of(o.instance()));
  }

  /**
   * The idempotency probe: sends the instance's captured occurrence of the trigger ({@code
   * webhook}, or a stage id) to the system again — a Kafka record re-published with the same key,
   * value and headers, an HTTP request re-sent to the URL its span names — waits until it is seen
   * in the flow and the idempotency window has passed, and moves on to the flow as it is then.
   * {@link #hasNoViolations()} then also fails when one of the trigger's declared side effects
   * happened again.
   */
  public FlowAssert whenRedelivered(String eventOrStage) {
    return whenRedelivered(eventOrStage, null);
  }

  /** {@link #whenRedelivered(String)}, sending an HTTP trigger to {@code target} instead of its span's URL. */
  public FlowAssert whenRedelivered(String eventOrStage, URI target) {
    requireNonNull(eventOrStage, "eventOrStage");
    FlowOutcome before = actual.outcome();
    if (!before.decided()) {
      failFor(before, "Expected " + Messages.subject(before) + " to complete before " + eventOrStage
          + " is redelivered, but it was not decided within " + Messages.duration(actual.timeout()) + ":\n"
          + Messages.block(before));
    }
    FlowOutcome after = Outcomes.redeliver(actual.session(), before, eventOrStage, target, actual.timeout());
    return derive(actual.resolvedAs(after));
  }

  /** The outcome (waiting for it as the assertions do), for assertions of your own. */
  public FlowOutcome outcome() {
    return actual.outcome();
  }

  private static long firstOffset(FlowOutcome o, String stage) {
    long first = Long.MAX_VALUE;
    for (TimelineEntry t : o.verdict().timeline()) {
      if (t.stage().equals(stage)) {
        first = Math.min(first, t.offsetNanos());
      }
    }
    return first;
  }

  /** Fails with {@code text} and the line naming the instance's page (see {@link FailurePages}). */
  private void failFor(FlowOutcome o, String text) {
    failWithMessage("%s", text + noSpans(o) + FailurePages.write(o));
  }

  /**
   * Where a stage is missing and not one span reached the extension in this test: that is more
   * likely an exporter that has not sent its batch (or is not wired to the extension) than a defect.
   */
  private String noSpans(FlowOutcome o) {
    if (o.violations().stream().noneMatch(v -> v.kind() == ViolationKind.MISSING_STAGE)) {
      return "";
    }
    Received received = Outcomes.received(actual.session());
    if (received.test().spans() > 0 || received.test().records() == 0) {
      return "";
    }
    return "\nno span at all reached flowtrace in this test (" + received.test() + "): an exporter that has not"
        + " sent its batch yet, or one not wired to spanExporter() or otlpEndpoint(); forceFlush() your tracer"
        + " providers before asserting";
  }

  private FlowAssert derive(FlowUnderTest next) {
    FlowAssert a = new FlowAssert(next);
    a.info.description(info.description());
    return a;
  }

  private static Duration positive(Duration d) {
    requireNonNull(d, "timeout");
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException("timeout must be positive: " + d);
    }
    return d;
  }
}
