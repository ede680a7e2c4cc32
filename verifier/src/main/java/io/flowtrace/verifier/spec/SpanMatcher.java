package io.flowtrace.verifier.spec;

import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import java.util.Map;

/**
 * Selects the spans that carry an event: by service ({@code service.name}), span kind, name and
 * attributes. Every given criterion must hold; absent criteria match anything. An attribute of the
 * stable HTTP and messaging semantic conventions that a span lacks is read under its older name
 * where the span has that ({@code url.full} as {@code http.url}, {@code http.request.method} as
 * {@code http.method}, …): services on agents of either age match one matcher.
 */
public record SpanMatcher(
    String service, SpanKind kind, StringMatcher name, Map<String, StringMatcher> attributes) {

  public SpanMatcher {
    attributes = attributes == null ? Map.of() : Map.copyOf(attributes);
  }

  public boolean matches(Span span) {
    if (service != null && !service.equals(span.service())) {
      return false;
    }
    if (kind != null && kind != span.kind()) {
      return false;
    }
    if (name != null && !name.matches(span.name())) {
      return false;
    }
    for (Map.Entry<String, StringMatcher> e : attributes.entrySet()) {
      if (!e.getValue().matches(attribute(span, e.getKey()))) {
        return false;
      }
    }
    return true;
  }

  /**
   * Attributes of the stable semantic conventions and the older names agents still send for them,
   * with the same meaning (not {@code url.path}, whose older {@code http.target} holds the query too).
   */
  public static final Map<String, String> OLDER_NAMES = Map.of(
      "url.full", "http.url",
      "http.request.method", "http.method",
      "http.response.status_code", "http.status_code",
      "messaging.destination.name", "messaging.destination",
      "messaging.operation.type", "messaging.operation",
      "messaging.kafka.offset", "messaging.kafka.message.offset",
      "messaging.destination.partition.id", "messaging.kafka.destination.partition",
      "messaging.client.id", "messaging.client_id");

  /** The attribute, or where the span lacks it, the same under its older name. */
  static String attribute(Span span, String name) {
    String value = span.attribute(name);
    if (value == null) {
      String older = OLDER_NAMES.get(name);
      value = older == null ? null : span.attribute(older);
    }
    return value;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    if (kind != null) sb.append(kind).append(' ');
    sb.append("span");
    if (name != null) sb.append(' ').append(name);
    if (service != null) sb.append(" of ").append(service);
    if (!attributes.isEmpty()) {
      sb.append(" with ");
      String sep = "";
      for (var a : new java.util.TreeMap<>(attributes).entrySet()) {
        StringMatcher m = a.getValue();
        sb.append(sep).append(a.getKey()).append(m.exact() != null ? " = '" + m.exact() + "'"
            : " matching \"" + m.regex().pattern() + "\"");
        sep = ", ";
      }
    }
    return sb.toString();
  }
}
