package io.flowtrace.tracer.correlation;

import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;

/**
 * Reads Kafka messaging attributes from a span under both OpenTelemetry convention sets: the
 * stable one ({@code messaging.operation.type}, {@code messaging.kafka.offset},
 * {@code messaging.destination.partition.id}) and the older default of the Java agent
 * ({@code messaging.operation}, {@code messaging.kafka.message.offset},
 * {@code messaging.kafka.destination.partition}).
 */
public final class MessagingAttributes {
  private MessagingAttributes() {}

  /**
   * What {@link #topic} gives, or {@link #SEVERAL} for a consumer span that names no destination but
   * links to producer spans: a batch taken from several topics, which the messaging conventions name
   * by its operation alone ({@code process}). It joins each record it links to, whatever the topic.
   */
  public static String topicOrBatch(Span span) {
    String topic = topic(span);
    if (topic == null && !span.links().isEmpty() && isReceive(span)) {
      return SEVERAL;
    }
    return topic;
  }

  /** The topic of a batch taken from several topics ({@link #topicOrBatch}). */
  public static final String SEVERAL = "";

  /** The topic the span sends to or processes from, or {@code null} when it is not a messaging span. */
  public static String topic(Span span) {
    String topic = span.firstAttribute("messaging.destination.name", "messaging.destination");
    if (topic != null) {
      return topic;
    }
    // Span names "send <topic>" / "process <topic>" (stable) or "<topic> publish" / "<topic> process" (old).
    if (span.kind() == SpanKind.PRODUCER || span.kind() == SpanKind.CONSUMER) {
      String name = span.name();
      int space = name.indexOf(' ');
      if (space > 0) {
        String first = name.substring(0, space);
        String rest = name.substring(space + 1);
        if (first.equals("send") || first.equals("process") || first.equals("publish") || first.equals("receive")) {
          return rest;
        }
        if (rest.equals("publish") || rest.equals("process") || rest.equals("send") || rest.equals("receive")) {
          return first;
        }
      }
    }
    return null;
  }

  public static Long offset(Span span) {
    return span.longAttribute("messaging.kafka.offset", "messaging.kafka.message.offset");
  }

  public static Integer partition(Span span) {
    Long p = span.longAttribute("messaging.destination.partition.id", "messaging.kafka.destination.partition",
        "messaging.kafka.partition");
    return p == null ? null : p.intValue();
  }

  /** Whether the span sends (producer side) a message. */
  public static boolean isSend(Span span) {
    if (span.kind() == SpanKind.PRODUCER) {
      return true;
    }
    String op = span.firstAttribute("messaging.operation.type", "messaging.operation");
    return "send".equals(op) || "publish".equals(op) || "create".equals(op);
  }

  /** Whether the span processes or receives (consumer side) a message. */
  public static boolean isReceive(Span span) {
    if (span.kind() == SpanKind.CONSUMER) {
      return true;
    }
    String op = span.firstAttribute("messaging.operation.type", "messaging.operation");
    return "process".equals(op) || "receive".equals(op);
  }
}
