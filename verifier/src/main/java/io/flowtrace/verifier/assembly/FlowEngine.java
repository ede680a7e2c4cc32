package io.flowtrace.verifier.assembly;

import static java.util.Objects.requireNonNull;

import io.flowtrace.tracer.correlation.MessageSpanIndex;
import io.flowtrace.tracer.correlation.MessagingAttributes;
import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.model.TraceContext;
import io.flowtrace.tracer.recording.ReadProblem;
import io.flowtrace.tracer.recording.SourceCut;
import io.flowtrace.verifier.report.FlowVerifier;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictListener;
import io.flowtrace.verifier.spec.FlowSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.List;
import java.util.Set;

/**
 * The streaming verification engine: telemetry in (any order), verdicts out. Spans and records are
 * matched to declared events, stitched into flow instances by business keys and traces, and each
 * instance is verified the moment its terminal stage and everything its rules need have arrived,
 * or when its deadline passes. Late events amend a decided verdict while it is in the amendment
 * window; afterwards the verdict is final.
 *
 * <p>Time is event time: {@link #advanceTo} moves the watermark (replay: the arrival time of the
 * latest event, in order; live: the wall clock less the allowed lateness). Memory holds the
 * instances in flight and the messaging spans of the last {@code deadline + amendWindow}.
 *
 * <p>Not thread-safe: one thread feeds it.
 */
public final class FlowEngine {
  /** Verifications queued for each verification thread before the feeding thread runs the next one itself. */
  private static final int VERIFICATIONS_QUEUED = 32;

  /** Default wait, after the terminal stage, for stragglers (late spans, a missing stage). */
  public static final Duration DEFAULT_COMPLETION_GRACE = Duration.ofSeconds(2);
  /**
   * How long before the last span received an exporter's unwritten batch may reach when the input
   * ends: the SDK's 5 s batch delay and the time to send one.
   */
  private static final long EXPORTER_BATCH_NANOS = Duration.ofSeconds(6).toNanos();
  /** Default time a decided verdict stays open to amendment by late events. */
  public static final Duration DEFAULT_AMEND_WINDOW = Duration.ofSeconds(30);
  /** Default number of finalized instance keys remembered to recognise very late events. */
  public static final int DEFAULT_FINALIZED_KEYS = 100_000;
  /** Default cap on instances in flight (open, across flows); past it the oldest is decided {@code INCOMPLETE}. */
  public static final int DEFAULT_MAX_OPEN_INSTANCES = 100_000;
  /** Default cap on events (spans and records) per instance; past it the instance is decided {@code INCOMPLETE}. */
  public static final int DEFAULT_MAX_EVENTS_PER_INSTANCE = 1_000;
  /** Default cap on events held for amendments and joins: none (replay and tests keep everything they need). */
  public static final long DEFAULT_MAX_RETAINED_EVENTS = Long.MAX_VALUE;
  /** Default cap on one payload's bytes; a larger payload is not decoded and its instance ends {@code INCOMPLETE}. */
  public static final int DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

  private final List<FlowState> flows;
  private final EngineContext context;
  private final long retentionNanos;
  private final long graceNanos;
  /** What the span index must keep when amendment windows are cut short: what decisions need. */
  private final long decisionRetentionNanos;
  private final long maxRetainedEvents;
  private final EngineStats stats = new EngineStats();
  private long watermark = Long.MIN_VALUE;
  private final java.util.concurrent.ExecutorService verificationPool;
  private final LiveHooks live = new Hooks();

  private FlowEngine(Builder b) {
    FlowVerifier verifier = b.verifier;
    // A pool that is behind does not queue more: the feeding thread runs the checks itself, so
    // work is shared out however busy the cores are, and few verifications wait at any time.
    this.verificationPool = b.verificationThreads == 0 ? null
        : new java.util.concurrent.ThreadPoolExecutor(b.verificationThreads, b.verificationThreads, 0L,
            java.util.concurrent.TimeUnit.MILLISECONDS,
            new java.util.concurrent.ArrayBlockingQueue<>(VERIFICATIONS_QUEUED * b.verificationThreads), r -> {
              Thread t = new Thread(r, "flowtrace-verify");
              t.setDaemon(true);
              return t;
            }, (task, pool) -> task.run()); // also once shut down: a verification handed over is never dropped
    this.context = new EngineContext(b.listener, stats, verificationPool, b.maxEventsPerInstance,
        b.maxOpenInstances, b.decisionLatency, b.expectSpans);
    this.context.midFlowStart = b.midFlowStart;
    this.context.spansLostBefore = b.restartedAt;
    long maxDeadline = 0;
    List<FlowState> states = new ArrayList<>();
    long amend = b.amendWindow == null ? Long.MAX_VALUE : b.amendWindow.toNanos();
    for (FlowSpec spec : b.flows) {
      FlowSpec effective = b.spans == null ? spec : spec.withSpans(b.spans);
      states.add(new FlowState(effective, verifier, context, b.completionGrace.toNanos(), amend, b.finalizedKeys,
          b.maxPayloadBytes));
      maxDeadline = Math.max(maxDeadline, spec.deadline().toNanos());
    }
    this.flows = List.copyOf(states);
    // Instances keep the spans they were joined to, so the index only needs to serve the joins
    // still to come: the latest a record and its spans can be apart within a flow.
    long indexed = b.amendWindow == null ? DEFAULT_AMEND_WINDOW.toNanos() : amend;
    this.graceNanos = b.completionGrace.toNanos();
    this.retentionNanos = maxDeadline + indexed + b.completionGrace.toNanos();
    this.decisionRetentionNanos = maxDeadline + b.completionGrace.toNanos();
    this.maxRetainedEvents = b.maxRetainedEvents;
  }

