package io.flowtrace.junit.internal;

import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.model.FlowInstance;
import io.flowtrace.verifier.model.Observation;
import io.flowtrace.verifier.report.Verdict;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What happened during one test: the telemetry of declared events that arrived, and for each flow
 * instance that started during the test its latest verdict (decided, then amended) and its latest
 * assembled snapshot (the occurrences and payloads the verdict was made from). Instances that
 * started before the test are not kept. Written by one engine thread, read by test threads.
 * Internal: not API.
 */
public final class TestWindow {

  /**
   * One instance as the test sees it: its verdict ({@code null} until decided), its latest snapshot
   * ({@code null} until first verified), its traces, when it last changed ({@link System#nanoTime()}),
   * and whether events that came after its verdict are still waited on before they are judged.
   */
  public record Entry(String flow, Map<String, String> keys, Set<String> traces, Verdict verdict,
      FlowInstance snapshot, long changedNanos, boolean amending) {

    public boolean decided() {
      return verdict != null;
    }

    /** Whether it is of this flow and has every one of these key values. */
    public boolean matches(String flowName, Map<String, String> wanted) {
      if (!flow.equals(flowName)) {
        return false;
      }
      for (Map.Entry<String, String> k : wanted.entrySet()) {
        if (!k.getValue().equals(keys.get(k.getKey()))) {
          return false;
        }
      }
      return true;
    }

    /** Whether both are the same instance: same flow and a shared key value (keyless: a shared trace). */
    public boolean sameInstance(String otherFlow, Map<String, String> otherKeys, Set<String> otherTraces) {
      if (!flow.equals(otherFlow)) {
        return false;
      }
      if (keys.isEmpty() || otherKeys.isEmpty()) {
        return keys.isEmpty() && otherKeys.isEmpty() && otherTraces.stream().anyMatch(traces::contains);
      }
      for (Map.Entry<String, String> k : otherKeys.entrySet()) {
        if (k.getValue().equals(keys.get(k.getKey()))) {
          return true;
        }
      }
      return false;
    }
  }

  private final long startEpochNanos;
  private final long telemetryFromEpochNanos;
  private final Runnable onChange;
  private final List<Telemetry> telemetry = new ArrayList<>();
  private final List<Tracked> instances = new CopyOnWriteArrayList<>();
  private final Tally tally = new Tally();
  private final List<Entry> acknowledged = new CopyOnWriteArrayList<>();

  /**
   * @param startEpochNanos when the test started: instances that started earlier are not kept
   * @param lateness how far before the start telemetry is still kept (clocks and batching)
   * @param onChange called (on the engine thread) after every change
   */
  public TestWindow(long startEpochNanos, long lateness, Runnable onChange) {
    // Kafka record times are whole milliseconds: a flow started by a record sent in the same
    // millisecond as the test began would otherwise look older than the test.
    this.startEpochNanos = startEpochNanos - Math.floorMod(startEpochNanos, 1_000_000L);
    this.telemetryFromEpochNanos = this.startEpochNanos - lateness;
    this.onChange = onChange;
  }

  /** Telemetry older than this (the start less the allowed lateness) belongs to earlier tests. */
  public long telemetryFromEpochNanos() {
    return telemetryFromEpochNanos;
  }

  public long startEpochNanos() {
    return startEpochNanos;
  }

  /** Keeps telemetry that arrived after the window opened (less the lateness). */
  public void offer(Telemetry t) {
    if (t.arrivalEpochNanos() >= telemetryFromEpochNanos) {
      synchronized (telemetry) {
        telemetry.add(t);
      }
    }
  }

  /** Every span and record of this test that reached the extension, declared events or not. */
  public Tally tally() {
    return tally;
  }

  /**
   * Notes that an assertion of the test looked at this instance's verdict, so {@code
   * failOnAnyFailedFlow} leaves it to that assertion.
   */
  public void acknowledge(String flow, Map<String, String> keys, Set<String> traces) {
    acknowledged.add(new Entry(flow, Map.copyOf(keys), Set.copyOf(traces), null, null, 0, false));
  }

  /** Whether an assertion looked at the verdict of this instance (see {@link #acknowledge}). */
  public boolean acknowledged(Entry e) {
    return acknowledged.stream().anyMatch(a -> a.sameInstance(e.flow(), e.keys(), e.traces()));
  }

