package io.flowtrace.sidecar.internal;

import static java.util.Objects.requireNonNull;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.tap.KafkaTap;
import io.flowtrace.tracer.tap.OtlpSpansTopicSource;
import io.flowtrace.tracer.tap.TopicSubscription;
import io.flowtrace.tracer.tap.UnreadableRecords;
import java.io.Closeable;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sidecar's Kafka input: one consumer, in the sidecar's own stable consumer group, reading the
 * flows' topics (records) and optionally the Collector's spans topic, on its own thread. It hands
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
 */
public final class KafkaInput implements Closeable {

  private static final Logger LOG = LoggerFactory.getLogger(KafkaInput.class);

  /** What the input reports about itself (thread-safe counters are the caller's). */
  public interface Listener {
    void records(int count);

    void spans(int count);

    void dropped(String reason, long count);

    void revoked(Collection<TopicPartition> partitions);

    /** {@code topic} does not exist (said once, at start); the input reads it once it appears. */
    default void topicMissing(String topic) {}

    /** {@code topic}, reported missing, exists now and is read from its earliest offset. */
    default void topicAppeared(String topic) {}
  }

  /** System property: milliseconds between two checks whether a missing topic appeared (default 10000). */
  public static final String TOPIC_CHECK_PROPERTY = "flowtrace.topicCheckIntervalMillis";

  private final KafkaConsumer<byte[], byte[]> consumer;
  private final List<String> topics;
  private final String spansTopic;
  private final String codecTopic;
  private final OtlpSpansTopicSource.Encoding spansEncoding;
  private final BlockingQueue<Batch> inbox;
  private final Listener listener;
  private final TopicSubscription subscription;
  private final Thread thread;
  private final AtomicBoolean closing = new AtomicBoolean();
  private final AtomicReference<Map<TopicPartition, Long>> toCommit = new AtomicReference<>();
  private final Set<TopicPartition> assignment = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final Map<TopicPartition, Long> lag = new java.util.concurrent.ConcurrentHashMap<>();
  private final Map<TopicPartition, Progress> progress = new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicLong waitsForRoom = new java.util.concurrent.atomic.AtomicLong();
  private volatile boolean assignedOnce;
  private volatile boolean stopped;
  private volatile long lastPollMillis = System.currentTimeMillis();
  private long lastLagMillis;
  private boolean consumerClosed;
  private final Object finalLock = new Object();
  /** Partitions revoked or lost since the current poll's batches were made (poll thread only). */
  private final Set<TopicPartition> revokedSincePoll = new java.util.HashSet<>();