  public static Builder builder(List<FlowSpec> flows) {
    return new Builder(flows);
  }

  /** Whether a span could matter to any flow (matches an event, or is a messaging span of a flow topic). */
  public boolean isRelevant(Span span) {
    for (FlowState f : flows) {
      if (f.matcher.matchesSpan(span)) {
        return true;
      }
    }
    return isFlowMessaging(MessagingAttributes.topicOrBatch(span));
  }

  /** Whether a messaging span of the topic can join a flow's record: a flow's topic, or a batch from several. */
  private boolean isFlowMessaging(String topic) {
    return topic != null && (topic.equals(MessagingAttributes.SEVERAL) || isTopicOfAnyFlow(topic));
  }

  /**
   * Prepares a span or record on any thread (see {@link Prepared}), or returns {@code null} when no
   * flow needs it. Event spans keep every attribute; messaging spans of flow topics keep only their
   * {@code messaging.*} attributes. Thread-safe.
   */
  public Prepared prepare(Telemetry telemetry) {
    if (telemetry instanceof Telemetry.RecordEvent r) {
      return prepare(r.record());
    }
    Span span = ((Telemetry.SpanEvent) telemetry).span();
    List<List<EventMatcher.SpanMatch>> matches = matches(span);
    if (PreparedSpan.anyEvent(matches)) {
      return new PreparedSpan(span, matches);
    }
    Span slim = slimMessagingSpan(span);
    return slim == null ? null : new PreparedSpan(slim, matches);
  }

  /** The span's events in each flow, by the flow's index. */
  private List<List<EventMatcher.SpanMatch>> matches(Span span) {
    List<List<EventMatcher.SpanMatch>> matches = new ArrayList<>(flows.size());
    for (FlowState f : flows) {
      matches.add(f.matcher.match(span));
    }
    return matches;
  }

  /** Attributes a messaging span keeps when slimmed (what correlation reads). */
  private static final java.util.Set<String> MESSAGING_KEYS = java.util.Set.of(
      "messaging.system", "messaging.destination.name", "messaging.destination", "messaging.operation.type",
      "messaging.operation", "messaging.kafka.offset", "messaging.kafka.message.offset",
      "messaging.destination.partition.id", "messaging.kafka.destination.partition", "messaging.kafka.partition");

  /**
   * Cheap, thread-safe pre-filter for buffering: the span or record if a flow may need it (event
   * spans whole, messaging spans of flow topics slimmed to what correlation reads), else
   * {@code null}. Payloads are not decoded here; {@link #prepare(Telemetry)} does that.
   */
  public Telemetry filter(Telemetry telemetry) {
    if (telemetry instanceof Telemetry.RecordEvent r) {
      return isRelevant(r.record()) ? telemetry : null;
    }
    Span span = ((Telemetry.SpanEvent) telemetry).span();
    for (FlowState f : flows) {
      if (f.matcher.matchesSpan(span)) {
        return telemetry;
      }
    }
    Span slim = slimMessagingSpan(span);
    return slim == null ? null : slim == span ? telemetry : Telemetry.of(slim);
  }

  private Span slimMessagingSpan(Span span) {
    if (!isFlowMessaging(MessagingAttributes.topicOrBatch(span))) {
      return null;
    }
    if (MESSAGING_KEYS.containsAll(span.attributes().keySet())) {
      return span;
    }
    Map<String, Object> kept = new HashMap<>(8);
    for (Map.Entry<String, Object> e : span.attributes().entrySet()) {
      if (MESSAGING_KEYS.contains(e.getKey())) {
        kept.put(e.getKey(), e.getValue());
      }
    }
    return span.withAttributes(kept);
  }

  /** What a live engine tells this engine and asks of it (the sidecar's hooks). */
  public LiveHooks live() {
    return live;
  }

  /** Feeds a prepared span or record. */
  public void accept(Prepared prepared) {
    if (prepared instanceof PreparedRecord r) {
      accept(r);
    } else {
      PreparedSpan s = (PreparedSpan) prepared;
      acceptSpan(s);
    }
  }