  /** The telemetry kept so far, in arrival order at this JVM. */
  public List<Telemetry> telemetry() {
    synchronized (telemetry) {
      return List.copyOf(telemetry);
    }
  }

  public int telemetryCount() {
    synchronized (telemetry) {
      return telemetry.size();
    }
  }

  /** The engine assembled (and is verifying) an instance. */
  public void snapshot(FlowInstance instance) {
    if (entryTime(instance) < startEpochNanos) {
      return;
    }
    Set<String> traces = new LinkedHashSet<>();
    for (Observation o : instance.observations()) {
      if (o.trace() != null) {
        traces.add(o.trace().traceId());
      }
    }
    Tracked t = tracked(instance.spec().name(), instance.keys(), traces);
    if (t == null) {
      t = new Tracked(instance.spec().name());
      instances.add(t);
    }
    t.keys = instance.keys();
    t.traces = Set.copyOf(traces);
    t.snapshot = instance;
    t.changedNanos = System.nanoTime();
    onChange.run();
  }

  /**
   * When the instance began, as its entry stage's events say: an instance's start is its earliest
   * event on any clock, and a later stage's host 90 ms behind stamps its event before a test that
   * started the flow itself. Without an entry event seen, its start.
   */
  private static long entryTime(FlowInstance instance) {
    long entry = Long.MAX_VALUE;
    for (Observation o : instance.observations()) {
      io.flowtrace.verifier.spec.StageSpec stage = instance.spec().stage(o.stageId());
      if (stage != null && stage.after().isEmpty()) {
        entry = Math.min(entry, o.timeEpochNanos());
      }
    }
    return entry == Long.MAX_VALUE ? instance.startEpochNanos() : entry;
  }

  /** The engine decided or amended a verdict. */
  public void verdict(Verdict verdict) {
    Tracked t = tracked(verdict.flow(), verdict.keys(), Set.copyOf(verdict.traceIds()));
    if (t == null && verdict.startEpochNanos() < startEpochNanos) {
      return; // not an instance whose snapshot this test kept
    }
    if (t == null) {
      t = new Tracked(verdict.flow());
      t.keys = verdict.keys();
      t.traces = Set.copyOf(verdict.traceIds());
      instances.add(t);
    }
    if (!verdict.sameOutcome(t.verdict)) {
      t.changedNanos = System.nanoTime();
    }
    t.verdict = verdict;
    onChange.run();
  }

  /**
   * Events reached a decided instance and are waited on before they are judged ({@code waiting}), or
   * were judged: its verdict may change meanwhile (a redelivery's records, their spans a batch behind).
   */
  public void amending(Verdict verdict, boolean waiting) {
    Tracked t = tracked(verdict.flow(), verdict.keys(), Set.copyOf(verdict.traceIds()));
    if (t != null) {
      t.amending = waiting;
      onChange.run();
    }
  }

  /** Every instance that started during the test, in the order they were first seen. */
  public List<Entry> entries() {
    List<Entry> out = new ArrayList<>(instances.size());
    for (Tracked t : instances) {
      out.add(t.entry());
    }
    return out;
  }

  /** The entry of the same instance as {@code other} (see {@link Entry#sameInstance}), or {@code null}. */
  public Entry find(Entry other) {
    return find(other.flow(), other.keys(), other.traces());
  }

  /** The entry of the instance with a shared key value of that flow (keyless: a shared trace), or {@code null}. */
  public Entry find(String flow, Map<String, String> keys, Set<String> traces) {
    Tracked t = tracked(flow, keys, traces);
    return t == null ? null : t.entry();
  }

  private Tracked tracked(String flow, Map<String, String> keys, Set<String> traces) {
    for (Tracked t : instances) {
      if (t.entry().sameInstance(flow, keys, traces)) {
        return t;
      }
    }
    return null;
  }

  private static final class Tracked {
    final String flow;
    volatile Map<String, String> keys = Map.of();
    volatile Set<String> traces = Set.of();
    volatile Verdict verdict;
    volatile FlowInstance snapshot;
    volatile long changedNanos;
    volatile boolean amending;

    Tracked(String flow) {
      this.flow = flow;
    }

    Entry entry() {
      return new Entry(flow, keys, traces, verdict, snapshot, changedNanos, amending);
    }
  }
}
