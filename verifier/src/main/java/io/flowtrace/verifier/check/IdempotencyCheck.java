package io.flowtrace.verifier.check;

import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanLink;
import io.flowtrace.verifier.internal.Texts;
import io.flowtrace.verifier.model.FlowInstance;
import io.flowtrace.verifier.model.Observation;
import io.flowtrace.verifier.model.Repeats;
import io.flowtrace.verifier.model.Visibility;
import io.flowtrace.verifier.spec.IdempotencySpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import tools.jackson.databind.JsonNode;

/**
 * {@code NON_IDEMPOTENT}: a side effect happened more than once for one delivery key. With a
 * {@code dedupKey}, each distinct key value may cause each effect at most once: two deliveries of
 * the same key (a redelivered webhook) must not cause it twice, while deliveries with different
 * keys (a partner's {@code PICKED_UP} then {@code DELIVERED}) may each cause it once. Without a
 * {@code dedupKey}, each effect may happen once per instance.
 *
 * <p>An effect is attributed to the delivery whose trace it is in (followed through consumers
 * that continue or link to it); failing that, to the key its own payload carries under the
 * {@code dedupKey} path. Effects in the flow's own traces, caused by no delivery, count once per
 * instance. An effect whose delivery was not observed (its trace was not sampled) has an unknown
 * key: it is counted with the instance's one known key (or with the other unknown ones when no key
 * is known), which catches a redelivery seen only through its records, if it repeats an effect
 * counted there (the same payload); one that says something else came from another event, and,
 * like any when the instance has several known keys, cannot be attributed: reported as not verified.
 * Where the trigger is a record event, its deliveries are all seen (records are captured whether
 * their trace is sampled or not, and traffic without tracing has no trace to lose): with one key
 * among them, such an effect is counted with it whatever it says — a payout settled twice, the
 * second time for half as much again, in records that carry no trace context.
 *
 * <p>With {@code atLeastOnce}, also {@code MISSING_STAGE}: an observed delivery whose key (or, without
 * a {@code dedupKey}, a delivery at all) caused none of the effects — a callback acknowledged and
 * lost. Deliveries whose trace was not sampled are not observed, so not checked.
 */
public final class IdempotencyCheck implements Check {

  private static final String NO_DELIVERY = "";
  private static final String UNKNOWN = "\u0000unknown";
  /** The label of a trace that deliveries with different keys lead into. */
  private static final String SHARED = "\u0000shared";

  @Override
  public List<Violation> check(FlowInstance instance) {
    List<Violation> out = new ArrayList<>();
    for (IdempotencySpec spec : instance.spec().idempotency()) {
      analyze(instance, spec, out, null);
    }
    return out;
  }

  @Override
  public List<Unverified> unverified(FlowInstance instance) {
    List<Unverified> out = new ArrayList<>();
    for (IdempotencySpec spec : instance.spec().idempotency()) {
      analyze(instance, spec, null, out);
    }
    return out;
  }

