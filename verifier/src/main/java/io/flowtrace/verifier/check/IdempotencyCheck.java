package io.flowtrace.verifier.check;

import io.flowtrace.verifier.assembly.FlowInstance;
import io.flowtrace.verifier.assembly.Observation;
import io.flowtrace.verifier.spec.IdempotencySpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import tools.jackson.databind.JsonNode;

/**
 * {@code NON_IDEMPOTENT}: a side effect declared once-per-instance happened more than once. The
 * violation says how often the trigger was delivered (and with how many distinct dedup keys) and
 * how many times each effect happened, with where to see them.
 */
public final class IdempotencyCheck implements Check {
  @Override
  public List<Violation> check(FlowInstance instance) {
    List<Violation> out = new ArrayList<>();
    for (IdempotencySpec spec : instance.spec().idempotency()) {
      Map<String, List<Observation>> repeated = new LinkedHashMap<>();
      for (String effect : spec.effects()) {
        List<Observation> all = distinct(instance.all(effect));
        if (all.size() > 1) {
          repeated.put(effect, all);
        }
      }
      if (repeated.isEmpty()) {
        continue;
      }
      List<Observation> triggers = distinct(instance.all(spec.trigger()));
      Set<String> keys = new LinkedHashSet<>();
      if (spec.dedupKey() != null) {
        for (Observation t : triggers) {
          JsonNode k = t.payload() == null ? null : spec.dedupKey().resolve(t.payload());
          if (k != null) keys.add(k.asString());
        }
      }
      String effects = repeated.entrySet().stream()
          .map(e -> e.getKey() + " happened " + e.getValue().size() + " times ("
              + e.getValue().stream().map(Observation::describe).collect(Collectors.joining(", ")) + ")")
          .collect(Collectors.joining("; "));
      String trigger = triggers.isEmpty() ? spec.trigger() + " was not observed"
          : spec.trigger() + " was delivered " + triggers.size() + (triggers.size() == 1 ? " time" : " times")
              + (spec.dedupKey() == null ? "" : " with " + keys.size() + " distinct " + spec.dedupKey()
                  + (keys.isEmpty() ? "" : " " + keys));
      Map.Entry<String, List<Observation>> first = repeated.entrySet().iterator().next();
      Observation second = first.getValue().get(1);
      String stage = triggers.size() > 1 ? triggers.get(0).stageId() : second.stageId();
      out.add(Violation.builder(ViolationKind.NON_IDEMPOTENT, stage)
          .event(triggers.size() > 1 ? spec.trigger() : first.getKey())
          .field(spec.dedupKey() == null ? null : spec.dedupKey().text())
          .message(trigger + "; " + effects + "; each may happen once per instance")
          .expected("each of " + String.join(", ", repeated.keySet()) + " once")
          .actual(repeated.entrySet().stream().map(e -> e.getKey() + " ×" + e.getValue().size())
              .collect(Collectors.joining(", ")))
          .evidence(second.evidence())
          .build());
    }
    return out;
  }

  private static List<Observation> distinct(List<Observation> all) {
    Map<String, Observation> byIdentity = new LinkedHashMap<>();
    for (Observation o : all) {
      byIdentity.putIfAbsent(o.identity(), o);
    }
    return new ArrayList<>(byIdentity.values());
  }
}
