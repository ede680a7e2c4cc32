package io.flowtrace.verifier.spec;

import io.flowtrace.tracer.model.RecordHeader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import tools.jackson.databind.JsonNode;

/**
 * Which of the records of an event's topic (or the spans of its matcher) are that event, where
 * one topic carries several kinds: {@code where} payload fields (a number or boolean read as its
 * JSON text) and {@code headers} (read as UTF-8) that must match. Every criterion must hold; with
 * none, every record or span is the event. A payload that could not be read (not valid JSON, over
 * the size cap) is taken for the event, so that what is wrong with it is reported.
 */
public record EventSelector(Map<FieldPath, StringMatcher> where, Map<String, StringMatcher> headers) {

  /** Selects everything. */
  public static final EventSelector ALL = new EventSelector(Map.of(), Map.of());

  public EventSelector {
    where = Map.copyOf(where);
    headers = Map.copyOf(headers);
  }

  /** Whether there is no criterion. */
  public boolean isAll() {
    return where.isEmpty() && headers.isEmpty();
  }

  /** Whether the record or span with this payload ({@code null}: unreadable) and headers is the event. */
  public boolean selects(JsonNode payload, List<RecordHeader> recordHeaders) {
    for (Map.Entry<String, StringMatcher> h : headers.entrySet()) {
      if (!anyHeader(recordHeaders, h.getKey(), h.getValue())) {
        return false;
      }
    }
    if (payload == null || where.isEmpty()) {
      return true;
    }
    for (Map.Entry<FieldPath, StringMatcher> w : where.entrySet()) {
      JsonNode value = w.getKey().resolve(payload);
      if (value == null || !value.isValueNode() || value.isNull() || !w.getValue().matches(value.asString())) {
        return false;
      }
    }
    return true;
  }

  private static boolean anyHeader(List<RecordHeader> recordHeaders, String name, StringMatcher matcher) {
    for (RecordHeader h : recordHeaders) {
      if (h.name().equals(name) && h.value() != null
          && matcher.matches(new String(h.value(), StandardCharsets.UTF_8))) {
        return true;
      }
    }
    return false;
  }

  /** {@code where type = 'APPROVED', header ce_type matching "Approved$"}; empty when it selects everything. */
  @Override
  public String toString() {
    StringJoiner out = new StringJoiner(", ", "where ", "").setEmptyValue("");
    where.entrySet().stream().sorted(Map.Entry.comparingByKey(java.util.Comparator.comparing(FieldPath::text)))
        .forEach(w -> out.add(w.getKey().text() + describe(w.getValue())));
    new java.util.TreeMap<>(headers).forEach((name, m) -> out.add("header " + name + describe(m)));
    return out.toString();
  }

  private static String describe(StringMatcher m) {
    return m.exact() != null ? " = '" + m.exact() + "'" : " matching \"" + m.regex().pattern() + "\"";
  }
}
