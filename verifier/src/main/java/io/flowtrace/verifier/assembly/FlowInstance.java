package io.flowtrace.verifier.assembly;

import io.flowtrace.verifier.spec.FlowSpec;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An assembled flow instance: everything observed for one business transaction, across traces,
 * as of {@code asOfEpochNanos}. Immutable; checks are pure functions of it.
 *
 * @param keys business keys by name, in the spec's key order (a key may be unknown: absent)
 * @param observations every occurrence of every declared event, ordered by time
 * @param startEpochNanos the earliest observation's time (the deadline runs from here)
 * @param asOfEpochNanos the stream's event time when this snapshot was taken
 * @param deadlinePassed whether {@code asOf} is past {@code start + spec.deadline}
 * @param sawSpans whether the source delivered spans at all (propagation can only be judged then)
 */
public record FlowInstance(
    FlowSpec spec,
    Map<String, String> keys,
    List<Observation> observations,
    long startEpochNanos,
    long asOfEpochNanos,
    boolean deadlinePassed,
    boolean sawSpans) {

  public FlowInstance {
    keys = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(keys));
    List<Observation> sorted = new ArrayList<>(observations);
    sorted.sort(Comparator.comparingLong(Observation::timeEpochNanos));
    observations = List.copyOf(sorted);
  }

  /** Every occurrence of an event, in time order. */
  public List<Observation> all(String eventId) {
    List<Observation> out = new ArrayList<>(2);
    for (Observation o : observations) {
      if (o.eventId().equals(eventId)) {
        out.add(o);
      }
    }
    return out;
  }

  /** The first occurrence of an event, or {@code null}. */
  public Observation first(String eventId) {
    for (Observation o : observations) {
      if (o.eventId().equals(eventId)) {
        return o;
      }
    }
    return null;
  }

  public boolean has(String eventId) {
    return first(eventId) != null;
  }

  /** Whether every event of the stage was observed. */
  public boolean stageComplete(String stageId) {
    var stage = spec.stage(stageId);
    return stage != null && stage.events().stream().allMatch(e -> has(e.id()));
  }

  /** Whether any event of the stage was observed. */
  public boolean stageSeen(String stageId) {
    var stage = spec.stage(stageId);
    return stage != null && stage.events().stream().anyMatch(e -> has(e.id()));
  }

  /** Earliest time of the stage's first occurrences, or {@code Long.MAX_VALUE} when unseen. */
  public long stageStart(String stageId) {
    long t = Long.MAX_VALUE;
    for (var e : spec.stage(stageId).events()) {
      Observation o = first(e.id());
      if (o != null) t = Math.min(t, o.timeEpochNanos());
    }
    return t;
  }

  /** Latest time among the stage's first occurrences, or {@code Long.MIN_VALUE} when unseen. */
  public long stageEnd(String stageId) {
    long t = Long.MIN_VALUE;
    for (var e : spec.stage(stageId).events()) {
      Observation o = first(e.id());
      if (o != null) t = Math.max(t, o.timeEpochNanos());
    }
    return t;
  }

  /** Each event's first occurrence's payload, by event id (events without a payload are absent). */
  public Map<String, tools.jackson.databind.JsonNode> firstPayloads() {
    Map<String, tools.jackson.databind.JsonNode> out = new java.util.HashMap<>();
    for (Observation o : observations) {
      if (o.payload() != null) {
        out.putIfAbsent(o.eventId(), o.payload());
      }
    }
    return out;
  }

  /** A short text of the keys: {@code requestId=…, orderId=…}. */
  public String describeKeys() {
    StringBuilder sb = new StringBuilder();
    keys.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(k).append('=').append(v));
    return sb.toString();
  }
}