  private static void analyze(FlowInstance instance, IdempotencySpec spec, List<Violation> violations,
      List<Unverified> unverified) {
    Map<String, List<Observation>> effects = new LinkedHashMap<>();
    boolean repeated = false;
    for (String effect : spec.effects()) {
      List<Observation> all = Repeats.withoutResends(instance, Repeats.distinct(instance.all(effect)));
      effects.put(effect, all);
      repeated |= all.size() > 1;
    }
    if (!repeated && !spec.atLeastOnce()) {
      return;
    }
    List<Observation> triggers = Repeats.distinct(instance.all(spec.trigger()));
    String stage = instance.spec().event(spec.trigger()).stageId();
    // group -> effect -> occurrences
    Map<String, Map<String, List<Observation>>> groups = new LinkedHashMap<>();
    Set<String> knownKeys = new LinkedHashSet<>();
    Set<String> delivered = new LinkedHashSet<>();
    List<Observation> unknown = new ArrayList<>();
    if (spec.dedupKey() == null) {
      effects.forEach((effect, all) -> groups.computeIfAbsent(NO_DELIVERY, g -> new LinkedHashMap<>()).put(effect, all));
    } else {
      Map<String, String> keyOfTrace = deliveries(instance, spec, triggers, knownKeys);
      delivered.addAll(knownKeys);
      Set<String> own = ownTraces(instance, spec);
      effects.forEach((effect, all) -> {
        for (Observation e : all) {
          String key = attribute(e, spec, keyOfTrace, own, knownKeys);
          if (key == UNKNOWN) {
            unknown.add(e);
          } else {
            groups.computeIfAbsent(key, g -> new LinkedHashMap<>()).computeIfAbsent(effect, x -> new ArrayList<>())
                .add(e);
          }
        }
      });
      if (!unknown.isEmpty()) {
        if (knownKeys.size() <= 1) {
          String into = knownKeys.isEmpty() ? UNKNOWN : knownKeys.iterator().next();
          // a trigger of records is seen whenever it happens, sampled or not: with one key among
          // its deliveries, no other event can have caused an effect, whatever it says
          boolean noOtherEvent = !knownKeys.isEmpty() && instance.spec().event(spec.trigger()).isTopic();
          List<Observation> different = new ArrayList<>();
          for (Observation e : unknown) {
            List<Observation> same = groups.computeIfAbsent(into, g -> new LinkedHashMap<>())
                .computeIfAbsent(e.eventId(), x -> new ArrayList<>());
            // a repeat is the same effect again; one that says something else came from another event
            if (same.isEmpty() || noOtherEvent || same.stream().anyMatch(o -> Repeats.samePayload(o, e))) {
              same.add(e);
            } else {
              different.add(e);
            }
          }
          if (!different.isEmpty() && unverified != null) {
            unverified.add(new Unverified("idempotency", stage, spec.trigger(), different.size() + " effect(s) ("
                + different.stream().map(Observation::describe).collect(Collectors.joining(", "))
                + ") came from deliveries that were not observed" + unobservedReason(instance, spec) + " and say"
                + " otherwise than the one(s) before them: another event, or a redelivery that changed its effect;"
                + " not counted"));
          }
        } else if (unverified != null) {
          unverified.add(new Unverified("idempotency", stage, spec.trigger(), unknown.size()
              + " effect(s) (" + unknown.stream().map(Observation::describe).collect(Collectors.joining(", "))
              + ") came from deliveries that were not observed" + unobservedReason(instance, spec)
              + ", so their " + spec.dedupKey().text() + " is unknown and the instance has "
              + knownKeys.size() + " distinct ones: not counted"));
        }
      }
    }
    List<String> lacking = spec.atLeastOnce() ? lacking(spec, triggers, delivered, groups) : List.of();
    if (!lacking.isEmpty() && !unknown.isEmpty() && knownKeys.size() > 1) {
      if (unverified != null) {
        unverified.add(new Unverified("idempotency", stage, spec.trigger(), "at least once: " + spec.trigger()
            + " " + String.join(", ", lacking) + " caused none of " + String.join(", ", spec.effects())
            + " that could be told apart; effects of deliveries not observed may be theirs"));
      }
      lacking = List.of();
    }
    if (violations == null) {
      return;
    }
    if (!lacking.isEmpty()) {
      violations.add(lost(instance, spec, triggers, lacking));
    }
    for (Map.Entry<String, Map<String, List<Observation>>> g : groups.entrySet()) {
      Map<String, List<Observation>> twice = new LinkedHashMap<>();
      g.getValue().forEach((effect, all) -> {
        List<Observation> sorted = new ArrayList<>(all);
        sorted.sort(java.util.Comparator.comparingLong(Observation::timeEpochNanos));
        if (sorted.size() > 1) {
          twice.put(effect, sorted);
        }
      });
      if (!twice.isEmpty()) {
        violations.add(violation(instance, spec, stage, triggers, knownKeys, g.getKey(), twice,
            groups.size() > 1));
      }
    }
  }