  /** Whether a record's topic is declared by any flow. */
  public boolean isRelevant(KafkaRecord record) {
    return isTopicOfAnyFlow(record.topic());
  }

  /**
   * Decodes and validates a record's payload for every event it matches and parses its trace
   * context, or returns {@code null} when no flow declares its topic. Thread-safe: call it from
   * reader threads, then {@link #accept(PreparedRecord)} on the engine's thread.
   */
  public PreparedRecord prepare(KafkaRecord record) {
    if (!isRelevant(record)) {
      return null;
    }
    List<List<io.flowtrace.verifier.schema.DecodedPayload>> decoded = new ArrayList<>(flows.size());
    List<List<Map<String, String>>> keys = new ArrayList<>(flows.size());
    for (FlowState f : flows) {
      List<io.flowtrace.verifier.schema.DecodedPayload> d = f.matcher.decode(record);
      decoded.add(d);
      keys.add(f.matcher.keys(record, d));
    }
    return new PreparedRecord(record, record.traceContext().orElse(null), decoded, keys);
  }

  /** Feeds a prepared record. */
  public void accept(PreparedRecord prepared) {
    counted(prepared.record());
    boolean matched = false;
    Placement placement = new Placement();
    for (int i = 0; i < flows.size(); i++) {
      matched |= flows.get(i).acceptRecord(prepared.record(), prepared.decoded(i), prepared.keys(i), prepared.context(),
          placement, watermark);
    }
    unplacedIf(placement.handedOut());
    if (!matched) {
      stats.recordsIgnored++;
    }
  }

  /** Feeds one span or record. Never throws for bad data: it is counted and skipped. */
  public void accept(Telemetry telemetry) {
    if (telemetry instanceof Telemetry.SpanEvent s) {
      acceptSpan(new PreparedSpan(s.span(), matches(s.span())));
    } else if (telemetry instanceof Telemetry.RecordEvent r) {
      acceptRecord(r.record());
    }
  }

  private void acceptSpan(PreparedSpan prepared) {
    stats.spans++;
    context.inputStartNanos = Math.min(context.inputStartNanos, prepared.span().startEpochNanos());
    if (!context.sawSpans) {
      context.sawSpans = true;
      for (FlowState f : flows) {
        f.firstSpans();
      }
    }
    Span span = prepared.span();
    context.lastSpanEndNanos = Math.max(context.lastSpanEndNanos, span.endEpochNanos());
    boolean indexed = false;
    String topic = prepared.topic();
    if (topic != null && !context.tracedTopics.contains(topic) && MessagingAttributes.isSend(span)) {
      context.tracedTopics.add(topic);
    }
    if (isFlowMessaging(topic)) {
      // held for a minute: a span that is only a join is held without its attributes; an event's stays whole
      indexed = prepared.isEvent() ? context.spans.add(span, topic) : context.spans.addStripped(span, topic);
      if (span.parentSpanId().isEmpty()) {
        context.rootArrived(span);
      }
    }
    boolean matched = false;
    Placement placement = new Placement();
    for (int i = 0; i < flows.size(); i++) {
      FlowState f = flows.get(i);
      matched |= f.acceptSpan(span, prepared.matches(i), placement, watermark);
      if (indexed) {
        f.spanIndexed(span);
      }
    }
    unplacedIf(placement.handedOut());
    if (!matched && !indexed) {
      stats.spansIgnored++;
    }
  }

  private void unplacedIf(boolean unplaced) {
    if (unplaced) {
      stats.eventsUnplaced++;
    }
  }

  private void counted(KafkaRecord record) {
    stats.records++;
    if (record.timestampMillis() > 0) {
      context.inputStartNanos = Math.min(context.inputStartNanos, record.timestampNanos());
    }
  }

  private boolean isTopicOfAnyFlow(String topic) {
    for (FlowState f : flows) {
      if (f.matcher.hasTopic(topic)) {
        return true;
      }
    }
    return false;
  }

  private void acceptRecord(KafkaRecord record) {
    counted(record);
    boolean matched = false;
    TraceContext trace = record.traceContext().orElse(null);
    Placement placement = new Placement();
    for (FlowState f : flows) {
      matched |= f.acceptRecord(record, f.matcher.decode(record), null, trace, placement, watermark);
    }
    unplacedIf(placement.handedOut());
    if (!matched) {
      stats.recordsIgnored++;
    }
  }

  /**
   * Moves event time forward to {@code epochNanos} (never backwards): decides instances that
   * became complete, whose completion grace or deadline passed, and finalizes verdicts whose
   * amendment window closed.
   */
  public void advanceTo(long epochNanos) {
    if (epochNanos > watermark) {
      watermark = epochNanos;
    }
    for (FlowState f : flows) {
      f.advance(watermark);
    }
    context.spans.evictBefore(watermark - retentionNanos);
    context.evictRootsBefore(watermark - retentionNanos);
    if (maxRetainedEvents != Long.MAX_VALUE) { // no cap: not counted
      long held = retainedEvents();
      stats.retainedEvents = held;
      if (held > maxRetainedEvents) {
        relieve();
      }
    }
  }

