package io.flowtrace.verifier.spec;

/**
 * Where an event's payload is read: the Kafka record value ({@code attribute == null}) or a string
 * attribute of the matched span such as {@code http.request.body}.
 */
public record PayloadSource(String attribute) {
  public static final PayloadSource RECORD_VALUE = new PayloadSource(null);

  public boolean fromRecord() {
    return attribute == null;
  }

  @Override
  public String toString() {
    return attribute == null ? "record value" : "span attribute " + attribute;
  }
}