  private static Violation violation(FlowInstance instance, IdempotencySpec spec, String triggerStage,
      List<Observation> triggers, Set<String> knownKeys, String group, Map<String, List<Observation>> twice,
      boolean severalGroups) {
    String effects = twice.entrySet().stream()
        .map(e -> e.getKey() + " happened " + e.getValue().size() + " times ("
            + e.getValue().stream().map(Observation::describe).collect(Collectors.joining(", ")) + ")")
        .collect(Collectors.joining("; "));
    String key = spec.dedupKey() == null ? null : spec.dedupKey().text();
    StringBuilder message = new StringBuilder();
    boolean different = triggers.size() > 1
        && Repeats.distinctOccurrences(instance, spec.trigger()).size() == triggers.size();
    Map<Observation, Map.Entry<String, Long>> readAgain = new LinkedHashMap<>();
    for (Observation t : triggers) {
      consumedAgain(t, triggers).ifPresent(again -> readAgain.put(t, again));
    }
    if (triggers.isEmpty()) {
      message.append(spec.trigger()).append(" was not observed").append(unobservedReason(instance, spec));
    } else {
      // some deliveries unobserved (their traces sampled out): only those seen can be counted
      boolean partly = instance.visibility().isPartlyObserved(spec.trigger());
      message.append(spec.trigger()).append(different ? " happened " : partly ? " was delivered at least "
          : " was delivered ").append(partly && different ? "at least " : "").append(triggers.size())
          .append(triggers.size() == 1 ? " time" : " times").append(different ? ", each saying something else" : "")
          .append(partly ? " (others not observed: " + instance.visibility().partlyObserved(spec.trigger()).reason()
              + ")" : "");
      readAgain.forEach((t, again) -> message.append("; ").append(t.describe()).append(" was consumed ")
          .append(again.getValue()).append(" times by ").append(again.getKey()));
      if (key != null) {
        message.append(" with ").append(knownKeys.size()).append(" distinct ").append(key)
            .append(knownKeys.isEmpty() ? "" : " " + knownKeys);
      }
    }
    message.append("; ");
    if (key != null && group.equals(UNKNOWN)) {
      message.append("in deliveries whose ").append(key).append(" is unknown, ");
    } else if (key != null && group.equals(NO_DELIVERY)) {
      message.append("outside any delivery of ").append(spec.trigger()).append(", ");
    } else if (key != null && severalGroups) {
      message.append("for ").append(key).append(' ').append(group).append(", ");
    }
    message.append(effects).append("; each may happen once per ")
        .append(key == null || group.equals(NO_DELIVERY) ? "instance" : key);
    String changed = key == null || group.equals(UNKNOWN) || group.equals(NO_DELIVERY) ? null
        : changedBetweenDeliveries(spec, triggers, group);
    if (changed != null) {
      message.append(". The deliveries of ").append(key).append(' ').append(group).append(" say different things (")
          .append(changed).append("): not a plain redelivery — the sender changed its event after sending it");
    }
    Map.Entry<String, List<Observation>> first = twice.entrySet().iterator().next();
    Observation second = first.getValue().get(1);
    // what tells a second payout from the first one recorded twice
    String differ = differences(first.getValue().get(0).payload(), second.payload());
    if (differ != null) {
      message.append(". The occurrences of ").append(first.getKey()).append(" say different things (").append(differ)
          .append(")");
    }
    // the trigger's stage is to blame when it was delivered again, not when it fanned out
    boolean redelivered = triggers.size() > 1 && (!different || !readAgain.isEmpty());
    return Violation.builder(ViolationKind.NON_IDEMPOTENT, redelivered ? triggerStage : second.stageId())
        .event(redelivered ? spec.trigger() : first.getKey())
        .field(key)
        .message(message.toString())
        .expected("each of " + String.join(", ", twice.keySet()) + " once"
            + (key == null || group.equals(NO_DELIVERY) ? "" : " per " + key))
        .actual(twice.entrySet().stream().map(e -> e.getKey() + " ×" + e.getValue().size())
            .collect(Collectors.joining(", ")))
        .evidence(Evidence.of(readAgain.isEmpty() ? second : readAgain.keySet().iterator().next()))
        .build();
  }

