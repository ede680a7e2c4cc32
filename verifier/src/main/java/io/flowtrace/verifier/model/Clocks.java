package io.flowtrace.verifier.model;

import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.verifier.internal.Texts;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How the clocks of an instance's hosts relate. Times from one service are on one clock; across
 * services they are compared only through what the data proves: a record is consumed after its
 * producer span started, a child span starts after its parent (and a synchronous server span ends
 * before its client span), records of one partition were appended in offset order. Each such
 * happens-before edge bounds the difference between two clocks; the bounds are closed over paths
 * (shortest paths on the difference constraints), and where the data gives no bound the flow's
 * {@code clockSkew} allowance does.
 *
 * <p>A <em>clock</em> is a service on a host ({@link Span#host()}: replicas of one service on two
 * hosts read two clocks, where the data tells them apart — {@link #of}), or a service name where
 * its spans name no host; a record whose producer span was not seen is on the unknown clock of its
 * topic's producer ({@code ?topic}). Offsets are corrections: a true time is
 * a reading plus its clock's offset, and {@link #offset} bounds {@code offset(to) − offset(from)}.
 * Pure function of the instance.
 */
public final class Clocks {

  private static final long INF = Long.MAX_VALUE / 4;

  /**
   * Bounds of {@code offset(to) − offset(from)} in nanoseconds. {@code dataLow}/{@code dataHigh}
   * are what the edges prove (±{@code INF}-like when unbounded); {@code low}/{@code high} add the
   * allowance for unbounded sides: what ordering must allow. {@code likelyLow}/{@code likelyHigh}
   * narrow a pair bounded on one side only to the allowance, unless that bound proves more: what a
   * latency figure is uncertain by (a record consumed 40 s after it was produced proves only that
   * the consumer's clock is not 40 s behind). {@code estimate} is the best single guess: the middle
   * of what the data proves when that is narrow (within twice the allowance), else the value in it
   * nearest to no skew — hosts' clocks are kept close, and bounds hours apart (a service that
   * consumes a record hours after another served the flow's entry) say little about where in them
   * the clocks are.
   */
  public record Offset(long low, long high, long dataLow, long dataHigh, long likelyLow, long likelyHigh,
      long estimate) {
    /** Whether the data proves the clocks apart by more than {@code slack}. */
    public boolean proven(long slack) {
      return dataLow > slack && dataLow < INF || dataHigh < -slack && dataHigh > -INF;
    }

    boolean bounded() {
      return dataLow > -INF && dataHigh < INF;
    }
  }

  /** How a {@link Gap} was measured. */
  public enum Basis {
    /** Both times were read on one clock. */
    ONE_CLOCK,
    /** Both are records of one partition: their offsets order them. */
    PARTITION,
    /** The later event's service consumed the earlier record: measured to that receipt, on one clock. */
    RECEIPT,
    /** Two clocks, related by the data's edges or by the {@code clockSkew} allowance. */
    TWO_CLOCKS
  }

  /**
   * The time from {@code earlier} to {@code later} in true time: at least {@code min}, at most
   * {@code max}, {@code estimate} the best guess, {@code raw} as read off the two clocks. For
   * {@link Basis#RECEIPT} the three are measured to the later service's receipt of the earlier
   * record instead. {@code likelyMin}/{@code likelyMax} narrow the range to the {@code clockSkew}
   * allowance where the data bounds the clocks on one side only ({@link Offset}): the uncertainty a
   * latency figure states. {@code explanation} says how the clocks were related; it is only worded when
   * asked for ({@link #detail}), since most gaps are never reported.
   */
  public record Gap(long raw, long min, long max, long estimate, long likelyMin, long likelyMax, Basis basis,
      java.util.function.Supplier<String> explanation) {
    Gap(long raw, long min, long max, long estimate, Basis basis, java.util.function.Supplier<String> explanation) {
      this(raw, min, max, estimate, min, max, basis, explanation);
    }

    /** How the clocks were related, in words. */
    public String detail() {
      return explanation.get();
    }

    /** Whether no clock difference enters the figure. */
    public boolean sameClock() {
      return basis != Basis.TWO_CLOCKS;
    }

    /** Half the width of the range the gap is likely in, or 0 on one clock. */
    public long uncertainty() {
      return sameClock() ? 0 : (likelyMax - likelyMin) / 2;
    }
  }

  private final Map<String, Integer> index;
  /** Clock names; the first is the reference: the clock of the flow's entry. */
  private final List<String> names;
  private final long[][] upper;
  private final long allowance;
  /** How wide a two-sided data bound may be for its middle to be the estimate ({@link Offset#estimate}). */
  private final long narrow;
  private final long slack;
  /** The instance's spans by id, to follow a span to its parents; {@code null} when not one instance's. */
  private final Map<String, Span> spans;
  /** Whether the data's bounds agree with each other (else they relate nothing). */
  private final boolean consistent;

  private Clocks(Map<String, Integer> index, List<String> names, long[][] upper, long allowance, long narrow,
      long slack, Map<String, Span> spans, boolean consistent) {
    this.index = index;
    this.names = names;
    this.upper = upper;
    this.allowance = allowance;
    this.narrow = narrow;
    this.slack = slack;
    this.spans = spans;
    this.consistent = consistent;
  }

  /**
   * The instance's clocks. The hosts of one service are first taken to read one clock (as they do
   * to within what NTP keeps them, and a proof on one clock needs no spans of other services); where
   * the data then contradicts itself — a service's replicas whose clocks are further apart than the
   * hops between them, as a flow that comes back to the service on another host shows — each host
   * reads its own clock.
   */
  static Clocks of(FlowInstance instance) {
    Clocks byService = of(instance, false);
    if (byService.consistent || !replicated(instance)) {
      return byService;
    }
    return of(instance, true);
  }

  /** Whether some service of the instance shows spans from two hosts. */
  private static boolean replicated(FlowInstance instance) {
    Map<String, String> hosts = new HashMap<>();
    for (Span s : ownSpans(instance)) {
      String seen = s.host().isEmpty() ? null : hosts.putIfAbsent(serviceOf(s), s.host());
      if (seen != null && !seen.equals(s.host())) {
        return true;
      }
    }
    return false;
  }

  /** The spans the instance's times are read off: its observations', their producers' and consumers'. */
  private static List<Span> ownSpans(FlowInstance instance) {
    List<Span> out = new ArrayList<>();
    for (Observation o : instance.observations()) {
      if (o.span() != null) {
        out.add(o.span());
      }
      if (o.producer() != null) {
        out.add(o.producer());
      }
      out.addAll(o.consumers());
    }
    return out;
  }

  private static String clock(Span s, boolean perHost) {
    return perHost ? domain(s) : serviceOf(s);
  }

  private static String clock(Observation o, boolean perHost) {
    return o.span() != null ? clock(o.span(), perHost) : domain(o);
  }

  private static Clocks of(FlowInstance instance, boolean perHost) {
    Map<String, Integer> index = new LinkedHashMap<>();
    List<String> names = new ArrayList<>();
    for (Observation o : instance.observations()) {
      if (instance.spec().stage(o.stageId()).after().isEmpty()) {
        domainIndex(clock(o, perHost), index, names);
        break;
      }
    }
    for (Observation o : instance.observations()) {
      domainIndex(clock(o, perHost), index, names);
    }
    List<long[]> edges = new ArrayList<>(); // {from, to, lowerBound of off(to) - off(from)}
    List<long[]> uppers = new ArrayList<>(); // {from, to, upperBound of off(to) - off(from)}
    Map<String, Span> spans = new HashMap<>();
    for (Observation o : instance.observations()) {
      if (o.span() != null) {
        spans.putIfAbsent(o.span().spanId(), o.span());
      }
      for (Span c : o.consumers()) {
        spans.putIfAbsent(c.spanId(), c);
      }
      if (!o.isRecord()) {
        continue;
      }
      String from = clock(o, perHost);
      long produced = o.producer() != null ? o.producer().startEpochNanos() : o.record().timestampNanos();
      for (Span c : o.consumers()) {
        int a = domainIndex(from, index, names);
        int b = domainIndex(clock(c, perHost), index, names);
        if (a != b) {
          edges.add(new long[] {a, b, produced - c.startEpochNanos()});
        }
      }
    }
    for (Span s : spans.values()) {
      Span p = s.parentSpanId().isEmpty() ? null : spans.get(s.parentSpanId());
      if (p == null || clock(p, perHost).equals(clock(s, perHost))) {
        continue;
      }
      int a = domainIndex(clock(p, perHost), index, names);
      int b = domainIndex(clock(s, perHost), index, names);
      edges.add(new long[] {a, b, p.startEpochNanos() - s.startEpochNanos()});
      if (p.kind() == SpanKind.CLIENT && s.kind() == SpanKind.SERVER && s.endEpochNanos() > 0) {
        uppers.add(new long[] {a, b, p.endEpochNanos() - s.endEpochNanos()});
      }
    }
    if (!perHost) {
      // a host's clock is its service's: looked up by either name
      for (Span s : spans.values()) {
        Integer service = index.get(serviceOf(s));
        if (service != null && !s.host().isEmpty()) {
          index.putIfAbsent(domain(s), service);
        }
      }
    }
    long allowance = instance.spec().clockSkew().toNanos();
    return solve(index, names, edges, uppers, allowance, 2 * allowance, instance.spec().tolerance().toNanos(), spans);
  }

  /**
   * The clocks of services related by happens-before bounds gathered over more than one instance
   * (the drafter reads a whole recording): each {@code lower} entry {@code {from, to, L}} says
   * {@code offset(to) − offset(from) ≥ L}, each {@code upper} one {@code {from, to, U}} that it is
   * at most {@code U}, in nanoseconds, with {@code from} and {@code to} indexes into {@code names}.
   * Data that contradicts itself relates nothing. Bounds taken over a whole recording are the
   * tightest it holds, so their middle is the estimate however wide they are.
   */
  public static Clocks ofBounds(List<String> names, List<long[]> lower, List<long[]> upper) {
    Map<String, Integer> index = new LinkedHashMap<>();
    for (String name : names) {
      index.put(name, index.size());
    }
    return solve(index, new ArrayList<>(names), lower, upper, 0, INF, 0, null);
  }

  private static Clocks solve(Map<String, Integer> index, List<String> names, List<long[]> edges,
      List<long[]> uppers, long allowance, long narrow, long slack, Map<String, Span> spans) {
    int n = names.size();
    long[][] d = new long[n][n];
    for (int i = 0; i < n; i++) {
      java.util.Arrays.fill(d[i], INF);
      d[i][i] = 0;
    }
    // off(b) - off(a) >= L  <=>  off(a) - off(b) <= -L : an upper bound on the pair (b, a)
    for (long[] e : edges) {
      int a = (int) e[0];
      int b = (int) e[1];
      d[b][a] = Math.min(d[b][a], -e[2]);
    }
    for (long[] e : uppers) {
      int a = (int) e[0];
      int b = (int) e[1];
      d[a][b] = Math.min(d[a][b], e[2]);
    }
    for (int k = 0; k < n; k++) {
      for (int i = 0; i < n; i++) {
        if (d[i][k] >= INF) {
          continue;
        }
        for (int j = 0; j < n; j++) {
          if (d[k][j] < INF && d[i][k] + d[k][j] < d[i][j]) {
            d[i][j] = d[i][k] + d[k][j];
          }
        }
      }
    }
    boolean consistent = true;
    for (int i = 0; i < n; i++) {
      consistent &= d[i][i] >= 0;
    }
    if (!consistent) {
      // The data contradicts itself (some consumer before its producer on any clocks): relate nothing.
      for (int i = 0; i < n; i++) {
        java.util.Arrays.fill(d[i], INF);
        d[i][i] = 0;
      }
    }
    return new Clocks(index, names, d, allowance, narrow, slack, spans, consistent);
  }

  private static int domainIndex(String domain, Map<String, Integer> index, List<String> names) {
    Integer i = index.get(domain);
    if (i == null) {
      i = names.size();
      index.put(domain, i);
      names.add(domain);
    }
    return i;
  }

  private static String serviceOf(Span s) {
    return s.service().isEmpty() ? "?unnamed service" : s.service();
  }

  /** The clock a span's times were read on: its host's, {@code order-service on pod-7}, or its service's where it names no host. */
  public static String domain(Span span) {
    return span.host().isEmpty() ? serviceOf(span) : serviceOf(span) + " on " + span.host();
  }

  /** The clock an observation's time was read on. */
  public static String domain(Observation o) {
    if (o.span() != null) {
      return domain(o.span());
    }
    return o.isRecord() ? "?" + o.record().topic() : "?";
  }

  /** Who read an observation's time, in words: its service, or the unseen producer of its record's topic. */
  public static String reader(Observation o) {
    return o.span() != null ? serviceOf(o.span()) : words(domain(o));
  }

  /**
   * These clocks with one more bound, {@code offset(to) − offset(from) ≥ lower} (an order the flow
   * declares rather than one the data proves), or these clocks unchanged when the data contradicts
   * it or either clock is unknown.
   */
  public Clocks withBound(String from, String to, long lower) {
    Integer a = index.get(from);
    Integer b = index.get(to);
    if (a == null || b == null || a.equals(b) || upper[a][b] < lower || -lower >= upper[b][a]) {
      return this;
    }
    int n = names.size();
    long[][] d = new long[n][];
    for (int i = 0; i < n; i++) {
      d[i] = upper[i].clone();
    }
    for (int i = 0; i < n; i++) {
      if (upper[i][b] >= INF) {
        continue;
      }
      for (int j = 0; j < n; j++) {
        if (upper[a][j] < INF) {
          d[i][j] = Math.min(d[i][j], upper[i][b] - lower + upper[a][j]);
        }
      }
    }
    return new Clocks(index, names, d, allowance, narrow, slack, spans, consistent);
  }

  /** Bounds of {@code offset(to) − offset(from)}. */
  public Offset offset(String from, String to) {
    if (sameClock(from, to)) {
      return new Offset(0, 0, 0, 0, 0, 0, 0);
    }
    Integer a = index.get(from);
    Integer b = index.get(to);
    long dataHigh = a == null || b == null ? INF : upper[a][b];
    long dataLow = a == null || b == null ? -INF : -upper[b][a];
    long high = dataHigh >= INF ? Math.max(dataLow, allowance) : dataHigh;
    long low = dataLow <= -INF ? Math.min(dataHigh, -allowance) : dataLow;
    boolean twoSided = dataLow > -INF && dataHigh < INF && dataLow <= dataHigh;
    long estimate = twoSided && dataHigh - dataLow <= narrow ? dataLow + (dataHigh - dataLow) / 2
        : Math.max(low, Math.min(high, 0));
    if (dataLow > -INF && dataHigh < INF) {
      return new Offset(low, high, dataLow, dataHigh, low, high, estimate);
    }
    // bounded on one side at most (a Kafka hop proves the consumer not earlier than its producer,
    // not by how much): likely within the allowance, unless the one bound proves more
    return new Offset(low, high, dataLow, dataHigh, Math.max(low, Math.min(high, -allowance)),
        Math.min(high, Math.max(low, allowance)), estimate);
  }

  /**
   * One correction per clock, relative to {@code reference} (which gets 0), that together satisfy
   * every bound the data proves between any two clocks — each pair's {@link Offset#estimate()}
   * taken alone need not (two clocks each nearest to zero against the reference may still put a
   * consumer before its producer). Starts from those estimates and moves the pairs that break a
   * bound until none does; a clock nothing relates keeps 0.
   */
  public Map<String, Long> corrections(String reference) {
    int n = names.size();
    long[] x = new long[n];
    Integer r = index.get(reference);
    for (int i = 0; i < n; i++) {
      x[i] = r == null || i == r ? 0 : offset(reference, names.get(i)).estimate();
    }
    for (int round = 0; round < 8 * n + 8; round++) {
      boolean moved = false;
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          long excess = i == j || upper[i][j] >= INF ? 0 : x[j] - x[i] - upper[i][j];
          if (excess <= 0) {
            continue;
          }
          moved = true;
          if (r != null && i == r) {
            x[j] -= excess;
          } else if (r != null && j == r) {
            x[i] += excess;
          } else {
            x[j] -= excess - excess / 2;
            x[i] += excess / 2;
          }
        }
      }
      if (!moved) {
        break;
      }
    }
    Map<String, Long> out = new HashMap<>();
    index.forEach((name, i) -> out.put(name, x[i]));
    return out;
  }

  /** The true time from {@code earlier} to {@code later}, as far as the clocks allow to tell. */
  public Gap gap(Observation earlier, Observation later) {
    long raw = later.timeEpochNanos() - earlier.timeEpochNanos();
    if (earlier.isRecord() && later.isRecord() && earlier.record().topic().equals(later.record().topic())
        && earlier.record().partition() == later.record().partition()) {
      java.util.function.Supplier<String> where = () -> later.record().topic() + "[" + later.record().partition() + "]";
      if (later.record().offset() < earlier.record().offset()) {
        long max = Math.min(raw, -slack - 1);
        return new Gap(raw, Math.min(raw, max), max, max, Basis.PARTITION, () -> "it was appended to " + where.get()
            + " at offset " + later.record().offset() + ", before offset " + earlier.record().offset());
      }
      return new Gap(raw, Math.max(raw, 0), INF, Math.max(raw, 0), Basis.PARTITION, () -> "appended later to " + where.get());
    }
    String from = domain(earlier);
    String to = domain(later);
    if (sameClock(from, to)) {
      return new Gap(raw, raw, raw, raw, Basis.ONE_CLOCK, () -> "one clock (" + name(from) + ")");
    }
    Gap beforeReceipt = beforeReceipt(earlier, later, to);
    if (beforeReceipt != null) {
      return beforeReceipt;
    }
    Offset off = offset(from, to);
    return new Gap(raw, raw + off.low(), raw + off.high(), raw + off.estimate(), raw + off.likelyLow(),
        raw + off.likelyHigh(), Basis.TWO_CLOCKS,
        () -> describe(from, to, off, raw));
  }

  /**
   * When {@code later}'s own service consumed the {@code earlier} record, and {@code later} happened
   * before that service first processed it: a proof on one clock that it acted on data it did not
   * have yet. {@code null} otherwise.
   */
  private Gap beforeReceipt(Observation earlier, Observation later, String to) {
    if (!earlier.isRecord()) {
      return null;
    }
    Span received = null;
    for (Span c : earlier.consumers()) {
      if (sameClock(domain(c), to) && (received == null || c.startEpochNanos() < received.startEpochNanos())) {
        received = c;
      }
    }
    if (received == null || hangsFromUnseen(later)) {
      return null;
    }
    Span by = received;
    long gap = later.timeEpochNanos() - received.startEpochNanos();
    if (gap >= -slack) {
      return null;
    }
    return new Gap(later.timeEpochNanos() - earlier.timeEpochNanos(), gap, gap, gap, Basis.RECEIPT,
        () -> name(to) + " processed it in span '" + by.name() + "' (" + by.spanId() + ")");
  }

  /**
   * Whether the observation's span (a record's: its producer's) is the descendant of a span that was
   * not observed: work done under a receipt the data does not show (a delivery whose consumer span
   * was lost when its pod was killed, or dropped by sampling, then delivered again), which the
   * receipt that was observed says nothing about.
   */
  private boolean hangsFromUnseen(Observation o) {
    Span s = o.isRecord() ? o.producer() : o.span();
    if (spans == null || s == null) {
      return false;
    }
    for (int depth = 0; depth < 64 && !s.parentSpanId().isEmpty(); depth++) {
      Span parent = spans.get(s.parentSpanId());
      if (parent == null) {
        return true;
      }
      s = parent;
    }
    return false;
  }

  /** What to do when the allowance is too small: hosts each off one way can be twice as far apart. */
  private static final String RAISE = "; if these two hosts' clocks can be further apart (one ahead of true"
      + " time, the other behind), raise the flow's clockSkew";

  /**
   * How the clocks of two hosts relate, in words; with the advice to raise {@code clockSkew} only
   * where the time in question ({@code raw}) is within ten times the allowance: no clock is minutes
   * off, and a notice sent four minutes before the payment it reports is no matter of skew.
   */
  private String describe(String from, String to, Offset off, long raw) {
    String raise = Math.abs(raw) <= 10 * Math.max(allowance, 1_000_000) ? RAISE : "";
    String pair = name(from) + " and " + name(to);
    if (!off.bounded() && off.dataLow() <= -INF && off.dataHigh() >= INF) {
      return "no causal link relates the clocks of " + pair + "; a skew of up to ±"
          + Texts.duration(allowance) + " (clockSkew) is allowed" + raise;
    }
    if (!off.bounded()) {
      return "the data bounds the clocks of " + pair + " on one side only (" + range(off.low(), off.high())
          + "); a skew of up to ±" + Texts.duration(allowance) + " (clockSkew) is assumed: "
          + range(off.likelyLow(), off.likelyHigh()) + raise;
    }
    return "the clocks of " + pair + " differ by " + range(off.low(), off.high()) + " as far as the data tells";
  }

  private static String range(long low, long high) {
    return low == high ? Texts.duration(low) : Texts.duration(low) + " … " + Texts.duration(high);
  }

  /** Whether times read on these two clocks compare directly. */
  private boolean sameClock(String a, String b) {
    if (a.equals(b)) {
      return true;
    }
    Integer i = index.get(a);
    return i != null && i.equals(index.get(b));
  }

  /** A clock in words, by the name it is known by here (a host's as its service's where they read one clock). */
  private String name(String clock) {
    Integer i = index.get(clock);
    return words(i == null ? clock : names.get(i));
  }

  private static String words(String domain) {
    return domain.startsWith("?") ? "the producer of " + domain.substring(1) + " (its span not seen)" : domain;
  }

  /**
   * What the data proves about clocks that disagree: one line per clock proven off by more than the
   * tolerance, relative to the clock of the instance's first observation where the data relates the
   * two, else to the first clock it is proven off from.
   */
  public List<String> notes() {
    if (names.size() < 2) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    for (int i = 1; i < names.size(); i++) {
      String other = names.get(i);
      // against the instance's first clock; else against the first clock before it that it is
      // proven off from (a host ahead of its consumer, where nothing relates it to the entry's)
      String ref = null;
      Offset off = null;
      for (int j = 0; j < i && ref == null; j++) {
        Offset o = offset(names.get(j), other);
        if (o.proven(Math.max(slack, 1_000_000))) {
          ref = names.get(j);
          off = o;
        }
      }
      if (ref == null) {
        continue;
      }
      long lo = off.dataLow();
      long hi = off.dataHigh();
      String amount;
      String direction;
      if (lo > 0) {
        direction = "behind";
        amount = hi >= INF ? "at least " + Texts.duration(lo) : range(lo, hi);
      } else {
        direction = "ahead of";
        amount = lo <= -INF ? "at least " + Texts.duration(-hi) : range(-hi, -lo);
      }
      boolean oneSided = lo > 0 ? hi >= INF : lo <= -INF;
      out.add("clock skew: " + name(other) + " reads " + amount + " " + direction + " " + name(ref)
          + (oneSided ? " (a lower bound from the data's happens-before edges, which do not tell how much more)"
              : " (from the data's happens-before edges)") + "; order and latency are judged on corrected times");
    }
    return out;
  }
}
