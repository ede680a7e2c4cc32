package io.flowtrace.cli.synth;

import io.flowtrace.cli.synth.FlowPlan.PlannedRecord;
import io.flowtrace.cli.synth.FlowPlan.PlannedSpan;
import io.flowtrace.cli.synth.FlowPlan.Scope;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Turns planned spans into real ones: one {@link SdkTracerProvider} per service instance (its
 * resource, a seeded {@link SeededIdGenerator} shared by all), tracers named like the Java agent's
 * instrumentation scopes, explicit timestamps, parents and links. Spans are ended in the order
 * they finish (children before parents), which is the order the exporters see them.
 *
 * <p>Every provider samples as the Java agent does with {@code
 * OTEL_TRACES_SAMPLER=parentbased_traceidratio}: {@code Sampler.parentBased(Sampler.traceIdRatioBased(r))}.
 * A trace's root decides from its trace id; every other span follows its parent, a local one or
 * the remote one a record's {@code traceparent} names. An unsampled span is the SDK's non-recording
 * span: it still gets ids (so the id sequence, and every trace id, is the same at any ratio) and
 * propagates, but it is never exported. Times are written as the span's host reads them ({@link
 * ClockSkews}).
 */
final class SpanRenderer implements AutoCloseable {

  static final String INSTRUMENTATION_VERSION = Topology.AGENT_VERSION + "-alpha";

  private final Map<String, SdkTracerProvider> providers = new HashMap<>();
  private final Map<String, SpanBatcher> batchers = new HashMap<>();
  private final Map<String, Tracer> tracers = new HashMap<>();

  private final ClockSkews skews;

  SpanRenderer(
      Topology topology, long seed, RecordingSink sink, int maxSpansPerLine, double sampleRatio, ClockSkews skews) {
    this.skews = skews;
    SeededIdGenerator ids = new SeededIdGenerator(seed);
    Sampler sampler = Sampler.parentBased(Sampler.traceIdRatioBased(sampleRatio));
    int n = 0;
    for (Topology.Instance instance : topology.all()) {
      SpanBatcher batcher = new SpanBatcher(instance.service(), sink, seed * 31 + n++, maxSpansPerLine);
      SdkTracerProvider provider = SdkTracerProvider.builder()
          .setResource(instance.resource())
          .setIdGenerator(ids)
          .setSampler(sampler)
          .addSpanProcessor(SimpleSpanProcessor.create(batcher))
          .build();
      providers.put(instance.key(), provider);
      batchers.put(instance.key(), batcher);
    }
  }

  /** Emits the flow's spans and fills in {@link PlannedSpan#context}; records must have offsets. */
  void render(FlowPlan flow) throws IOException {
    List<PlannedSpan> planned = flow.spans;
    Span[] started = new Span[planned.size()];
    for (int i = 0; i < planned.size(); i++) {
      started[i] = start(planned.get(i));
    }
    List<Integer> order = new ArrayList<>(planned.size());
    for (int i = 0; i < planned.size(); i++) {
      order.add(i);
    }
    order.sort(Comparator.<Integer>comparingLong(i -> planned.get(i).endNanos)
        .thenComparing(i -> -planned.get(i).depth));
    for (int i : order) {
      PlannedSpan span = planned.get(i);
      String service = span.instance.service();
      if (span.exceptionType != null) {
        started[i].addEvent("exception", Attributes.builder()
                .put("exception.type", span.exceptionType)
                .put("exception.message", span.exceptionMessage)
                .put("exception.stacktrace", span.exceptionType + ": " + span.exceptionMessage
                    + "\n\tat shop.notifications.EmailRenderer.render(EmailRenderer.java:88)"
                    + "\n\tat shop.notifications.OrderEventsListener.onMessage(OrderEventsListener.java:41)")
                .build(),
            skews.read(service, span.endNanos - 200_000L), TimeUnit.NANOSECONDS);
        started[i].setStatus(StatusCode.ERROR);
      }
      started[i].end(skews.read(service, span.endNanos), TimeUnit.NANOSECONDS);
    }
    for (SpanBatcher batcher : batchers.values()) {
      batcher.rethrowFailure();
    }
  }

