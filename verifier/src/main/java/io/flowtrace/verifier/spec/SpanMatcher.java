package io.flowtrace.verifier.spec;

import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import java.util.Map;

/**
 * Selects the spans that carry an event: by service ({@code service.name}), span kind, name and
 * attributes. Every given criterion must hold; absent criteria match anything.
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
      if (!e.getValue().matches(span.attribute(e.getKey()))) {
        return false;
      }
    }
    return true;
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
