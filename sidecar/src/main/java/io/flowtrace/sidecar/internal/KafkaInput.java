package io.flowtrace.sidecar.internal;

import static java.util.Objects.requireNonNull;

import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.tap.KafkaTap;
import io.flowtrace.tracer.tap.OtlpSpansTopicSource;
import io.flowtrace.tracer.tap.PartitionedConsumer;
import io.flowtrace.tracer.tap.StartPosition;
import io.flowtrace.tracer.tap.TopicSubscription;
import io.flowtrace.tracer.tap.UnreadableRecords;
import java.io.Closeable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sidecar's Kafka input: one consumer, in the sidecar's own stable consumer group, reading the
 * flows' topics (records) and optionally the Collector's spans topic, on its own thread (the loop is
 * a {@link PartitionedConsumer}; this class turns records into the engine's {@link Batch}es). It hands
 * {@link Batch}es to the engine's inbox (blocking when it is full: lag grows, memory does not) and
 * commits only the offsets the engine thread says are safe ({@link #commit}). Offsets are never
 * auto-committed. A message that cannot be read is logged with {@code topic[partition]@offset},
 * counted and skipped.
 *
 * <p>A topic that does not exist is not subscribed (see {@link TopicSubscription}: subscribed, it
 * would make kafka-clients log a WARN for every metadata answer): the input reads the others, tells
 * its {@link Listener} once, checks every 10 s (system property {@value #TOPIC_CHECK_PROPERTY}, in
 * milliseconds) whether it appeared, and then reads it from its <em>earliest</em> offset (unless the group
 * has committed one), whatever {@code startFrom} says: every record in it was written after the input
 * started, and {@code latest} would lose those written before the input noticed the topic.
 *
 * <p>Topics that change while it runs: the consumer refreshes its metadata every {@link
 * #METADATA_MAX_AGE} (kafka-clients' default is 5 min), so partitions added to a topic are assigned
 * within about that time and read from their first offset (all of them was written after the input
 * started). Where a partition starts is decided by the input ({@code startFrom}, the committed
 * offset), never by the consumer's {@code auto.offset.reset}, which is {@code none}: a position
 * outside a partition's log — past its end because the topic was deleted and created again (it
 * starts again at offset 0) or its log truncated, or before its start because retention removed
 * records not read yet — is logged ({@code event=partition_restarted}) and the partition is read
 * from its beginning; so is a partition owned before whose committed offset went with its deleted
 * topic. {@code allow.auto.create.topics} is {@code false}: the input's metadata requests for a
 * deleted topic do not create it again on a cluster with {@code auto.create.topics.enable}.
 */
public final class KafkaInput implements Closeable {

  private static final Logger LOG = LoggerFactory.getLogger(KafkaInput.class);

  /** What the input reports about itself (thread-safe counters are the caller's); each report is ignored unless overridden. */
  public interface Listener {
    default void records(int count) {}

    default void spans(int count) {}

    default void dropped(String reason, long count) {}

    default void revoked(Collection<TopicPartition> partitions) {}

    /**
     * Partitions newly assigned, before any of their records is handed on (called on the input's
     * poll thread, inside the rebalance).
     */
    default void assigned(Collection<TopicPartition> partitions) {}

    /** {@code topic} does not exist (said once, at start); the input reads it once it appears. */
    default void topicMissing(String topic) {}

    /** {@code topic}, reported missing, exists now and is read from its earliest offset. */
    default void topicAppeared(String topic) {}
  }

  /**
   * The consumer's {@code metadata.max.age.ms} unless set: 10 s, so partitions added to a topic,
   * and a topic deleted or created again, are seen within 10 s (plus a rebalance).
   */
  public static final Duration METADATA_MAX_AGE = Duration.ofSeconds(10);

  /** System property: milliseconds between two checks whether a missing topic appeared (default 10000). */
  public static final String TOPIC_CHECK_PROPERTY = "flowtrace.topicCheckIntervalMillis";

  private final List<String> topics;
  private final String spansTopic;
  private final String codecTopic;
  private final OtlpSpansTopicSource.Encoding spansEncoding;
  private final BlockingQueue<Batch> inbox;
  private final Listener listener;
  /** Longer than {@code fetch.max.wait.ms} (500 ms) with room for a busy machine. */
  private static final long FETCH_SILENCE_MILLIS = 2_000;
  /** How long after fetches resume the watermark stays where the outage began: producers' retries. */
  public static final Duration RECOVERY_HOLD = Duration.ofSeconds(5);
  private long holdFromMillis = Long.MIN_VALUE;
  private long holdUntilMillis = Long.MAX_VALUE;
  private volatile long backlogSeenMillis = Long.MIN_VALUE;
  private final PartitionedConsumer loop;
  private final Map<TopicPartition, Long> lag = new ConcurrentHashMap<>();
  private final Map<TopicPartition, Progress> progress = new ConcurrentHashMap<>();
  /** Batches made from records the inbox had no room for yet (poll thread only). */
  private final Map<TopicPartition, Converted> waiting = new HashMap<>();
  private long lastLagMillis;
  private volatile java.util.function.LongSupplier handOverUpTo = () -> Long.MAX_VALUE;
  private volatile long maxHoldNanos = MAX_HOLD_NANOS;
  /**
   * Per partition, the event time it is read to: the earliest item of its batch waiting to be
   * taken, else the latest item of the last batch taken (poll thread only; see {@link #aheadOfBacklog}).
   */
  private final Map<TopicPartition, Long> eventTime = new HashMap<>();
  /**
   * Per partition, when (nanoTime) it was assigned or last brought new records (poll thread only): a
   * backlog waits for a partition behind it only while that one is heard from ({@link #MAX_HOLD_NANOS}).
   */
  private final Map<TopicPartition, Long> heardNanos = new HashMap<>();
  /**
   * How far (event time) a partition of a backlog may run ahead of the one furthest behind. A backlog is read in
   * event-time order across partitions, as a replay reads a recording, so its instances complete and are decided
   * as it is worked off: read as the consumer fetches, a sparse topic ran 180 s ahead of a dense one
   * ({@code KafkaInputIT}), and every instance stays open until the slowest topic reaches it.
   */
  static final long ALIGNMENT_NANOS = 5_000_000_000L;
  /** Items (spans and records) the engine's inbox may hold before the input waits: about a second of the engine's work. */
  static final int MAX_QUEUED_ITEMS = 32_768;
  /** The longest a backlog's batch waits for the other partitions ({@link #ALIGNMENT_NANOS}). */
  static final long MAX_HOLD_NANOS = 10_000_000_000L;

  /**
   * @param spansTopic topic of OTLP trace requests (the Collector's Kafka exporter), or {@code null}
   * @param codecTopic topic of items written by a {@link Router} ({@link io.flowtrace.tracer.spill.TelemetryCodec}), or {@code null}
   */
  public KafkaInput(Map<String, Object> properties, String groupId, String startFrom, Collection<String> topics,
      String spansTopic, String spansEncoding, String codecTopic, BlockingQueue<Batch> inbox, Listener listener) {
    Map<String, Object> p = new HashMap<>(properties);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, requireNonNull(groupId, "groupId"));
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none"); // positioned by the loop; outside the log: see restarted
    p.putIfAbsent(ConsumerConfig.METADATA_MAX_AGE_CONFIG, (int) METADATA_MAX_AGE.toMillis());
    p.putIfAbsent(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
    p.putIfAbsent(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "flowtrace-sidecar");
    p.putIfAbsent(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
    PartitionedConsumer.preferCooperativeRebalancing(p);
    this.topics = new ArrayList<>(topics);
    if (spansTopic != null) {
      this.topics.add(spansTopic);
    }
    this.spansTopic = spansTopic;
    this.codecTopic = codecTopic;
    this.spansEncoding = OtlpSpansTopicSource.Encoding.of(spansEncoding);
    this.inbox = inbox;
    this.listener = listener;
    this.loop = PartitionedConsumer.builder(
            new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer()), this.topics, new HandOver())
        .name("Kafka input " + groupId)
        // A partition without a committed offset starts as start-from says, pinned there by a commit; one
        // reassigned restarts at its committed offset (what was not handed over is dropped on revoke).
        .startPosition(StartPosition.parse(startFrom))
        .resumeFromCommitted(true)
        .rememberPositions(false)
        .pinStartOffsets(true)
        .pollTimeout(Duration.ofMillis(20))
        .closeTimeout(Duration.ofSeconds(15))
        .topicCheckInterval(Duration.ofMillis(Math.max(1,
            Long.getLong(TOPIC_CHECK_PROPERTY, TopicSubscription.DEFAULT_CHECK_INTERVAL.toMillis()))))
        .topicListener(new TopicListener())
        .build();
  }

  /**
   * Holds back records later (in event time) than {@code upTo} says: a batch whose latest record is
   * later waits, its partition paused (lag grows), until the limit passes it. Defaults to no limit.
   */
  public void handOverUpTo(java.util.function.LongSupplier upTo) {
    this.handOverUpTo = requireNonNull(upTo, "upTo");
  }

  /** How long a backlog's batch may wait for the other partitions; {@link #MAX_HOLD_NANOS} unless a test says otherwise. */
  void maxHold(java.time.Duration hold) {
    this.maxHoldNanos = hold.toNanos();
  }

  public void start() {
    loop.start("flowtrace-kafka-input");
  }

  /** Asks the poll thread to commit these next-offsets (per partition the highest asked for wins). */
  public void commit(Map<TopicPartition, Long> offsets) {
    loop.commit(toOffsets(offsets));
  }

  /**
   * Whether the input has listed its topics and had the partitions of those that exist assigned (at
   * least once; at once when none exists). A missing topic does not make it unready.
   */
  public boolean ready() {
    return loop.ready();
  }

  /** What stopped the poll thread when it was not asked to stop, else {@code null}. */
  public Throwable failure() {
    return loop.failure();
  }

  /** Whether the poll thread is alive and polled recently. */
  public boolean healthy() {
    return loop.isRunning() && System.currentTimeMillis() - loop.lastPollMillis() < 30_000;
  }

  /**
   * The wall-clock time up to which this input can vouch that it has seen what its partitions
   * hold, in epoch nanoseconds; engine thread only. Normally {@code nowNanos}. While fetches do
   * not come back (a broker outage) the lag the consumer reports is stale, so it vouches only up to
   * the last fetch response; and after an outage it keeps to that time until {@link #RECOVERY_HOLD}
   * has passed both since fetches resumed and since the last record written long before it was read
   * (the backlog), while the producers of the system under test deliver what they held back during
   * the outage, with its original timestamps. So no instance is decided on a deadline that passed while
   * its records could not be written or read.
   */
  public long vouchedUpToNanos(long nowNanos) {
    if (!loop.ownsAny()) {
      return nowNanos; // nothing to fetch, nothing to vouch for
    }
    long nowMillis = nowNanos / 1_000_000;
    long lastFetch = loop.lastFetchMillis();
    if (nowMillis - lastFetch > FETCH_SILENCE_MILLIS) {
      if (holdFromMillis == Long.MIN_VALUE) {
        holdFromMillis = lastFetch;
      }
      holdUntilMillis = Long.MAX_VALUE;
      return holdFromMillis * 1_000_000;
    }
    if (holdFromMillis != Long.MIN_VALUE) {
      if (holdUntilMillis == Long.MAX_VALUE) {
        holdUntilMillis = nowMillis + RECOVERY_HOLD.toMillis();
        LOG.info("event=fetches_resumed silent_ms={} hold_ms={}", nowMillis - holdFromMillis, RECOVERY_HOLD.toMillis());
      }
      if (nowMillis < Math.max(holdUntilMillis, backlogSeenMillis + RECOVERY_HOLD.toMillis())) {
        return holdFromMillis * 1_000_000;
      }
      holdFromMillis = Long.MIN_VALUE;
    }
    return nowNanos;
  }

  /** How long no broker has been connected, in milliseconds; 0 while connected. */
  public long unreachableForMillis() {
    return loop.unreachableForMillis();
  }

  /** How many times (up to 100 ms each) the input was held back: no room in the engine's inbox, or a backlog's partition ahead of the others. */
  public long waitsForRoom() {
    return loop.refusals();
  }

  /**
   * How far the input has read a partition it owns: {@code readEnd} is the next offset after what
   * it polled (handed over or about to be; -1 before the first poll), {@code lag} the records left
   * after it (-1 while unknown).
   */
  public record Progress(long readEnd, long lag) {}

  /** The offset a partition owned now was read from when it was assigned; -1 when not owned. */
  public long startOffset(TopicPartition partition) {
    return loop.startOffset(partition);
  }

  /** The progress of every partition the input owns now (a live view). */
  public Map<TopicPartition, Progress> progress() {
    return Collections.unmodifiableMap(progress);
  }

  /** Records behind the end of each assigned partition, as last measured. */
  public Map<TopicPartition, Long> lag() {
    return Map.copyOf(lag);
  }

  public Set<TopicPartition> assignment() {
    return loop.assignment();
  }

  /** Stops polling; the consumer stays open until {@link #close(Map)} commits the last offsets. */
  public void stopPolling() {
    loop.stopPolling();
  }

  /**
   * Waits up to {@code timeout} for the poll thread to end after {@link #stopPolling()}; true when
   * it has. Batches it handed over are in the inbox by then; nothing more is added.
   */
  public boolean awaitStopped(Duration timeout) {
    return loop.awaitStopped(timeout);
  }

  /**
   * Stops polling, then, on the calling thread, commits what the engine asked for and {@code last}
   * (may be empty), and closes the consumer (leaving the group). When the poll thread does not end
   * within 15 s the consumer is left alone: it is not safe to use from two threads.
   */
  public void close(Map<TopicPartition, Long> last) {
    loop.close(toOffsets(last));
  }

  @Override
  public void close() {
    close(Map.of());
  }

  private static Map<TopicPartition, OffsetAndMetadata> toOffsets(Map<TopicPartition, Long> offsets) {
    Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
    offsets.forEach((tp, o) -> out.put(tp, new OffsetAndMetadata(o)));
    return out;
  }

  /** A partition's records as a batch for the engine, with what to count once it is handed over. */
  private record Converted(long firstOffset, long endOffset, Batch batch, int records, int spans, long earliestNanos,
      long latestNanos, long madeNanos) {}

  /**
   * Whether a batch of a backlog (its records written more than {@link InputClock#MAX_PRODUCER_DELAY_NANOS}
   * ago) should wait because its partition is more than {@link #ALIGNMENT_NANOS} ahead, in event time, of
   * another partition still behind (records left to read) — or of one behind whose records the consumer has
   * not handed over yet: holding this one pauses it, so that the next polls bring the others. Live batches
   * are never held (an exporter's spans come seconds after the records of the same moment), nor is one
   * held for longer than {@link #MAX_HOLD_NANOS}: reading always goes on. Nor does a backlog wait for a
   * partition that has brought nothing for {@link #MAX_HOLD_NANOS} (its leader unreachable, say): that
   * costs one hold, not one for every batch while it stays silent.
   */
  private boolean aheadOfBacklog(TopicPartition tp, Converted c) {
    long earliest = c.earliestNanos();
    long now = System.currentTimeMillis() * 1_000_000L;
    long nowNanos = System.nanoTime();
    if (earliest == Long.MAX_VALUE || earliest > now - InputClock.MAX_PRODUCER_DELAY_NANOS
        || nowNanos - c.madeNanos() > maxHoldNanos) {
      return false;
    }
    for (TopicPartition other : loop.assignment()) {
      if (!other.equals(tp) && behind(other) && nowNanos - heardNanos.getOrDefault(other, nowNanos) <= maxHoldNanos) {
        Long readTo = eventTime.get(other);
        if (readTo == null || earliest - readTo > ALIGNMENT_NANOS) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Waits up to 100 ms until the inbox holds few enough items (spans and records) for {@code items}
   * more, or is empty: a bound in batches alone let a backlog of the Collector's spans topic (a
   * message carries a whole export) put 160,000 decoded spans in the inbox, most of a 1 GiB heap.
   */
  private boolean awaitRoomFor(int items) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100);
    while (true) {
      long queued = 0;
      for (Batch b : inbox) {
        queued += b.items().size();
      }
      if (queued == 0 || queued + items <= MAX_QUEUED_ITEMS) {
        return true;
      }
      if (System.nanoTime() > until) {
        return false;
      }
      Thread.sleep(2);
    }
  }

  /**
   * Whether the partition may have records left to hand over (poll thread only): records of it were
   * polled and not taken yet — held, or of this poll and not offered yet (not counting those let a
   * dense topic run 9 s ahead of a sparse one whose last records came in the same poll) — or records
   * are left behind its position, or its lag is not known yet (no fetch of it has come back).
   */
  private boolean behind(TopicPartition tp) {
    return waiting.containsKey(tp) || loop.holdsRecordsOf(tp) || loop.currentLag(tp).orElse(1) > 0;
  }

  /**
   * Converts one partition's records into a batch and offers it to the inbox, waiting up to 100 ms
   * for room (blocking the input: lag grows, memory does not). A batch refused is kept and offered
   * again; if its partition is revoked meanwhile it is dropped (its new owner reads it from the
   * committed offset).
   */
  private final class HandOver implements PartitionedConsumer.Handler {
    @Override
    public boolean offer(TopicPartition tp, List<ConsumerRecord<byte[], byte[]>> polled) {
      long first = polled.get(0).offset();
      long end = polled.get(polled.size() - 1).offset() + 1;
      Converted c = waiting.get(tp);
      if (c == null || c.firstOffset() != first || c.endOffset() != end) {
        progress.put(tp, new Progress(end, loop.currentLag(tp).orElse(-1)));
        c = convert(tp, polled, first, end);
        waiting.put(tp, c);
        heardNanos.put(tp, c.madeNanos());
      }
      if (!c.batch().items().isEmpty()) {
        eventTime.put(tp, c.earliestNanos());
      }
      if (c.latestNanos() > handOverUpTo.getAsLong() || aheadOfBacklog(tp, c)) {
        return false; // held back: paused, offered again after the next poll
      }
      try {
        if (!awaitRoomFor(c.batch().items().size()) || !inbox.offer(c.batch(), 100, TimeUnit.MILLISECONDS)) {
          return false;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
      waiting.remove(tp);
      if (!c.batch().items().isEmpty()) {
        eventTime.put(tp, c.latestNanos());
      }
      long nowMillis = System.currentTimeMillis();
      if (c.latestNanos() / 1_000_000 < nowMillis - FETCH_SILENCE_MILLIS) {
        backlogSeenMillis = nowMillis; // records written long ago: a backlog is being delivered
      }
      listener.records(c.records());
      listener.spans(c.spans());
      return true;
    }

    @Override
    public void skipped(UnreadableRecords.Skip skip) {
      LOG.warn("event=skip topic={} partition={} offset={} reason=\"{}\"", skip.partition().topic(),
          skip.partition().partition(), skip.offset(), skip.reason());
      listener.dropped("unreadable_record", 1);
    }

    @Override
    public void restarted(TopicPartition tp, long position, long logStart, long logEnd) {
      waiting.remove(tp);
      eventTime.remove(tp);
      heardNanos.put(tp, System.nanoTime());
      progress.put(tp, new Progress(-1, -1));
      String why = position > logEnd
          ? "the position is past the end of the log: the topic was deleted and created again, or its log truncated"
          : "the position is before the start of the log: records were deleted (retention) before they were read";
      LOG.warn("event=partition_restarted topic={} partition={} position={} log_start={} log_end={} detail=\"{};"
          + " reading it from its beginning\"", tp.topic(), tp.partition(), position, logStart, logEnd, why);
    }

    @Override
    public void assigned(Collection<TopicPartition> partitions) {
      long now = System.nanoTime();
      partitions.forEach(tp -> {
        progress.put(tp, new Progress(-1, -1));
        heardNanos.put(tp, now);
      });
      LOG.info("event=partitions_assigned partitions={}", partitions);
      listener.assigned(partitions);
    }

    @Override
    public void revoked(Collection<TopicPartition> partitions) {
      partitions.forEach(lag::remove);
      partitions.forEach(progress::remove);
      partitions.forEach(waiting::remove);
      partitions.forEach(eventTime::remove);
      partitions.forEach(heardNanos::remove);
      listener.revoked(partitions);
      LOG.info("event=partitions_revoked partitions={}", partitions);
    }

    @Override
    public void polled() {
      measureLag();
    }
  }

  private Converted convert(TopicPartition tp, List<ConsumerRecord<byte[], byte[]>> polled, long first, long end) {
    long[] invalid = new long[1];
    int records = 0;
    int spans = 0;
    List<Telemetry> items = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> r : polled) {
      if (r.topic().equals(spansTopic)) {
        OtlpSpansTopicSource.SpanBatch decoded =
            OtlpSpansTopicSource.decode(r, spansEncoding, OtlpSpansTopicSource.DEFAULT_MAX_MESSAGE_BYTES,
                why -> {
                  if (invalid[0]++ == 0) { // the first of a batch, with where it is; all are counted
                    LOG.warn("event=skip_span topic={} partition={} offset={} reason=\"{}\"", r.topic(),
                        r.partition(), r.offset(), why);
                  }
                });
        if (!decoded.ok()) {
          LOG.warn("event=skip topic={} partition={} offset={} reason=\"{}\"", r.topic(), r.partition(), r.offset(),
              decoded.problem());
          listener.dropped("undecodable_span_message", 1);
        }
        for (Span s : decoded.spans()) {
          items.add(Telemetry.of(s));
          spans++;
        }
      } else if (r.topic().equals(codecTopic)) {
        Telemetry t = decodeRouted(r);
        if (t != null) {
          items.add(t);
          if (t instanceof Telemetry.SpanEvent) {
            spans++;
          } else {
            records++;
          }
        }
      } else {
        items.add(Telemetry.of(KafkaTap.toRecord(r)));
        records++;
      }
    }
    if (invalid[0] > 0) {
      listener.dropped("invalid_span_id", invalid[0]);
    }
    Batch batch = Batch.of(items, Map.of(tp, end), tp.topic().equals(codecTopic) ? tp.partition() : -1);
    long earliest = Long.MAX_VALUE;
    long latest = Long.MIN_VALUE;
    for (Telemetry t : items) {
      earliest = Math.min(earliest, t.arrivalEpochNanos());
      latest = Math.max(latest, t.arrivalEpochNanos());
    }
    return new Converted(first, end, batch, records, spans, earliest, latest, System.nanoTime());
  }

  /**
   * When {@code failure} (from {@code consumer.poll}) is about one unreadable record, seeks past it,
   * logs it with its coordinates, counts it as {@code unreadable_record} and returns true; else
   * returns false and leaves the consumer alone. Shared by the sidecar's readers.
   */
  static boolean skipUnreadable(org.apache.kafka.clients.consumer.Consumer<?, ?> consumer, KafkaException failure,
      Logger log, java.util.function.ObjLongConsumer<String> dropped) {
    Optional<UnreadableRecords.Skip> skipped = UnreadableRecords.skipPast(consumer, failure);
    skipped.ifPresent(skip -> {
      log.warn("event=skip topic={} partition={} offset={} reason=\"{}\"", skip.partition().topic(),
          skip.partition().partition(), skip.offset(), skip.reason());
      dropped.accept("unreadable_record", 1);
    });
    return skipped.isPresent();
  }

  /** An item a router wrote, or {@code null} (logged, counted) when the bytes are not one. */
  private Telemetry decodeRouted(ConsumerRecord<byte[], byte[]> r) {
    try {
      return io.flowtrace.tracer.spill.TelemetryCodec.read(r.value());
    } catch (java.io.IOException | RuntimeException | StackOverflowError e) { // the codec bounds nesting; this is the backstop
      LOG.warn("event=skip topic={} partition={} offset={} reason=\"not a routed item: {}\"", r.topic(), r.partition(),
          r.offset(), e.toString());
      listener.dropped("undecodable_routed_item", 1);
      return null;
    }
  }

  private void measureLag() {
    long now = System.currentTimeMillis();
    if (now - lastLagMillis < 1000) {
      return;
    }
    lastLagMillis = now;
    for (TopicPartition tp : loop.assignment()) {
      OptionalLong l = loop.currentLag(tp);
      if (l.isPresent()) {
        lag.put(tp, l.getAsLong());
      }
      progress.computeIfPresent(tp, (k, p) -> new Progress(p.readEnd(), l.orElse(-1)));
    }
  }

  private final class TopicListener implements TopicSubscription.Listener {
    @Override
    public void missing(String topic) {
      listener.topicMissing(topic);
    }

    @Override
    public void appeared(String topic) {
      listener.topicAppeared(topic);
    }

    @Override
    public void listFailed(String error) {
      LOG.warn("event=topic_list_failed topics={} error=\"{}\" detail=\"cannot tell which input topics exist; "
          + "retrying every second\"", topics, error);
    }
  }
}
