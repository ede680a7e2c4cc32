package io.flowtrace.sidecar.internal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * How far a cluster's routers have routed their inputs, as their progress marks on the broadcast
 * topic say: for each input partition, the event time up to which the router that last reported
 * owning it has routed everything of it. A sidecar's engine does not decide past the least of them,
 * so a router that died with records unread — its partitions idle until its group moves them, a
 * session timeout later — holds every engine's deadlines and graces instead of letting them judge
 * instances whose records wait there (a {@code MISSING_STAGE} that the records would withdraw). A
 * partition nobody has reported for {@value #FORGET_MILLIS} ms (a deleted topic) is forgotten.
 *
 * <p>A mark also says where in the repartition topic what the router routed ends; it counts for
 * an engine only once that engine has processed its own repartition partitions that far
 * ({@link Processed}), so "routed" means "read here" and not "on its way". Until routers have been
 * heard for {@value #SETTLE_MILLIS} ms nothing may be judged. Thread-safe: marks arrive on the
 * broadcast reader's thread, the engine thread asks.
 */
public final class RoutingProgress {

  /** The Kafka header that makes a broadcast record a progress mark (its value: the router's id). */
  public static final String HEADER = "flowtrace.progress";
  /** How long a partition's last report holds when no router reports it any more. */
  static final long FORGET_MILLIS = 5 * 60_000;

  /** Marks of one router not yet read up to by this engine, oldest first, at most this many. */
  static final int MAX_WAITING_MARKS = 64;

  private record Report(long routedUpToNanos, long receivedMillis) {}

  private record Mark(long routedUpToNanos, List<TopicPartition> partitions, Map<Integer, Long> written,
      long receivedMillis) {}

  /** What the engine has processed of the repartition topic. */
  @FunctionalInterface
  public interface Processed {
    /**
     * Whether everything a router wrote to this repartition partition before {@code offset} has been
     * processed — or the partition is another sidecar's.
     */
    boolean upTo(int repartitionPartition, long offset);
  }

  private final Map<String, ArrayDeque<Mark>> waiting = new HashMap<>();

  /**
   * How long after the first mark engines wait before they judge anything: every router marks four
   * times a second, so by then each input partition owned has been reported.
   */
  static final long SETTLE_MILLIS = 1_000;

  private final Map<TopicPartition, Report> byPartition = new HashMap<>();
  private long firstMarkMillis = -1;

  /** A router's mark: it owns {@code partitions} and has routed everything of them up to {@code routedUpToNanos}. */
  public synchronized void report(long routedUpToNanos, Collection<TopicPartition> partitions, long nowMillis) {
    if (firstMarkMillis < 0) {
      firstMarkMillis = nowMillis;
    }
    for (TopicPartition tp : partitions) {
      byPartition.put(tp, new Report(routedUpToNanos, nowMillis));
    }
  }

  /**
   * The event time every router has routed up to: {@code Long.MAX_VALUE} when no router holds
   * anything back, {@code Long.MIN_VALUE} until routers have been heard for {@value #SETTLE_MILLIS}
   * ms (a sidecar started on a backlog would otherwise judge it before its router had routed it) and
   * while a partition a router reports has no mark that counts yet.
   */
  public synchronized long routedUpToNanos(long nowMillis) {
    return routedUpToNanos(nowMillis, (partition, offset) -> true);
  }

  /** As {@link #routedUpToNanos(long)}, counting each mark once the engine has processed what it says was routed. */
  public synchronized long routedUpToNanos(long nowMillis, Processed processed) {
    for (ArrayDeque<Mark> marks : waiting.values()) {
      Mark newest = null;
      for (Mark m : marks) {
        if (m.written().entrySet().stream().allMatch(e -> processed.upTo(e.getKey(), e.getValue()))) {
          newest = m;
        }
      }
      if (newest != null) {
        while (marks.peekFirst() != newest) {
          marks.pollFirst();
        }
        marks.pollFirst();
        report(newest.routedUpToNanos(), newest.partitions(), newest.receivedMillis());
      }
    }
    waiting.values().removeIf(ArrayDeque::isEmpty);
    if (firstMarkMillis < 0 || nowMillis - firstMarkMillis < SETTLE_MILLIS) {
      return Long.MIN_VALUE;
    }
    for (ArrayDeque<Mark> marks : waiting.values()) {
      marks.removeIf(m -> nowMillis - m.receivedMillis() > FORGET_MILLIS);
      for (Mark m : marks) {
        for (TopicPartition tp : m.partitions()) {
          if (!byPartition.containsKey(tp)) {
            return Long.MIN_VALUE; // a router owns it, and what it routed of it is not read yet
          }
        }
      }
    }
    long least = Long.MAX_VALUE;
    var it = byPartition.values().iterator();
    while (it.hasNext()) {
      Report r = it.next();
      if (nowMillis - r.receivedMillis() > FORGET_MILLIS) {
        it.remove();
      } else {
        least = Math.min(least, r.routedUpToNanos());
      }
    }
    return least;
  }

  /**
   * The partition routed least far when that is more than {@code overMillis} behind the wall clock
   * (a log line's fields), else {@code null}.
   */
  public synchronized String holding(long nowMillis, long overMillis) {
    if (firstMarkMillis < 0) {
      return "marks_heard=0 detail=\"no router's progress mark read from the broadcast topic yet: nothing is judged\"";
    }
    int waitingMarks = waiting.values().stream().mapToInt(ArrayDeque::size).sum();
    TopicPartition least = null;
    Report leastReport = null;
    for (Map.Entry<TopicPartition, Report> e : byPartition.entrySet()) {
      if (leastReport == null || e.getValue().routedUpToNanos() < leastReport.routedUpToNanos()) {
        least = e.getKey();
        leastReport = e.getValue();
      }
    }
    if (leastReport == null || nowMillis - leastReport.routedUpToNanos() / 1_000_000 <= overMillis) {
      return waitingMarks > 4 * (waiting.size() + 1)
          ? "marks_waiting=" + waitingMarks + " detail=\"what routers routed is not read here yet\"" : null;
    }
    return "partition=" + least + " routed_up_to_ms_ago=" + (nowMillis - leastReport.routedUpToNanos() / 1_000_000)
        + " reported_ms_ago=" + (nowMillis - leastReport.receivedMillis()) + " marks_waiting=" + waitingMarks;
  }

  /**
   * A mark's value: {@code <routed-up-to nanos> <topic>/<partition> … <repartition partition>=<offset> …}
   * (topic names hold no '/', '=' or space).
   */
  public static byte[] encode(long routedUpToNanos, Collection<TopicPartition> partitions, Map<Integer, Long> written) {
    StringBuilder sb = new StringBuilder(Long.toString(routedUpToNanos));
    for (TopicPartition tp : partitions) {
      sb.append(' ').append(tp.topic()).append('/').append(tp.partition());
    }
    written.forEach((p, o) -> sb.append(' ').append(p).append('=').append(o));
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Takes a router's mark; it counts once the engine has processed what it says was routed
   * ({@link #routedUpToNanos(long, Processed)}). Returns false (and changes nothing) when it is not one.
   */
  public boolean apply(String router, byte[] value, long nowMillis) {
    if (value == null) {
      return false;
    }
    String[] parts = new String(value, StandardCharsets.UTF_8).split(" ");
    List<TopicPartition> partitions = new ArrayList<>(parts.length - 1);
    Map<Integer, Long> written = new HashMap<>();
    long routedUpTo;
    try {
      routedUpTo = Long.parseLong(parts[0]);
      for (int i = 1; i < parts.length; i++) {
        int eq = parts[i].indexOf('=');
        if (eq > 0) {
          written.put(Integer.parseInt(parts[i].substring(0, eq)), Long.parseLong(parts[i].substring(eq + 1)));
          continue;
        }
        int slash = parts[i].lastIndexOf('/');
        if (slash <= 0) {
          return false;
        }
        partitions.add(new TopicPartition(parts[i].substring(0, slash), Integer.parseInt(parts[i].substring(slash + 1))));
      }
    } catch (NumberFormatException e) {
      return false;
    }
    synchronized (this) {
      if (firstMarkMillis < 0) {
        firstMarkMillis = nowMillis;
      }
      ArrayDeque<Mark> marks = waiting.computeIfAbsent(router, r -> new ArrayDeque<>());
      marks.addLast(new Mark(routedUpTo, partitions, written, nowMillis));
      if (marks.size() > MAX_WAITING_MARKS) {
        marks.pollFirst(); // a later one vouches for more
      }
    }
    return true;
  }
}
