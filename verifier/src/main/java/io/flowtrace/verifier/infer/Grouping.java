package io.flowtrace.verifier.infer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/**
 * Groups occurrences into flow instances without a spec. First traces: a trace, and the traces
 * its records' consumers start (by child, link or offset), are one causal component. Then
 * components are joined by business keys: a component that starts a new trace later (a webhook)
 * joins the earlier instance whose events first carried one of its identifier values.
 *
 * <p>Which fields are identifiers is learned: string fields of one event type whose values look
 * like ids and are (nearly) unique per occurrence. Which components start instances is learned
 * too: an <em>entry</em> type is the first event type of components whose identifiers are not
 * seen earlier — a webhook's order id always was; a new order's request id never is. Entry
 * components never join each other (two orders of one customer stay two instances), whatever they share.
 */
final class Grouping {

  private static final Pattern ID_LIKE = Pattern.compile("(?=.*[0-9])[A-Za-z0-9][A-Za-z0-9_:.\\-]{5,}");
  private static final Pattern TIMESTAMP = Pattern.compile("\\d{4}-\\d{2}-\\d{2}[T ].*");
  /** A number as an identifier's value may be: it meets another field's equal number by chance. */
  private static final Pattern NUMBER = Pattern.compile("-?\\d+");
  /** A number with a fraction (a reading, an amount): a measure, never an identifier. */
  private static final Pattern DECIMAL = Pattern.compile("-?\\d+\\.\\d+");
  /** The pseudo-path of a record's Kafka key, an identifier like any field (it is often the business key). */
  private static final String RECORD_KEY = "$key";

  /** One instance: its occurrences in time order, and its entry type. */
  static final class Instance {
    private final EventType entry;
    private final List<Occurrence> occurrences;
    /** Occurrences by type, made on first use: drafting asks for them per type pair and instance. */
    private Map<EventType, List<Occurrence>> byType;

    Instance(EventType entry, List<Occurrence> occurrences) {
      this.entry = entry;
      this.occurrences = occurrences;
    }

    EventType entry() {
      return entry;
    }

    List<Occurrence> occurrences() {
      return occurrences;
    }

    /** The earliest occurrence of the type, or {@code null} (once grouping is done). */
    Occurrence first(EventType type) {
      List<Occurrence> of = byType().get(type);
      return of == null ? null : of.get(0);
    }

    /** Every occurrence of the type in time order, a new list (once grouping is done). */
    List<Occurrence> all(EventType type) {
      List<Occurrence> of = byType().get(type);
      return of == null ? new ArrayList<>(2) : new ArrayList<>(of);
    }

    private Map<EventType, List<Occurrence>> byType() {
      if (byType == null) {
        byType = new HashMap<>();
        for (Occurrence o : occurrences) {
          byType.computeIfAbsent(o.type(), t -> new ArrayList<>(2)).add(o);
        }
      }
      return byType;
    }
  }

  private Grouping() {}

