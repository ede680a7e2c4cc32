package io.flowtrace.verifier.spec;

import java.util.List;

/**
 * A trigger that may be delivered more than once (same {@code dedupKey}), and the side-effect
 * events that must still happen at most once per instance.
 */
public record IdempotencySpec(String trigger, FieldPath dedupKey, List<String> effects) {
  public IdempotencySpec {
    effects = List.copyOf(effects);
  }
}