  /**
   * What the index's spans weigh against {@link Builder#maxRetainedEvents}: a span held for joins
   * keeps ids, names and times in one index entry, no attributes or payload (239–326 bytes with its
   * id strings, measured), an eighth of what an event held for amendment costs with its record and
   * parsed payload (≈ 2 KiB). Counted whole, a sidecar at 450 reference flows/s in 1 GiB had every
   * amendment window cut by the index alone.
   */
  static final int INDEX_SPANS_PER_EVENT = 8;

  /**
   * Events held in memory: those of decided instances still open to amendment, those of open
   * instances (what decisions need, which the cap cannot cut but must leave room for) and the
   * index's spans by their weight. Engine thread only (it walks the open instances).
   */
  private long retainedEvents() {
    return heldForDecisions() + amendable();
  }

  private long heldForDecisions() {
    return indexWeight() + context.open.sightings();
  }

  /** The open instances of every flow, for tests in this package. */
  OpenInstances openInstances() {
    return context.open;
  }

  private long indexWeight() {
    return (context.spans.size() + INDEX_SPANS_PER_EVENT - 1) / INDEX_SPANS_PER_EVENT;
  }

  private long amendable() {
    long held = 0;
    for (FlowState f : flows) {
      held += f.retainedEvents();
    }
    return held;
  }

  /**
   * Over the retention cap: the amendment windows that opened first end now (their verdicts
   * become final as they stand; a later event for them is late, counted and reported), and the
   * span index keeps only what decisions still need. Memory follows the cap, not the input rate.
   */
  private void relieve() {
    context.spans.evictBefore(watermark - decisionRetentionNanos);
    context.evictRootsBefore(watermark - decisionRetentionNanos);
    long needed = heldForDecisions(); // finalizing an amendable instance leaves it as it is
    long held = needed + amendable();
    while (held > maxRetainedEvents) {
      FlowState oldest = null;
      long oldestAt = Long.MAX_VALUE;
      for (FlowState f : flows) {
        long at = f.oldestAmendable();
        if (at < oldestAt) {
          oldestAt = at;
          oldest = f;
        }
      }
      if (oldest == null || !oldest.finalizeOldest(watermark)) {
        break;
      }
      stats.amendWindowsCut++;
      held = needed + amendable();
    }
    stats.retainedEvents = held;
  }

  /**
   * The input ended: decides every open instance as of the current watermark (complete ones by
   * their data, the rest {@code INCOMPLETE} unless past their deadline) and finalizes everything.
   */
  public void finish() {
    if (context.sawSpans) {
      spansLostAfter(context.lastSpanEndNanos);
    }
    try {
      for (FlowState f : flows) {
        f.finish(watermark);
      }
    } finally {
      if (verificationPool != null) {
        verificationPool.shutdown();
      }
    }
  }

  /** The live hooks, on this engine's own state. */
  private final class Hooks implements LiveHooks {
    @Override
    public void stopping() {
      context.spansLostBefore = Long.MAX_VALUE;
    }

    @Override
    public void receivingSpansSince(java.time.Instant start) {
      context.spansLostBefore = epochNanos(start);
    }

    @Override
    public Map<RecordPartition, Long> readAgainFrom() {
      Map<RecordPartition, Long> from = new java.util.HashMap<>();
      for (FlowState f : flows) {
        f.readAgainFrom(from);
      }
      return Map.copyOf(from);
    }

    @Override
    public void arrival(long nanoTime) {
      context.arrivalNanos = nanoTime;
    }

    @Override
    public boolean verifying() {
      for (FlowState f : flows) {
        if (f.verifying()) {
          return true;
        }
      }
      return false;
    }

    @Override
    public void source(int tag) {
      context.sourceTag = tag;
    }

    @Override
    public void holdDecisions(java.util.function.IntPredicate catchingUp) {
      context.catchingUp = java.util.Objects.requireNonNull(catchingUp, "catchingUp");
    }

    @Override
    public int discardOpen(java.util.function.IntPredicate gone) {
      int dropped = 0;
      for (FlowState f : flows) {
        dropped += f.discardOpen(gone);
      }
      stats.instancesDiscarded += dropped;
      return dropped;
    }

    @Override
    public boolean markDecided(String flow, Map<String, String> keys, java.util.Collection<String> traceIds) {
      for (FlowState f : flows) {
        if (f.spec().name().equals(flow)) {
          f.markFinalized(keys, traceIds);
          return true;
        }
      }
      return false;
    }