  /**
   * The instances of the traffic.
   *
   * @param entryChoice decides the entry types, or {@code null} to learn them
   */
  static List<Instance> instances(Traffic traffic, Predicate<EventType> entryChoice) {
    // 1. causal components of traces
    Map<String, String> parent = new HashMap<>();
    for (Occurrence o : traffic.occurrences) {
      parent.putIfAbsent(o.traceId(), o.traceId());
    }
    Set<String> batches = batchTraces(traffic.links);
    for (String[] link : traffic.links) {
      if (batches.contains(link[1])) {
        continue;
      }
      parent.putIfAbsent(link[0], link[0]);
      parent.putIfAbsent(link[1], link[1]);
      union(parent, link[0], link[1]);
    }
    Map<String, Component> components = new LinkedHashMap<>();
    int alone = 0;
    for (Occurrence o : traffic.occurrences) {
      // what a batch consumer did is each record's own: the batch's trace is no one instance's
      String component = batches.contains(o.traceId()) ? "\u0000" + alone++ : find(parent, o.traceId());
      components.computeIfAbsent(component, k -> new Component()).add(o);
    }
    List<Component> ordered = new ArrayList<>(components.values());
    ordered.sort(Comparator.comparingLong(c -> c.occurrences.get(0).time()));

    // 2. identifier fields: id-like values, nearly unique per occurrence of their event type; and
    // fields that refer to them (a shipment's tracking number in each of its carrier's webhooks)
    IdFields idFields = idFields(traffic.occurrences);
    for (Component c : ordered) {
      for (Occurrence o : c.occurrences) {
        c.identify(o, idFields);
      }
    }

    // 3. entry types: first types of components whose identifiers are new when they appear
    Predicate<EventType> isEntry = entryChoice;
    if (isEntry == null) {
      // an identifier is old when seen before: a webhook naming an invoice seen before continues
      // its flow (under any name, a provider's merchantReference being the order id); a number
      // only under its own name (or as a record key), as equal numbers meet by chance
      Map<String, int[]> fresh = new HashMap<>(); // first type -> {components, with an old identifier}
      Set<String> seenNamed = new HashSet<>();
      Set<String> seenKeys = new HashSet<>();
      Set<String> seen = new HashSet<>();
      for (Component c : ordered) {
        int[] n = fresh.computeIfAbsent(c.first().key(), k -> new int[2]);
        n[0]++;
        boolean old = false;
        for (String[] nv : c.named) {
          old |= seenNamed.contains(nv[0] + '\0' + nv[1]) || seenKeys.contains(nv[1])
              || (nv[0].equals(RECORD_KEY) || !NUMBER.matcher(nv[1]).matches()) && seen.contains(nv[1]);
        }
        if (old) {
          n[1]++;
        }
        for (String[] nv : c.named) {
          if (c.ids.contains(nv[1])) {
            seenNamed.add(nv[0] + '\0' + nv[1]);
            seen.add(nv[1]);
            if (nv[0].equals(RECORD_KEY)) {
              seenKeys.add(nv[1]);
            }
          }
        }
      }
      Set<String> entries = new HashSet<>();
      fresh.forEach((type, n) -> {
        if (n[1] <= n[0] / 2) {
          entries.add(type);
        }
      });
      isEntry = t -> entries.contains(t.key());
    }

    // 4. instances: entry components start one; the others join the instance that first had one of their ids
    Map<EventType, EventType> startsLike = entryChoice == null ? Map.of() : startsLike(ordered, entryChoice);
    List<Instance> out = new ArrayList<>();
    Map<String, List<Occurrence>> owner = new HashMap<>();
    Map<List<Occurrence>, EventType> entryOf = new java.util.IdentityHashMap<>();
    for (Component c : ordered) {
      EventType entry = null;
      if (entryChoice == null) {
        entry = isEntry.test(c.first()) ? c.first() : null;
      } else {
        entry = entryIn(c, entryChoice);
        if (entry == null) {
          // the entry span's trace was not sampled (or its spans were lost): its records start as
          // the records of the instances that have it do, and it is an instance of its own
          entry = startsLike.get(c.first());
        }
      }
      List<Occurrence> target;
      if (entry != null) {
        target = new ArrayList<>(c.occurrences);
        entryOf.put(target, entry);
        out.add(new Instance(entry, target));
      } else {
        target = owning(c, owner);
        if (target == null) {
          continue; // traffic no instance explains
        }
        Map<Occurrence, List<Occurrence>> apart = apart(c, owner, idFields);
        if (apart == null) {
          target.addAll(c.occurrences);
        } else {
          for (Occurrence o : c.occurrences) {
            apart.getOrDefault(o, target).add(o);
          }
        }
      }
      for (String v : c.ids) {
        owner.putIfAbsent(v, target);
      }
    }
    for (Instance i : out) {
      i.occurrences().sort(Comparator.comparingLong(Occurrence::time));
    }
    return out;
  }

  /** The instance a component's identifiers name most: an identifier outweighs any reference to one, a reference to few instances one to many. */
  private static List<Occurrence> owning(Component c, Map<String, List<Occurrence>> owner) {
    Map<List<Occurrence>, Double> votes = new java.util.IdentityHashMap<>();
    for (String v : c.ids) {
      List<Occurrence> o = owner.get(v);
      if (o != null) {
        votes.merge(o, 1.0, Double::sum);
      }
    }
    c.refs.forEach((v, weight) -> {
      List<Occurrence> o = owner.get(v);
      if (o != null) {
        votes.merge(o, weight, Double::sum);
      }
    });
    return votes.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(null);
  }

