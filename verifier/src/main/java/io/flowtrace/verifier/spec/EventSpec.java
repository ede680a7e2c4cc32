package io.flowtrace.verifier.spec;

import io.flowtrace.verifier.schema.PayloadSchema;
import java.util.Map;

/**
 * One observable event of a stage: a Kafka record on {@code topic}, or a span matched by
 * {@code span} whose payload sits in an attribute. {@code keys} maps business-key names to where
 * the key is in the payload; {@code recordKey} names the business key the Kafka record key carries
 * (used when the payload does not give it, e.g. an undecodable one); {@code newTrace} says the event
 * may start a new trace (an external caller), so it is not a propagation break.
 */
public record EventSpec(
    String id,
    String stageId,
    String topic,
    SpanMatcher span,
    PayloadSource payload,
    PayloadSchema schema,
    Map<String, FieldPath> keys,
    String recordKey,
    boolean newTrace) {

  public EventSpec {
    keys = Map.copyOf(keys);
  }

  public boolean isTopic() {
    return topic != null;
  }

  /** How a person would name where this event is seen. */
  public String describeSource() {
    return topic != null ? "topic " + topic : span.toString();
  }
}
