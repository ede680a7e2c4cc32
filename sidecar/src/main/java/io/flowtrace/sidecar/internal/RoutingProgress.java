package io.flowtrace.sidecar.internal;

import java.nio.charset.StandardCharsets;
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
 * Thread-safe: marks arrive on the input's poll thread, the engine thread asks.
 */
public final class RoutingProgress {

  /** The Kafka header that makes a broadcast record a progress mark (its value: the router's id). */
  public static final String HEADER = "flowtrace.progress";
  /** How long a partition's last report holds when no router reports it any more. */
  static final long FORGET_MILLIS = 5 * 60_000;

  private record Report(long routedUpToNanos, long receivedMillis) {}

  private final Map<TopicPartition, Report> byPartition = new HashMap<>();

  /** A router's mark: it owns {@code partitions} and has routed everything of them up to {@code routedUpToNanos}. */
  public synchronized void report(long routedUpToNanos, Collection<TopicPartition> partitions, long nowMillis) {
    for (TopicPartition tp : partitions) {
      byPartition.put(tp, new Report(routedUpToNanos, nowMillis));
    }
  }

  /** The event time every router has routed up to, or {@code Long.MAX_VALUE} when no router holds anything back. */
  public synchronized long routedUpToNanos(long nowMillis) {
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
    TopicPartition least = null;
    Report leastReport = null;
    for (Map.Entry<TopicPartition, Report> e : byPartition.entrySet()) {
      if (leastReport == null || e.getValue().routedUpToNanos() < leastReport.routedUpToNanos()) {
        least = e.getKey();
        leastReport = e.getValue();
      }
    }
    if (leastReport == null || nowMillis - leastReport.routedUpToNanos() / 1_000_000 <= overMillis) {
      return null;
    }
    return "partition=" + least + " routed_up_to_ms_ago=" + (nowMillis - leastReport.routedUpToNanos() / 1_000_000)
        + " reported_ms_ago=" + (nowMillis - leastReport.receivedMillis());
  }

  /** A mark's value: {@code <routed-up-to nanos> <topic>/<partition> …} (topic names hold no '/' or space). */
  public static byte[] encode(long routedUpToNanos, Collection<TopicPartition> partitions) {
    StringBuilder sb = new StringBuilder(Long.toString(routedUpToNanos));
    for (TopicPartition tp : partitions) {
      sb.append(' ').append(tp.topic()).append('/').append(tp.partition());
    }
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Applies a mark's value; returns false (and changes nothing) when it is not one.
   */
  public boolean apply(byte[] value, long nowMillis) {
    if (value == null) {
      return false;
    }
    String[] parts = new String(value, StandardCharsets.UTF_8).split(" ");
    List<TopicPartition> partitions = new ArrayList<>(parts.length - 1);
    long routedUpTo;
    try {
      routedUpTo = Long.parseLong(parts[0]);
      for (int i = 1; i < parts.length; i++) {
        int slash = parts[i].lastIndexOf('/');
        if (slash <= 0) {
          return false;
        }
        partitions.add(new TopicPartition(parts[i].substring(0, slash), Integer.parseInt(parts[i].substring(slash + 1))));
      }
    } catch (NumberFormatException e) {
      return false;
    }
    report(routedUpTo, partitions, nowMillis);
    return true;
  }
}
