package io.flowtrace.verifier.assembly;

import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.Telemetry;
import java.util.List;

/** A span reduced to what verification reads, with its event payloads decoded per flow. */
public final class PreparedSpan extends Prepared {
  private final Span span;
  private final Telemetry telemetry;
  private final List<List<EventMatcher.SpanMatch>> matchesByFlow;
  private final String topic;
  private final boolean event;

  PreparedSpan(Span span, List<List<EventMatcher.SpanMatch>> matchesByFlow) {
    this.span = span;
    this.telemetry = Telemetry.of(span);
    this.matchesByFlow = matchesByFlow;
    this.topic = io.flowtrace.tracer.correlation.MessagingAttributes.topicOrBatch(span);
    this.event = anyEvent(matchesByFlow);
  }

  static boolean anyEvent(List<List<EventMatcher.SpanMatch>> matchesByFlow) {
    for (List<EventMatcher.SpanMatch> m : matchesByFlow) {
      if (!m.isEmpty()) {
        return true;
      }
    }
    return false;
  }

  /** Whether it is an event of some flow (else it matters only as a messaging span, a join). */
  boolean isEvent() {
    return event;
  }

  /** The topic the span sends to or processes from, or {@code null} when it is not a messaging span. */
  String topic() {
    return topic;
  }

  public Span span() {
    return span;
  }

  @Override
  public Telemetry telemetry() {
    return telemetry;
  }

  List<EventMatcher.SpanMatch> matches(int flowIndex) {
    return matchesByFlow.get(flowIndex);
  }
}
