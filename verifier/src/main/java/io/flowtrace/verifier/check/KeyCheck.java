package io.flowtrace.verifier.check;

import io.flowtrace.verifier.model.FlowInstance;
import io.flowtrace.verifier.model.Observation;
import io.flowtrace.verifier.spec.FieldPath;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An event that carried another instance's key value where its trace, its record key or its other
 * keys placed it in this instance — a delivery's record naming another order, a value changed on
 * the way: a {@link ViolationKind#BAD_TRANSFORMATION} of this instance, at that event. The
 * instance whose value it carried is left alone: nothing of it happened there.
 */
public final class KeyCheck implements Check {

  @Override
  public List<Violation> check(FlowInstance instance) {
    List<Violation> out = new ArrayList<>();
    for (Observation o : instance.observations()) {
      if (o.otherInstance().isEmpty()) {
        continue;
      }
      for (Map.Entry<String, String> k : o.keys().entrySet()) {
        String mine = instance.keys().get(k.getKey());
        String carried = k.getValue();
        if (mine == null || mine.equals(carried) || !carried.equals(o.otherInstance().get(k.getKey()))) {
          continue;
        }
        FieldPath path = o.event().keys().get(k.getKey());
        String field = path != null ? path.toString() : k.getKey();
        out.add(Violation.builder(ViolationKind.BAD_TRANSFORMATION, o.stageId())
            .event(o.eventId()).field(field)
            .message(o.describe() + " carried " + k.getKey() + " " + quoted(carried) + ", the key of another instance ("
                + describe(o.otherInstance()) + "), where this instance's is " + quoted(mine) + ": "
                + placedBy(instance, o) + " placed it here")
            .expected(quoted(mine)).actual(quoted(carried))
            .evidence(Evidence.of(o)).build());
      }
    }
    return out;
  }

  /** Whether {@code field} of the event holds a key value of another instance ({@link Observation#otherInstance}). */
  static boolean carriesAnothersKey(Observation o, String field) {
    if (o.otherInstance().isEmpty()) {
      return false;
    }
    for (Map.Entry<String, FieldPath> k : o.event().keys().entrySet()) {
      String carried = o.keys().get(k.getKey());
      if (k.getValue().toString().equals(field) && carried != null
          && carried.equals(o.otherInstance().get(k.getKey()))) {
        return true;
      }
    }
    return false;
  }

  private static String quoted(String value) {
    return '"' + value + '"';
  }

  private static String describe(Map<String, String> keys) {
    StringBuilder out = new StringBuilder();
    keys.forEach((k, v) -> out.append(out.length() == 0 ? "" : ", ").append(k).append('=').append(v));
    return out.toString();
  }

  /** What tied the event to this instance: its other keys agreeing with this instance's, and its trace. */
  private static String placedBy(FlowInstance instance, Observation o) {
    List<String> agreed = new ArrayList<>();
    o.keys().forEach((k, v) -> {
      if (v.equals(instance.keys().get(k))) {
        agreed.add(k + "=" + v);
      }
    });
    String trace = o.traceId() != null && instance.observations().stream()
        .anyMatch(x -> x != o && o.traceId().equals(x.traceId())) ? "its trace " + o.traceId() : null;
    if (agreed.isEmpty()) {
      return trace != null ? trace : "its trace";
    }
    return String.join(", ", agreed) + (trace != null ? " and " + trace : "");
  }
}
