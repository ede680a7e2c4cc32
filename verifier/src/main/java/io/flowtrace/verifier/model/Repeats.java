package io.flowtrace.verifier.model;

import io.flowtrace.tracer.model.KafkaRecord;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * Which occurrences of an event repeat an earlier one — the same record seen twice, a record sent
 * again byte for byte, a payload that says the same but for when it was made, or that names the
 * same thing by every identifier it has — and so are not another effect (the idempotency check) or
 * another item of a fan-out (the order check of a {@code fanIn} stage; {@code infer}).
 */
public final class Repeats {
  /** A date-time string, which tells when an effect was made, not what it is. */
  private static final java.util.regex.Pattern DATE_TIME =
      java.util.regex.Pattern.compile("\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:?\\d{2})?");
  /** A field name that holds a time. */
  private static final java.util.regex.Pattern TIME_NAME =
      java.util.regex.Pattern.compile("(?i).*(time|timestamp|date|_at|At|_ts|Ts)");
  /** A field name that holds an identifier: {@code id}, {@code callbackId}, {@code item_id}, {@code bankRef}. */
  private static final java.util.regex.Pattern IDENTIFIER =
      java.util.regex.Pattern.compile("id|ID|Id|.*(Id|ID|_id|Ref|_ref)");

  private Repeats() {}

  /**
   * The occurrences of an event that are not repeats of an earlier one, in time order: retried
   * attempts, the same record seen again, records sent again and payloads that say the same as a
   * kept one's, or name the same item ({@link #sameItem}), are left out (an occurrence whose payload
   * is not known says the same as any).
   */
  public static List<Observation> distinctOccurrences(FlowInstance instance, String eventId) {
    List<Observation> kept = new ArrayList<>(2);
    for (Observation o : withoutResends(instance, distinct(instance.all(eventId)))) {
      if (!instance.retried(o) && kept.stream().noneMatch(k -> samePayload(k, o) || sameItem(k.payload(), o.payload()))) {
        kept.add(o);
      }
    }
    return kept;
  }

  /**
   * The effects less records sent again as they were: byte for byte an earlier one of their
   * partition — key, value and {@code traceparent}, so one producer span's one send, which a
   * producer without {@code enable.idempotence} repeats when an acknowledgement is lost; without a
   * {@code traceparent}, key and value alike where the payload has an identifier of its own (a
   * {@code notificationId}, neither the instance's key nor carried from another event), which one
   * send made once. That is one payout recorded twice, not two payouts (a trial's clean orders
   * failed for 1 % of them); a second effect made again, as a redelivered trigger's consumer makes
   * it, is in a span of its own.
   */
  public static List<Observation> withoutResends(FlowInstance instance, List<Observation> effects) {
    if (effects.size() < 2) {
      return effects;
    }
    List<Observation> kept = new ArrayList<>(effects.size());
    for (Observation o : effects) {
      if (kept.stream().noneMatch(k -> sentAgain(instance, k, o))) {
        kept.add(o);
      }
    }
    return kept;
  }

  /**
   * Whether two effects say the same thing: equal payloads but for when they were made (date-time
   * strings; integral numbers under a time-like name). Either payload unknown counts as the same.
   */
  public static boolean samePayload(Observation a, Observation b) {
    return a.payload() == null || b.payload() == null || sameBut(a.payload(), b.payload(), "");
  }

  /**
   * Whether two payloads name the same thing by every identifier they share — top-level fields
   * named like {@code callbackId}, {@code item_id}, {@code bankRef} with a scalar value in both, at
   * least one of them — whatever else changed: a bank's callback sent again with another value
   * date is one callback, while one inspection per item ({@code itemId}) is several.
   */
  public static boolean sameItem(JsonNode a, JsonNode b) {
    if (a == null || b == null || !a.isObject() || !b.isObject()) {
      return false;
    }
    boolean any = false;
    for (String name : a.propertyNames()) {
      JsonNode x = a.get(name);
      JsonNode y = b.get(name);
      if (y != null && x.isValueNode() && y.isValueNode() && !x.isNull() && IDENTIFIER.matcher(name).matches()) {
        if (!x.equals(y)) {
          return false;
        }
        any = true;
      }
    }
    return any;
  }

  /**
   * Whether two values say the same but for when they were made: equal, or differing only in
   * date-time strings and in integral numbers under a time-like name ({@code name} is the field
   * the values are under, empty at the top).
   */
  public static boolean sameBut(JsonNode a, JsonNode b, String name) {
    if (a.equals(b)) {
      return true;
    }
    if (a.isObject() && b.isObject()) {
      Set<String> names = new LinkedHashSet<>(a.propertyNames());
      names.addAll(b.propertyNames());
      for (String n : names) {
        JsonNode x = a.get(n);
        JsonNode y = b.get(n);
        if (x == null || y == null || !sameBut(x, y, n)) {
          return false;
        }
      }
      return true;
    }
    if (a.isArray() && b.isArray() && a.size() == b.size()) {
      for (int i = 0; i < a.size(); i++) {
        if (!sameBut(a.get(i), b.get(i), name)) {
          return false;
        }
      }
      return true;
    }
    if (a.isString() && b.isString()) {
      return DATE_TIME.matcher(a.asString()).matches() && DATE_TIME.matcher(b.asString()).matches();
    }
    return a.isIntegralNumber() && b.isIntegralNumber() && TIME_NAME.matcher(name).matches();
  }

  private static boolean sentAgain(FlowInstance instance, Observation earlier, Observation o) {
    KafkaRecord a = earlier.record();
    KafkaRecord b = o.record();
    if (a == null || b == null || !b.sameMessageAs(a)) {
      return false;
    }
    if (b.traceContext().isPresent()) {
      return a.traceContext().equals(b.traceContext());
    }
    // no trace context to tell one send from two: an identifier of its own, not the instance's key, does
    return a.traceContext().isEmpty() && namesItself(instance, o);
  }

  /**
   * Whether a payload has an identifier of its own: a field named like one, not an instance key,
   * whose value no other event of the instance has under that name (made by its producer, as a
   * {@code notificationId} is; a {@code ratingId} carried from the rating is not its own).
   */
  private static boolean namesItself(FlowInstance instance, Observation o) {
    JsonNode p = o.payload();
    if (p == null || !p.isObject()) {
      return false;
    }
    for (String name : p.propertyNames()) {
      JsonNode v = p.get(name);
      if (v.isValueNode() && !v.isNull() && IDENTIFIER.matcher(name).matches() && !o.keys().containsKey(name)
          && instance.observations().stream().noneMatch(x -> !x.eventId().equals(o.eventId()) && x.payload() != null
              && v.equals(x.payload().get(name)))) {
        return true;
      }
    }
    return false;
  }



  /** The occurrences less the same one seen again (one record read twice), first seen kept. */
  public static List<Observation> distinct(List<Observation> all) {
    Map<String, Observation> byIdentity = new LinkedHashMap<>();
    for (Observation o : all) {
      byIdentity.putIfAbsent(o.identity(), o);
    }
    return new ArrayList<>(byIdentity.values());
  }
}
