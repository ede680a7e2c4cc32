package io.flowtrace.sidecar.internal;

import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.report.html.HtmlData;
import io.flowtrace.verifier.spec.FlowSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the live page ({@code GET /} of the ops endpoint) shows: the last {@code capacity} verdicts,
 * and — so that a flood of passing flows cannot push them out — the last {@code capacity} failed
 * ones too, each replaced by its amendment; and counts per flow, violation kind and stage since
 * the start. Bounded: at most {@code 2 × capacity} verdicts are held. Written by the engine thread,
 * read by the HTTP threads; the verdicts are immutable and serialized only when asked for.
 */
public final class LiveVerdicts {
  /** Verdicts kept by default, of any status and failed ones each. */
  public static final int DEFAULT_CAPACITY = 500;

  private record Entry(long id, Verdict verdict) {}

  private final int capacity;
  private final String flowsJson;
  private final Instant since = Instant.now();
  private final LinkedHashMap<String, Entry> recent = new LinkedHashMap<>();
  private final LinkedHashMap<String, Entry> failed = new LinkedHashMap<>();
  private final Map<Long, Entry> byId = new java.util.HashMap<>();
  private final Map<String, long[]> byFlow = new TreeMap<>();
  private final Map<String, Long> byKind = new TreeMap<>();
  private final Map<String, Long> byStage = new TreeMap<>();
  private final java.util.Set<String> sharedStages;
  private long instances;
  private long passed;
  private long failedCount;
  private long incomplete;
  private long partial;
  private long nextId;

  public LiveVerdicts(List<FlowSpec> flows, int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1: " + capacity);
    }
    this.capacity = capacity;
    this.flowsJson = HtmlData.flows(flows);
    this.sharedStages = HtmlData.sharedStageIds(flows);
  }

  /** A verdict was decided ({@code previous == null}) or amended (it replaces {@code previous}). */
  public synchronized void add(Verdict previous, Verdict current) {
    if (previous != null) {
      count(previous, -1);
    }
    count(current, +1);
    String key = current.instanceKey();
    Entry e = new Entry(++nextId, current);
    put(recent, key, e);
    Entry oldFailed = failed.remove(key);
    if (oldFailed != null) {
      forget(oldFailed);
    }
    if (current.status() == VerdictStatus.FAILED) {
      put(failed, key, e);
    }
    byId.put(e.id(), e);
  }

  private void put(LinkedHashMap<String, Entry> ring, String key, Entry e) {
    Entry old = ring.remove(key);
    if (old != null) {
      forget(old);
    }
    ring.put(key, e);
    if (ring.size() > capacity) {
      Iterator<Entry> it = ring.values().iterator();
      Entry eldest = it.next();
      it.remove();
      forget(eldest);
    }
  }

  /** Drops an entry from the id index unless the other ring still holds it. */
  private void forget(Entry e) {
    String key = e.verdict().instanceKey();
    if (recent.get(key) != e && failed.get(key) != e) {
      byId.remove(e.id());
    }
  }

  private void count(Verdict v, int sign) {
    instances += sign;
    long[] flow = byFlow.computeIfAbsent(v.flow(), f -> new long[2]);
    flow[0] += sign;
    switch (v.status()) {
      case PASSED -> passed += sign;
      case FAILED -> {
        failedCount += sign;
        flow[1] += sign;
      }
      case INCOMPLETE -> incomplete += sign;
    }
    if (v.verification() == Verdict.Verification.PARTIAL) {
      partial += sign;
    }
    for (Violation x : v.violations()) {
      byKind.merge(x.kind().name(), (long) sign, Long::sum);
      byStage.merge(HtmlData.stageLabel(sharedStages, v.flow(), x.stage()), (long) sign, Long::sum);
    }
    byKind.values().removeIf(n -> n == 0);
    byStage.values().removeIf(n -> n == 0);
  }

  /** {@code verdicts.json}: the flows, the counts, and the verdicts held, failed first, newest first. */
  public String verdictsJson(int refreshSeconds) {
    List<Entry> list;
    String counts;
    synchronized (this) {
      list = new ArrayList<>(failed.values());
      for (Entry e : recent.values()) {
        if (failed.get(e.verdict().instanceKey()) != e) {
          list.add(e);
        }
      }
      counts = summary();
    }
    list.sort((a, b) -> {
      boolean fa = a.verdict().status() == VerdictStatus.FAILED;
      boolean fb = b.verdict().status() == VerdictStatus.FAILED;
      return fa != fb ? (fa ? -1 : 1) : Long.compare(b.id(), a.id());
    });
    return HtmlData.write(g -> {
      g.writeStartObject();
      g.writeNumberProperty("refreshSeconds", refreshSeconds);
      g.writeNumberProperty("capacity", capacity);
      g.writeName("flows");
      g.writeRawValue(flowsJson);
      g.writeName("summary");
      g.writeRawValue(counts);
      g.writeName("verdicts");
      g.writeStartArray();
      for (Entry e : list) {
        HtmlData.row(e.verdict(), g, more -> {
          more.writeNumberProperty("id", e.id());
          more.writeNumberProperty("seq", e.id());
        });
      }
      g.writeEndArray();
      g.writeEndObject();
    });
  }

  /** {@code verdict.json?id=N}: one held verdict with everything its diagram needs, or {@code null}. */
  public String detailJson(long id) {
    Entry e;
    synchronized (this) {
      e = byId.get(id);
    }
    return e == null ? null : HtmlData.detail(e.verdict());
  }

  /** How many verdicts are held (at most twice the capacity). */
  public synchronized int held() {
    return byId.size();
  }

  private String summary() {
    return HtmlData.write(g -> {
      g.writeStartObject();
      g.writeNumberProperty("instances", instances);
      g.writeNumberProperty("passed", passed);
      g.writeNumberProperty("failed", failedCount);
      g.writeNumberProperty("incomplete", incomplete);
      g.writeNumberProperty("full", instances - partial);
      g.writeNumberProperty("partial", partial);
      g.writeStringProperty("since", since.toString());
      g.writeName("byFlow");
      g.writeStartObject();
      byFlow.forEach((f, n) -> {
        g.writeName(f);
        g.writeStartObject();
        g.writeNumberProperty("instances", n[0]);
        g.writeNumberProperty("failed", n[1]);
        g.writeEndObject();
      });
      g.writeEndObject();
      g.writeName("byKind");
      g.writeStartObject();
      byKind.forEach(g::writeNumberProperty);
      g.writeEndObject();
      g.writeName("byStage");
      g.writeStartObject();
      byStage.forEach(g::writeNumberProperty);
      g.writeEndObject();
      g.writeEndObject();
    });
  }
}
