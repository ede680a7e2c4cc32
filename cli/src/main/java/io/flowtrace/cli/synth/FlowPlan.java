package io.flowtrace.cli.synth;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import java.util.ArrayList;
import java.util.List;

/**
 * One flow instance planned as plain data: the spans each service will emit (when, under which
 * parent, with which attributes) and the records it will produce. Ids are left to the tracing SDK
 * and offsets to the broker: {@link OffsetSequencer} assigns offsets in time order across flows,
 * then {@link SpanRenderer} starts and ends the spans and fills in trace contexts.
 */
final class FlowPlan {

  /** The instrumentation a span comes from. */
  enum Scope {
    KAFKA("io.opentelemetry.kafka-clients-2.6"),
    HTTP_SERVER("io.opentelemetry.java-http-server"),
    HTTP_CLIENT("io.opentelemetry.java-http-client");

    final String scopeName;

    Scope(String scopeName) {
      this.scopeName = scopeName;
    }
  }

  /** How a consumer span relates to the producer span of the record it processes. */
  enum ConsumerParent {
    /** A child of the producer span (the agent's default). */
    CHILD,
    /** A new trace whose root links to the producer span (receive telemetry). */
    LINK,
    /** A new trace with no link: the context was lost. */
    NONE
  }

  final int index;
  final long startNanos;
  final Defect defect;
  final Manifest.Payment payment;
  final String requestId;
  final String orderId;
  /** Partitions of every topic: a record's partition is its key's hash modulo this. */
  final int partitions;
  final List<PlannedSpan> spans = new ArrayList<>();
  final List<PlannedRecord> records = new ArrayList<>();
  int unassignedRecords;

  FlowPlan(int index, long startNanos, Defect defect, Manifest.Payment payment, String requestId, String orderId,
      int partitions) {
    this.index = index;
    this.partitions = partitions;
    this.startNanos = startNanos;
    this.defect = defect;
    this.payment = payment;
    this.requestId = requestId;
    this.orderId = orderId;
  }

  /**
   * The latest timestamp this flow puts in the recording, as the hosts' clocks read it: the end of
   * an exported (sampled) span or a record's create time. Only once rendered.
   */
  long recordedEndNanos(ClockSkews skews) {
    long end = Long.MIN_VALUE;
    for (PlannedSpan span : spans) {
      if (span.context.isSampled()) {
        end = Math.max(end, skews.read(span.instance.service(), span.endNanos));
      }
    }
    for (PlannedRecord record : records) {
      end = Math.max(end, record.timestampMillis(skews) * 1_000_000L);
    }
    return end;
  }

  /** How many of the flow's spans were sampled, and so exported. Only once rendered. */
  int sampledSpans() {
    int sampled = 0;
    for (PlannedSpan span : spans) {
      if (span.context.isSampled()) {
        sampled++;
      }
    }
    return sampled;
  }

  /**
   * Which of the flow's traces were sampled: the order's (the gateway's request), each webhook
   * delivery's and each one a consumer started (receive telemetry, or a lost context). Only once
   * rendered.
   */
  Manifest.Sampling sampling() {
    List<Boolean> webhooks = new ArrayList<>();
    List<Boolean> consumers = new ArrayList<>();
    for (int i = 1; i < spans.size(); i++) {
      PlannedSpan span = spans.get(i);
      if (span.parent == null && span.consumes == null) {
        webhooks.add(span.context.isSampled());
      } else if (span.consumes != null && span.consumerParent != ConsumerParent.CHILD) {
        consumers.add(span.context.isSampled());
      }
    }
    return new Manifest.Sampling(spans.get(0).context.isSampled(), webhooks, consumers);
  }

  PlannedSpan span(Topology.Instance instance, Scope scope, String name, SpanKind kind, long start, PlannedSpan parent) {
    PlannedSpan span = new PlannedSpan(instance, scope, name, kind, start, parent);
    spans.add(span);
    return span;
  }

  PlannedRecord record(String topic, String key, byte[] value, boolean binary, long sendNanos, int traceFlags) {
    PlannedRecord record = new PlannedRecord(this, records.size(), topic, key, value, binary, sendNanos, traceFlags);
    records.add(record);
    unassignedRecords++;
    return record;
  }

  /** A span to be emitted through the SDK. */
  static final class PlannedSpan {
    final Topology.Instance instance;
    final Scope scope;
    final String name;
    final SpanKind kind;
    final long startNanos;
    long endNanos;
    final PlannedSpan parent;
    final int depth;
    final AttributesBuilder attributes = Attributes.builder();
    /** For a producer span: the record it sends. */
    PlannedRecord produces;
    /** For a consumer span: the record it processes and how it relates to its producer. */
    PlannedRecord consumes;
    ConsumerParent consumerParent = ConsumerParent.CHILD;
    /** An exception to record and mark the span failed with, or {@code null}. */
    String exceptionType;
    String exceptionMessage;
    /** Set when rendered. */
    SpanContext context;

    PlannedSpan(Topology.Instance instance, Scope scope, String name, SpanKind kind, long startNanos, PlannedSpan parent) {
      this.instance = instance;
      this.scope = scope;
      this.name = name;
      this.kind = kind;
      this.startNanos = startNanos;
      this.endNanos = startNanos;
      this.parent = parent;
      this.depth = parent == null ? 0 : parent.depth + 1;
    }
  }

  /** A Kafka record to be produced; partition from its key, offset from the sequencer. */
  static final class PlannedRecord {
    final FlowPlan flow;
    /** Its position among the flow's records (a tie-breaker for equal send times). */
    final int ordinal;
    final String topic;
    final String key;
    final byte[] value;
    final boolean binary;
    /** When the producer stamped it (its create time, before millisecond truncation). */
    final long sendNanos;
    final int partition;
    /**
     * The {@code traceparent} flags its producer writes when its span is sampled: {@code 01}, or
     * {@code 03} where the producer also sets the W3C random-trace-id bit. See {@link #headerFlags()}.
     */
    final int traceFlags;
    PlannedSpan producer;
    long offset = -1;

    PlannedRecord(
        FlowPlan flow, int ordinal, String topic, String key, byte[] value, boolean binary, long sendNanos,
        int traceFlags) {
      this.flow = flow;
      this.ordinal = ordinal;
      this.topic = topic;
      this.key = key;
      this.value = value;
      this.binary = binary;
      this.sendNanos = sendNanos;
      this.partition = KafkaPartitioner.partition(key, flow.partitions);
      this.traceFlags = traceFlags;
    }

    /**
     * The record timestamp: the create time as the producer's clock reads it, truncated to
     * milliseconds as Kafka stores it.
     */
    long timestampMillis(ClockSkews skews) {
      return Math.floorDiv(skews.read(producer.instance.service(), sendNanos), 1_000_000L);
    }

    /**
     * The flags of the {@code traceparent} header as the producer writes them once its span is
     * started: {@link #traceFlags} with the sampled bit ({@code 01}) cleared when the span was not
     * sampled ({@code 00}, or {@code 02}). The header still names the span's trace and span id.
     */
    int headerFlags() {
      if (producer == null || producer.context == null) {
        throw new IllegalStateException("record for " + topic + " has no started producer span yet");
      }
      return producer.context.isSampled() ? traceFlags : traceFlags & ~0x01;
    }
  }
}