    @Override
    public boolean markDecided(String flow, Map<String, String> keys, java.util.Collection<String> traceIds,
        int revision, String status, java.util.Collection<String> violations) {
      for (FlowState f : flows) {
        if (f.spec().name().equals(flow)) {
          f.markFinalized(new InstanceIndex.Seeded(Map.copyOf(keys), List.copyOf(traceIds), revision, status,
              Set.copyOf(violations)));
          return true;
        }
      }
      return false;
    }

    @Override
    public Routing routing(Prepared prepared) {
      return FlowEngine.this.routing(prepared);
    }
  }

  /** The keys ({@code flow|key=value}) and traces a prepared span or record carries, and how it joins. Thread-safe. */
  LiveHooks.Routing routing(Prepared prepared) {
    Set<String> keys = new java.util.LinkedHashSet<>();
    boolean[] flags = {false, false};
    boolean event = false;
    for (int i = 0; i < flows.size(); i++) {
      event |= flows.get(i).matcher.routing(prepared, i, keys, flags);
    }
    List<String> traces = new ArrayList<>(2);
    if (prepared instanceof PreparedSpan s) {
      traces.add(s.span().traceId());
      for (io.flowtrace.tracer.model.SpanLink link : s.span().links()) {
        traces.add(link.traceId());
      }
    } else if (((PreparedRecord) prepared).context() != null) {
      traces.add(((PreparedRecord) prepared).context().traceId());
    }
    return new LiveHooks.Routing(keys, traces, event, flags[0], flags[1]);
  }

  /** Passes the instance keys and traces a span or record carries to {@code tokens} (a key more than once, maybe). Thread-safe. */
  void tokens(Telemetry telemetry, Lookahead.Tokens tokens) {
    for (FlowState f : flows) {
      f.matcher.keysAhead(telemetry, tokens);
    }
    if (telemetry instanceof Telemetry.SpanEvent s) {
      tokens.trace(s.span().traceId());
      for (io.flowtrace.tracer.model.SpanLink link : s.span().links()) {
        tokens.trace(link.traceId());
      }
    } else {
      ((Telemetry.RecordEvent) telemetry).record().traceContext().ifPresent(c -> tokens.trace(c.traceId()));
    }
  }

  /** An empty {@link Lookahead} for this engine's flows, to fill while reading ahead of it. */
  public Lookahead newLookahead() {
    return new Lookahead(this);
  }

  /**
   * Tells the engine, before it is fed, when the last event of each key and trace of its input
   * arrives (see {@link Lookahead}): a decided verdict then becomes final as soon as no event still
   * to come can reach its instance, with the verdict it would have at the end. Replay uses it so
   * that memory holds the instances in flight, not every instance of the recording.
   */
  public void lookahead(Lookahead lookahead) {
    context.lookahead = requireNonNull(lookahead, "lookahead");
    if (lookahead.lastSpanEndNanos() != Lookahead.NONE) {
      // known before the input ends: an instance decided before then is judged as at the end
      spansLostAfter(lookahead.lastSpanEndNanos());
    }
  }

  /**
   * When the input ends after spans that ended at {@code lastSpanEnd}: what was stamped after then,
   * or within a completion grace before it, may have had its traces' spans still in an exporter's
   * batch (a capture whose span files stop before its record dump), so those spans are not missing;
   * a record of a topic whose producer is traced, within an exporter's batch before it (each
   * service's exporter flushes on its own timer, every 5 s by default). A topic no producer span of
   * came is not given that batch: its producer may not be traced at all.
   */
  private void spansLostAfter(long lastSpanEnd) {
    context.spansLostAfter = lastSpanEnd - graceNanos;
    context.tracedSpansLostAfter = lastSpanEnd - Math.max(graceNanos, EXPORTER_BATCH_NANOS);
  }

  /**
   * Tells the engine what input could not be read (replay reads all of it before feeding the
   * engine): a verdict that does not pass, and whose key values or traces a problem's text names
   * ({@link ReadProblem#names}), gets a note saying where, since what that input held is missing.
   */
  public void unreadable(java.util.Collection<ReadProblem> problems) {
    unreadable(problems, List.of());
  }

  /**
   * As {@link #unreadable(java.util.Collection)}, with the files whose reading stopped part-way. A
   * verdict that does not pass says so in a note when it ran past the cut of a file of spans, and
   * for every cut file of records (a dump of records is in order only within each partition). Where a file of spans was
   * cut, a record stamped after it (less the completion grace) whose producer span did not come had
   * its trace's spans in what was lost, as at the end of the input: what only those spans show is
   * not verified, instead of missing.
   */
  public void unreadable(java.util.Collection<ReadProblem> problems, java.util.Collection<SourceCut> cuts) {
    context.unreadable = Unreadable.of(problems, cuts);
    long spansCut = Long.MAX_VALUE;
    List<long[]> gaps = new ArrayList<>();
    for (SourceCut cut : cuts) {
      if (cut.spans() && cut.oneRequest()) {
        gaps.add(new long[] {cut.lastSpanEndNanos() - graceNanos, cut.lostUntilNanos()});
      } else if (cut.spans()) {
        spansCut = Math.min(spansCut, cut.lastSpanEndNanos() - graceNanos);
      }
    }
    context.spansCutAfter = spansCut;
    context.spanGaps = List.copyOf(gaps);
  }

