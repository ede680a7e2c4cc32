package io.flowtrace.tracer.tap;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.InvalidProtocolBufferException;
import io.flowtrace.tracer.model.SourcePosition;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.otlp.OtlpJson;
import io.flowtrace.tracer.otlp.OtlpSpans;
import io.flowtrace.tracer.receiver.TelemetrySink;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import java.io.Closeable;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Spans from a Kafka topic that the OpenTelemetry Collector's {@code kafka} exporter writes (by
 * default {@value #DEFAULT_TOPIC}): each message value is one OTLP {@code ExportTraceServiceRequest},
 * as protobuf ({@link Encoding#OTLP_PROTO}, the exporter's default) or as OTLP/JSON with hex ids
 * ({@link Encoding#OTLP_JSON}).
 *
 * <p>Like {@link KafkaTap} it is read-only and keeps out of the way: its own consumer group (by
 * default {@code flowtrace-spans-<random>}), no auto-commit, {@code read_committed}, a start
 * position of its own ({@link StartPosition}; with {@link Builder#resumeFromCommitted(boolean)} a
 * named group resumes at what it committed). It commits only what its caller hands to {@link
 * #commit(Map)}, so a caller can commit a message once the spans decoded from it were processed.
 *
 * <p>Two ways to use it:
 *
 * <ul>
 *   <li><b>Poll</b>: {@link #poll(Duration)} on one thread returns one {@link SpanBatch} per message
 *       read, with its topic/partition/offset and its spans (or what was wrong with it); {@link
 *       SpanBatch#nextOffsets(Collection)} gives the offsets to commit after processing them.
 *   <li><b>Push</b>: {@link #start(TelemetrySink)} (or {@link #startBatches(Consumer)}) polls on a
 *       thread of its own and hands the spans on; {@link #commit(Map)} may be called from any thread.
 * </ul>
 *
 * <p>A message that cannot be decoded (not the configured encoding, empty, too large) never stops
 * the stream: it is logged once as {@code topic[partition]@offset: what was wrong}, counted in
 * {@link #skipped()}, and returned as a batch without spans whose {@link SpanBatch#problem()} says
 * why (so its offset can still be committed). A span with an invalid id is dropped, logged and
 * counted in {@link #invalidSpans()}; the other spans of its message are kept.
 *
 * <p>A topic that does not exist yet (no Collector has written to it) is said once and not
 * subscribed, so kafka-clients does not log a warning for each metadata answer; it is read once it
 * appears, from its beginning if the start position is {@code LATEST} ({@link TopicSubscription}).
 */
public final class OtlpSpansTopicSource implements Closeable {

  /** The topic the Collector's kafka exporter writes spans to by default. */
  public static final String DEFAULT_TOPIC = "otlp_spans";
  /** Prefix of the default consumer group id; a random UUID follows. */
  public static final String DEFAULT_GROUP_ID_PREFIX = "flowtrace-spans-";
  /** Default longest wait of one poll of the push thread: 500 ms. */
  public static final Duration DEFAULT_POLL_TIMEOUT = Duration.ofMillis(500);
  /** Default largest message decoded: 64 MiB; larger ones are skipped. */
  public static final int DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
  /** Default time {@link #close()} waits for a poll in progress or the push thread: 10 s. */
  public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(10);

  private static final Logger LOG = LoggerFactory.getLogger(OtlpSpansTopicSource.class);

  /** How the Collector's kafka exporter encodes the traces it writes ({@code encoding:}). */
  public enum Encoding {
    /** {@code otlp_proto}: protobuf {@code ExportTraceServiceRequest} (the exporter's default). */
    OTLP_PROTO("otlp_proto"),
    /** {@code otlp_json}: OTLP/JSON, hex trace and span ids. */
    OTLP_JSON("otlp_json");

    private final String configName;

    Encoding(String configName) {
      this.configName = configName;
    }

    /** The name the Collector's configuration uses. */
    public String configName() {
      return configName;
    }

    /** By the Collector's name ({@code otlp_proto}, {@code otlp_json}), in any case. */
    public static Encoding of(String name) {
      requireNonNull(name, "name");
      for (Encoding e : values()) {
        if (e.configName.equals(name.trim().toLowerCase(Locale.ROOT))) {
          return e;
        }
      }
      throw new IllegalArgumentException("unknown spans encoding '" + name + "'; known: otlp_proto, otlp_json");
    }

    @Override
    public String toString() {
      return configName;
    }
  }

  /**
   * The spans decoded from one message, and where that message is. {@code problem} is {@code null}
   * when it decoded; otherwise it says what was wrong and {@code spans} is empty.
   */
  public record SpanBatch(String topic, int partition, long offset, long timestampMillis, List<Span> spans,
      String problem) {

    public SpanBatch {
      requireNonNull(topic, "topic");
      spans = List.copyOf(spans);
    }

    /** Whether the message decoded. */
    public boolean ok() {
      return problem == null;
    }

    public TopicPartition topicPartition() {
      return new TopicPartition(topic, partition);
    }

    /** What to commit once this message is processed: its offset + 1. */
    public OffsetAndMetadata nextOffset() {
      return new OffsetAndMetadata(offset + 1);
    }

    /**
     * Where the message is, as {@code topic[partition]} and its offset (printed {@code
     * topic[partition]@offset}; the offset is the Kafka offset, not a byte count).
     */
    public SourcePosition position() {
      return SourcePosition.offset(topic + "[" + partition + "]", offset);
    }

    /** The spans as telemetry, in message order. */
    public List<Telemetry> telemetry() {
      List<Telemetry> out = new ArrayList<>(spans.size());
      spans.forEach(s -> out.add(Telemetry.of(s)));
      return out;
    }

    /** {@code topic[partition]@offset: N spans}, or {@code topic[partition]@offset: problem}. */
    @Override
    public String toString() {
      return position() + ": " + (ok() ? spans.size() + " spans" : problem);
    }

    /** The offsets to commit once {@code batches} are processed: per partition, the highest offset + 1. */
    public static Map<TopicPartition, OffsetAndMetadata> nextOffsets(Collection<SpanBatch> batches) {
      Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
      for (SpanBatch b : batches) {
        next.merge(b.topicPartition(), b.nextOffset(), (x, y) -> x.offset() >= y.offset() ? x : y);
      }
      return next;
    }
  }

  private final String topic;
  private final Encoding encoding;
  private final String groupId;
  private final StartPosition startPosition;
  private final Duration pollTimeout;
  private final int maxMessageBytes;
  private final Duration closeTimeout;
  private final PartitionedConsumer loop;
  private final AtomicLong messages = new AtomicLong();
  private final AtomicLong spans = new AtomicLong();
  private final AtomicLong undecodable = new AtomicLong();
  private final AtomicLong invalidSpans = new AtomicLong();
  /** The batches of the poll in progress (polling thread only). */
  private final List<SpanBatch> polled = new ArrayList<>();
  private volatile Thread pollThread;
  private volatile Thread pushThread;

  private OtlpSpansTopicSource(Builder b, String groupId,
      org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer) {
    this.topic = b.topic;
    this.encoding = b.encoding;
    this.groupId = groupId;
    this.startPosition = b.startPosition;
    this.pollTimeout = b.pollTimeout;
    this.maxMessageBytes = b.maxMessageBytes;
    this.closeTimeout = b.closeTimeout;
    this.loop = PartitionedConsumer.builder(consumer, List.of(topic), new Decode())
        .name("spans source " + groupId)
        .startPosition(b.startPosition)
        .resumeFromCommitted(b.resumeFromCommitted)
        .closeTimeout(b.closeTimeout)
        .topicCheckInterval(b.topicCheckInterval)
        .topicListener(new TopicSaid(b.topicCheckInterval))
        .build();
  }

  /** A builder; bootstrap servers are required. */
  public static Builder builder() {
    return new Builder();
  }

  public String topic() {
    return topic;
  }

  public Encoding encoding() {
    return encoding;
  }

  public String groupId() {
    return groupId;
  }

  public StartPosition startPosition() {
    return startPosition;
  }

  /** Messages read so far, decoded or not. */
  public long messages() {
    return messages.get();
  }

  /** Spans decoded so far. */
  public long spans() {
    return spans.get();
  }

  /** Messages skipped so far (undecodable, empty, too large, or the push sink threw on them). */
  public long skipped() {
    return loop.skipped() + undecodable.get();
  }

  /** Spans dropped so far for an invalid trace, span or parent id. */
  public long invalidSpans() {
    return invalidSpans.get();
  }

  /** Client errors seen so far (each logged and retried). */
  public long errors() {
    return loop.errors();
  }

  /** Commits made so far, and commits that failed (each logged). */
  public long commits() {
    return loop.commits();
  }

  public long commitFailures() {
    return loop.commitFailures();
  }

  /** The partitions currently assigned and positioned. */
  public Set<TopicPartition> assignment() {
    return loop.assignment();
  }

  /**
   * Waits until the topic has a partition assigned and positioned (someone must be polling: the
   * push thread, or a poll loop). Messages written after this returns {@code true} are read even
   * from {@link StartPosition#LATEST}.
   */
  public boolean awaitAssignment(Duration timeout) throws InterruptedException {
    return loop.awaitAssignment(assigned -> !assigned.isEmpty(), timeout);
  }

  /**
   * Reads what is there (waiting at most {@code timeout} for something) and returns one batch per
   * message, in partition order. Call it from one thread only, and not after {@link #start}. Never
   * throws for a bad message or a client error (they are logged and counted); returns an empty list
   * once closed or when {@link #close()} interrupts the wait.
   *
   * @throws IllegalStateException when called from a second thread or while the push thread runs
   */
  public List<SpanBatch> poll(Duration timeout) {
    requireNonNull(timeout, "timeout");
    if (pushThread != null && Thread.currentThread() != pushThread) {
      throw new IllegalStateException("spans source " + groupId + " pushes on its own thread; poll() is not available");
    }
    Thread first = pollThread;
    if (first == null) {
      synchronized (this) {
        if (pollThread == null) {
          pollThread = Thread.currentThread();
        }
        first = pollThread;
      }
    }
    if (first != Thread.currentThread()) {
      throw new IllegalStateException("spans source " + groupId + " is polled from " + first.getName()
          + "; poll from one thread only");
    }
    polled.clear();
    loop.pollOnce(timeout);
    List<SpanBatch> batches = List.copyOf(polled);
    polled.clear();
    return batches;
  }

  /**
   * Asks the source to commit these offsets in its group (the offset of the next message to read).
   * Thread-safe: on the polling thread, before its next poll (or before its partition is revoked, or
   * on close). Per partition the highest offset asked for wins; offsets of partitions the source does
   * not own then are dropped; a failed commit is logged, counted and tried again, never thrown.
   */
  public void commit(Map<TopicPartition, OffsetAndMetadata> offsets) {
    loop.commit(offsets);
  }

  /**
   * Starts a thread that polls and hands the spans of every decoded message, in order, to {@code
   * sink} ({@link TelemetrySink#acceptAll}). If the sink throws, the message is logged and counted as
   * skipped. Returns this source.
   */
  public OtlpSpansTopicSource start(TelemetrySink sink) {
    requireNonNull(sink, "sink");
    return startBatches(batch -> {
      if (batch.ok() && !batch.spans().isEmpty()) {
        sink.acceptAll(batch.telemetry());
      }
    });
  }

  /**
   * Starts a thread that polls and hands every batch (bad messages too) to {@code consumer}; if it
   * throws, the message is logged and counted as skipped. Returns this source.
   */
  public synchronized OtlpSpansTopicSource startBatches(Consumer<? super SpanBatch> batches) {
    requireNonNull(batches, "batches");
    if (pushThread != null || pollThread != null) {
      throw new IllegalStateException("spans source " + groupId + " is already being polled");
    }
    Thread t = new Thread(() -> {
      try {
        while (!loop.stopped()) {
          for (SpanBatch batch : poll(pollTimeout)) {
            try {
              batches.accept(batch);
            } catch (RuntimeException e) {
              undecodable.incrementAndGet();
              LOG.warn("spans source {} skipped {}: the sink failed: {}", groupId, batch.position(), e.toString());
            }
          }
        }
      } catch (RuntimeException | Error e) {
        LOG.error("spans source {} on {} stopped: {}", groupId, topic, e.toString(), e);
      }
    }, "flowtrace-spans-source-" + groupId);
    t.setDaemon(true);
    pushThread = t;
    pollThread = t;
    t.start();
    return this;
  }

  /** Whether the push thread runs (always {@code false} when polled by the caller). */
  public boolean isRunning() {
    Thread t = pushThread;
    return t != null && t.isAlive() && !loop.stopped();
  }

  /**
   * Stops: wakes a poll in progress, waits for it (and the push thread), commits the offsets still
   * pending and closes the consumer. Idempotent.
   */
  @Override
  public void close() {
    loop.stopPolling();
    Thread t = pushThread;
    if (t != null && t != Thread.currentThread()) {
      try {
        t.join(closeTimeout.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    loop.close();
  }

  /** Turns each message into a batch of the poll in progress; never refuses. */
  private final class Decode implements PartitionedConsumer.Handler {
    @Override
    public boolean offer(TopicPartition partition, List<ConsumerRecord<byte[], byte[]>> records) {
      for (ConsumerRecord<byte[], byte[]> r : records) {
        messages.incrementAndGet();
        SpanBatch batch = decode(r);
        if (batch.ok()) {
          spans.addAndGet(batch.spans().size());
        } else {
          undecodable.incrementAndGet();
          LOG.warn("spans source {} skipped {}", groupId, batch);
        }
        polled.add(batch);
      }
      return true;
    }

    @Override
    public void skipped(UnreadableRecords.Skip skip) {
      TopicPartition tp = skip.partition();
      SpanBatch bad = new SpanBatch(tp.topic(), tp.partition(), skip.offset(), -1, List.of(), skip.reason());
      LOG.warn("spans source {} skipped {}", groupId, bad);
      polled.add(bad);
    }
  }

  // ---------------------------------------------------------------------------------------------

  private SpanBatch decode(ConsumerRecord<byte[], byte[]> r) {
    List<String> invalid = new ArrayList<>();
    SpanBatch batch = decode(r, encoding, maxMessageBytes, invalid::add);
    if (!invalid.isEmpty()) {
      invalidSpans.addAndGet(invalid.size());
      LOG.warn("spans source {} dropped {} span(s) of {}[{}]@{}: {}", groupId, invalid.size(), r.topic(),
          r.partition(), r.offset(), String.join("; ", invalid));
    }
    return batch;
  }

  /**
   * Decodes one message of a spans topic as the Collector's Kafka exporter writes it. Never
   * throws: a message that is not a trace request comes back as a batch without spans whose
   * {@link SpanBatch#problem()} says what was wrong (with a hint when the bytes look like the other
   * encoding). Spans with invalid ids are left out, each described to {@code invalidSpan}.
   */
  public static SpanBatch decode(ConsumerRecord<byte[], byte[]> r, Encoding encoding, int maxMessageBytes,
      java.util.function.Consumer<String> invalidSpan) {
    byte[] value = r.value();
    if (value == null || value.length == 0) {
      return bad(r, "empty message (no " + encoding + " ExportTraceServiceRequest)");
    }
    if (value.length > maxMessageBytes) {
      return bad(r, "message of " + value.length + " bytes is larger than maxMessageBytes " + maxMessageBytes);
    }
    ExportTraceServiceRequest request;
    String json = null;
    try {
      if (encoding == Encoding.OTLP_PROTO) {
        request = ExportTraceServiceRequest.parseFrom(value);
        if (request.getResourceSpansCount() == 0 && !request.getUnknownFields().asMap().isEmpty()) {
          return bad(r, "not an OTLP protobuf ExportTraceServiceRequest (encoding otlp_proto): no resourceSpans, only"
              + " unknown fields" + hint(value, encoding));
        }
      } else {
        json = new String(value, StandardCharsets.UTF_8);
        request = OtlpJson.parse(json);
      }
    } catch (InvalidProtocolBufferException e) {
      return bad(r, "not an OTLP " + (encoding == Encoding.OTLP_PROTO ? "protobuf" : "JSON")
          + " ExportTraceServiceRequest (encoding " + encoding + "): " + e.getMessage() + hint(value, encoding));
    } catch (RuntimeException e) {
      return bad(r, "could not decode (encoding " + encoding + "): " + e);
    }
    List<Span> decoded = new ArrayList<>();
    Function<OtlpSpans.InvalidId, String> describer = json == null ? OtlpSpans.InvalidId::describe
        : OtlpJson.describer(json);
    OtlpSpans.convert(request, span -> decoded.add(OtlpSpans.endingNoEarlierThanItStarts(span)),
        id -> invalidSpan.accept(describer.apply(id)));
    return new SpanBatch(r.topic(), r.partition(), r.offset(), r.timestamp(), decoded, null);
  }

  /** A guess at the other encoding, when the bytes look like it. */
  private static String hint(byte[] value, Encoding encoding) {
    boolean looksJson = value[0] == '{' || value[0] == '[';
    if (encoding == Encoding.OTLP_PROTO && looksJson) {
      return " (the message looks like JSON: is the encoding otlp_json?)";
    }
    if (encoding == Encoding.OTLP_JSON && !looksJson && value[0] == 0x0a) {
      return " (the message looks like protobuf: is the encoding otlp_proto?)";
    }
    return "";
  }

  private static SpanBatch bad(ConsumerRecord<byte[], byte[]> r, String problem) {
    return new SpanBatch(r.topic(), r.partition(), r.offset(), r.timestamp(), List.of(), problem);
  }

  /** What the source says when its topic does not exist. */
  private final class TopicSaid implements TopicSubscription.Listener {
    private final Duration interval;

    TopicSaid(Duration interval) {
      this.interval = interval;
    }

    @Override
    public void missing(String missing) {
      LOG.warn("spans source {}: topic {} does not exist; it is read once it appears (checked every {})", groupId,
          missing, interval);
    }

    @Override
    public void appeared(String appeared) {
      LOG.info("spans source {}: topic {} appeared; reading it", groupId, appeared);
    }

    @Override
    public void listFailed(String error) {
      LOG.warn("spans source {}: cannot list the cluster's topics to see whether {} exists, retrying every second: {}",
          groupId, topic, error);
    }
  }

  /** Whether the topic does not exist, as last checked (it is read once it appears). */
  public boolean topicMissing() {
    return !loop.missingTopics().isEmpty();
  }

  // ---------------------------------------------------------------------------------------------

  /** Configures an {@link OtlpSpansTopicSource}. */
  public static final class Builder extends ConsumerBuilder<Builder> {
    private String topic = DEFAULT_TOPIC;
    private Encoding encoding = Encoding.OTLP_PROTO;
    private int maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES;

    private Builder() {
      super(DEFAULT_POLL_TIMEOUT, DEFAULT_CLOSE_TIMEOUT);
    }

    @Override
    String overrideRefused(String key) {
      return "overrides may not set " + key + ": the spans source sets it itself"
          + " (use groupId(...) to name the group and commit(...) to commit)";
    }

    /** The topic the Collector writes spans to. Defaults to {@value #DEFAULT_TOPIC}. */
    public Builder topic(String topic) {
      requireNonNull(topic, "topic");
      if (topic.isBlank()) {
        throw new IllegalArgumentException("topic must not be blank");
      }
      this.topic = topic;
      return this;
    }

    /** How messages are encoded. Defaults to {@link Encoding#OTLP_PROTO}. */
    public Builder encoding(Encoding encoding) {
      this.encoding = requireNonNull(encoding, "encoding");
      return this;
    }

    /** Largest message decoded; larger ones are skipped. Defaults to 64 MiB. */
    public Builder maxMessageBytes(int maxMessageBytes) {
      if (maxMessageBytes < 1) {
        throw new IllegalArgumentException("maxMessageBytes must be >= 1, was " + maxMessageBytes);
      }
      this.maxMessageBytes = maxMessageBytes;
      return this;
    }

    /**
     * Creates the consumer (it subscribes on the first poll).
     *
     * @throws IllegalStateException naming every missing required setting
     * @throws IllegalArgumentException when Kafka rejects the consumer configuration
     */
    public OtlpSpansTopicSource build() {
      if (bootstrapServers == null) {
        throw new IllegalStateException("Missing : bootstrapServers");
      }
      String group = groupId != null ? groupId : DEFAULT_GROUP_ID_PREFIX + UUID.randomUUID();
      org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer;
      try {
        consumer = new KafkaConsumer<>(consumerProperties(group));
      } catch (KafkaException e) {
        throw new IllegalArgumentException(
            "Invalid spans source configuration for " + bootstrapServers + ": " + e.getMessage(), e);
      }
      LOG.info("spans source {} reading {} ({}) from {} at {}", group, topic, encoding, bootstrapServers, startPosition);
      return new OtlpSpansTopicSource(this, group, consumer);
    }
  }
}
