package io.flowtrace.verifier.assembly;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntPredicate;

/**
 * What a live engine (the sidecar) tells the {@link FlowEngine} beyond telemetry, and asks of it:
 * when and from where the next events came, which instances earlier runs decided, which open
 * instances moved to another engine of a cluster, and where an event must be routed so that one
 * engine assembles each instance. Replay and the JUnit extension need none of it. Obtained with
 * {@link FlowEngine#live()}; engine thread only, except {@link #routing}, which is thread-safe.
 */
public interface LiveHooks {

  /**
   * Tells the engine when (monotonic {@link System#nanoTime()}) the events fed next arrived, so a
   * decision can report its latency after the last event its instance received.
   */
  void arrival(long nanoTime);

  /**
   * Whether a verdict is waiting for its checks on a verification thread: it is delivered at the
   * next {@code advanceTo} after they ran, so a live engine that would idle should look again soon.
   */
  boolean verifying();

  /**
   * Tags the events fed next with where they came from (e.g. the partition of a sidecar cluster's
   * repartition topic), so {@link #discardOpen} can later drop the instances built from a source
   * this engine no longer owns. {@code -1}: untagged.
   */
  void source(int tag);

  /**
   * Drops, without a verdict, every open instance that holds an event from a source matching
   * {@code gone}: another engine now owns that source and assembles those instances from its start.
   * Decided instances are kept (their verdicts are out). Returns how many were dropped.
   */
  int discardOpen(IntPredicate gone);

  /**
   * Holds back the deadline and grace decisions of every open instance that holds an event from a
   * source matching {@code catchingUp} (tested at each {@code advanceTo}): a source just taken over
   * is still being read from its committed offset, and an instance rebuilt from it, already past its
   * deadline in event time, would be decided before its later events are read. The default holds nothing.
   */
  void holdDecisions(IntPredicate catchingUp);

  /**
   * Remembers an instance as already decided elsewhere (by an earlier run whose verdict was
   * persisted): events for its keys or traces are then reported as late, not assembled into a new
   * instance. A restarted sidecar seeds this from the verdicts it emitted before.
   *
   * @return whether the flow is known
   */
  boolean markDecided(String flow, Map<String, String> keys, Collection<String> traceIds);

  /**
   * Remembers an instance as decided elsewhere, as {@link #markDecided(String, Map, Collection)}
   * does, knowing what its latest published verdict said: its {@code revision}, its {@code status}
   * and its {@code violations} ({@code kind@stage}). When its events are read again from an event
   * of its entry stage (a partition taken over, a restart from the committed offset), the instance
   * is assembled and verified again. If the verdict says the same, nothing is published. If it
   * differs by what the earlier owner could not have seen (a duplicate delivery, spans that came
   * after the handover), it is published as an amendment numbered after {@code revision} (the
   * listener's {@code previous} is then {@code null}). If it lacks a stage or a trace link the
   * earlier verdict did not lack, or is {@code INCOMPLETE} where that one was not, only part of
   * the instance was read again (its other events were committed before), and nothing is
   * published. Events read again without an entry-stage event are late, as before.
   *
   * @return whether the flow is known
   */
  boolean markDecided(String flow, Map<String, String> keys, Collection<String> traceIds, int revision, String status,
      Collection<String> violations);

  /**
   * The engine is about to be stopped ({@link FlowEngine#finish()}) while its exporters keep
   * sending: spans not received by now go to the next run, or nowhere, so the instances decided at
   * the finish are judged on their records and the spans they have — what missing spans would show
   * is not verified, rather than missing.
   */
  void stopping();

  /**
   * Spans are received from {@code start} on (a sidecar's OTLP receivers began to listen then):
   * a record stamped before it had its trace's spans exported to an earlier run or to nobody, so
   * what they would show is not verified rather than missing. Replaces the builder's {@code
   * restartedAt}, taken before the receivers could listen. Any thread.
   */
  void receivingSpansSince(java.time.Instant start);

  /**
   * Where the records of the instances whose verdicts may still change begin, for a live engine
   * about to be {@linkplain #stopping stopped} while inputs it cannot read again (spans over OTLP)
   * still hold part of them: per topic partition, the lowest offset of a record held by an open or
   * amendable instance that a record of its entry stage began. A sidecar that commits its Kafka
   * input only below these lets its next run read those records again, rebuild the instances
   * whole and amend the verdicts the finish gives them (see {@link #markDecided(String, Map,
   * Collection, int, String, Collection)}). Empty when there are none.
   */
  Map<RecordPartition, Long> readAgainFrom();

  /** A topic partition of the records an engine holds. */
  record RecordPartition(String topic, int partition) {}

  /** The {@link Routing} of a prepared span or record. Thread-safe. */
  Routing routing(Prepared prepared);

  /**
   * What a router needs to send a span or record to the one place its instance is assembled: the
   * instance keys it carries ({@code flow|key=value}), its traces (a span's own and linked traces,
   * a record's {@code traceparent} trace), whether it is an event of some flow (else it only serves
   * correlation, as a messaging span does), whether it joins its instance by key alone (an event
   * declared {@code trace: new}, or a record without trace context) and whether it may open an
   * instance (an event of an entry stage; any other event belongs to an instance begun before it).
   */
  record Routing(Set<String> keys, List<String> traces, boolean event, boolean joinsByKey, boolean opens) {}
}
