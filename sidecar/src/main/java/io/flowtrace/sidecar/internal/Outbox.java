package io.flowtrace.sidecar.internal;

import io.flowtrace.sidecar.output.VerdictSink;
import io.flowtrace.verifier.report.LateEvent;
import io.flowtrace.verifier.report.Verdict;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One verdict output and what was written to it since its last successful flush. When a write or
 * a flush fails (a full disk, a verdicts topic the producer gave up on), the output is brought back
 * to what it last made durable ({@link VerdictSink#rewind()}) and everything since is written again
 * once it works — tried after 1 s, then backing off to 30 s. Meanwhile new verdicts wait here, in
 * order, and {@link #flush} says {@code false}, so no input offset is committed past them. Past
 * {@code capacity} waiting items the outbox gives up: it drops what it holds and stays failed (a
 * restart then verifies again from the last committed offset, losing nothing). Engine thread only.
 */
public final class Outbox {

  private static final Logger LOG = LoggerFactory.getLogger(Outbox.class);
  private static final long FIRST_RETRY_MILLIS = 1000;
  private static final long MAX_RETRY_MILLIS = 30_000;

  private final VerdictSink sink;
  private final String name;
  private final int capacity;
  private final SidecarMetrics metrics;
  private final List<Object> unflushed = new ArrayList<>();
  private volatile String failure;
  private volatile int waiting;
  private long failingSinceMillis;
  private long retryAtMillis;
  private long backoffMillis;
  private volatile boolean gaveUp;

  public Outbox(VerdictSink sink, int capacity, SidecarMetrics metrics) {
    this.sink = sink;
    this.name = sink.getClass().getSimpleName().isEmpty() ? sink.getClass().getName() : sink.getClass().getSimpleName();
    this.capacity = capacity;
    this.metrics = metrics;
  }

  /** The output. */
  public VerdictSink sink() {
    return sink;
  }

  public void verdict(Verdict v) {
    add(v, "write of \"" + v.instanceKey() + "\"");
  }

  public void late(LateEvent e) {
    add(e, "late-event note of \"" + e.instanceKey() + "\"");
  }

  private void add(Object item, String what) {
    if (gaveUp) {
      return;
    }
    unflushed.add(item);
    waiting = unflushed.size();
    if (failure == null) {
      try {
        deliver(item);
      } catch (IOException | RuntimeException e) {
        failed(what, e, System.currentTimeMillis());
      }
    } else if (unflushed.size() > capacity) {
      giveUp();
    }
  }

  /**
   * Makes everything written durable, first writing again what waits after a failure (when its
   * retry is due); whether all of it is durable now.
   */
  public boolean flush(long nowMillis) {
    if (gaveUp) {
      return false;
    }
    if (failure != null) {
      if (nowMillis < retryAtMillis) {
        return false;
      }
      try {
        sink.rewind();
        for (Object item : unflushed) {
          deliver(item);
        }
        sink.flush();
      } catch (IOException | RuntimeException e) {
        backoffMillis = Math.min(MAX_RETRY_MILLIS, backoffMillis * 2);
        retryAtMillis = nowMillis + backoffMillis;
        LOG.warn("event=output_still_failing sink={} waiting={} failing_ms={} next_try_ms={} error=\"{}\"", name,
            unflushed.size(), nowMillis - failingSinceMillis, backoffMillis, e.toString());
        return false;
      }
      LOG.info("event=output_recovered sink={} after_ms={} written_again={}", name, nowMillis - failingSinceMillis,
          unflushed.size());
      failure = null;
      unflushed.clear();
      return true;
    }
    try {
      sink.flush();
    } catch (IOException | RuntimeException e) {
      failed("flush", e, nowMillis);
      return false;
    }
    unflushed.clear();
    return true;
  }

  private void deliver(Object item) throws IOException {
    if (item instanceof Verdict v) {
      sink.write(v);
    } else {
      sink.late((LateEvent) item);
    }
  }

  private void failed(String what, Exception e, long nowMillis) {
    metrics.outputFailed();
    failure = name + " " + what + ": " + e;
    failingSinceMillis = nowMillis;
    backoffMillis = FIRST_RETRY_MILLIS;
    retryAtMillis = nowMillis + backoffMillis;
    LOG.error("event=output_failed sink={} what=\"{}\" error=\"{}\" detail=\"its verdicts wait ({} now, up to {}) and"
        + " are written again when it works; offsets are not committed meanwhile\"", name, what, e.toString(),
        unflushed.size(), capacity);
  }

  private void giveUp() {
    gaveUp = true;
    unflushed.clear();
    LOG.error("event=output_given_up sink={} detail=\"more than {} verdicts waited for a failing output ({}); "
        + "offsets are no longer committed and /healthz fails: a restart verifies again from the last committed "
        + "offset\"", name, capacity, failure);
  }

  /** Why the output fails now, or {@code null}. */
  public String failure() {
    return failure;
  }

  /** Items waiting to be written again. */
  public int waiting() {
    return failure == null ? 0 : waiting;
  }

  /** Whether the outbox gave up (more than its capacity waited). */
  public boolean gaveUp() {
    return gaveUp;
  }

  /** Flushes and closes the output. */
  public void close() throws IOException {
    sink.close();
  }

  /** The output's name (its class). */
  public String name() {
    return name;
  }
}
