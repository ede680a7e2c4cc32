package io.flowtrace.verifier.infer;

import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import java.net.URI;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A kind of event seen in traffic, the unit a flow spec declares: records of one topic, or the
 * request (or response) body of one kind of HTTP span — a server span by its service and name, a
 * client span by its service and the host and path it calls (agents name client spans by method
 * alone, {@code POST}).
 *
 * @param key what identifies it: {@code topic:orders.created}, {@code span:gateway|SERVER|POST /api/orders|req}
 * @param topic the topic of a record event
 * @param service a span event's service
 * @param kind a span event's kind
 * @param name a server span's name ({@code null} for a client span, matched by its URL)
 * @param urlPath a client span's URL path (matched as a regex suffix of its URL, before any query)
 * @param urlAttribute the attribute that holds a client span's URL: {@code url.full}, or the older
 *     conventions' {@code http.url}
 * @param attribute the span attribute that holds the payload, or {@code null}
 * @param kindField where a topic that carries several kinds of record names this one's kind (a
 *     payload field path, or a header name when {@code kindInHeader}), or {@code null}
 * @param kindInHeader whether {@code kindField} names a record header
 * @param kindValue the value there that is this kind ({@code OrderPaid})
 */
record EventType(String key, String topic, String service, SpanKind kind, String name, String urlPath,
    String urlAttribute, String attribute, String kindField, boolean kindInHeader, String kindValue) {

  static final String REQUEST_BODY = "http.request.body";
  static final String RESPONSE_BODY = "http.response.body";
  private static final Pattern NON_ID = Pattern.compile("[^a-z0-9]+");
  private static final Pattern PARAM = Pattern.compile("^(\\{.*}|:.*|\\d+|[0-9a-f-]{8,})$");

  static EventType topic(String topic) {
    return new EventType("topic:" + topic, topic, null, null, null, null, null, null, null, false, null);
  }

  /** The records of a topic whose payload field (or header) {@code field} is {@code value}. */
  static EventType topicKind(String topic, String field, boolean header, String value) {
    return new EventType("topic:" + topic + "|" + (header ? "header " : "") + field + "=" + value, topic, null, null,
        null, null, null, null, field, header, value);
  }

  /** The event type of one body of a span, or {@code null} for a span that is not a flow event. */
  static EventType span(Span span, String attribute) {
    if (span.kind() == SpanKind.SERVER) {
      return new EventType("span:" + span.service() + "|SERVER|" + span.name() + "|" + attribute, null, span.service(),
          SpanKind.SERVER, span.name(), null, null, attribute, null, false, null);
    }
    if (span.kind() == SpanKind.CLIENT) {
      String urlAttribute = span.attributes().containsKey("url.full") ? "url.full" : "http.url";
      String path = path(span.attribute(urlAttribute));
      if (path == null) {
        return new EventType("span:" + span.service() + "|CLIENT|" + span.name() + "|" + attribute, null,
            span.service(), SpanKind.CLIENT, span.name(), null, null, attribute, null, false, null);
      }
      return new EventType("span:" + span.service() + "|CLIENT|" + path + "|" + urlAttribute + "|" + attribute, null,
          span.service(), SpanKind.CLIENT, null, path, urlAttribute, attribute, null, false, null);
    }
    return null;
  }

  private static String path(String url) {
    if (url == null) {
      return null;
    }
    try {
      String p = URI.create(url.trim()).getPath();
      // one kind of call whatever it names: /claims/CLM-400003/decision is /claims/{id}/decision
      return p == null || p.isEmpty() ? null : io.flowtrace.verifier.text.UrlPaths.generic(p, 0);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  boolean isTopic() {
    return topic != null;
  }

  /** A CEL-safe identifier for the event: {@code orders_created}, {@code payments_request}, {@code api_orders}. */
  String suggestedId() {
    String base;
    if (topic != null) {
      // a kind's own name (OrderPaid: order_paid), split where it runs words together
      base = kindValue != null ? lastName(kindValue).replaceAll("([a-z0-9])([A-Z])", "$1_$2") : topic;
    } else {
      String p = urlPath != null ? urlPath : name.contains(" ") ? name.substring(name.indexOf(' ') + 1) : name;
      StringBuilder sb = new StringBuilder();
      for (String seg : p.split("/")) {
        if (!seg.isEmpty() && !PARAM.matcher(seg).matches()) {
          sb.append(sb.length() == 0 ? "" : "_").append(seg);
        }
      }
      base = sb.length() == 0 ? service + "_" + kind.name() : sb.toString();
      if (kind == SpanKind.CLIENT || RESPONSE_BODY.equals(attribute)) {
        base += RESPONSE_BODY.equals(attribute) ? "_response" : "_request";
      }
    }
    String id = NON_ID.matcher(base.toLowerCase(Locale.ROOT)).replaceAll("_").replaceAll("^_+|_+$", "");
    if (id.isEmpty() || !Character.isLetter(id.charAt(0))) {
      id = "e_" + id;
    }
    return id;
  }

  /** {@code com.shop.events.OrderPaid}: {@code OrderPaid}; the whole where the last part has no letter. */
  private static String lastName(String value) {
    String last = value.substring(Math.max(Math.max(value.lastIndexOf('.'), value.lastIndexOf('/')),
        Math.max(value.lastIndexOf(':'), value.lastIndexOf('$'))) + 1);
    return last.chars().anyMatch(Character::isLetter) ? last : value;
  }

  /** Equal when every component is: the key first, which tells most apart (drafting compares types often). */
  @Override
  public boolean equals(Object o) {
    return this == o || o instanceof EventType t && key.equals(t.key) && Objects.equals(topic, t.topic)
        && Objects.equals(service, t.service) && kind == t.kind && Objects.equals(name, t.name)
        && Objects.equals(urlPath, t.urlPath) && Objects.equals(urlAttribute, t.urlAttribute)
        && Objects.equals(attribute, t.attribute) && Objects.equals(kindField, t.kindField)
        && kindInHeader == t.kindInHeader && Objects.equals(kindValue, t.kindValue);
  }

  @Override
  public int hashCode() {
    return key.hashCode();
  }

  /** How a person names where it is seen. */
  String describe() {
    if (topic != null) {
      return "topic " + topic + (kindValue == null ? "" : " where " + (kindInHeader ? "header " : "") + kindField + " = '"
          + kindValue + "'");
    }
    return kind + " span " + (name != null ? "'" + name + "'" : "to …" + urlPath) + " of " + service
        + (attribute == null ? "" : " (" + attribute + ")");
  }
}
