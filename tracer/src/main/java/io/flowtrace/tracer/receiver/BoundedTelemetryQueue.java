package io.flowtrace.tracer.receiver;

import static java.util.Objects.requireNonNull;

import io.flowtrace.tracer.model.Telemetry;
import java.io.Closeable;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bounded hand-off between receivers and a downstream {@link TelemetrySink}. Receivers offer
 * whole requests ({@link #offer}); a request is taken only if all of its items fit within the
 * capacity, otherwise it is refused at once ({@link Offer#FULL}) so the receiver can tell its
 * client to retry later. Nothing here blocks a receiver or grows without bound. One daemon thread
 * drains the queue into the sink; an item counts against the capacity until the sink has taken it.
 *
 * <p>{@link #close()} stops taking new requests and delivers what was already accepted (waiting up
 * to the drain timeout), so nothing a receiver acknowledged is lost on an orderly shutdown. The
 * queue does not own the sink: close the sink after the queue.
 */
public final class BoundedTelemetryQueue implements Closeable {

  /** Capacity in items (spans): 100,000. */
  public static final int DEFAULT_CAPACITY = 100_000;
  /** How long {@link #close()} waits for accepted items to reach the sink: 30 s. */
  public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(30);

  private static final Logger LOG = LoggerFactory.getLogger(BoundedTelemetryQueue.class);

  /** What {@link #oldestPendingEpochNanos()} says when nothing is pending. */
  public static final long NONE_PENDING = Long.MAX_VALUE;

  /** An accepted batch and when it was accepted (epoch nanoseconds). */
  private record Pending(List<? extends Telemetry> items, long receivedEpochNanos) {}

  /** What happened to an offered batch. */
  public enum Offer {
    /** Queued; it will reach the sink. */
    ACCEPTED,
    /** Not queued: no room now; retrying later may succeed. */
    FULL,
    /** Not queued: the batch alone is larger than the capacity, so retrying cannot succeed. */
    TOO_LARGE,
    /** Not queued: the queue is closed. */
    CLOSED
  }

  private final int capacity;
  private final Duration drainTimeout;
  private final TelemetrySink sink;
  private final Thread consumer;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition notEmpty = lock.newCondition();
  private final Condition drained = lock.newCondition();
  private final ArrayDeque<Pending> batches = new ArrayDeque<>();
  private int pending; // items accepted but not yet taken by the sink; guarded by lock
  private long delivering = NONE_PENDING; // when the batch the sink is taking now was received; guarded by lock
  private boolean closed; // guarded by lock

  private final AtomicLong received = new AtomicLong();
  private final AtomicLong accepted = new AtomicLong();
  private final AtomicLong delivered = new AtomicLong();
  private final AtomicLongArray droppedItems = new AtomicLongArray(DropReason.values().length);
  private final AtomicLongArray refusedRequests = new AtomicLongArray(DropReason.values().length);
  private volatile boolean sinkFailureLogged;

  private BoundedTelemetryQueue(Builder builder) {
    this.capacity = builder.capacity;
    this.drainTimeout = builder.drainTimeout;
    this.sink = builder.sink;
    this.consumer = new Thread(this::drainLoop, builder.threadName);
    this.consumer.setDaemon(true);
    this.consumer.start();
  }

  /** A builder for a queue that drains into {@code sink}. */
  public static Builder builder(TelemetrySink sink) {
    return new Builder(sink);
  }

  /** A started queue of {@link #DEFAULT_CAPACITY} draining into {@code sink}. */
  public static BoundedTelemetryQueue create(TelemetrySink sink) {
    return builder(sink).build();
  }

  /**
   * Offers one request's items, all or nothing, without blocking. An empty batch is accepted.
   * Counts the items as received, and as accepted or dropped.
   */
  public Offer offer(List<? extends Telemetry> batch) {
    requireNonNull(batch, "batch");
    int size = batch.size();
    received.addAndGet(size);
    Offer result;
    if (size > capacity) {
      result = Offer.TOO_LARGE;
    } else {
      lock.lock();
      try {
        if (closed) {
          result = Offer.CLOSED;
        } else if (size > capacity - pending) {
          result = Offer.FULL;
        } else {
          if (size > 0) {
            batches.addLast(new Pending(List.copyOf(batch), epochNanos()));
            pending += size;
            notEmpty.signal();
          }
          result = Offer.ACCEPTED;
        }
      } finally {
        lock.unlock();
      }
    }
    if (result == Offer.ACCEPTED) {
      accepted.addAndGet(size);
    } else {
      DropReason reason = result == Offer.FULL ? DropReason.OVERLOADED
          : result == Offer.TOO_LARGE ? DropReason.TOO_LARGE : DropReason.CLOSED;
      countRefused(reason, size);
    }
    return result;
  }

  /** True when not one more item fits now (a receiver may refuse before even reading a body). */
  public boolean isFull() {
    lock.lock();
    try {
      return pending >= capacity;
    } finally {
      lock.unlock();
    }
  }

  /** Counts a refused request and its items (0 when they are not known). */
  void countRefused(DropReason reason, long items) {
    refusedRequests.incrementAndGet(reason.ordinal());
    droppedItems.addAndGet(reason.ordinal(), items);
  }

  /** Counts items dropped from requests that were otherwise taken (invalid ids). */
  void countDropped(DropReason reason, long items) {
    droppedItems.addAndGet(reason.ordinal(), items);
  }

  /** Counts items decoded but not offered (they were dropped before, e.g. for invalid ids). */
  void countReceived(long items) {
    received.addAndGet(items);
  }

  /**
   * Waits until everything accepted so far has reached the sink, up to {@code timeout}. Returns
   * whether it did.
   */
  public boolean awaitDrained(Duration timeout) throws InterruptedException {
    long nanos = timeout.toNanos();
    lock.lock();
    try {
      while (pending > 0) {
        if (nanos <= 0) {
          return false;
        }
        nanos = drained.awaitNanos(nanos);
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  /**
   * When the oldest batch not yet taken by the sink (queued, or being handed to it now) was
   * accepted, in epoch nanoseconds; {@link #NONE_PENDING} when there is none. A sink that is
   * behind holds everything received since then.
   */
  public long oldestPendingEpochNanos() {
    lock.lock();
    try {
      Pending head = batches.peekFirst();
      return Math.min(delivering, head == null ? NONE_PENDING : head.receivedEpochNanos());
    } finally {
      lock.unlock();
    }
  }

  private static long epochNanos() {
    java.time.Instant now = java.time.Instant.now();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }

  /** The capacity in items. */
  public int capacity() {
    return capacity;
  }

  /** Items accepted and not yet taken by the sink. */
  public int queued() {
    lock.lock();
    try {
      return pending;
    } finally {
      lock.unlock();
    }
  }

  /** Items received by the receivers (decoded), whether or not they were then accepted. */
  public long received() {
    return received.get();
  }

  /** Items accepted into the queue. */
  public long accepted() {
    return accepted.get();
  }

  /** Items the sink has taken (including any it threw on, counted as {@link DropReason#SINK_FAILED}). */
  public long delivered() {
    return delivered.get();
  }

  /** Items dropped for {@code reason} (0 for refused requests whose items were never decoded). */
  public long dropped(DropReason reason) {
    return droppedItems.get(reason.ordinal());
  }

  /** Requests refused for {@code reason}. */
  public long refusedRequests(DropReason reason) {
    return refusedRequests.get(reason.ordinal());
  }

  /** The counters as text, for logs: {@code received=.. accepted=.. delivered=.. queued=.. dropped{..}}. */
  public String stats() {
    Map<DropReason, Long> dropped = new EnumMap<>(DropReason.class);
    Map<DropReason, Long> refused = new EnumMap<>(DropReason.class);
    for (DropReason reason : DropReason.values()) {
      if (dropped(reason) > 0) {
        dropped.put(reason, dropped(reason));
      }
      if (refusedRequests(reason) > 0) {
        refused.put(reason, refusedRequests(reason));
      }
    }
    return "received=" + received() + " accepted=" + accepted() + " delivered=" + delivered()
        + " queued=" + queued() + " dropped=" + dropped + " refused_requests=" + refused;
  }

  /**
   * Stops taking new batches and waits up to the drain timeout for the accepted ones to reach the
   * sink; what is left then is counted as {@link DropReason#CLOSED}. Idempotent.
   */
  @Override
  public void close() {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      notEmpty.signalAll();
    } finally {
      lock.unlock();
    }
    try {
      consumer.join(drainTimeout.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (consumer.isAlive()) {
      consumer.interrupt();
      int left = queued();
      countDropped(DropReason.CLOSED, left);
      LOG.warn("Telemetry queue closed with {} items not delivered after waiting {}; {}",
          left, drainTimeout, stats());
    }
  }

  private void drainLoop() {
    while (true) {
      List<? extends Telemetry> batch;
      long received;
      lock.lock();
      try {
        while (batches.isEmpty() && !closed) {
          notEmpty.awaitUninterruptibly();
        }
        Pending next = batches.pollFirst();
        if (next == null) {
          return; // closed and drained
        }
        batch = next.items();
        received = next.receivedEpochNanos();
        delivering = received;
      } finally {
        lock.unlock();
      }
      try {
        sink.acceptAll(batch, received);
      } catch (RuntimeException e) {
        countDropped(DropReason.SINK_FAILED, batch.size());
        if (!sinkFailureLogged) {
          sinkFailureLogged = true;
          LOG.warn("Telemetry sink {} threw on a batch of {} items; dropping it and going on "
              + "(further failures are counted, not logged)", sink, batch.size(), e);
        }
      }
      delivered.addAndGet(batch.size());
      lock.lock();
      try {
        delivering = NONE_PENDING;
        pending -= batch.size();
        if (pending == 0) {
          drained.signalAll();
        }
      } finally {
        lock.unlock();
      }
    }
  }

  /** Builds a started {@link BoundedTelemetryQueue}. */
  public static final class Builder {
    private final TelemetrySink sink;
    private int capacity = DEFAULT_CAPACITY;
    private Duration drainTimeout = DEFAULT_DRAIN_TIMEOUT;
    private String threadName = "flowtrace-telemetry-queue";

    private Builder(TelemetrySink sink) {
      this.sink = requireNonNull(sink, "sink");
    }

    /** Capacity in items (spans). Defaults to 100,000. */
    public Builder capacity(int capacity) {
      if (capacity < 1) {
        throw new IllegalArgumentException("capacity must be at least 1, was " + capacity);
      }
      this.capacity = capacity;
      return this;
    }

    /** How long {@link BoundedTelemetryQueue#close()} waits for delivery. Defaults to 30 s. */
    public Builder drainTimeout(Duration drainTimeout) {
      requireNonNull(drainTimeout, "drainTimeout");
      if (drainTimeout.isNegative()) {
        throw new IllegalArgumentException("drainTimeout must not be negative, was " + drainTimeout);
      }
      this.drainTimeout = drainTimeout;
      return this;
    }

    /** The consumer thread's name. Defaults to {@code flowtrace-telemetry-queue}. */
    public Builder threadName(String threadName) {
      this.threadName = requireNonNull(threadName, "threadName");
      return this;
    }

    /** Starts the consumer thread and returns the queue. */
    public BoundedTelemetryQueue build() {
      return new BoundedTelemetryQueue(this);
    }
  }
}
