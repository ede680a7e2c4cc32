package io.flowtrace.tracer.receiver;

import static java.util.Objects.requireNonNull;

import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.otlp.OtlpSpans;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one path from a decoded {@link ExportTraceServiceRequest} to the queue, shared by the
 * receivers and the exporter: convert with {@link OtlpSpans}, offer all valid spans at once, count
 * and log (once per kind) whatever was refused.
 */
final class OtlpIngest {

  /** At most this many invalid-id descriptions go into a response message. */
  static final int MAX_DESCRIBED = 3;

  private static final Logger LOG = LoggerFactory.getLogger(OtlpIngest.class);

  private final BoundedTelemetryQueue queue;
  private final String source;
  private final AtomicLongArray logged = new AtomicLongArray(DropReason.values().length);

  OtlpIngest(BoundedTelemetryQueue queue, String source) {
    this.queue = requireNonNull(queue, "queue");
    this.source = requireNonNull(source, "source");
  }

  BoundedTelemetryQueue queue() {
    return queue;
  }

  /** What became of a request. */
  enum Outcome {
    /** All valid spans queued; {@code rejected} may be non-zero (partial success). */
    ACCEPTED,
    /** Every span had an invalid id: nothing to queue. */
    ALL_INVALID,
    /** The queue had no room now: retry later. */
    OVERLOADED,
    /** More spans than the queue can ever hold: retrying cannot help. */
    TOO_MANY_SPANS,
    /** The queue is closed (the receiver is shutting down). */
    CLOSED
  }

  /** A request's outcome; {@code message} says why spans were rejected (empty when none were). */
  record Result(Outcome outcome, long spans, long rejected, String message) {}

  /**
   * Converts and offers the request. {@code describer} words an invalid id for the client (the
   * JSON receiver quotes the id as sent); {@code peer} names the client in logs.
   */
  Result ingest(
      ExportTraceServiceRequest request,
      Function<OtlpSpans.InvalidId, String> describer,
      String peer) {
    List<Telemetry> batch = new ArrayList<>(spanCount(request));
    List<String> problems = new ArrayList<>(MAX_DESCRIBED);
    long[] rejected = new long[1];
    long[] linkProblems = new long[1];
    OtlpSpans.convert(request, span -> batch.add(Telemetry.of(OtlpSpans.endingNoEarlierThanItStarts(span))), invalid -> {
      if (invalid.linkIndex() < 0) {
        rejected[0]++;
      } else {
        linkProblems[0]++;
      }
      if (problems.size() < MAX_DESCRIBED) {
        problems.add(describer.apply(invalid));
      }
    });
    long total = batch.size() + rejected[0];
    String message = "";
    if (rejected[0] > 0 || linkProblems[0] > 0) {
      long problemCount = rejected[0] + linkProblems[0];
      message = (rejected[0] > 0 ? "rejected " + rejected[0] + " of " + total + " spans" : "dropped "
          + linkProblems[0] + " links") + " for invalid ids: " + String.join("; ", problems)
          + (problemCount > problems.size() ? "; and " + (problemCount - problems.size()) + " more" : "");
      queue.countReceived(rejected[0]);
      queue.countDropped(DropReason.INVALID_ID, rejected[0]);
      logOnce(DropReason.INVALID_ID, peer, message);
    }
    if (batch.isEmpty() && rejected[0] > 0) {
      queue.countRefused(DropReason.INVALID_ID, 0);
      return new Result(Outcome.ALL_INVALID, total, rejected[0], message);
    }
    BoundedTelemetryQueue.Offer offer = queue.offer(batch);
    switch (offer) {
      case ACCEPTED:
        return new Result(Outcome.ACCEPTED, total, rejected[0], message);
      case FULL:
        logOnce(DropReason.OVERLOADED, peer, "the queue cannot take " + batch.size() + " more spans ("
            + queue.queued() + " of " + queue.capacity() + " queued)");
        return new Result(Outcome.OVERLOADED, total, rejected[0],
            "flowtrace cannot keep up: its queue cannot take " + batch.size() + " more spans now ("
                + queue.queued() + " of " + queue.capacity() + " queued); retry later");
      case TOO_LARGE:
        String tooMany = "the request has " + batch.size() + " spans, more than the queue holds ("
            + queue.capacity() + "); send smaller batches";
        logOnce(DropReason.TOO_LARGE, peer, tooMany);
        return new Result(Outcome.TOO_MANY_SPANS, total, rejected[0], tooMany);
      default:
        logOnce(DropReason.CLOSED, peer, "the queue is closed");
        return new Result(Outcome.CLOSED, total, rejected[0], "flowtrace is shutting down");
    }
  }

  /** Counts a request refused before it could be decoded and logs the first of its kind. */
  void refuse(DropReason reason, String peer, String why) {
    queue.countRefused(reason, 0);
    logOnce(reason, peer, why);
  }

  /** Logs the first refusal of each kind with its context; later ones are only counted. */
  void logOnce(DropReason reason, String peer, String why) {
    if (logged.compareAndSet(reason.ordinal(), 0, 1)) {
      LOG.warn("{} refused a request from {} ({}): {}. Further {} refusals are counted, not logged; {}",
          source, peer, reason, why, reason, queue.stats());
    }
  }

  static int spanCount(ExportTraceServiceRequest request) {
    int count = 0;
    for (ResourceSpans resource : request.getResourceSpansList()) {
      for (ScopeSpans scope : resource.getScopeSpansList()) {
        count += scope.getSpansCount();
      }
    }
    return count;
  }
}
