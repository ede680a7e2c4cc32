package io.flowtrace.sidecar.internal;

import java.util.Arrays;

/**
 * The most recent decision latencies, kept exactly (a ring of {@code capacity} samples) so
 * percentiles can be reported as measured rather than estimated from histogram buckets.
 * Thread-safe.
 */
public final class LatencySamples {

  private final long[] ring;
  private long count;

  public LatencySamples(int capacity) {
    this.ring = new long[capacity];
  }

  public synchronized void add(long nanos) {
    ring[(int) (count % ring.length)] = nanos;
    count++;
  }

  /** Samples recorded in all. */
  public synchronized long count() {
    return count;
  }

  /** The {@code q}-quantile (0..1) of the kept samples in nanoseconds, or -1 when there are none. */
  public long quantile(double q) {
    return quantile(q, 0);
  }

  /**
   * The {@code q}-quantile of the kept samples recorded after the first {@code from} ones (a
   * {@link #count()} taken earlier), or -1 when there are none.
   */
  public long quantile(double q, long from) {
    return quantile(q, from, Long.MAX_VALUE);
  }

  /**
   * The {@code q}-quantile of the kept samples recorded after the first {@code from} ones and
   * before the first {@code to} (two {@link #count()}s taken earlier, e.g. at either end of a time
   * window), or -1 when none of them is kept.
   */
  public long quantile(double q, long from, long to) {
    long[] sorted;
    synchronized (this) {
      long first = Math.max(from, count - ring.length);
      long end = Math.min(to, count);
      sorted = new long[(int) Math.max(0, end - first)];
      for (long i = first; i < end; i++) {
        sorted[(int) (i - first)] = ring[(int) (i % ring.length)];
      }
    }
    if (sorted.length == 0) {
      return -1;
    }
    Arrays.sort(sorted);
    int index = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }
}