  /**
   * When the next decision timer of any flow is due (a deadline, a grace, the end of an amendment
   * window), in event time; {@code Long.MAX_VALUE} when none is set. A replay that moves the clock
   * across a long gap in its recording moves it to each of these in turn, so that each decision is
   * made at its time rather than at the end of the gap. Engine thread only.
   */
  public long nextTimerAt() {
    long next = Long.MAX_VALUE;
    for (FlowState f : flows) {
      next = Math.min(next, f.nextTimerAt());
    }
    return next;
  }

  public long watermark() {
    return watermark;
  }

  public EngineStats stats() {
    long open = 0;
    long decided = 0;
    for (FlowState f : flows) {
      open += f.openInstances();
      decided += f.decidedInstances();
    }
    long conflicts = 0;
    long reused = 0;
    String reusedExample = null;
    for (FlowState f : flows) {
      conflicts += f.keyConflicts();
      reused += f.reusedKeys();
      if (reusedExample == null) {
        reusedExample = f.reusedKeyExample();
      }
    }
    stats.keyReuses = reused;
    stats.keyReuseExample = reusedExample;
    stats.openInstances = open;
    stats.decidedInFlight = decided;
    stats.indexedSpans = context.spans.size();
    if (maxRetainedEvents == Long.MAX_VALUE) {
      stats.retainedEvents = indexWeight() + amendable(); // with a cap: as last counted against it, on the engine thread
    }
    stats.keyConflicts = conflicts;
    return stats;
  }

  /** An instant in nanoseconds since the epoch, clamped to what a long holds. */
  private static long epochNanos(java.time.Instant t) {
    long seconds = Math.max(Math.min(t.getEpochSecond(), Long.MAX_VALUE / 1_000_000_000L - 1),
        Long.MIN_VALUE / 1_000_000_000L + 1);
    return seconds * 1_000_000_000L + (seconds == t.getEpochSecond() ? t.getNano() : 0);
  }

  /** Configures a {@link FlowEngine}. */
  public static final class Builder {
    private final List<FlowSpec> flows;
    private FlowVerifier verifier = FlowVerifier.standard();
    private VerdictListener listener = new VerdictListener() {};
    private Duration completionGrace = DEFAULT_COMPLETION_GRACE;
    private Duration amendWindow = DEFAULT_AMEND_WINDOW;
    private io.flowtrace.verifier.spec.SpanCompleteness spans;
    private int finalizedKeys = DEFAULT_FINALIZED_KEYS;
    private int verificationThreads;
    private int maxOpenInstances = DEFAULT_MAX_OPEN_INSTANCES;
    private int maxEventsPerInstance = DEFAULT_MAX_EVENTS_PER_INSTANCE;
    private int maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES;
    private long maxRetainedEvents = DEFAULT_MAX_RETAINED_EVENTS;
    private java.util.function.LongConsumer decisionLatency;
    private boolean expectSpans;
    private boolean midFlowStart;
    private long restartedAt = Long.MIN_VALUE;

    private Builder(List<FlowSpec> flows) {
      this.flows = List.copyOf(requireNonNull(flows, "flows"));
      Set<String> names = new HashSet<>();
      for (FlowSpec f : flows) {
        if (!names.add(f.name())) {
          throw new IllegalArgumentException("flow '" + f.name() + "' given twice");
        }
      }
    }

    /** The checks to run. Defaults to {@link FlowVerifier#standard()}. */
    public Builder verifier(FlowVerifier verifier) {
      this.verifier = requireNonNull(verifier, "verifier");
      return this;
    }

    /** Where verdicts go. Defaults to nowhere. */
    public Builder listener(VerdictListener listener) {
      this.listener = requireNonNull(listener, "listener");
      return this;
    }

    /** How long after the terminal stage to wait for stragglers before deciding anyway. Defaults to 2 s. */
    public Builder completionGrace(Duration grace) {
      requireNonNull(grace, "grace");
      if (grace.isNegative()) {
        throw new IllegalArgumentException("completionGrace must not be negative: " + grace);
      }
      this.completionGrace = grace;
      return this;
    }

    /**
     * How long a decided verdict stays open to amendment by late events. Defaults to 30 s. An event
     * for an instance whose window closed is reported to {@link VerdictListener#late}, not dropped
     * silently.
     */
    public Builder amendWindow(Duration window) {
      requireNonNull(window, "window");
      if (window.isNegative()) {
        throw new IllegalArgumentException("amendWindow must not be negative: " + window);
      }
      this.amendWindow = window;
      return this;
    }