  /**
   * @param spansTopic topic of OTLP trace requests (the Collector's Kafka exporter), or {@code null}
   * @param codecTopic topic of items written by a {@link Router} ({@link io.flowtrace.tracer.spill.TelemetryCodec}), or {@code null}
   */
  public KafkaInput(Map<String, Object> properties, String groupId, String startFrom, Collection<String> topics,
      String spansTopic, String spansEncoding, String codecTopic, BlockingQueue<Batch> inbox, Listener listener) {
    Map<String, Object> p = new HashMap<>(properties);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, requireNonNull(groupId, "groupId"));
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, startFrom);
    p.putIfAbsent(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "flowtrace-sidecar");
    p.putIfAbsent(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
    if ("classic".equalsIgnoreCase(String.valueOf(p.getOrDefault(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic")))) {
      // Incremental rebalances: a topic that appears (or a member that joins) adds partitions without
      // revoking the others first, whose uncommitted tail would otherwise be read, and counted, again.
      // (The new "consumer" group protocol is incremental anyway and refuses this setting.)
      p.putIfAbsent(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
    }
    this.consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    this.topics = new ArrayList<>(topics);
    if (spansTopic != null) {
      this.topics.add(spansTopic);
    }
    this.spansTopic = spansTopic;
    this.codecTopic = codecTopic;
    this.spansEncoding = OtlpSpansTopicSource.Encoding.of(spansEncoding);
    this.inbox = inbox;
    this.listener = listener;
    this.subscription = new TopicSubscription(this.topics, new Rebalance(), new TopicListener(),
        Duration.ofMillis(Long.getLong(TOPIC_CHECK_PROPERTY, TopicSubscription.DEFAULT_CHECK_INTERVAL.toMillis())));
    this.thread = new Thread(this::run, "flowtrace-kafka-input");
    this.thread.setDaemon(true);
  }

  public void start() {
    thread.start();
  }

  /** Asks the poll thread to commit these next-offsets (replaces an earlier request not yet done). */
  public void commit(Map<TopicPartition, Long> offsets) {
    if (!offsets.isEmpty()) {
      toCommit.accumulateAndGet(Map.copyOf(offsets), (old, add) -> {
        if (old == null) {
          return add;
        }
        Map<TopicPartition, Long> merged = new HashMap<>(old);
        add.forEach((tp, o) -> merged.merge(tp, o, Math::max));
        return merged;
      });
    }
  }

  /**
   * Whether the input has listed its topics and had the partitions of those that exist assigned (at
   * least once; at once when none exists). A missing topic does not make it unready.
   */
  public boolean ready() {
    return assignedOnce && !stopped;
  }

  /** Whether the poll thread is alive and polled recently. */
  public boolean healthy() {
    return !stopped && System.currentTimeMillis() - lastPollMillis < 30_000;
  }

  /** How many times (100 ms each) the input waited for room in the engine's inbox: back-pressure. */
  public long waitsForRoom() {
    return waitsForRoom.get();
  }

  /**
   * How far the input has read a partition it owns: {@code readEnd} is the next offset after what
   * it polled (handed over or about to be; -1 before the first poll), {@code lag} the records left
   * after it (-1 while unknown).
   */
  public record Progress(long readEnd, long lag) {}

  /** The progress of every partition the input owns now (a live view). */
  public Map<TopicPartition, Progress> progress() {
    return java.util.Collections.unmodifiableMap(progress);
  }

  /** Records behind the end of each assigned partition, as last measured. */
  public Map<TopicPartition, Long> lag() {
    return Map.copyOf(lag);
  }

  public Set<TopicPartition> assignment() {
    return Set.copyOf(assignment);
  }

  /** Stops polling; the consumer stays open until {@link #close(Map)} commits the last offsets. */
  public void stopPolling() {
    closing.set(true);
    consumer.wakeup();
  }

  /**
   * Waits up to {@code timeout} for the poll thread to end after {@link #stopPolling()}; true when
   * it has. Batches it handed over are in the inbox by then; nothing more is added.
   */
  public boolean awaitStopped(Duration timeout) {
    try {
      thread.join(Math.max(1, timeout.toMillis()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return !thread.isAlive();
  }

  /**
   * Stops polling, then, on the calling thread, commits what the engine asked for and {@code last}
   * (may be empty), and closes the consumer (leaving the group). When the poll thread does not end
   * within 15 s the consumer is left alone: it is not safe to use from two threads.
   */
  public void close(Map<TopicPartition, Long> last) {
    stopPolling();
    if (!awaitStopped(Duration.ofSeconds(15))) {
      LOG.warn("event=input_close_timeout detail=\"the poll thread did not stop; nothing more committed\"");
      return;
    }
    synchronized (finalLock) {
      if (consumerClosed) {
        return;
      }
      consumerClosed = true;
    }
    try {
      commitRequested();
      if (!last.isEmpty()) {
        commitNow(last);
      }
    } catch (RuntimeException e) {
      LOG.warn("event=final_commit_failed error=\"{}\"", e.toString());
    }
    try {
      consumer.close(Duration.ofSeconds(5));
    } catch (RuntimeException e) {
      LOG.debug("closing the consumer failed", e);
    }
  }

  @Override
  public void close() {
    close(Map.of());
  }

  private void run() {
    try {
      while (!closing.get()) {
        commitRequested();
        ConsumerRecords<byte[], byte[]> polled;
        try {
          polled = subscription.poll(consumer, Duration.ofMillis(20));
          lastPollMillis = System.currentTimeMillis();
          if (subscription.listed() && subscription.subscribed().isEmpty()) {
            assignedOnce = true; // nothing to be assigned until a topic appears: ready, and verifying spans
          }
        } catch (WakeupException e) {
          continue;
        } catch (KafkaException e) {
          if (!skipUnreadable(e)) {
            LOG.warn("event=poll_failed error=\"{}\"", e.toString());
            pause(500);
          }
          continue;
        }
        for (TopicPartition tp : polled.partitions()) {
          List<ConsumerRecord<byte[], byte[]>> of = polled.records(tp);
          progress.put(tp, new Progress(of.get(of.size() - 1).offset() + 1, consumer.currentLag(tp).orElse(-1)));
        }
        if (!polled.isEmpty() && !handOver(polled)) {
          break;
        }
        measureLag();
      }
    } catch (RuntimeException | Error e) {
      LOG.error("event=input_stopped error=\"{}\"", e.toString(), e);
    } finally {
      stopped = true; // the consumer stays open: close(last) commits and closes it
    }
  }

  /**
   * Converts a poll's messages into one batch per partition and waits for room in the inbox;
   * false when closing. A batch of a partition revoked while waiting is dropped (its new owner
   * reads it from the committed offset).
   */
  private boolean handOver(ConsumerRecords<byte[], byte[]> polled) {
    long[] invalid = new long[1];
    int records = 0;
    int spans = 0;
    List<Batch> batches = new ArrayList<>();
    List<TopicPartition> partitions = new ArrayList<>();
    for (TopicPartition tp : polled.partitions()) {
      List<Telemetry> items = new ArrayList<>();
      long end = -1;
      for (ConsumerRecord<byte[], byte[]> r : polled.records(tp)) {
        end = r.offset() + 1;
        if (r.topic().equals(spansTopic)) {
          OtlpSpansTopicSource.SpanBatch decoded =
              OtlpSpansTopicSource.decode(r, spansEncoding, OtlpSpansTopicSource.DEFAULT_MAX_MESSAGE_BYTES,
                  why -> {
                    if (invalid[0]++ == 0) { // the first of a poll, with where it is; all are counted
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
      batches.add(Batch.of(items, Map.of(tp, end), tp.topic().equals(codecTopic) ? tp.partition() : -1));
      partitions.add(tp);
    }
    if (invalid[0] > 0) {
      listener.dropped("invalid_span_id", invalid[0]);
    }
    listener.records(records);
    listener.spans(spans);
    revokedSincePoll.clear();
    try {
      for (int i = 0; i < batches.size(); i++) {
        while (!revokedSincePoll.contains(partitions.get(i))
            && !inbox.offer(batches.get(i), 100, TimeUnit.MILLISECONDS)) {
          waitsForRoom.incrementAndGet();
          if (closing.get()) {
            return false; // not handed over: not committed either, read again after a restart
          }
          commitRequested();
          keepMembershipAlive();
        }
        // A partition revoked meanwhile (even if assigned again: it then restarts from its
        // committed offset) is read by its owner from there; its batch is stale and not handed over.
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
    return true;
  }

  /**
   * Polls without reading, so that the group does not count this member as gone while the engine
   * catches up: every partition is paused for the poll, and records it returns anyway (from a
   * partition assigned during it) are not lost but read again later, by seeking back to them.
   */
  private void keepMembershipAlive() {
    Set<TopicPartition> paused = new java.util.HashSet<>(consumer.assignment());
    consumer.pause(paused);
    try {
      ConsumerRecords<byte[], byte[]> early = consumer.poll(Duration.ZERO);
      for (TopicPartition tp : early.partitions()) {
        consumer.seek(tp, early.records(tp).get(0).offset());
      }
    } catch (WakeupException e) {
      // close() asked us to stop; the caller looks at closing
    } catch (KafkaException e) {
      LOG.warn("event=poll_failed error=\"{}\"", e.toString());
    } finally {
      paused.retainAll(consumer.assignment());
      consumer.resume(paused);
    }
  }

  private boolean skipUnreadable(KafkaException failure) {
    return skipUnreadable(consumer, failure, LOG, listener::dropped);
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

  private void commitRequested() {
    Map<TopicPartition, Long> offsets = toCommit.getAndSet(null);
    if (offsets != null) {
      commitNow(offsets);
    }
  }

  private void commitNow(Map<TopicPartition, Long> offsets) {
    Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
    offsets.forEach((tp, o) -> {
      if (assignment.contains(tp)) {
        commit.put(tp, new OffsetAndMetadata(o));
      }
    });
    if (commit.isEmpty()) {
      return;
    }
    try {
      commitSync(commit);
    } catch (KafkaException e) {
      LOG.warn("event=commit_failed offsets={} error=\"{}\"", commit, e.toString());
      commit(offsets); // tried again on the next round, unless something newer replaces it
    }
  }

  /** One synchronous commit; a wake-up left over from {@link #stopPolling()} is spent, then it goes again. */
  private void commitSync(Map<TopicPartition, OffsetAndMetadata> commit) {
    try {
      consumer.commitSync(commit, Duration.ofSeconds(10));
    } catch (WakeupException e) {
      consumer.commitSync(commit, Duration.ofSeconds(10));
    }
    LOG.debug("event=committed offsets={}", commit);
  }

  private void measureLag() {
    long now = System.currentTimeMillis();
    if (now - lastLagMillis < 1000) {
      return;
    }
    lastLagMillis = now;
    for (TopicPartition tp : assignment) {
      OptionalLong l = consumer.currentLag(tp);
      if (l.isPresent()) {
        lag.put(tp, l.getAsLong());
      }
      progress.computeIfPresent(tp, (k, p) -> new Progress(p.readEnd(), l.orElse(-1)));
    }
  }

  private static void pause(long millis) {
    java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(millis));
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

  private final class Rebalance implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      // Resolve positions now ("ready" means positioned), and pin where a partition without a
      // committed offset starts: a crash before the first commit must resume there, not at "latest".
      assignment.addAll(partitions);
      partitions.forEach(tp -> progress.put(tp, new Progress(-1, -1)));
      try {
        Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(new java.util.HashSet<>(partitions));
        List<TopicPartition> appeared = partitions.stream()
            .filter(tp -> committed.get(tp) == null && subscription.appearedAfterStart(tp.topic())).toList();
        if (!appeared.isEmpty()) {
          consumer.seekToBeginning(appeared); // created after the input started: all of it is new
        }
        Map<TopicPartition, OffsetAndMetadata> pin = new HashMap<>();
        for (TopicPartition tp : partitions) {
          long position = consumer.position(tp);
          if (committed.get(tp) == null) {
            pin.put(tp, new OffsetAndMetadata(position));
          }
        }
        if (!pin.isEmpty()) {
          commitSync(pin);
        }
      } catch (KafkaException e) {
        LOG.warn("event=pin_failed partitions={} error=\"{}\" detail=\"until the first commit, a crash restarts "
            + "these partitions from auto.offset.reset\"", partitions, e.toString());
      }
      assignedOnce = true;
      LOG.info("event=partitions_assigned partitions={}", partitions);
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      commitRequested();
      revokedSincePoll.addAll(partitions);
      assignment.removeAll(partitions);
      partitions.forEach(lag::remove);
      partitions.forEach(progress::remove);
      if (!partitions.isEmpty()) {
        listener.revoked(partitions);
        LOG.info("event=partitions_revoked partitions={}", partitions);
      }
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      revokedSincePoll.addAll(partitions);
      assignment.removeAll(partitions);
      partitions.forEach(lag::remove);
      partitions.forEach(progress::remove);
      listener.revoked(partitions);
    }
  }
}
