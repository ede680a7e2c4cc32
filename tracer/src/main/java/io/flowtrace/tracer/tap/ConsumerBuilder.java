package io.flowtrace.tracer.tap;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The settings {@link KafkaTap.Builder} and {@link OtlpSpansTopicSource.Builder} share: where the
 * cluster is, the reader's own group, where it starts, its poll and close timeouts, and raw
 * consumer properties, with the consumer properties they make. Package-private: not API.
 */
abstract class ConsumerBuilder<B extends ConsumerBuilder<B>> {

  String bootstrapServers;
  String groupId;
  StartPosition startPosition = StartPosition.LATEST;
  boolean resumeFromCommitted;
  Duration pollTimeout;
  Duration closeTimeout;
  Duration topicCheckInterval = TopicSubscription.DEFAULT_CHECK_INTERVAL;
  Map<String, Object> overrides = Map.of();

  ConsumerBuilder(Duration pollTimeout, Duration closeTimeout) {
    this.pollTimeout = pollTimeout;
    this.closeTimeout = closeTimeout;
  }

  @SuppressWarnings("unchecked")
  private B self() {
    return (B) this;
  }

  /** Why {@code key} may not be overridden, in the words of the reader being built. */
  abstract String overrideRefused(String key);

  /** {@code host:port[,host:port...]}. Required. */
  public B bootstrapServers(String bootstrapServers) {
    requireNonNull(bootstrapServers, "bootstrapServers");
    if (bootstrapServers.isBlank()) {
      throw new IllegalArgumentException("bootstrapServers must not be blank");
    }
    this.bootstrapServers = bootstrapServers;
    return self();
  }

  /**
   * The reader's own consumer group id. Defaults to a random one. Never use the application's
   * group: the reader would take its partitions.
   */
  public B groupId(String groupId) {
    requireNonNull(groupId, "groupId");
    if (groupId.isBlank()) {
      throw new IllegalArgumentException("groupId must not be blank");
    }
    this.groupId = groupId;
    return self();
  }

  /** Where to start in partitions not read before. Defaults to {@link StartPosition#LATEST}. */
  public B startPosition(StartPosition startPosition) {
    this.startPosition = requireNonNull(startPosition, "startPosition");
    return self();
  }

  /**
   * Whether a partition the group has committed an offset for resumes there (instead of at the
   * {@link #startPosition}). Meant for a named {@link #groupId} whose caller commits. Defaults to
   * {@code false}.
   */
  public B resumeFromCommitted(boolean resumeFromCommitted) {
    this.resumeFromCommitted = resumeFromCommitted;
    return self();
  }

  /** Longest wait of one poll. Defaults to 500 ms. */
  public B pollTimeout(Duration pollTimeout) {
    this.pollTimeout = positive(pollTimeout, "pollTimeout");
    return self();
  }

  /** How long closing waits for a poll or the reader's thread. Defaults to 10 s. */
  public B closeTimeout(Duration closeTimeout) {
    this.closeTimeout = positive(closeTimeout, "closeTimeout");
    return self();
  }

  /**
   * How often, while one of the topics does not exist, the reader checks whether it appeared (it
   * reads the others meanwhile, and that one from its beginning once it is there; see {@link
   * TopicSubscription}). Defaults to 10 s.
   */
  public B topicCheckInterval(Duration topicCheckInterval) {
    this.topicCheckInterval = positive(topicCheckInterval, "topicCheckInterval");
    return self();
  }

  /**
   * Raw consumer properties (SASL, TLS, client.id, fetch sizes, {@code isolation.level}, ...),
   * applied over the reader's. Defaults to none. {@code group.id} (use {@link #groupId}), {@code
   * enable.auto.commit} and the deserializers are the reader's own and rejected here.
   */
  public B overrides(Map<String, Object> overrides) {
    requireNonNull(overrides, "overrides");
    for (String key : overrides.keySet()) {
      if (KafkaTap.RESERVED.contains(key)) {
        throw new IllegalArgumentException(overrideRefused(key));
      }
    }
    this.overrides = Map.copyOf(overrides);
    return self();
  }

  /** The consumer properties the reader will use in {@code group}. */
  Map<String, Object> consumerProperties(String group) {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, group);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, startPosition == StartPosition.EARLIEST ? "earliest" : "latest");
    p.putAll(overrides);
    PartitionedConsumer.preferCooperativeRebalancing(p);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    return p;
  }

  static Duration positive(Duration d, String name) {
    requireNonNull(d, name);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, was " + d);
    }
    return d;
  }
}
