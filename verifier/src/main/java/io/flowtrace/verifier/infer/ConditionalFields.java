package io.flowtrace.verifier.infer;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * Fields an event's payloads carry only for some values of a code in the same payload: a trip's
 * {@code driver} is set when its {@code status} is {@code MATCHED} and null when it is
 * {@code NO_DRIVER}; a payment's {@code declineCode} is there when it was declined. The schema can
 * only say such a field may be null or absent; a drafted rule says when it may not.
 *
 * <p>Found one way only — the codes seen with the field set require it — so a code the recording
 * never showed, or showed fewer than {@value #LEAST_PER_CODE} times, requires nothing.
 */
final class ConditionalFields {

  /** Least payloads for a code to count: one or two say nothing about the field. */
  static final int LEAST_PER_CODE = 3;
  /** Least payloads the rule would have checked, and least that went without the field. */
  static final int LEAST_REQUIRED = 5;

  private static final int DEPTH = 3;

  /**
   * A field set wherever {@code code} takes one of {@code values}.
   *
   * @param field the field's path ({@code driver}, {@code payment.declineCode})
   * @param code the path of the code that tells
   * @param values the code's values that came with the field (strings or booleans), sorted
   * @param required payloads with one of those values
   * @param held of them, those with the field set
   * @param without payloads with another value, where the field was null or absent
   * @param exceptions indexes of the payloads with one of the values but without the field
   * @param nullable whether some payloads held the field as null (not only went without it)
   */
  record Conditional(String field, String code, List<JsonNode> values, int required, int held, int without,
      List<Integer> exceptions, boolean nullable) {}

  private ConditionalFields() {}

  /** The conditional fields of these payloads (of one event type), at most one code each, by path. */
  static List<Conditional> of(List<JsonNode> payloads, double holds) {
    int n = payloads.size();
    Map<String, BitSet> set = new TreeMap<>();
    Set<String> nulls = new HashSet<>();
    for (int i = 0; i < n; i++) {
      walk("", payloads.get(i), i, set, nulls, DEPTH);
    }
    Map<String, JsonNode[]> codes = new TreeMap<>();
    set.forEach((path, in) -> {
      if (in.cardinality() == n && FlowDraft.celPath(path)) {
        JsonNode[] values = codeValues(payloads, path);
        if (values != null) {
          codes.put(path, values);
        }
      }
    });
    List<Conditional> out = new ArrayList<>();
    set.forEach((path, in) -> {
      int count = in.cardinality();
      int dot = path.lastIndexOf('.');
      boolean parentAlways = dot < 0 || set.get(path.substring(0, dot)).cardinality() == n;
      if (count == 0 || count == n || !parentAlways || !FlowDraft.celPath(path)) {
        return;
      }
      Conditional best = null;
      for (Map.Entry<String, JsonNode[]> c : codes.entrySet()) {
        if (c.getKey().equals(path) || c.getKey().startsWith(path + ".")) {
          continue;
        }
        Conditional found = decide(path, in, c.getKey(), c.getValue(), holds, nulls.contains(path));
        if (found != null && (best == null || BETTER.compare(found, best) < 0)) {
          best = found;
        }
      }
      if (best != null) {
        out.add(best);
      }
    });
    return out;
  }

  private static final Comparator<Conditional> BETTER = Comparator
      .comparingInt((Conditional c) -> c.required() - c.held())
      .thenComparing(Comparator.comparingInt(Conditional::held).reversed())
      .thenComparingInt(c -> c.values().size())
      .thenComparing(Conditional::code);

  private static Conditional decide(String field, BitSet in, String code, JsonNode[] values, double holds,
      boolean nullable) {
    Map<String, int[]> byValue = new TreeMap<>();
    Map<String, JsonNode> literal = new TreeMap<>();
    for (int i = 0; i < values.length; i++) {
      String v = values[i].asString();
      literal.putIfAbsent(v, values[i]);
      int[] c = byValue.computeIfAbsent(v, k -> new int[2]);
      c[0]++;
      if (in.get(i)) {
        c[1]++;
      }
    }
    List<String> with = new ArrayList<>();
    int required = 0;
    int held = 0;
    int without = 0;
    for (Map.Entry<String, int[]> e : byValue.entrySet()) {
      int total = e.getValue()[0];
      int present = e.getValue()[1];
      if (total < LEAST_PER_CODE) {
        continue;
      }
      if (present >= total * holds) {
        with.add(e.getKey());
        required += total;
        held += present;
      } else if (present <= total * (1 - holds)) {
        without += total - present;
      } else {
        return null; // set in some payloads of this value and not in others: the code does not tell
      }
    }
    if (with.isEmpty() || required < LEAST_REQUIRED || without < LEAST_REQUIRED) {
      return null;
    }
    List<Integer> exceptions = new ArrayList<>();
    for (int i = 0; i < values.length; i++) {
      if (!in.get(i) && with.contains(values[i].asString())) {
        exceptions.add(i);
      }
    }
    return new Conditional(field, code, with.stream().map(literal::get).toList(), required, held, without,
        exceptions, nullable);
  }

  /** The values of a code at {@code path}: strings that look like codes, or booleans; few of them. */
  private static JsonNode[] codeValues(List<JsonNode> payloads, String path) {
    JsonNode[] values = new JsonNode[payloads.size()];
    Set<String> distinct = new HashSet<>();
    for (int i = 0; i < values.length; i++) {
      JsonNode v = Values.at(payloads.get(i), path);
      boolean code = v != null
          && (v.isBoolean() || v.isString() && SchemaInferrer.CODE.matcher(v.stringValue()).matches());
      if (!code || distinct.add(v.asString()) && distinct.size() > SchemaInferrer.ENUM_MAX) {
        return null;
      }
      values[i] = v;
    }
    return distinct.size() >= 2 ? values : null;
  }

  /** Marks, for each path of an object or scalar under {@code node}, that payload {@code i} sets it (not null). */
  private static void walk(String path, JsonNode node, int i, Map<String, BitSet> set, Set<String> nulls,
      int depth) {
    if (!node.isObject() || depth == 0) {
      return;
    }
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      JsonNode v = e.getValue();
      String p = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
      BitSet in = set.computeIfAbsent(p, k -> new BitSet());
      if (v.isNull()) {
        nulls.add(p);
      } else if (!v.isMissingNode()) {
        in.set(i);
        walk(p, v, i, set, nulls, depth - 1);
      }
    }
  }
}