  /** Spans handed to the sink so far. */
  long exported() {
    long total = 0;
    for (SpanBatcher batcher : batchers.values()) {
      total += batcher.exported();
    }
    return total;
  }

  /** Exports what the batchers still hold. */
  void flush() throws IOException {
    for (SpanBatcher batcher : batchers.values()) {
      batcher.flush();
      batcher.rethrowFailure();
    }
  }

  @Override
  public void close() {
    for (SdkTracerProvider provider : providers.values()) {
      provider.close();
    }
  }

  private Span start(PlannedSpan span) {
    SpanBuilder builder = tracer(span.instance, span.scope)
        .spanBuilder(span.name)
        .setSpanKind(span.kind)
        .setStartTimestamp(skews.read(span.instance.service(), span.startNanos), TimeUnit.NANOSECONDS);
    if (span.parent != null) {
      builder.setParent(Context.root().with(Span.wrap(span.parent.context)));
    } else if (span.consumes != null) {
      PlannedRecord record = span.consumes;
      SpanContext remote = SpanContext.createFromRemoteParent(
          record.producer.context.getTraceId(),
          record.producer.context.getSpanId(),
          TraceFlags.fromByte((byte) record.headerFlags()),
          TraceState.getDefault());
      switch (span.consumerParent) {
        case CHILD -> builder.setParent(Context.root().with(Span.wrap(remote)));
        case LINK -> builder.setNoParent().addLink(remote);
        case NONE -> builder.setNoParent();
      }
    } else {
      builder.setNoParent();
    }
    builder.setAllAttributes(span.attributes.build());
    if (span.produces != null) {
      messaging(builder, span, span.produces, true);
    } else if (span.consumes != null) {
      messaging(builder, span, span.consumes, false);
    }
    Span started = builder.startSpan();
    span.context = started.getSpanContext();
    return started;
  }

  /** The Kafka attributes the agent puts on send and process spans, in the instance's conventions. */
  private static void messaging(SpanBuilder builder, PlannedSpan span, PlannedRecord record, boolean send) {
    if (record.offset < 0) {
      throw new IllegalStateException("record of " + span.name + " has no offset yet");
    }
    Topology.Instance instance = span.instance;
    builder.setAttribute("messaging.system", "kafka");
    builder.setAttribute("messaging.destination.name", record.topic);
    if (instance.conventions() == Topology.Conventions.STABLE) {
      builder.setAttribute("messaging.operation.type", send ? "send" : "process");
      builder.setAttribute("messaging.operation.name", send ? "send" : "process");
      builder.setAttribute("messaging.client.id", send ? instance.producerClientId() : instance.consumerClientId());
      builder.setAttribute("messaging.destination.partition.id", Integer.toString(record.partition));
      builder.setAttribute("messaging.kafka.offset", record.offset);
      if (!send) {
        builder.setAttribute("messaging.consumer.group.name", instance.consumerGroup());
      }
    } else {
      builder.setAttribute("messaging.operation", send ? "publish" : "process");
      builder.setAttribute("messaging.client_id", send ? instance.producerClientId() : instance.consumerClientId());
      builder.setAttribute("messaging.kafka.destination.partition", (long) record.partition);
      builder.setAttribute("messaging.kafka.message.offset", record.offset);
      if (!send) {
        builder.setAttribute("messaging.kafka.consumer.group", instance.consumerGroup());
      }
    }
    builder.setAttribute("messaging.kafka.message.key", record.key);
    if (!send) {
      builder.setAttribute("messaging.message.body.size", (long) record.value.length);
    }
  }

  private Tracer tracer(Topology.Instance instance, Scope scope) {
    String key = instance.key() + "/" + scope.name();
    Tracer tracer = tracers.get(key);
    if (tracer == null) {
      tracer = providers.get(instance.key())
          .tracerBuilder(scope.scopeName)
          .setInstrumentationVersion(INSTRUMENTATION_VERSION)
          .build();
      tracers.put(key, tracer);
    }
    return tracer;
  }
}