  /**
   * Where a component's occurrences go one by one, when two of one type name different instances
   * (a batch consumer's records, in one trace, each naming its own booking; its trace not sampled,
   * no link shows it is a batch); {@code null} when they go together. An occurrence naming none
   * is left to the component's instance.
   */
  private static Map<Occurrence, List<Occurrence>> apart(Component c, Map<String, List<Occurrence>> owner,
      IdFields idFields) {
    if (c.occurrences.size() < 2) {
      return null;
    }
    Map<Occurrence, List<Occurrence>> each = new java.util.IdentityHashMap<>();
    Map<EventType, List<Occurrence>> firstOfType = new HashMap<>();
    boolean split = false;
    for (Occurrence o : c.occurrences) {
      Component alone = new Component();
      alone.add(o);
      alone.identify(o, idFields);
      List<Occurrence> to = owning(alone, owner);
      if (to != null) {
        each.put(o, to);
        List<Occurrence> had = firstOfType.putIfAbsent(o.type(), to);
        split |= had != null && had != to;
      }
    }
    return split ? each : null;
  }

  private static EventType entryIn(Component c, Predicate<EventType> entryChoice) {
    for (Occurrence o : c.occurrences) {
      if (entryChoice.test(o.type())) {
        return o.type();
      }
    }
    return null;
  }

  /**
   * For a chosen entry: the record type most components holding the entry begin with (their first
   * record), mapped to that entry's type. A component of records alone that begins with it is an
   * instance whose entry span was not exported (its trace not sampled): records are never sampled
   * out, so it begins as the others do.
   */
  private static Map<EventType, EventType> startsLike(List<Component> ordered, Predicate<EventType> entryChoice) {
    Map<EventType, Map<EventType, Integer>> firsts = new HashMap<>();
    int withEntry = 0;
    for (Component c : ordered) {
      EventType entry = entryIn(c, entryChoice);
      if (entry != null && c.first().isTopic()) {
        withEntry++;
        firsts.computeIfAbsent(c.first(), k -> new HashMap<>()).merge(entry, 1, Integer::sum);
      }
    }
    Map<EventType, EventType> out = new HashMap<>();
    int half = withEntry / 2;
    firsts.forEach((record, entries) -> {
      int n = entries.values().stream().mapToInt(Integer::intValue).sum();
      if (n > half) {
        out.put(record, entries.entrySet().stream().max(Map.Entry.comparingByValue()).get().getKey());
      }
    });
    return out;
  }

  /**
   * Identifier fields ({@code type#path}): values that look like ids, nearly unique per occurrence.
   * References: fields of other types whose id-like values are (nearly all) values of identifier
   * fields, repeated across occurrences — each weighs its share of distinct values (below any
   * identifier's). A component naming one seen before continues a flow rather than starting one.
   */
  record IdFields(Set<String> identifiers, Map<String, Double> references) {}

  private static IdFields idFields(List<Occurrence> occurrences) {
    Map<String, Set<String>> distinct = new HashMap<>();
    Map<String, Integer> count = new HashMap<>();
    Map<String, Integer> idLike = new HashMap<>();
    for (Occurrence o : occurrences) {
      Map<String, String> values = new LinkedHashMap<>();
      if (o.isRecord() && o.record().key() != null) {
        values.put(RECORD_KEY, o.record().key());
      }
      if (o.payload() != null) {
        Values.scalars("", o.payload(), values, 3);
      }
      if (values.isEmpty()) {
        continue;
      }
      values.forEach((path, v) -> {
        String key = o.type().key() + "#" + path;
        count.merge(key, 1, Integer::sum);
        Set<String> d = distinct.computeIfAbsent(key, k -> new HashSet<>());
        if (d.size() < 1_000_000) {
          d.add(v);
        }
        if (ID_LIKE.matcher(v).matches() && !TIMESTAMP.matcher(v).matches() && !DECIMAL.matcher(v).matches()) {
          idLike.merge(key, 1, Integer::sum);
        }
      });
    }
    Set<String> out = new HashSet<>();
    Set<String> candidates = new HashSet<>();
    count.forEach((key, n) -> {
      int ids = idLike.getOrDefault(key, 0);
      if (n >= 2 && ids >= n * 0.9 && !key.contains("[]")) {
        (distinct.get(key).size() >= n * 0.6 ? out : candidates).add(key);
      }
    });
    Set<String> identifierValues = new HashSet<>();
    out.forEach(key -> identifierValues.addAll(distinct.get(key)));
    Map<String, Double> references = new HashMap<>();
    for (String key : candidates) {
      Set<String> values = distinct.get(key);
      long known = values.stream().filter(identifierValues::contains).count();
      if (known >= values.size() * 0.9) {
        references.put(key, (double) values.size() / count.get(key));
      }
    }
    return new IdFields(out, references);
  }

