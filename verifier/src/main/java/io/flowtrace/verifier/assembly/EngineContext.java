package io.flowtrace.verifier.assembly;

import io.flowtrace.tracer.correlation.MessageSpanIndex;
import io.flowtrace.verifier.report.VerdictListener;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.LongConsumer;

/**
 * What one engine's flows share: where verdicts go, the counters, the messaging-span index, the
 * caps, where checks run, and what is known of the telemetry being fed now (when it arrived, which
 * source it came from). One per {@link FlowEngine}; engine thread only.
 */
final class EngineContext {
  final VerdictListener listener;
  final FlowEngine.EngineStats stats;
  final MessageSpanIndex spans = new MessageSpanIndex();
  /** Where checks run; {@code null}: on the engine thread. */
  final Executor verifications;
  final int maxEventsPerInstance;
  final int maxOpenInstances;
  final LongConsumer decisionLatency;
  /** Input that could not be read, by the names it held (replay reads it all first). */
  volatile Unreadable unreadable = Unreadable.NONE;
  /** When the last event of each key and trace arrives, if known ahead (replay); else {@code null}. */
  Lookahead lookahead;
  /** Whether the input delivered spans at all (propagation can only be judged then). */
  boolean sawSpans;
  /** Whether the input is known to carry spans, so that none having arrived yet means "not yet". */
  final boolean spansExpected;
  /** Records stamped before this (epoch ns) had their traces' spans exported before the engine ran. */
  volatile long spansLostBefore = Long.MIN_VALUE;
  /**
   * Records stamped after this (epoch ns) had their traces' spans not yet exported when the input
   * ended: set at the end to the end of the last span received less the completion grace (a
   * recording's span files may stop before its record dump).
   */
  volatile long spansLostAfter = Long.MAX_VALUE;
  /**
   * As {@link #spansLostAfter}, less an exporter's batch: for records of a topic whose producer spans
   * came (its producer is traced, and its exporter's last batch may be what was lost).
   */
  volatile long tracedSpansLostAfter = Long.MAX_VALUE;
  /** The topics a producer span of was received. */
  final java.util.Set<String> tracedTopics = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /**
   * Records stamped after this (epoch ns) may have had their traces' spans in a file of spans whose
   * reading stopped part-way, at this time less the completion grace (a gzip cut off).
   */
  volatile long spansCutAfter = Long.MAX_VALUE;
  /**
   * Times ({@code {from, until}}, epoch ns) a record stamped within may have had its trace's spans in
   * a request of spans cut short part-way (a line of an exporter's file cut in two).
   */
  volatile List<long[]> spanGaps = List.of();
  /** Whether the input may begin in the middle of traffic ({@link FlowEngine.Builder#inputMayBeginMidFlow}). */
  boolean midFlowStart;
  /** The earliest time of an event received (epoch ns). */
  long inputStartNanos = Long.MAX_VALUE;
  /** The latest end time of a span received (epoch ns). */
  long lastSpanEndNanos = Long.MIN_VALUE;
  /** When (monotonic) the telemetry fed now arrived; 0 when unknown. */
  long arrivalNanos;
  /** Where the telemetry fed now came from ({@code -1}: untagged). */
  int sourceTag = -1;
  /**
   * Traces whose root messaging span (a consumer or producer span with no parent: the one that
   * would link the trace to another) has arrived, with its end time; kept as long as the span index.
   */
  private final java.util.LinkedHashMap<String, Long> roots = new java.util.LinkedHashMap<>();

  void rootArrived(io.flowtrace.tracer.model.Span span) {
    roots.putIfAbsent(span.traceId(), span.endEpochNanos());
  }

  boolean rootArrived(String traceId) {
    return roots.containsKey(traceId);
  }

  void evictRootsBefore(long epochNanos) {
    var it = roots.values().iterator();
    while (it.hasNext() && it.next() < epochNanos) {
      it.remove();
    }
  }

  /** Sources whose instances' deadline and grace decisions wait (see {@link LiveHooks#holdDecisions}). */
  java.util.function.IntPredicate catchingUp = tag -> false;
  /** Open instances of every flow, oldest first: the in-flight cap evicts from the front. */
  final OpenInstances open = new OpenInstances();
  private long openSequence;

  EngineContext(VerdictListener listener, FlowEngine.EngineStats stats, Executor verifications,
      int maxEventsPerInstance, int maxOpenInstances, LongConsumer decisionLatency, boolean spansExpected) {
    this.listener = listener;
    this.spansExpected = spansExpected;
    this.stats = stats;
    this.verifications = verifications;
    this.maxEventsPerInstance = maxEventsPerInstance;
    this.maxOpenInstances = maxOpenInstances;
    this.decisionLatency = decisionLatency;
  }

  /** Before an instance opens: past the cap, the oldest open instance of any flow is decided now. */
  void makeRoom(long watermark) {
    if (open.size() >= maxOpenInstances && !open.isEmpty()) {
      InstanceState oldest = open.oldest();
      stats.instancesEvicted++;
      oldest.flow.evict(oldest, watermark, "evicted: " + maxOpenInstances + " instances in flight (maxOpenInstances)");
    }
  }

  long nextOpenSequence() {
    return openSequence++;
  }

  /** Reports the latency of a decision taken by data (not by a timer), when arrivals are known. */
  void decidedByData(long lastArrivalNanos) {
    if (decisionLatency != null && lastArrivalNanos != 0) {
      decisionLatency.accept(System.nanoTime() - lastArrivalNanos);
    }
  }
}
