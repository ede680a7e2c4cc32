package io.flowtrace.verifier.report;

import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * One line of an instance's timeline: which stage/event, where (service span or topic/partition/
 * offset), when relative to the instance's start, and — for reports that draw the flow — the
 * {@link Detail} of that occurrence. Times are read on the clock of the instance's first event:
 * another host's are corrected by the skew the data proves between the two (none where nothing
 * relates them), and entries are in that corrected order.
 */
public record TimelineEntry(String stage, String event, String where, long offsetNanos, String traceId, Detail detail) {

  /** An entry without detail. */
  public TimelineEntry(String stage, String event, String where, long offsetNanos, String traceId) {
    this(stage, event, where, offsetNanos, traceId, null);
  }

  /** This entry with every time moved by {@code nanos}. */
  public TimelineEntry shifted(long nanos) {
    Detail d = detail;
    if (d != null) {
      List<Consumer> consumers = d.consumers().stream()
          .map(c -> new Consumer(c.service(), c.traceId(), c.spanId(), c.offsetNanos() + nanos, c.dwellEstimated()))
          .toList();
      d = new Detail(d.service(), d.spanKind(), d.spanName(), d.spanId(), d.parentSpanId(), d.durationNanos(), d.topic(),
          d.partition(),
          d.offset(), d.topic() == null ? d.recordOffsetNanos() : d.recordOffsetNanos() + nanos, consumers, d.payload(),
          d.schemaProblems(), d.sampled(), d.spansLost(), d.url(), d.retried());
    }
    return new TimelineEntry(stage, event, where, offsetNanos + nanos, traceId, d);
  }

  /**
   * What was observed of one occurrence, enough to draw it as a hop: the span (a span event's, or
   * a record's producer span), the record's place in its topic, the spans that consumed it, its
   * decoded payload and what its schema said about it. Times are offsets from the instance's start.
   *
   * @param service the span's service ({@code service.name}), or {@code null} (a record whose
   *     producer span was not seen)
   * @param spanKind {@code SERVER}, {@code CLIENT}, {@code PRODUCER}, … or {@code null}
   * @param spanName the span's name, or {@code null}
   * @param spanId the span's id, or {@code null}
   * @param parentSpanId the span's parent's id (a server span's: the client span that called it), or
   *     {@code null} for a root span or none
   * @param durationNanos the span's duration (0 without a span)
   * @param topic a record's topic ({@code null} for a span event)
   * @param partition a record's partition, or {@code null}
   * @param offset a record's offset, or {@code null}
   * @param recordOffsetNanos a record's own timestamp as an offset (ms precision), or 0
   * @param consumers the spans that consumed the record, earliest first
   * @param payload the decoded payload (JSON; Avro decoded to JSON), or {@code null}
   * @param schemaProblems what the payload's schema found wrong ({@code path: message})
   * @param sampled whether its trace was sampled (a record's {@code traceparent} flag) and its
   *     spans could reach the engine
   * @param spansLost a sampled record whose trace's spans were exported before the engine listened
   *     (a sidecar restarted, or down): not {@code sampled}, for another reason
   * @param url a span event's {@code url.full} or {@code http.route}, for external parties
   * @param retried how this attempt failed ({@code HTTP 503}) when it was made again: the checks read
   *     the attempt that answered ({@link io.flowtrace.verifier.model.FlowInstance#retried}); else
   *     {@code null}
   */
  public record Detail(
      String service,
      String spanKind,
      String spanName,
      String spanId,
      String parentSpanId,
      long durationNanos,
      String topic,
      Integer partition,
      Long offset,
      long recordOffsetNanos,
      List<Consumer> consumers,
      JsonNode payload,
      List<String> schemaProblems,
      boolean sampled,
      boolean spansLost,
      String url,
      String retried) {
    public Detail {
      consumers = consumers == null ? List.of() : List.copyOf(consumers);
      schemaProblems = schemaProblems == null ? List.of() : List.copyOf(schemaProblems);
    }

    /** The host (and port) a CLIENT span called, from its URL ({@code psp.example:8443}), or {@code null}. */
    public String calledHost() {
      if (!"CLIENT".equals(spanKind) || url == null) {
        return null;
      }
      int s = url.indexOf("://");
      if (s < 0) {
        return null;
      }
      int e = s + 3;
      while (e < url.length() && "/?#".indexOf(url.charAt(e)) < 0) {
        e++;
      }
      return e == s + 3 ? null : url.substring(s + 3, e);
    }
  }

  /**
   * A span that consumed a record: its service, trace, span and start offset.
   *
   * @param dwellEstimated whether its start was moved against the record's time by a clock
   *     correction (the data proves the consumer's clock off from the record's producer's, and by
   *     how much only within bounds): the broker dwell, the time between the two, is then not
   *     measured — where the data bounds the clocks on one side only it reads 0, the least the
   *     order allows
   */
  public record Consumer(String service, String traceId, String spanId, long offsetNanos, boolean dwellEstimated) {

    /** A consumer whose clock was not corrected against the record's: its dwell is as read. */
    public Consumer(String service, String traceId, String spanId, long offsetNanos) {
      this(service, traceId, spanId, offsetNanos, false);
    }
  }
}
