package io.flowtrace.tracer.tap;

import static java.util.Objects.requireNonNull;

import java.io.Closeable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.NoOffsetForPartitionException;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one poll loop of a Kafka reader: it polls, hands each partition's records to a {@link
 * Handler}, and does everything around that the same way for every reader — the {@link KafkaTap},
 * the {@link OtlpSpansTopicSource} and the sidecar's Kafka input.
 *
 * <ul>
 *   <li><b>Topics</b>: subscribes through a {@link TopicSubscription}, so a missing topic is said
 *       once and read once it appears (from its beginning when the start is {@code LATEST}).
 *   <li><b>Positions</b>: a partition assigned for the first time starts at the group's committed
 *       offset ({@link Builder#resumeFromCommitted}) or the {@link StartPosition}; one assigned again
 *       resumes where this reader left it ({@link Builder#rememberPositions}) or, when not, where the
 *       group committed. Positions are resolved in the rebalance callback, so "assigned" means
 *       "positioned". With {@link Builder#pinStartOffsets} the start of a partition the group has not
 *       committed is committed at once, so a crash before the first real commit resumes there.
 *   <li><b>Topics that change</b>: a partition created after the reader started (added to a topic,
 *       or of a topic that appeared) starts at its beginning when the start is {@code LATEST}, and
 *       so does one this reader owned before whose committed offset is gone (its topic was deleted
 *       and created again). When the consumer's {@code auto.offset.reset} is {@code none}, a
 *       position outside the partition's log — past its end (the topic was created again, or the log
 *       truncated) or before its start (records deleted before they were read) — restarts the
 *       partition at its beginning and is told to {@link Handler#restarted}; a partition left
 *       without a position is positioned again as a fresh one.
 *   <li><b>Back-pressure</b>: when the handler refuses a partition's records ({@link
 *       Handler#offer} returns {@code false}) they are kept, the partition is paused and its records
 *       offered again after each later poll; it is resumed once they are taken. Polling goes on
 *       meanwhile, so the reader stays in its group and other partitions are read. Memory is bounded
 *       by one poll per partition.
 *   <li><b>Unreadable records</b> (a corrupt batch, a failed deserialization): the consumer is moved
 *       past the record, which is counted and told to {@link Handler#skipped} (which logs it once with
 *       its {@code topic[partition]@offset}); the stream never stops (see {@link UnreadableRecords}).
 *   <li><b>Client errors</b> (broker unavailable, authorization): counted, logged once per distinct
 *       error, retried after {@value #ERROR_BACKOFF_MILLIS} ms.
 *   <li><b>Commits</b>: only what the caller hands to {@link #commit(Map)} — the offsets it has
 *       processed — and only for partitions this reader owns at that moment (another member's
 *       progress is never overwritten). Per partition the highest offset wins; a failed commit is
 *       counted, logged and tried again. Never auto-committed.
 *   <li><b>Rebalances</b>: before partitions are revoked, the offsets asked for are committed; then
 *       records of those partitions not yet taken by the handler are dropped (the new owner reads
 *       them from the committed offset) and the handler is told ({@link Handler#revoked}). Lost
 *       partitions are dropped the same way, without the commit.
 *   <li><b>Stopping</b>: {@link #stopPolling()} wakes a poll in progress; {@link #close(Map)} waits
 *       for the loop, makes the last commit and closes the consumer. Idempotent.
 * </ul>
 *
 * <p>Run it on a thread of its own ({@link #start(String)}) or drive it from the caller's thread
 * ({@link #pollOnce(Duration)}); the consumer is only ever used under one lock.
 */
public final class PartitionedConsumer implements Closeable {

  /** Pause after a failed poll before the next one: {@value} ms. */
  public static final long ERROR_BACKOFF_MILLIS = 500;
  /**
   * Longest wait of one commit: 5 s. A commit of a partition whose topic was just deleted is
   * retried by kafka-clients until {@code default.api.timeout.ms} (60 s) passes; the loop would not
   * poll meanwhile. A commit that times out is tried again at the next round.
   */
  public static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(5);
  /**
   * Polls that may fail in a row with an error that is not the broker's (a kafka-clients bug) before
   * the loop stops: {@value}, half a second apart. Its sticky assignor, for one, throws {@code
   * IllegalStateException} when a topic is deleted and made again during a rebalance; the group is
   * joined again at the next poll, which then succeeds.
   */
  public static final int CLIENT_FAILURES_BEFORE_STOPPING = 10;
  /** How long without a broker connection before it is reported as unreachable: 3 s. */
  public static final long UNREACHABLE_AFTER_MILLIS = 3_000;

  private static final Logger LOG = LoggerFactory.getLogger(PartitionedConsumer.class);

  /** What a reader does with its records; every method is called on the polling thread. */
  public interface Handler {
    /**
     * Offers the next records of one partition, in offset order. Returns {@code true} when they
     * were taken, {@code false} when there is no room now: the partition is paused and the same
     * records are offered again after a later poll (unless the partition is revoked meanwhile).
     * May wait a little for room; should not block for long (the reader would leave its group).
     * If it throws, the records are logged and counted as skipped, and the loop goes on.
     */
    boolean offer(TopicPartition partition, List<ConsumerRecord<byte[], byte[]>> records);

    /**
     * A record could not be read; the consumer was moved past it and it was counted in {@link
     * PartitionedConsumer#skipped()}. Say it in the reader's own words, naming {@link
     * UnreadableRecords.Skip#coordinates()}; by default logged as a WARN of this class.
     */
    default void skipped(UnreadableRecords.Skip skip) {
      LoggerFactory.getLogger(PartitionedConsumer.class).warn("skipped {}: {}", skip.coordinates(), skip.reason());
    }

    /** These partitions were assigned and positioned; told before {@link PartitionedConsumer#ready()} and {@link PartitionedConsumer#assignment()} include them. */
    default void assigned(Collection<TopicPartition> partitions) {}

    /** These partitions were revoked or lost; records of them not yet taken were dropped. */
    default void revoked(Collection<TopicPartition> partitions) {}

    /** One round (commit, poll, hand-over) is done. */
    default void polled() {}

    /**
     * The position in {@code partition} was outside its log ({@code logStart..logEnd}): past its
     * end, the topic was deleted and created again or its log truncated; before its start, records
     * were deleted before they were read. It is read again from {@code logStart}. By default a WARN
     * of this class.
     */
    default void restarted(TopicPartition partition, long position, long logStart, long logEnd) {
      LoggerFactory.getLogger(PartitionedConsumer.class).warn("{}[{}]: position {} is outside the log {}..{};"
          + " reading it from its beginning", partition.topic(), partition.partition(), position, logStart, logEnd);
    }
  }

  private final Consumer<byte[], byte[]> consumer;
  private final String name;
  private final Handler handler;
  private final TopicSubscription subscription;
  private final StartPosition startPosition;
  private final boolean resumeFromCommitted;
  private final boolean rememberPositions;
  private final boolean pinStartOffsets;
  private final Duration pollTimeout;
  private final Duration closeTimeout;

  /** Held while the consumer is in use. */
  private final ReentrantLock lock = new ReentrantLock();
  private final AtomicBoolean closing = new AtomicBoolean();
  private final AtomicLong skipped = new AtomicLong();
  private final AtomicLong errors = new AtomicLong();
  private final AtomicLong commits = new AtomicLong();
  private final AtomicLong commitFailures = new AtomicLong();
  private final AtomicLong refusals = new AtomicLong();
  /** Offsets asked to be committed, highest per partition; guarded by itself. */
  private final Map<TopicPartition, OffsetAndMetadata> toCommit = new HashMap<>();
  /** Partitions owned and positioned; guarded by itself. */
  private final Set<TopicPartition> owned = new HashSet<>();
  /** Where each partition owned was positioned when it was assigned; any thread. */
  private final Map<TopicPartition, Long> started = new java.util.concurrent.ConcurrentHashMap<>();
  // Polling thread only:
  private final Map<TopicPartition, Long> positions = new HashMap<>();
  /** Partitions this reader has owned at some time. */
  private final Set<TopicPartition> ownedBefore = new HashSet<>();
  private final Map<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> refused = new LinkedHashMap<>();
  private final Set<TopicPartition> paused = new HashSet<>();
  private String lastError;
  private String lastCommitError;

  private volatile Thread thread;
  private volatile boolean stopped;
  private volatile Throwable failure;
  private int clientFailuresInARow;
  private volatile boolean assignedOnce;
  private volatile boolean closeWhenStopped;
  private volatile long lastPollMillis = System.currentTimeMillis();
  private volatile long unreachableSinceMillis = System.currentTimeMillis();
  private boolean unreachableLogged;
  private Metric connectionCount;
  private Metric fetchTotal;
  private double fetchesSeen;
  private volatile long lastFetchMillis = System.currentTimeMillis();
  private boolean consumerClosed;

  private PartitionedConsumer(Builder b) {
    this.consumer = b.consumer;
    this.name = b.name;
    this.handler = b.handler;
    this.startPosition = b.startPosition;
    this.resumeFromCommitted = b.resumeFromCommitted;
    this.rememberPositions = b.rememberPositions;
    this.pinStartOffsets = b.pinStartOffsets;
    this.pollTimeout = b.pollTimeout;
    this.closeTimeout = b.closeTimeout;
    TopicSubscription.Listener said = b.topicListener;
    this.subscription = new TopicSubscription(b.topics, new Rebalance(), new TopicSubscription.Listener() {
      @Override
      public void missing(String topic) {
        said.missing(topic);
      }

      @Override
      public void appeared(String topic) {
        said.appeared(topic);
      }

      @Override
      public void listFailed(String error) {
        errors.incrementAndGet();
        said.listFailed(error);
      }
    }, b.topicCheckInterval);
  }

  /**
   * A builder for a loop over {@code consumer} (which it owns from now on: it subscribes, commits and
   * closes it) reading {@code topics} into {@code handler}.
   */
  public static Builder builder(Consumer<byte[], byte[]> consumer, Collection<String> topics, Handler handler) {
    return new Builder(consumer, topics, handler);
  }

  /**
   * Sets the cooperative sticky assignor in {@code properties} unless one is set or the group
   * protocol is {@code consumer} (incremental anyway, and refusing the setting): a topic that
   * appears, or a member that joins, then adds partitions without first revoking the others, whose
   * uncommitted tail would otherwise be read again.
   */
  public static void preferCooperativeRebalancing(Map<String, Object> properties) {
    Object protocol = properties.getOrDefault(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
    if ("classic".equalsIgnoreCase(String.valueOf(protocol))) {
      properties.putIfAbsent(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
          CooperativeStickyAssignor.class.getName());
    }
  }

  // ---------------------------------------------------------------------------------------------
  // State, for any thread

  /** The name the loop logs under. */
  public String name() {
    return name;
  }

  /** The topics that do not exist, as last listed (each is read once it appears). */
  public Set<String> missingTopics() {
    return subscription.missing();
  }

  /** Whether any partition is owned now. */
  public boolean ownsAny() {
    synchronized (owned) {
      return !owned.isEmpty();
    }
  }

  /** The partitions owned and positioned now. */
  public Set<TopicPartition> assignment() {
    synchronized (owned) {
      return Set.copyOf(owned);
    }
  }

  /**
   * Waits until the partitions owned satisfy {@code covered}; {@code false} when that did not
   * happen within {@code timeout} or the loop stopped.
   */
  public boolean awaitAssignment(Predicate<Set<TopicPartition>> covered, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + requireNonNull(timeout, "timeout").toNanos();
    synchronized (owned) {
      while (!covered.test(owned)) {
        long left = deadline - System.nanoTime();
        if (left <= 0 || stopped || closing.get()) {
          return false;
        }
        // Also woken by time: what the predicate reads besides the partitions (a topic listing) may change.
        owned.wait(Math.max(1, Math.min(100, TimeUnit.NANOSECONDS.toMillis(left))));
      }
      return true;
    }
  }

  /**
   * Whether partitions were assigned at least once (or the topics were listed and none exists yet:
   * nothing to wait for) and the loop has not stopped.
   */
  public boolean ready() {
    return assignedOnce && !stopped;
  }

  /** Whether the loop's own thread runs (always {@code false} when driven by {@link #pollOnce}). */
  public boolean isRunning() {
    Thread t = thread;
    return t != null && t.isAlive() && !stopped && !closing.get();
  }

  /**
   * What stopped the loop's thread when it was not asked to stop (an error of kafka-clients that
   * went on past {@link #CLIENT_FAILURES_BEFORE_STOPPING} polls, or of the handler), else {@code null}.
   */
  public Throwable failure() {
    return failure;
  }

  /** Whether it has stopped polling (asked to, or its thread ended). */
  public boolean stopped() {
    return stopped || closing.get();
  }

  /** When the last poll returned, in epoch milliseconds. */
  public long lastPollMillis() {
    return lastPollMillis;
  }

  /**
   * How long no broker has been connected, in milliseconds: 0 while the consumer holds a
   * connection. It counts from the start until the first connection, and from the moment the last
   * connection dropped during an outage; the loop keeps retrying meanwhile, as kafka-clients does.
   */
  public long unreachableForMillis() {
    long since = unreachableSinceMillis;
    return since < 0 ? 0 : Math.max(1, System.currentTimeMillis() - since);
  }

  /**
   * When the last fetch response arrived, in epoch milliseconds. A connected consumer with
   * partitions to read gets one at least every {@code fetch.max.wait.ms}; an older one means the
   * lag it reports is stale (the broker is unreachable, or was until a moment ago).
   */
  public long lastFetchMillis() {
    return lastFetchMillis;
  }

  /** Records skipped so far because they could not be read. */
  public long skipped() {
    return skipped.get();
  }

  /** Client errors seen so far (polls that failed, listings of the topics that failed). */
  public long errors() {
    return errors.get();
  }

  /** Commits made so far (each of all offsets pending then). */
  public long commits() {
    return commits.get();
  }

  /** Commits that failed so far (each tried again). */
  public long commitFailures() {
    return commitFailures.get();
  }

  /** How many times the handler refused records (had no room): back-pressure. */
  public long refusals() {
    return refusals.get();
  }

  /**
   * Asks the loop to commit these offsets (the offset of the <em>next</em> record to read, as
   * Kafka's {@code commitSync}). Thread-safe and non-blocking: the polling thread commits them before
   * its next poll, before partitions are revoked, and on close. Per partition the highest offset
   * wins; offsets of partitions not owned when the commit is made are dropped.
   */
  public void commit(Map<TopicPartition, OffsetAndMetadata> offsets) {
    Map<TopicPartition, OffsetAndMetadata> checked = ConsumerSupport.checkOffsets(offsets);
    synchronized (toCommit) {
      checked.forEach((tp, at) -> toCommit.merge(tp, at, PartitionedConsumer::higher));
    }
  }

  /**
   * The records left after the position of {@code partition}, as the consumer last learned. Call on
   * the polling thread only (from the handler).
   */
  /**
   * The offset a partition owned now was positioned at when it was assigned (or moved to its
   * beginning, its log having been deleted or truncated under it) — what reading it started from —
   * or -1 when it is not owned (or could not be positioned yet). Any thread.
   */
  public long startOffset(TopicPartition partition) {
    return started.getOrDefault(partition, -1L);
  }

  /**
   * Whether records of the partition were polled and not handed over yet: refused before, or of the
   * poll being handed over now and not offered yet (poll thread only, as from a {@link Handler}).
   */
  public boolean holdsRecordsOf(TopicPartition partition) {
    return refused.containsKey(partition);
  }

  public OptionalLong currentLag(TopicPartition partition) {
    return consumer.currentLag(partition);
  }

  // ---------------------------------------------------------------------------------------------
  // Running

  /** Starts a daemon thread named {@code threadName} that polls until stopped. Returns this. */
  public synchronized PartitionedConsumer start(String threadName) {
    if (thread != null) {
      throw new IllegalStateException(name + " is already running");
    }
    Thread t = new Thread(this::run, requireNonNull(threadName, "threadName"));
    t.setDaemon(true);
    thread = t;
    t.start();
    return this;
  }

  private void run() {
    try {
      while (!closing.get() && !Thread.currentThread().isInterrupted()) {
        pollOnce(pollTimeout);
      }
    } catch (RuntimeException | Error e) {
      failure = e;
      LOG.error("{} stopped: {}", name, e.toString(), e);
    } finally {
      stopped = true;
      if (closeWhenStopped) {
        closeConsumer(Map.of());
      }
      synchronized (owned) {
        owned.notifyAll();
      }
    }
  }

  /**
   * One round on the calling thread: commits what was asked for, polls (waiting at most {@code
   * timeout}), and hands what it read, and what was refused before, to the handler. Never throws
   * for an unreadable record or a client error (they are logged, counted, and skipped or retried).
   *
   * @return {@code false} once stopped or closed
   */
  public boolean pollOnce(Duration timeout) {
    if (closing.get()) {
      return false;
    }
    lock.lock();
    try {
      if (consumerClosed) {
        return false;
      }
      round(timeout);
      return !closing.get();
    } finally {
      lock.unlock();
    }
  }

  /** Reads the consumer's own connection count (on the polling thread: metrics are not thread-safe). */
  private void noteReachability(long now) {
    if (connectionCount == null) {
      connectionCount = consumer.metrics().entrySet().stream()
          .filter(e -> e.getKey().name().equals("connection-count") && e.getKey().group().equals("consumer-metrics"))
          .map(Map.Entry::getValue).findFirst().orElse(null);
      if (connectionCount == null) {
        unreachableSinceMillis = -1; // a consumer without the metric (a test double): assume reachable
        lastFetchMillis = now;
        return;
      }
    }
    if (fetchTotal == null) {
      fetchTotal = consumer.metrics().entrySet().stream()
          .filter(e -> e.getKey().name().equals("fetch-total") && e.getKey().group().equals("consumer-fetch-manager-metrics")
              && e.getKey().tags().keySet().equals(java.util.Set.of("client-id")))
          .map(Map.Entry::getValue).findFirst().orElse(null);
    }
    if (fetchTotal != null && fetchTotal.metricValue() instanceof Number fetches && fetches.doubleValue() > fetchesSeen) {
      fetchesSeen = fetches.doubleValue();
      lastFetchMillis = now;
    }
    Object value = connectionCount.metricValue();
    boolean connected = value instanceof Number n && n.doubleValue() > 0;
    if (connected) {
      if (unreachableLogged) {
        LOG.info("{}: Kafka reachable again after {} ms", name, now - unreachableSinceMillis);
      }
      unreachableSinceMillis = -1;
      unreachableLogged = false;
    } else if (unreachableSinceMillis < 0) {
      unreachableSinceMillis = now;
    } else if (!unreachableLogged && now - unreachableSinceMillis >= UNREACHABLE_AFTER_MILLIS) {
      LOG.warn("{}: no Kafka broker connected for {} ms; retrying", name, now - unreachableSinceMillis);
      unreachableLogged = true;
    }
  }

  private void round(Duration timeout) {
    ConsumerRecords<byte[], byte[]> polled;
    try {
      commitPending();
      polled = subscription.poll(consumer, timeout);
      lastPollMillis = System.currentTimeMillis();
      noteReachability(lastPollMillis);
      lastError = null;
      clientFailuresInARow = 0;
      if (subscription.listed() && subscription.subscribed().isEmpty()) {
        assignedOnce = true; // nothing to be assigned until a topic appears
      }
    } catch (WakeupException e) {
      return; // stopPolling() woke us
    } catch (InterruptException e) {
      Thread.currentThread().interrupt();
      return;
    } catch (OffsetOutOfRangeException e) { // auto.offset.reset=none; also a LogTruncationException
      restart(e.offsetOutOfRangePartitions());
      return;
    } catch (NoOffsetForPartitionException e) { // auto.offset.reset=none, and positioning had failed
      positionAgain(e.partitions());
      return;
    } catch (KafkaException e) {
      Optional<UnreadableRecords.Skip> unreadable = UnreadableRecords.skipPast(consumer, e);
      if (unreadable.isPresent()) {
        UnreadableRecords.Skip skip = unreadable.get();
        skipped.incrementAndGet();
        positions.put(skip.partition(), skip.resumeAt());
        handler.skipped(skip);
        return;
      }
      errors.incrementAndGet();
      String text = e.toString();
      if (!text.equals(lastError)) {
        LOG.warn("{}: poll failed, retrying: {}", name, text);
        lastError = text;
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(ERROR_BACKOFF_MILLIS));
      return;
    } catch (RuntimeException e) {
      if (++clientFailuresInARow > CLIENT_FAILURES_BEFORE_STOPPING) {
        throw e;
      }
      errors.incrementAndGet();
      String message = "{}: poll failed inside kafka-clients ({} of {} in a row before stopping), retrying: {}";
      if (clientFailuresInARow == 1) {
        LOG.warn(message, name, clientFailuresInARow, CLIENT_FAILURES_BEFORE_STOPPING, e.toString(), e);
      } else { // the stack trace once a run
        LOG.warn(message, name, clientFailuresInARow, CLIENT_FAILURES_BEFORE_STOPPING, e.toString());
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(ERROR_BACKOFF_MILLIS));
      return;
    }
    for (TopicPartition tp : polled.partitions()) {
      List<ConsumerRecord<byte[], byte[]>> records = polled.records(tp);
      positions.put(tp, records.get(records.size() - 1).offset() + 1);
      refused.computeIfAbsent(tp, t -> new ArrayList<>()).addAll(records);
    }
    handOver();
    handler.polled();
  }

  /** Moves partitions whose position is outside their log to their beginning. */
  private void restart(Map<TopicPartition, Long> outside) {
    List<TopicPartition> owned = outside.keySet().stream().filter(consumer.assignment()::contains).toList();
    if (owned.isEmpty()) {
      return;
    }
    try {
      Map<TopicPartition, Long> starts = consumer.beginningOffsets(owned);
      Map<TopicPartition, Long> ends = consumer.endOffsets(owned);
      for (TopicPartition tp : owned) {
        long start = starts.getOrDefault(tp, 0L);
        consumer.seek(tp, start);
        positions.put(tp, start);
        started.put(tp, start);
        handler.restarted(tp, outside.get(tp), start, ends.getOrDefault(tp, -1L));
      }
    } catch (KafkaException e) {
      retryLater("could not find where " + owned + " start", e);
    }
  }

  /** Positions partitions left without a position (positioning them when assigned failed). */
  private void positionAgain(Collection<TopicPartition> unpositioned) {
    List<TopicPartition> owned = unpositioned.stream().filter(consumer.assignment()::contains).toList();
    try {
      ConsumerSupport.position(consumer, owned, startPosition, resumeFromCommitted, this::writtenAfterStart);
      for (TopicPartition tp : owned) {
        positions.put(tp, consumer.position(tp));
        started.put(tp, positions.get(tp));
      }
      LOG.info("{}: positioned {}", name, owned);
    } catch (KafkaException e) {
      retryLater("positioning " + owned + " failed", e);
    }
  }

  /** A Kafka call of the poll thread failed: counted, logged, and tried again after a pause. */
  private void retryLater(String what, KafkaException e) {
    if (e instanceof WakeupException || e instanceof InterruptException) {
      throw e; // the loop is being stopped
    }
    errors.incrementAndGet();
    LOG.warn("{}: {}, retrying: {}", name, what, e.toString());
    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(ERROR_BACKOFF_MILLIS));
  }

  /**
   * Whether everything in a fresh partition was written after this reader started: it was created
   * since, or this reader owned it before and the group's committed offset it should resume from is
   * gone (its topic was deleted and created again).
   */
  private boolean writtenAfterStart(TopicPartition tp) {
    return subscription.createdAfterStart(tp) || resumeFromCommitted && ownedBefore.contains(tp);
  }

  /** Offers every partition's waiting records; pauses a partition whose records are refused. */
  private void handOver() {
    for (Iterator<Map.Entry<TopicPartition, List<ConsumerRecord<byte[], byte[]>>>> it = refused.entrySet().iterator();
        it.hasNext(); ) {
      Map.Entry<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> e = it.next();
      TopicPartition tp = e.getKey();
      if (offer(tp, e.getValue())) {
        it.remove();
        if (paused.remove(tp) && consumer.assignment().contains(tp)) {
          consumer.resume(List.of(tp));
        }
      } else {
        refusals.incrementAndGet();
        if (paused.add(tp)) {
          consumer.pause(List.of(tp));
        }
      }
      if (closing.get()) {
        return; // records not taken are neither handed over nor committed: read again after a restart
      }
    }
  }

  /** Offers records to the handler; when it throws they are logged, counted as skipped and taken. */
  private boolean offer(TopicPartition tp, List<ConsumerRecord<byte[], byte[]>> records) {
    try {
      return handler.offer(tp, List.copyOf(records));
    } catch (RuntimeException e) {
      skipped.addAndGet(records.size());
      LOG.warn("{} skipped {}[{}]@{}..{}: the handler failed: {}", name, tp.topic(), tp.partition(),
          records.get(0).offset(), records.get(records.size() - 1).offset(), e.toString(), e);
      return true;
    }
  }

  /** Commits the offsets asked for, of partitions owned; on failure they are tried again. */
  private void commitPending() {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    synchronized (toCommit) {
      synchronized (owned) {
        toCommit.forEach((tp, at) -> {
          if (owned.contains(tp)) {
            offsets.put(tp, at);
          }
        });
      }
      toCommit.clear();
    }
    if (offsets.isEmpty()) {
      return;
    }
    try {
      consumer.commitSync(offsets, COMMIT_TIMEOUT);
      commits.incrementAndGet();
      lastCommitError = null;
      LOG.debug("{} committed {}", name, offsets);
    } catch (WakeupException e) {
      putBack(offsets);
      throw e;
    } catch (KafkaException e) {
      commitFailures.incrementAndGet();
      putBack(offsets);
      String text = e.toString();
      if (!text.equals(lastCommitError)) {
        lastCommitError = text;
        LOG.warn("{} could not commit {}, trying again: {}", name, offsets, text);
      }
    }
  }

  private void putBack(Map<TopicPartition, OffsetAndMetadata> offsets) {
    synchronized (toCommit) {
      offsets.forEach((tp, at) -> toCommit.merge(tp, at, PartitionedConsumer::higher));
    }
  }

  /** A commit on a thread that may carry a wake-up from {@link #stopPolling()}: it is spent, then once more. */
  private void commitSpendingWakeup() {
    try {
      commitPending();
    } catch (WakeupException e) {
      try {
        commitPending();
      } catch (RuntimeException again) {
        LOG.warn("{}: a commit failed: {}", name, again.toString());
      }
    } catch (RuntimeException e) {
      LOG.warn("{}: a commit failed: {}", name, e.toString());
    }
  }

  private static OffsetAndMetadata higher(OffsetAndMetadata a, OffsetAndMetadata b) {
    return a.offset() >= b.offset() ? a : b;
  }

  // ---------------------------------------------------------------------------------------------
  // Stopping

  /** Stops polling: wakes a poll in progress; the consumer stays open until {@link #close(Map)}. */
  public void stopPolling() {
    closing.set(true);
    consumer.wakeup();
    synchronized (owned) {
      owned.notifyAll();
    }
  }

  /** Waits up to {@code timeout} for the loop's own thread to end; true when it has (or there is none). */
  public boolean awaitStopped(Duration timeout) {
    Thread t = thread;
    if (t == null || t == Thread.currentThread()) {
      return true;
    }
    try {
      t.join(Math.max(1, timeout.toMillis()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return !t.isAlive();
  }

  /**
   * Stops polling, waits for the loop (up to the close timeout), commits what was asked for and
   * {@code last}, and closes the consumer, leaving the group. Called from the handler, the loop does
   * this itself as it ends. When a poll does not end in time the consumer is left to its thread
   * (a consumer must not be used by two). Idempotent.
   */
  public void close(Map<TopicPartition, OffsetAndMetadata> last) {
    Map<TopicPartition, OffsetAndMetadata> checked = ConsumerSupport.checkOffsets(last);
    stopPolling();
    if (thread == Thread.currentThread()) {
      commit(checked);
      closeWhenStopped = true;
      return;
    }
    if (!awaitStopped(closeTimeout)) {
      LOG.warn("{} did not stop within {}", name, closeTimeout);
    }
    closeConsumer(checked);
  }

  /** {@link #close(Map)} with nothing more to commit. */
  @Override
  public void close() {
    close(Map.of());
  }

  private void closeConsumer(Map<TopicPartition, OffsetAndMetadata> last) {
    boolean locked;
    try {
      locked = lock.tryLock(closeTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      locked = false;
    }
    if (!locked) {
      LOG.warn("{}: a poll did not end within {}; its consumer is left open", name, closeTimeout);
      return;
    }
    try {
      if (consumerClosed) {
        return;
      }
      consumerClosed = true;
      commit(last);
      commitSpendingWakeup();
      try {
        consumer.close(Duration.ofSeconds(5));
      } catch (RuntimeException e) {
        LOG.debug("{}: closing the consumer failed", name, e);
      }
    } finally {
      lock.unlock();
      synchronized (owned) {
        owned.clear();
        owned.notifyAll();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** Positions what is assigned; commits and forgets what is revoked. Runs inside poll. */
  private final class Rebalance implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      if (partitions.isEmpty()) {
        return;
      }
      List<TopicPartition> fresh = new ArrayList<>();
      try {
        for (TopicPartition tp : partitions) {
          Long next = rememberPositions ? positions.get(tp) : null;
          if (next != null) {
            consumer.seek(tp, next);
          } else {
            fresh.add(tp);
          }
        }
        List<TopicPartition> uncommitted = ConsumerSupport.position(consumer, fresh, startPosition,
            resumeFromCommitted, PartitionedConsumer.this::writtenAfterStart);
        Map<TopicPartition, OffsetAndMetadata> pin = new HashMap<>();
        for (TopicPartition tp : partitions) {
          long at = consumer.position(tp); // resolves lazy seeks: "assigned" means "positioned"
          positions.put(tp, at);
          started.put(tp, at);
          if (uncommitted.contains(tp)) {
            pin.put(tp, new OffsetAndMetadata(at));
          }
        }
        if (pinStartOffsets && !pin.isEmpty()) {
          pin(pin);
        }
      } catch (WakeupException e) {
        consumer.wakeup(); // positions resolve on the next poll; the loop sees it is stopping
      } catch (KafkaException e) {
        LOG.warn("{}: positioning {} failed, they start as auto.offset.reset says (none: positioned again at the"
            + " next poll): {}", name, partitions, e.toString());
      }
      // The handler first: once the loop says it owns them (ready), whoever reads the handler's
      // state must find them there. Told afterwards, a sidecar started on a backlog saw "ready"
      // with no partition behind and ran its watermark to the wall clock: every instance of the
      // backlog was decided at its deadline as its first records came in.
      handler.assigned(partitions);
      synchronized (owned) {
        owned.addAll(partitions);
        owned.notifyAll();
      }
      ownedBefore.addAll(partitions);
      assignedOnce = true;
      LOG.debug("{} assigned {}", name, partitions);
    }

    /** Commits where an uncommitted partition starts, so a crash before the first commit resumes there. */
    private void pin(Map<TopicPartition, OffsetAndMetadata> pin) {
      try {
        consumer.commitSync(pin);
      } catch (WakeupException e) {
        consumer.commitSync(pin);
        consumer.wakeup();
      } catch (KafkaException e) {
        LOG.warn("{}: could not commit the start of {}; until the first commit, a crash restarts them from"
            + " auto.offset.reset: {}", name, pin.keySet(), e.toString());
      }
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      if (partitions.isEmpty()) {
        return;
      }
      commitSpendingWakeup(); // while they are still ours
      forget(partitions);
      LOG.debug("{} revoked {}", name, partitions);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      if (partitions.isEmpty()) {
        return;
      }
      forget(partitions);
      LOG.debug("{} lost {}", name, partitions);
    }

    private void forget(Collection<TopicPartition> partitions) {
      partitions.forEach(refused::remove);
      partitions.forEach(started::remove);
      paused.removeAll(partitions);
      if (!rememberPositions) {
        partitions.forEach(positions::remove);
      }
      synchronized (owned) {
        owned.removeAll(partitions);
      }
      synchronized (toCommit) {
        partitions.forEach(toCommit::remove);
      }
      handler.revoked(partitions);
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** Configures a {@link PartitionedConsumer}. */
  public static final class Builder {
    /** Default longest wait of one poll of the loop's own thread: 500 ms. */
    public static final Duration DEFAULT_POLL_TIMEOUT = Duration.ofMillis(500);
    /** Default wait of {@link PartitionedConsumer#close} for the loop: 10 s. */
    public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(10);

    private final Consumer<byte[], byte[]> consumer;
    private final List<String> topics;
    private final Handler handler;
    private String name = "Kafka reader";
    private StartPosition startPosition = StartPosition.LATEST;
    private boolean resumeFromCommitted;
    private boolean rememberPositions = true;
    private boolean pinStartOffsets;
    private Duration pollTimeout = DEFAULT_POLL_TIMEOUT;
    private Duration closeTimeout = DEFAULT_CLOSE_TIMEOUT;
    private Duration topicCheckInterval = TopicSubscription.DEFAULT_CHECK_INTERVAL;
    private TopicSubscription.Listener topicListener;

    private Builder(Consumer<byte[], byte[]> consumer, Collection<String> topics, Handler handler) {
      this.consumer = requireNonNull(consumer, "consumer");
      this.topics = List.copyOf(requireNonNull(topics, "topics"));
      if (this.topics.isEmpty()) {
        throw new IllegalArgumentException("topics must not be empty");
      }
      this.handler = requireNonNull(handler, "handler");
    }

    /** What the loop calls itself in log lines ("Kafka tap flowtrace-tap-1 skipped ..."). */
    public Builder name(String name) {
      this.name = requireNonNull(name, "name");
      return this;
    }

    /** Where a partition never read (and, with resumeFromCommitted, never committed) starts. Defaults to LATEST. */
    public Builder startPosition(StartPosition startPosition) {
      this.startPosition = requireNonNull(startPosition, "startPosition");
      return this;
    }

    /** Whether a partition the group committed resumes there. Defaults to {@code false}. */
    public Builder resumeFromCommitted(boolean resumeFromCommitted) {
      this.resumeFromCommitted = resumeFromCommitted;
      return this;
    }

    /**
     * Whether a partition assigned again resumes where this reader left it ({@code true}, the
     * default: a reader whose caller may not commit) or is positioned as a fresh one ({@code false}:
     * a group member whose revoked work was dropped and is read again from the committed offset).
     */
    public Builder rememberPositions(boolean rememberPositions) {
      this.rememberPositions = rememberPositions;
      return this;
    }

    /** Whether the start of a partition without a committed offset is committed when assigned. Defaults to {@code false}. */
    public Builder pinStartOffsets(boolean pinStartOffsets) {
      this.pinStartOffsets = pinStartOffsets;
      return this;
    }

    /** Longest wait of one poll of the loop's own thread. Defaults to 500 ms. */
    public Builder pollTimeout(Duration pollTimeout) {
      this.pollTimeout = ConsumerBuilder.positive(pollTimeout, "pollTimeout");
      return this;
    }

    /** How long closing waits for the loop. Defaults to 10 s. */
    public Builder closeTimeout(Duration closeTimeout) {
      this.closeTimeout = ConsumerBuilder.positive(closeTimeout, "closeTimeout");
      return this;
    }

    /** Time between two listings of the topics while one is missing. Defaults to 10 s. */
    public Builder topicCheckInterval(Duration topicCheckInterval) {
      this.topicCheckInterval = ConsumerBuilder.positive(topicCheckInterval, "topicCheckInterval");
      return this;
    }

    /** What the reader says about missing topics. Defaults to log lines under the loop's name. */
    public Builder topicListener(TopicSubscription.Listener topicListener) {
      this.topicListener = requireNonNull(topicListener, "topicListener");
      return this;
    }

    /** The loop; nothing is polled until {@link #start(String)} or {@link #pollOnce(Duration)}. */
    public PartitionedConsumer build() {
      if (topicListener == null) {
        String who = name;
        Duration every = topicCheckInterval;
        topicListener = new TopicSubscription.Listener() {
          @Override
          public void missing(String topic) {
            LOG.warn("{}: topic {} does not exist; it is read once it appears (checked every {})", who, topic, every);
          }

          @Override
          public void appeared(String topic) {
            LOG.info("{}: topic {} appeared; reading it", who, topic);
          }

          @Override
          public void listFailed(String error) {
            LOG.warn("{}: cannot list the cluster's topics, retrying every second: {}", who, error);
          }
        };
      }
      return new PartitionedConsumer(this);
    }
  }
}
