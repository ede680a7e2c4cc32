package io.flowtrace.verifier.spec;

import io.flowtrace.verifier.schema.PayloadSchema;
import java.util.List;
import java.util.Map;

/**
 * One observable event of a stage: a Kafka record on {@code topic}, or a span matched by
 * {@code span} whose payload sits in an attribute — of those, the ones {@code select} selects (a
 * topic that carries several kinds of record, told apart by a field or header). {@code keys} maps business-key names to where
 * the key is in the payload; {@code recordKey} names the business key the Kafka record key carries
 * (used when the payload does not give it, e.g. an undecodable one); {@code newTrace} says the event
 * may start a new trace (an external caller), so it is not a propagation break; {@code untraced}
 * ({@code trace: none}) says a topic's producer does not trace (a scheduler, a vendor's service): its
 * records carry no trace context, and none lost; {@code redact} lists the field paths masked in this
 * event's payloads besides the flow's own.
 */
public record EventSpec(
    String id,
    String stageId,
    String topic,
    SpanMatcher span,
    EventSelector select,
    PayloadSource payload,
    PayloadSchema schema,
    Map<String, FieldPath> keys,
    String recordKey,
    boolean newTrace,
    boolean untraced,
    List<FieldPath> redact) {

  public EventSpec {
    keys = Map.copyOf(keys);
    select = select == null ? EventSelector.ALL : select;
    redact = redact == null ? List.of() : List.copyOf(redact);
  }

  /**
   * Whether this event and {@code other} are read off one span: both span events with the same
   * matcher (a server span's request body and its response body). A {@code trace: new} on the
   * second starts no second trace.
   */
  public boolean onSameSpanAs(EventSpec other) {
    return other != null && span != null && span.equals(other.span());
  }

  public boolean isTopic() {
    return topic != null;
  }

  /**
   * Whether this event is a span's response (its payload a response body, {@code
   * http.response.body}): it happened when the span ended, not when the request began.
   */
  public boolean readsResponse() {
    return payload != null && payload.attribute() != null && payload.attribute().contains("response");
  }

  /** How a person would name where this event is seen. */
  public String describeSource() {
    String source = topic != null ? "topic " + topic : span.toString();
    return select.isAll() ? source : source + " " + select;
  }
}
