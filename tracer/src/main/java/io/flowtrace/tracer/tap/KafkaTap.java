package io.flowtrace.tracer.tap;

import static java.util.Objects.requireNonNull;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Telemetry;
import java.io.Closeable;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A read-only Kafka consumer that hands every record of the given topics, as a {@link KafkaRecord}
 * wrapped in {@link Telemetry}, to a sink, on its own thread.
 *
 * <p>The tap watches a running system without disturbing it: it consumes in its <em>own</em>
 * consumer group (by default {@code flowtrace-tap-<random>}, never the application's), never
 * auto-commits ({@code enable.auto.commit=false}), reads only committed transactional data ({@code
 * isolation.level=read_committed}) and decides where to start itself ({@link StartPosition}). It
 * commits only the offsets its caller hands to {@link #commit(Map)} (say, once the records up to
 * them were verified; {@link #nextOffsets(Collection)} computes them), and with {@link
 * Builder#resumeFromCommitted(boolean)} a restarted tap in the same named group resumes there. Each record keeps its topic, partition, offset, timestamp, key (as UTF-8
 * text), all headers (raw bytes) and raw value bytes. <b>Payload decoding (JSON, Avro with a
 * Confluent magic byte or an Apicurio id header) is not the tap's job</b>: values are passed on as
 * bytes and the verifier decodes them.
 *
 * <p>The poll thread never throws into the caller or the watched system: a record that cannot be
 * read (a corrupt batch, a record larger than {@link Builder#maxRecordBytes(int)}, a sink that
 * throws) is counted in {@link #skipped()} and logged once with its {@code topic[partition]@offset},
 * and the tap goes on; client errors (broker unreachable, authorization) are logged and retried.
 *
 * <p>A topic that does not exist is said once (WARN) and not subscribed: the tap reads the others,
 * checks every {@link Builder#topicCheckInterval(Duration) 10 s} whether it appeared, and then reads
 * it — from its beginning if the start position is {@code LATEST}, since all of it was written after
 * the tap started (see {@link TopicSubscription}). {@link #missingTopics()} names such topics.
 *
 * <pre>{@code
 * try (KafkaTap tap = KafkaTap.builder()
 *     .bootstrapServers("127.0.0.1:9092")
 *     .topics(List.of("orders.created", "orders.confirmed"))
 *     .startPosition(StartPosition.EARLIEST)
 *     .sink(pipeline::accept)
 *     .start()) {
 *   ...
 * }
 * }</pre>
 */
public final class KafkaTap implements Closeable {

  /** Prefix of the default consumer group id; a random UUID follows. */
  public static final String DEFAULT_GROUP_ID_PREFIX = "flowtrace-tap-";
  /** Default longest wait of one poll: 500 ms (also bounds how fast the tap notices a close). */
  public static final Duration DEFAULT_POLL_TIMEOUT = Duration.ofMillis(500);
  /** Default largest record (key + value + headers) handed on: 16 MiB; larger ones are skipped. */
  public static final int DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;
  /** Default time {@link #close()} waits for the poll thread: 10 s. */
  public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(10);

  /** Consumer properties the tap sets itself; {@link Builder#overrides(Map)} may not set them. */
  static final Set<String> RESERVED = Set.of(
      ConsumerConfig.GROUP_ID_CONFIG,
      ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
      ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
      ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG);

  private static final Logger LOG = LoggerFactory.getLogger(KafkaTap.class);
  private static final Duration ERROR_BACKOFF = Duration.ofMillis(500);

  private final org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer;
  private final List<String> topics;
  private final String groupId;
  private final StartPosition startPosition;
  private final boolean resumeFromCommitted;
  private final ConsumerSupport.PendingCommits commits = new ConsumerSupport.PendingCommits();
  private final Duration pollTimeout;
  private final int maxRecordBytes;
  private final Duration closeTimeout;
  private final Consumer<Telemetry> sink;
  private final TopicSubscription subscription;
  private final Thread thread;
  private final AtomicBoolean closing = new AtomicBoolean();
  private final AtomicLong records = new AtomicLong();
  private final AtomicLong skipped = new AtomicLong();
  private final AtomicLong errors = new AtomicLong();
  /** Next offset to read per partition ever assigned; touched only by the poll thread. */
  private final Map<TopicPartition, Long> nextOffsets = new HashMap<>();
  /** Partitions assigned and positioned; guarded by itself. */
  private final Set<TopicPartition> assignment = new HashSet<>();
  private volatile boolean stopped;

  private KafkaTap(Builder b, String groupId,
      org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer) {
    this.consumer = consumer;
    this.topics = b.topics;
    this.groupId = groupId;
    this.startPosition = b.startPosition;
    this.resumeFromCommitted = b.resumeFromCommitted;
    this.pollTimeout = b.pollTimeout;
    this.maxRecordBytes = b.maxRecordBytes;
    this.closeTimeout = b.closeTimeout;
    this.sink = b.sink;
    this.subscription = new TopicSubscription(topics, new Positioner(), new TopicsSaid(b.topicCheckInterval),
        b.topicCheckInterval);
    this.thread = new Thread(this::run, "flowtrace-kafka-tap-" + groupId);
    this.thread.setDaemon(true);
  }

  /** A builder; bootstrap servers, topics and a sink are required. */
  public static Builder builder() {
    return new Builder();
  }

  /** The tap's own consumer group id. */
  public String groupId() {
    return groupId;
  }

  /** The topics it reads. */
  public List<String> topics() {
    return topics;
  }

  /** The topics that do not exist, as last checked (each is read once it appears). */
  public Set<String> missingTopics() {
    return subscription.missing();
  }

  /** Where it starts in partitions it has not read before. */
  public StartPosition startPosition() {
    return startPosition;
  }

  /** Records handed to the sink so far. */
  public long records() {
    return records.get();
  }

  /** Records counted and skipped so far (unreadable, too large, or the sink threw). */
  public long skipped() {
    return skipped.get();
  }

  /** Client errors seen by the poll loop so far (each was logged and retried). */
  public long errors() {
    return errors.get();
  }

  /**
   * Asks the tap to commit these offsets in its group (the offset of the <em>next</em> record to
   * read, as Kafka's {@code commitSync}). Thread-safe and non-blocking: the poll thread commits them
   * before its next poll, and {@link #close()} commits what is still pending. Per partition the
   * highest offset asked for wins. A failed commit is logged and counted in {@link
   * #commitFailures()}; it never stops the tap.
   */
  public void commit(Map<TopicPartition, OffsetAndMetadata> offsets) {
    commits.add(ConsumerSupport.checkOffsets(offsets));
  }

  /** Commits the tap has made so far (each of all offsets pending at that moment). */
  public long commits() {
    return commits.committed();
  }

  /** Commits that failed so far (each was logged). */
  public long commitFailures() {
    return commits.failed();
  }

  /** The offsets to commit once {@code records} are processed: per partition, the highest offset + 1. */
  public static Map<TopicPartition, OffsetAndMetadata> nextOffsets(Collection<KafkaRecord> records) {
    Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
    for (KafkaRecord r : records) {
      next.merge(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1),
          (a, b) -> a.offset() >= b.offset() ? a : b);
    }
    return next;
  }

  /** Whether the poll thread is still running. */
  public boolean isRunning() {
    return thread.isAlive() && !stopped;
  }

  /** The partitions currently assigned to the tap and positioned at their start. */
  public Set<TopicPartition> assignment() {
    synchronized (assignment) {
      return Set.copyOf(assignment);
    }
  }

  /**
   * Waits until every topic has at least one partition assigned and positioned. Records produced
   * after this returns {@code true} are seen even from {@link StartPosition#LATEST}.
   *
   * @return {@code false} if that did not happen within {@code timeout} or the tap stopped
   */
  public boolean awaitAssignment(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + requireNonNull(timeout, "timeout").toNanos();
    synchronized (assignment) {
      while (!coversAllTopics()) {
        long left = deadline - System.nanoTime();
        if (left <= 0 || stopped) {
          return false;
        }
        assignment.wait(Math.max(1, left / 1_000_000));
      }
      return true;
    }
  }

  private boolean coversAllTopics() {
    Set<String> assigned = new HashSet<>();
    for (TopicPartition tp : assignment) {
      assigned.add(tp.topic());
    }
    return assigned.containsAll(topics);
  }

  /** Wakes the consumer, waits for the poll thread to finish and close it. Idempotent. */
  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    consumer.wakeup();
    if (Thread.currentThread() == thread) {
      return; // closed from the sink: the loop ends after this record
    }
    try {
      thread.join(closeTimeout.toMillis());
      if (thread.isAlive()) {
        LOG.warn("Kafka tap {} did not stop within {}", groupId, closeTimeout);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Poll loop (tap thread only)

  private void start() {
    thread.start();
  }

  private void run() {
    String lastError = null;
    try {
      while (!closing.get()) {
        ConsumerRecords<byte[], byte[]> batch;
        try {
          commits.commitNow(consumer, LOG, "Kafka tap " + groupId);
          batch = subscription.poll(consumer, pollTimeout);
          lastError = null;
        } catch (WakeupException e) {
          continue; // close() woke us; the loop condition decides
        } catch (InterruptException e) {
          break;
        } catch (KafkaException e) {
          Optional<UnreadableRecords.Skip> unreadable = UnreadableRecords.skipPast(consumer, e);
          if (unreadable.isPresent()) {
            UnreadableRecords.Skip skip = unreadable.get();
            TopicPartition tp = skip.partition();
            skip(tp.topic(), tp.partition(), skip.offset(), skip.reason());
            nextOffsets.put(tp, skip.resumeAt());
            continue;
          }
          errors.incrementAndGet();
          String text = e.toString();
          if (!text.equals(lastError)) {
            LOG.warn("Kafka tap {} on {}: poll failed, retrying: {}", groupId, topics, text);
            lastError = text;
          }
          pause(ERROR_BACKOFF);
          continue;
        }
        for (ConsumerRecord<byte[], byte[]> r : batch) {
          nextOffsets.put(new TopicPartition(r.topic(), r.partition()), r.offset() + 1);
          deliver(r);
        }
      }
    } catch (RuntimeException | Error e) {
      LOG.error("Kafka tap {} on {} stopped: {}", groupId, topics, e.toString(), e);
    } finally {
      stopped = true;
      commits.commitOnClose(consumer, LOG, "Kafka tap " + groupId);
      try {
        consumer.close(Duration.ofSeconds(5));
      } catch (RuntimeException e) {
        LOG.debug("Closing the consumer of tap {} failed", groupId, e);
      }
      synchronized (assignment) {
        assignment.clear();
        assignment.notifyAll();
      }
    }
  }

  private void deliver(ConsumerRecord<byte[], byte[]> r) {
    try {
      long size = Math.max(0, r.serializedKeySize()) + (long) Math.max(0, r.serializedValueSize());
      for (Header h : r.headers()) {
        size += h.key().length() + (h.value() == null ? 0 : h.value().length);
      }
      if (size > maxRecordBytes) {
        skip(r.topic(), r.partition(), r.offset(),
            "record of " + size + " bytes is larger than maxRecordBytes " + maxRecordBytes);
        return;
      }
      KafkaRecord record = toRecord(r);
      sink.accept(Telemetry.of(record));
      records.incrementAndGet();
    } catch (RuntimeException e) {
      skip(r.topic(), r.partition(), r.offset(), "sink or conversion failed: " + e);
    }
  }

  /** A consumed record as the model has it: key as UTF-8 text, every header (raw bytes), the value bytes. */
  public static KafkaRecord toRecord(ConsumerRecord<byte[], byte[]> r) {
    List<RecordHeader> headers = new ArrayList<>();
    for (Header h : r.headers()) {
      headers.add(new RecordHeader(h.key(), h.value()));
    }
    String key = r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8);
    return new KafkaRecord(r.topic(), r.partition(), r.offset(), r.timestamp(), key, headers, r.value());
  }

  private void skip(String topic, int partition, long offset, String why) {
    skipped.incrementAndGet();
    LOG.warn("Kafka tap {} skipped {}[{}]@{}: {}", groupId, topic, partition, offset, why);
  }

  private static void pause(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** What the tap says about topics that do not exist. */
  private final class TopicsSaid implements TopicSubscription.Listener {
    private final Duration interval;

    TopicsSaid(Duration interval) {
      this.interval = interval;
    }

    @Override
    public void missing(String topic) {
      LOG.warn("Kafka tap {}: topic {} does not exist; reading the others, and this one once it appears"
          + " (checked every {})", groupId, topic, interval);
    }

    @Override
    public void appeared(String topic) {
      LOG.info("Kafka tap {}: topic {} appeared; reading it", groupId, topic);
    }

    @Override
    public void listFailed(String error) {
      errors.incrementAndGet();
      LOG.warn("Kafka tap {}: cannot list the cluster's topics to see which of {} exist, retrying every second: {}",
          groupId, topics, error);
    }
  }

  /** Positions newly assigned partitions: where the tap left off, else at the start position. */
  private final class Positioner implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      List<TopicPartition> fresh = new ArrayList<>();
      for (TopicPartition tp : partitions) {
        Long next = nextOffsets.get(tp);
        if (next != null) {
          consumer.seek(tp, next);
        } else {
          fresh.add(tp);
        }
      }
      ConsumerSupport.position(consumer, fresh, startPosition, resumeFromCommitted, subscription);
      for (TopicPartition tp : partitions) {
        // Resolve lazy seeks now, so "assigned" means "positioned": a record produced after
        // awaitAssignment() returns is never skipped by a LATEST start resolved later.
        nextOffsets.put(tp, consumer.position(tp));
      }
      synchronized (assignment) {
        assignment.addAll(partitions);
        assignment.notifyAll();
      }
      LOG.debug("Kafka tap {} assigned {} from {}", groupId, partitions, startPosition);
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      synchronized (assignment) {
        assignment.removeAll(partitions);
      }
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      onPartitionsRevoked(partitions);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Builder

  /** Configures and starts a {@link KafkaTap}. */
  public static final class Builder extends ConsumerBuilder<Builder> {
    private List<String> topics;
    private int maxRecordBytes = DEFAULT_MAX_RECORD_BYTES;
    private Consumer<Telemetry> sink;

    private Builder() {
      super(DEFAULT_POLL_TIMEOUT, DEFAULT_CLOSE_TIMEOUT);
    }

    @Override
    String overrideRefused(String key) {
      return "overrides may not set " + key
          + ": the tap sets it itself (it never auto-commits, reads raw bytes, and has its own group;"
          + " use groupId(...) to name the group and commit(...) to commit)";
    }

    /** The topics to read, by exact name. Required, at least one. */
    public Builder topics(Collection<String> topics) {
      requireNonNull(topics, "topics");
      for (String t : topics) {
        if (t == null || t.isBlank()) {
          throw new IllegalArgumentException("topics must not contain a blank name: " + topics);
        }
      }
      this.topics = List.copyOf(new java.util.LinkedHashSet<>(topics));
      return this;
    }

    /** Largest record (key + value + headers) handed on; larger ones are skipped. Defaults to 16 MiB. */
    public Builder maxRecordBytes(int maxRecordBytes) {
      if (maxRecordBytes < 1) {
        throw new IllegalArgumentException("maxRecordBytes must be >= 1, was " + maxRecordBytes);
      }
      this.maxRecordBytes = maxRecordBytes;
      return this;
    }

    /** Receives each record, on the tap's thread. Required. Exceptions it throws skip the record. */
    public Builder sink(Consumer<Telemetry> sink) {
      this.sink = requireNonNull(sink, "sink");
      return this;
    }

    /**
     * Creates the consumer and starts the poll thread.
     *
     * @throws IllegalStateException listing every missing required setting
     * @throws IllegalArgumentException when Kafka rejects the consumer configuration
     */
    public KafkaTap start() {
      String missing = "";
      if (bootstrapServers == null) missing += " bootstrapServers";
      if (topics == null || topics.isEmpty()) missing += " topics";
      if (sink == null) missing += " sink";
      if (!missing.isEmpty()) {
        throw new IllegalStateException("Missing :" + missing);
      }
      String group = groupId != null ? groupId : DEFAULT_GROUP_ID_PREFIX + UUID.randomUUID();
      org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer;
      try {
        consumer = new KafkaConsumer<>(consumerProperties(group));
      } catch (KafkaException e) {
        throw new IllegalArgumentException(
            "Invalid Kafka tap configuration for " + bootstrapServers + ": " + e.getMessage(), e);
      }
      KafkaTap tap = new KafkaTap(this, group, consumer);
      tap.start();
      LOG.info("Kafka tap {} reading {} from {} at {}", group, topics, bootstrapServers,
          startPosition);
      return tap;
    }
  }
}