  /**
   * The service that consumed a record more than once, and how many times: a redelivery; empty when
   * none did, or when its consumer spans cannot be told from those of a copy of it (a record sent
   * again under the same {@code traceparent}) because they do not name their offset.
   */
  private static java.util.Optional<Map.Entry<String, Long>> consumedAgain(Observation trigger,
      List<Observation> triggers) {
    if (trigger.consumers().size() < 2) {
      return java.util.Optional.empty();
    }
    List<Span> mine = new ArrayList<>();
    for (Span c : trigger.consumers()) {
      Long offset = io.flowtrace.tracer.correlation.MessagingAttributes.offset(c);
      if (offset == null && triggers.stream().anyMatch(t -> t != trigger && t.trace() != null
          && t.trace().equals(trigger.trace()))) {
        return java.util.Optional.empty();
      }
      if (offset == null || offset == trigger.record().offset()) {
        mine.add(c);
      }
    }
    return mine.stream().collect(Collectors.groupingBy(Span::service, LinkedHashMap::new, Collectors.counting()))
        .entrySet().stream().filter(e -> e.getValue() > 1).findFirst();
  }


  /**
   * The observed deliveries that caused none of the effects, in words ({@code with eventId evt-1});
   * without a dedupKey, the trigger when it was delivered and no effect happened at all.
   */
  private static List<String> lacking(IdempotencySpec spec, List<Observation> triggers, Set<String> delivered,
      Map<String, Map<String, List<Observation>>> groups) {
    if (triggers.isEmpty()) {
      return List.of();
    }
    if (spec.dedupKey() == null) {
      boolean any = groups.values().stream().anyMatch(g -> g.values().stream().anyMatch(l -> !l.isEmpty()));
      return any ? List.of() : List.of("delivered " + triggers.size() + (triggers.size() == 1 ? " time" : " times"));
    }
    List<String> out = new ArrayList<>();
    for (String key : delivered) {
      Map<String, List<Observation>> caused = groups.get(key);
      if (caused == null || caused.values().stream().allMatch(List::isEmpty)) {
        out.add("with " + spec.dedupKey().text() + " " + key);
      }
    }
    return out;
  }

  private static Violation lost(FlowInstance instance, IdempotencySpec spec, List<Observation> triggers,
      List<String> lacking) {
    String effects = String.join(", ", spec.effects());
    String first = spec.effects().get(0);
    Observation evidence = triggers.get(0);
    String per = spec.dedupKey() == null ? "delivery" : spec.dedupKey().text();
    return Violation.builder(ViolationKind.MISSING_STAGE, instance.spec().event(first).stageId())
        .event(first)
        .field(spec.dedupKey() == null ? null : spec.dedupKey().text())
        .message(spec.trigger() + " " + String.join("; ", lacking) + " caused none of " + effects
            + ": each " + per + " of it must cause one (atLeastOnce) — an acknowledged delivery whose effect was lost")
        .expected("one of " + effects + " per " + per)
        .actual("none " + String.join("; ", lacking))
        .evidence(Evidence.of(evidence))
        .build();
  }

  private static String unobservedReason(FlowInstance instance, IdempotencySpec spec) {
    Visibility.Unobserved u = instance.visibility().unobserved(spec.trigger());
    return u == null ? "" : " (" + u.reason() + ")";
  }

  /** The delivery key of each trace a delivery's effects can be in: its own, and those that continue it. */
  private static Map<String, String> deliveries(FlowInstance instance, IdempotencySpec spec,
      List<Observation> triggers, Set<String> knownKeys) {
    Map<String, String> keyOfTrace = new HashMap<>();
    for (Observation t : triggers) {
      JsonNode k = t.payload() == null ? null : spec.dedupKey().resolve(t.payload());
      String key = k == null || k.isNull() ? UNKNOWN : k.asString();
      if (key != UNKNOWN) {
        knownKeys.add(key);
      }
      if (t.traceId() != null) {
        label(keyOfTrace, t.traceId(), key);
      }
    }
    follow(instance, keyOfTrace);
    return keyOfTrace;
  }