  private static void collect(String prefix, String path, JsonNode node, IdFields idFields, Component into) {
    Map<String, String> values = new LinkedHashMap<>();
    Values.scalars(path, node, values, 3);
    values.forEach((p, v) -> into.add(idFields, prefix + p, v));
  }

  private static final class Component {
    final List<Occurrence> occurrences = new ArrayList<>();
    final Set<String> ids = new HashSet<>();
    /** Values of reference fields, with the weight of the most telling field that carried each. */
    final Map<String, Double> refs = new HashMap<>();
    /** Each identifier and reference value with the name of a field that carried it. */
    final List<String[]> named = new ArrayList<>();

    void add(Occurrence o) {
      occurrences.add(o);
    }

    /** Collects the identifier and reference values of one of its occurrences: its payload's fields and its record key. */
    void identify(Occurrence o, IdFields idFields) {
      if (o.payload() != null) {
        collect(o.type().key() + "#", "", o.payload(), idFields, this);
      }
      if (o.isRecord() && o.record().key() != null) {
        add(idFields, o.type().key() + "#" + RECORD_KEY, o.record().key());
      }
    }

    void add(IdFields idFields, String field, String value) {
      if (idFields.identifiers().contains(field)) {
        ids.add(value);
        named.add(new String[] {name(field), value});
      } else {
        Double weight = idFields.references().get(field);
        if (weight != null) {
          refs.merge(value, weight, Math::max);
          named.add(new String[] {name(field), value});
        }
      }
    }

    /** A field's name, as an id keeps it from event to event: its last segment, in lower case. */
    private static String name(String field) {
      String path = field.substring(field.indexOf('#') + 1);
      if (path.equals(RECORD_KEY)) {
        return RECORD_KEY;
      }
      int dot = path.lastIndexOf('.');
      return path.substring(dot + 1).replace("[]", "").toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * The event type that starts the component: its first record's (records are never sampled
     * out, so a sampled and an unsampled instance of one flow start alike), else its first event's.
     */
    EventType first() {
      for (Occurrence o : occurrences) {
        if (o.isRecord()) {
          return o.type();
        }
      }
      return occurrences.get(0).type();
    }
  }

  private static String find(Map<String, String> parent, String x) {
    String root = x;
    while (!parent.get(root).equals(root)) {
      root = parent.get(root);
    }
    while (!parent.get(x).equals(root)) {
      String next = parent.get(x);
      parent.put(x, root);
      x = next;
    }
    return root;
  }

  /**
   * Traces that continue or link to records of several traces: a batch consumer's, whose span links
   * to each record it read (a loyalty service awarding points for twenty bookings at once). Joined
   * to each, they glued those bookings into one instance.
   */
  private static Set<String> batchTraces(List<String[]> links) {
    Map<String, String> firstSource = new HashMap<>();
    Set<String> batches = new HashSet<>();
    for (String[] link : links) {
      String had = firstSource.putIfAbsent(link[1], link[0]);
      if (had != null && !had.equals(link[0])) {
        batches.add(link[1]);
      }
    }
    return batches;
  }

  private static void union(Map<String, String> parent, String a, String b) {
    String ra = find(parent, a);
    String rb = find(parent, b);
    if (!ra.equals(rb)) {
      parent.put(rb, ra);
    }
  }
}
