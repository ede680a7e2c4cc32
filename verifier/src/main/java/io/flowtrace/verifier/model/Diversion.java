package io.flowtrace.verifier.model;

import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * An event of one instance's trace that carried other values of the flow's keys, and so began an
 * instance of its own part-way through the flow — the mark of a key changed on the way (a service
 * that published the reply under a fresh id). Seen from the instance it left, {@code keys} are
 * where it went; seen from the instance it began, where it came from.
 *
 * @param event the event that went astray, or {@code null} seen from the instance it began
 * @param keys the other instance's keys
 * @param events seen from the instance it began, the events the instance it came from observed
 *     (they happened, under the keys it had before they changed); empty seen from the instance it left
 */
public record Diversion(Observation event, Map<String, String> keys, Set<String> events) {
  public Diversion {
    keys = Map.copyOf(Objects.requireNonNull(keys, "keys"));
    events = Set.copyOf(Objects.requireNonNull(events, "events"));
  }

  /** {@code orderId=o-2, requestId=r-2}: the keys in the given order (those it lacks left out). */
  public String describeKeys(Iterable<String> order) {
    StringBuilder out = new StringBuilder();
    for (String k : order) {
      String v = keys.get(k);
      if (v != null) {
        out.append(out.length() == 0 ? "" : ", ").append(k).append('=').append(v);
      }
    }
    return out.toString();
  }
}
