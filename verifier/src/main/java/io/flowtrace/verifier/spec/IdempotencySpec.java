package io.flowtrace.verifier.spec;

import java.util.List;

/**
 * A trigger that may be delivered more than once (same {@code dedupKey}), and the side-effect
 * events that must still happen at most once per key (or per instance, without a key); with
 * {@code atLeastOnce}, also at least once: each delivered key (each delivery, without a key) must
 * cause one of them.
 */
public record IdempotencySpec(String trigger, FieldPath dedupKey, List<String> effects, boolean atLeastOnce) {
  public IdempotencySpec {
    effects = List.copyOf(effects);
  }

  /** At most once only. */
  public IdempotencySpec(String trigger, FieldPath dedupKey, List<String> effects) {
    this(trigger, dedupKey, effects, false);
  }
}
