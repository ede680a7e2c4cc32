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
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
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

  private final List<String> topics;
  private final String groupId;
  private final StartPosition startPosition;
  private final int maxRecordBytes;
  private final Consumer<Telemetry> sink;
  private final PartitionedConsumer loop;
  private final AtomicLong records = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();

  private KafkaTap(Builder b, String groupId,
      org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer) {
    this.topics = b.topics;
    this.groupId = groupId;
    this.startPosition = b.startPosition;
    this.maxRecordBytes = b.maxRecordBytes;
    this.sink = b.sink;
    this.loop = PartitionedConsumer.builder(consumer, topics, new Deliver())
        .name("Kafka tap " + groupId)
        .startPosition(b.startPosition)
        .resumeFromCommitted(b.resumeFromCommitted)
        .pollTimeout(b.pollTimeout)
        .closeTimeout(b.closeTimeout)
        .topicCheckInterval(b.topicCheckInterval)
        .topicListener(new TopicsSaid(b.topicCheckInterval))
        .build();
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
    return loop.missingTopics();
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
    return loop.skipped() + dropped.get();
  }

  /** Client errors seen by the poll loop so far (each was logged and retried). */
  public long errors() {
    return loop.errors();
  }

  /**
   * Asks the tap to commit these offsets in its group (the offset of the <em>next</em> record to
   * read, as Kafka's {@code commitSync}). Thread-safe and non-blocking: the poll thread commits them
   * before its next poll (and before their partitions are revoked), and {@link #close()} commits what
   * is still pending. Per partition the highest offset asked for wins; offsets of partitions the tap
   * does not own when it commits are dropped. A failed commit is logged, counted in {@link
   * #commitFailures()} and tried again; it never stops the tap.
   */
  public void commit(Map<TopicPartition, OffsetAndMetadata> offsets) {
    loop.commit(offsets);
  }

  /** Commits the tap has made so far (each of all offsets pending at that moment). */
  public long commits() {
    return loop.commits();
  }

  /** Commits that failed so far (each was logged). */
  public long commitFailures() {
    return loop.commitFailures();
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
    return loop.isRunning();
  }

  /** The partitions currently assigned to the tap and positioned at their start. */
  public Set<TopicPartition> assignment() {
    return loop.assignment();
  }

  /**
   * Waits until every topic has at least one partition assigned and positioned. Records produced
   * after this returns {@code true} are seen even from {@link StartPosition#LATEST}.
   *
   * @return {@code false} if that did not happen within {@code timeout} or the tap stopped
   */
  public boolean awaitAssignment(Duration timeout) throws InterruptedException {
    return loop.awaitAssignment(this::coversAllTopics, timeout);
  }

  /**
   * Waits until every topic that exists has at least one partition assigned and positioned; a
   * topic that does not exist yet does not hold it up (it is read from the start position once it
   * appears, see {@link #missingTopics()}).
   *
   * @return {@code false} if that did not happen within {@code timeout} or the tap stopped
   */
  public boolean awaitExistingTopicsAssigned(Duration timeout) throws InterruptedException {
    return loop.awaitAssignment(assigned -> {
      if (!loop.ready()) {
        return false;
      }
      Set<String> expected = new HashSet<>(topics);
      expected.removeAll(loop.missingTopics());
      Set<String> have = new HashSet<>();
      for (TopicPartition tp : assigned) {
        have.add(tp.topic());
      }
      return have.containsAll(expected);
    }, timeout);
  }

  private boolean coversAllTopics(Set<TopicPartition> assignment) {
    Set<String> assigned = new HashSet<>();
    for (TopicPartition tp : assignment) {
      assigned.add(tp.topic());
    }
    return assigned.containsAll(topics);
  }

  /**
   * Wakes the consumer, waits for the poll thread, commits what is pending and closes the consumer.
   * Called from the sink, the loop ends after this poll's records. Idempotent.
   */
  @Override
  public void close() {
    loop.close();
  }

  private void start() {
    loop.start("flowtrace-kafka-tap-" + groupId);
  }

  /** Hands each record to the sink; never refuses (the sink is synchronous). */
  private final class Deliver implements PartitionedConsumer.Handler {
    @Override
    public boolean offer(TopicPartition partition, List<ConsumerRecord<byte[], byte[]>> batch) {
      for (ConsumerRecord<byte[], byte[]> r : batch) {
        deliver(r);
      }
      return true;
    }

    @Override
    public void skipped(UnreadableRecords.Skip skip) {
      LOG.warn("Kafka tap {} skipped {}: {}", groupId, skip.coordinates(), skip.reason());
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
    dropped.incrementAndGet();
    LOG.warn("Kafka tap {} skipped {}[{}]@{}: {}", groupId, topic, partition, offset, why);
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
      LOG.warn("Kafka tap {}: cannot list the cluster's topics to see which of {} exist, retrying every second: {}",
          groupId, topics, error);
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