    /**
     * Keeps every decided verdict open to amendment until {@link FlowEngine#finish()}: a late event
     * amends its instance however late it is. Replay uses this, so that its verdicts are a function
     * of the recording's events alone, not of how far apart they are or how the recording is cut;
     * decided instances are then held until the end — or, given a {@link Lookahead}, until no event
     * still to come can reach them.
     */
    public Builder amendUntilEnd() {
      this.amendWindow = null;
      return this;
    }

    /**
     * Overrides every flow's {@code spans} setting (e.g. {@code MAY_BE_MISSING} for a pipeline that
     * tail-samples). Defaults to each flow's own.
     */
    public Builder spans(io.flowtrace.verifier.spec.SpanCompleteness completeness) {
      this.spans = requireNonNull(completeness, "completeness");
      return this;
    }

    /**
     * Says the input carries spans (an OTLP receiver, a spans topic), so that until the first one
     * arrives an instance whose records name a sampled trace waits for them — past the completion
     * grace, up to a grace past its deadline — rather than being judged on its records alone: started
     * on live traffic, an engine reads records seconds before an exporter's first batch of their
     * spans. Spans that never come cost latency (verdicts a grace after the deadline), not a wrong
     * verdict. Defaults to {@code false}: an input without spans is judged on its records at once.
     */
    /**
     * The input may begin in the middle of traffic (a capture started while flows were running, a
     * sidecar started on a live system): an instance whose entry was not seen and whose first event
     * came within a deadline of the input's first is not judged on what may have come before the
     * input — its verdict is {@code INCOMPLETE}, what its checks found listed as not verified. An
     * engine fed a test's own traffic from its start leaves this off.
     */
    public Builder inputMayBeginMidFlow() {
      this.midFlowStart = true;
      return this;
    }

    /**
     * Whether spans will come (an OTLP receiver, a spans topic, a test's exporter): until the first
     * arrives, an instance whose records say their trace is sampled waits for its spans (up to its
     * deadline) rather than being judged on its records alone, since an exporter's first batch is
     * typically seconds behind the records it traced. Off by default (a recording of records alone).
     */
    public Builder expectSpans(boolean expect) {
      this.expectSpans = expect;
      return this;
    }

    /**
     * When this run started, for an engine whose spans come over OTLP and whose records are read
     * again after a restart (from its committed offsets) or after downtime: spans exported before
     * it went to the earlier run, or to nobody. A sampled record stamped before it counts as
     * unsampled: the engine does not wait for its trace's spans, and what they would show is not
     * verified rather than missing; those that still come (an exporter's batch sent after the
     * start) are used. Defaults to none.
     */
    public Builder restartedAt(java.time.Instant start) {
      this.restartedAt = epochNanos(start);
      return this;
    }

    /** How many finalized instance keys to remember (very late events for them are dropped, counted). Defaults to 100,000. */
    public Builder finalizedKeys(int count) {
      if (count < 0) {
        throw new IllegalArgumentException("finalizedKeys must not be negative: " + count);
      }
      this.finalizedKeys = count;
      return this;
    }

    /**
     * Threads that run the checks of decided instances (they are pure, so they parallelise);
     * verdicts are still delivered to the listener on the feeding thread, in decision order.
     * Defaults to 0: checks run on the feeding thread. {@link #finish()} stops the threads.
     */
    public Builder verificationThreads(int threads) {
      if (threads < 0) {
        throw new IllegalArgumentException("verificationThreads must not be negative: " + threads);
      }
      this.verificationThreads = threads;
      return this;
    }

    /**
     * Cap on events held: those of open instances, the events of decided instances kept open to
     * amendment and the spans kept in the correlation index (eight of those count as one event: they
     * hold no payload). Only the amendment windows can be cut for it. Past it, the amendment windows that
     * opened first end at once (counted in {@link EngineStats#amendWindowsCut()}; an event that
     * comes for such an instance later is reported late) and the index keeps only what decisions
     * need, so memory follows the cap rather than the input rate. Defaults to no cap.
     */
    public Builder maxRetainedEvents(long max) {
      if (max <= 0) {
        throw new IllegalArgumentException("maxRetainedEvents must be positive, got " + max);
      }
      this.maxRetainedEvents = max;
      return this;
    }

    /**
     * Most instances in flight (open, all flows together). When one more would open, the oldest is
     * decided now, {@code INCOMPLETE} with the reason, and counted in {@link EngineStats#instancesEvicted()}.
     * Defaults to {@value #DEFAULT_MAX_OPEN_INSTANCES}.
     */
    public Builder maxOpenInstances(int max) {
      this.maxOpenInstances = positive(max, "maxOpenInstances");
      return this;
    }

