package io.flowtrace.junit;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One run of the idempotency probe: a captured trigger (a Kafka record or an HTTP request) was
 * sent to the system again, and its declared side effects were counted before and after.
 *
 * @param event the event id of the trigger, e.g. {@code webhook}
 * @param sent what was sent, e.g. {@code re-sent POST http://127.0.0.1:8081/webhooks/payment (170 bytes) -> 200}
 * @param observed whether the re-sent trigger was then seen in the flow (if not, nothing was shown)
 * @param effectsBefore occurrences of each side-effect event before
 * @param effectsAfter occurrences of each side-effect event once the idempotency window had passed
 */
public record Redelivery(String event, String sent, boolean observed, Map<String, Integer> effectsBefore,
    Map<String, Integer> effectsAfter) {

  public Redelivery {
    requireNonNull(event, "event");
    requireNonNull(sent, "sent");
    effectsBefore = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(effectsBefore));
    effectsAfter = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(effectsAfter));
  }

  /** The side effects that happened again, as {@code orders_confirmed 1 -> 2}; empty when none did. */
  public List<String> extraEffects() {
    List<String> out = new ArrayList<>();
    effectsAfter.forEach((effect, after) -> {
      int before = effectsBefore.getOrDefault(effect, 0);
      if (after > before) {
        out.add(effect + " " + before + " -> " + after);
      }
    });
    return out;
  }
}
