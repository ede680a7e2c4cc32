package io.flowtrace.verifier.report;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/**
 * An event that arrived for an instance whose verdict was already final (its amendment window had
 * closed): it changes no verdict, but it is not dropped silently either. A live engine bounds how
 * long it keeps decided instances; what comes later than that is reported here, to be counted,
 * logged and published.
 *
 * @param flow the flow the event belongs to
 * @param keys the instance keys (or {@code trace}) that tied it to the finalized instance
 * @param event the declared event it matched
 * @param where where to find it: {@code topic[partition]@offset}, or the span
 * @param eventEpochNanos its event time
 * @param finalizedEpochNanos the event time at which the instance's verdict became final
 */
public record LateEvent(String flow, Map<String, String> keys, String event, String where, long eventEpochNanos,
    long finalizedEpochNanos) {
  public LateEvent {
    requireNonNull(flow, "flow");
    keys = Map.copyOf(keys);
    requireNonNull(event, "event");
    requireNonNull(where, "where");
  }

  /** {@code flow + keys}, as {@link Verdict#instanceKey()} names the instance. */
  public String instanceKey() {
    StringBuilder sb = new StringBuilder(flow);
    new java.util.TreeMap<>(keys).forEach((k, v) -> sb.append('|').append(k).append('=').append(v));
    return sb.toString();
  }
}