    /**
     * Most events (spans and records) kept per instance. Past it the instance is decided now,
     * {@code INCOMPLETE} with the reason, and its further events are dropped (counted in
     * {@link EngineStats#eventsDropped()}). Defaults to {@value #DEFAULT_MAX_EVENTS_PER_INSTANCE}.
     */
    public Builder maxEventsPerInstance(int max) {
      this.maxEventsPerInstance = positive(max, "maxEventsPerInstance");
      return this;
    }

    /**
     * Largest payload decoded (record value or span payload attribute, in bytes). A larger one is
     * not decoded; its instance is decided {@code INCOMPLETE} with the reason (counted in
     * {@link EngineStats#payloadsTooLarge()}). Defaults to 1 MiB.
     */
    public Builder maxPayloadBytes(int max) {
      this.maxPayloadBytes = positive(max, "maxPayloadBytes");
      return this;
    }

    /**
     * Receives, in nanoseconds, how long after the last event its instance received the verdict of
     * each data-driven decision was delivered to the listener — with verification threads, once its
     * checks ran (needs {@link FlowEngine#arrival(long)}). Called on the feeding thread.
     */
    public Builder decisionLatency(java.util.function.LongConsumer observer) {
      this.decisionLatency = requireNonNull(observer, "observer");
      return this;
    }

    private static int positive(int value, String name) {
      if (value <= 0) {
        throw new IllegalArgumentException(name + " must be positive: " + value);
      }
      return value;
    }

    public FlowEngine build() {
      return new FlowEngine(this);
    }
  }

  /** Counters of what the engine saw and did. */
  public static final class EngineStats {
    long spans;
    long spansIgnored;
    long records;
    long recordsIgnored;
    long observations;
    long instancesOpened;
    long verdictsDecided;
    long verdictsAmended;
    long verdictsFinal;
    long lateDropped;
    long keyConflicts;
    long keyReuses;
    String keyReuseExample;
    long snapshots;
    long verifications;
    long openInstances;
    long decidedInFlight;
    long indexedSpans;
    long instancesEvicted;
    long eventsDropped;
    long payloadsTooLarge;
    long eventsUnplaced;
    long instancesDiscarded;
    long instancesReverified;
    long amendWindowsCut;
    long retainedEvents;
    final java.util.Set<String> eventsSeen = java.util.concurrent.ConcurrentHashMap.newKeySet();

    public long spans() { return spans; }
    /** The declared events that matched a span or record, as {@code flow|event}. */
    public java.util.Set<String> eventsSeen() { return java.util.Collections.unmodifiableSet(eventsSeen); }
    public long spansIgnored() { return spansIgnored; }
    public long records() { return records; }
    public long recordsIgnored() { return recordsIgnored; }
    public long observations() { return observations; }
    public long instancesOpened() { return instancesOpened; }
    public long verdictsDecided() { return verdictsDecided; }
    public long verdictsAmended() { return verdictsAmended; }
    public long verdictsFinal() { return verdictsFinal; }
    public long lateDropped() { return lateDropped; }
    public long keyConflicts() { return keyConflicts; }
    /**
     * Events joined to the instance of their own trace although a key value they carried named
     * another instance, of other traces and other keys: a key value reused by a later instance.
     */
    public long keyReuses() { return keyReuses; }
    /** The first such event's key and the two instances it named, in words ({@code null}: none). */
    public String keyReuseExample() { return keyReuseExample; }
    /** Instance snapshots assembled (to test completeness or to verify). */
    public long snapshots() { return snapshots; }
    /** Times the checks ran (first decisions and re-verifications). */
    public long verifications() { return verifications; }
    public long openInstances() { return openInstances; }
    public long decidedInFlight() { return decidedInFlight; }
    public long indexedSpans() { return indexedSpans; }
    /** Instances decided {@code INCOMPLETE} early because too many were in flight. */
    public long instancesEvicted() { return instancesEvicted; }
    /** Events dropped because their instance had reached the per-instance cap. */
    public long eventsDropped() { return eventsDropped; }
    /** Payloads not decoded because they were larger than the cap. */
    public long payloadsTooLarge() { return payloadsTooLarge; }
    /**
     * Spans and records of a flow placed in no instance: no key value to place them by and no trace
     * context, or a trace that no instance had by the time they had waited for one long enough. One
     * that another flow placed (a record of a topic two flows share) is not counted.
     */
    public long eventsUnplaced() { return eventsUnplaced; }
    /** Open instances dropped without a verdict because their source moved to another engine. */
    public long instancesDiscarded() { return instancesDiscarded; }
    /** Instances decided by an earlier owner and read again from their first event, verified again. */
    public long instancesReverified() { return instancesReverified; }
    /** Verdicts made final before their amendment window ended, to stay under {@link Builder#maxRetainedEvents}. */
    public long amendWindowsCut() { return amendWindowsCut; }
    /** Events held, as counted against {@link Builder#maxRetainedEvents} (without a cap: amendable events and the index's spans by weight). */
    public long retainedEvents() { return retainedEvents; }
  }
}