  /**
   * Labels a trace with a delivery's key; a trace two deliveries with different keys lead into (a
   * batch consumer's span, linked to each record of its batch) is {@link #SHARED}: its effects are
   * told apart by what they say, not by their trace. Whether the label is new.
   */
  private static boolean label(Map<String, String> labels, String trace, String key) {
    String had = labels.putIfAbsent(trace, key);
    if (had == null) {
      return true;
    }
    if (!had.equals(key) && had != SHARED) {
      labels.put(trace, SHARED);
      return true;
    }
    return false;
  }

  /** The traces of the flow's own path: its entry events' and what continues them, not deliveries'. */
  private static Set<String> ownTraces(FlowInstance instance, IdempotencySpec spec) {
    Map<String, String> own = new HashMap<>();
    for (Observation o : instance.observations()) {
      if (instance.spec().stage(o.stageId()).after().isEmpty() && o.traceId() != null) {
        own.put(o.traceId(), NO_DELIVERY);
      }
    }
    follow(instance, own);
    return new HashSet<>(own.keySet());
  }

  /** Extends a trace labelling to the traces of consumers that continue or link to a labelled record. */
  private static void follow(FlowInstance instance, Map<String, String> label) {
    boolean grew = true;
    for (int round = 0; grew && round < 16; round++) {
      grew = false;
      for (Observation o : instance.observations()) {
        String l = o.traceId() == null ? null : label.get(o.traceId());
        if (l == null || !o.isRecord()) {
          continue;
        }
        for (Span c : o.consumers()) {
          boolean continues = c.traceId().equals(o.traceId());
          for (SpanLink link : c.links()) {
            continues |= link.traceId().equals(o.traceId());
          }
          if (continues && label(label, c.traceId(), l)) {
            grew = true;
          }
        }
      }
    }
  }

  private static String attribute(Observation e, IdempotencySpec spec, Map<String, String> keyOfTrace,
      Set<String> own, Set<String> knownKeys) {
    String byTrace = e.traceId() == null ? null : keyOfTrace.get(e.traceId());
    if (byTrace != null && byTrace != UNKNOWN && byTrace != SHARED) {
      return byTrace;
    }
    JsonNode k = e.payload() == null ? null : spec.dedupKey().resolve(e.payload());
    if (k != null && k.isValueNode() && !k.isNull()) {
      knownKeys.add(k.asString());
      return k.asString();
    }
    if (byTrace == null && e.traceId() != null && own.contains(e.traceId())) {
      return NO_DELIVERY;
    }
    return UNKNOWN;
  }

  /**
   * How the deliveries of one dedup key differ, beyond when they were sent: {@code amount 157.3,
   * then 158.3} (up to three fields), or {@code null} when they say the same.
   */
  private static String changedBetweenDeliveries(IdempotencySpec spec, List<Observation> triggers, String group) {
    JsonNode firstPayload = null;
    for (Observation t : triggers) {
      JsonNode k = t.payload() == null ? null : spec.dedupKey().resolve(t.payload());
      if (k == null || !group.equals(k.asString()) || !t.payload().isObject()) {
        continue;
      }
      if (firstPayload == null) {
        firstPayload = t.payload();
        continue;
      }
      String fields = differences(firstPayload, t.payload());
      if (fields != null) {
        return fields;
      }
    }
    return null;
  }

  /** How two payloads differ beyond when they were sent ({@code amount 333.42, then 334.42}), or {@code null}. */
  private static String differences(JsonNode first, JsonNode then) {
    if (first == null || then == null || !first.isObject() || !then.isObject()) {
      return null;
    }
    List<String> fields = new ArrayList<>();
    Set<String> names = new LinkedHashSet<>(first.propertyNames());
    names.addAll(then.propertyNames());
    for (String n : names) {
      JsonNode x = first.get(n);
      JsonNode y = then.get(n);
      if (x == null || y == null || !Repeats.sameBut(x, y, n)) {
        fields.add(n + " " + Texts.json(x, 40) + ", then " + Texts.json(y, 40));
      }
    }
    return fields.isEmpty() ? null : String.join("; ", fields.subList(0, Math.min(3, fields.size())))
        + (fields.size() > 3 ? "; and " + (fields.size() - 3) + " more" : "");
  }


}
