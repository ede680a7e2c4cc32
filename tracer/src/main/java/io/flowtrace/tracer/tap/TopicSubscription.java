package io.flowtrace.tracer.tap;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.WakeupException;

/**
 * Subscribes a consumer to those of its topics that exist, and to each of the others once it
 * appears, so that a reader started before one of its topics was created reads the rest meanwhile
 * and picks that one up without a restart.
 *
 * <p>Why not subscribe to every topic at once: a consumer subscribed to a topic that does not
 * exist asks the cluster for its metadata again and again, and kafka-clients logs a WARN ("Error
 * while fetching metadata ... UNKNOWN_TOPIC_OR_PARTITION") for each answer — 139 lines in three
 * minutes were seen from one sidecar. And on a cluster with {@code auto.create.topics.enable}
 * such a metadata request creates the topic, with the broker's default partition count, which a
 * read-only watcher must not do. Listing the cluster's topics does neither.
 *
 * <p>How: {@link #poll} lists the cluster's topics ({@code Consumer.listTopics}, on the polling
 * thread, waiting at most 5 s) before the first poll, and then every
 * {@linkplain #DEFAULT_CHECK_INTERVAL check interval} <em>while some topic is missing</em>; once
 * all exist it no longer lists. A topic counts as existing once it lists partitions that all have
 * a leader (a topic being created is not yet readable). A topic listed at the first listing with a
 * partition still without a leader (an election under way, as after a broker restart) is not
 * missing: it is listed again every second and subscribed as soon as it is readable, starting where
 * the topics there from the start do. When more topics exist than are subscribed,
 * it subscribes to all of them (a rebalance, as any change of subscription is). A failed listing
 * is tried again after 1 s. A subscribed topic stays subscribed (what the consumer does when it
 * is deleted is unchanged).
 *
 * <p>The {@link Listener} hears each missing topic once, at the first listing, and each appearing
 * topic once; it says how its reader logs and counts that. Where a reader starts in a topic that
 * appeared after it started, or in a partition added to a topic after it was subscribed, is the
 * reader's choice ({@link #createdAfterStart}).
 *
 * <p>{@link #poll} and everything but {@link #missing()} belong to the polling thread. Shared by
 * {@link KafkaTap}, {@link OtlpSpansTopicSource} and the sidecar's Kafka input.
 */
public final class TopicSubscription {

  /** Default time between two listings of the cluster's topics while one is missing: 10 s. */
  public static final Duration DEFAULT_CHECK_INTERVAL = Duration.ofSeconds(10);
  static final int LIST_TIMEOUT_SECONDS = 5;
  static final int RETRY_SECONDS = 1;

  /** What a reader says about its topics; called on the polling thread. */
  public interface Listener {
    /** {@code topic} did not exist at the first listing; it is subscribed once it appears. */
    void missing(String topic);

    /** {@code topic}, reported {@link #missing}, exists now and is subscribed. */
    void appeared(String topic);

    /** Listing the cluster's topics failed (called again only when the error text changes). */
    void listFailed(String error);
  }

  private final List<String> topics;
  private final ConsumerRebalanceListener rebalance;
  private final Listener listener;
  private final long intervalNanos;
  private final Set<String> missing = ConcurrentHashMap.newKeySet();
  private final Set<String> appeared = new LinkedHashSet<>();
  /** Listed, so existing, but with a partition that has no leader yet (an election after a broker restart). */
  private final Set<String> leaderless = new LinkedHashSet<>();
  /** How many partitions each subscribed topic had when it was first listed. */
  private final Map<String, Integer> partitionsAtStart = new ConcurrentHashMap<>();
  private List<String> subscribed = List.of();
  private boolean listed;
  private long nextListNanos = System.nanoTime();
  private String lastFailure;

  /**
   * @param topics the topics to read, by exact name
   * @param rebalance the listener every subscription is made with
   * @param checkInterval time between two listings while a topic is missing
   */
  public TopicSubscription(Collection<String> topics, ConsumerRebalanceListener rebalance, Listener listener,
      Duration checkInterval) {
    this.topics = List.copyOf(new LinkedHashSet<>(requireNonNull(topics, "topics")));
    this.rebalance = requireNonNull(rebalance, "rebalance");
    this.listener = requireNonNull(listener, "listener");
    requireNonNull(checkInterval, "checkInterval");
    if (checkInterval.isNegative()) {
      throw new IllegalArgumentException("checkInterval must not be negative, was " + checkInterval);
    }
    this.intervalNanos = checkInterval.toNanos();
  }

  /**
   * Lists the topics when that is due and subscribes to those that exist, then polls. While none
   * exists (or none could be listed yet) nothing is subscribed: it waits {@code timeout} and
   * returns no records.
   *
   * @throws WakeupException from the listing or the poll, as {@code Consumer.poll} does
   * @throws KafkaException from the poll, as {@code Consumer.poll} does
   */
  public <K, V> ConsumerRecords<K, V> poll(Consumer<K, V> consumer, Duration timeout) {
    refresh(consumer);
    if (subscribed.isEmpty()) {
      LockSupport.parkNanos(timeout.toNanos());
      return ConsumerRecords.empty();
    }
    return consumer.poll(timeout);
  }

  /** Whether the topics were listed once (before that, none is subscribed). */
  public boolean listed() {
    return listed;
  }

  /** The topics subscribed now: those that exist. */
  public List<String> subscribed() {
    return subscribed;
  }

  /** Whether {@code topic} did not exist at the first listing and appeared later. */
  public boolean appearedAfterStart(String topic) {
    return appeared.contains(topic);
  }

  /**
   * Whether {@code partition} was created after its topic was first listed: its topic {@linkplain
   * #appearedAfterStart appeared later}, or it was added to the topic since (its number is past the
   * partitions listed then). Everything in such a partition was written after the reader started.
   */
  public boolean createdAfterStart(org.apache.kafka.common.TopicPartition partition) {
    if (appearedAfterStart(partition.topic())) {
      return true;
    }
    Integer listed = partitionsAtStart.get(partition.topic());
    return listed != null && partition.partition() >= listed;
  }

  /** The topics that do not exist, as last listed (a snapshot; thread-safe). */
  public Set<String> missing() {
    return new TreeSet<>(missing);
  }

  private void refresh(Consumer<?, ?> consumer) {
    long now = System.nanoTime();
    if (listed && missing.isEmpty() && leaderless.isEmpty() || now - nextListNanos < 0) {
      return;
    }
    Map<String, List<PartitionInfo>> cluster;
    try {
      cluster = consumer.listTopics(Duration.ofSeconds(LIST_TIMEOUT_SECONDS));
    } catch (WakeupException | InterruptException e) {
      throw e;
    } catch (KafkaException e) {
      nextListNanos = System.nanoTime() + Duration.ofSeconds(RETRY_SECONDS).toNanos();
      String text = e.toString();
      if (!text.equals(lastFailure)) {
        lastFailure = text;
        listener.listFailed(text);
      }
      return;
    }
    lastFailure = null;
    List<String> present = new ArrayList<>();
    for (String t : topics) {
      List<PartitionInfo> partitions = cluster.get(t);
      if (readable(partitions)) {
        present.add(t);
        partitionsAtStart.putIfAbsent(t, partitions.size());
        leaderless.remove(t);
      } else if (!listed && partitions != null && !partitions.isEmpty()) {
        leaderless.add(t);
      }
    }
    nextListNanos = System.nanoTime()
        + (leaderless.isEmpty() ? intervalNanos : Duration.ofSeconds(RETRY_SECONDS).toNanos());
    List<String> nowAppeared = new ArrayList<>();
    if (!listed) {
      for (String t : topics) {
        if (!present.contains(t) && !leaderless.contains(t)) {
          missing.add(t);
          listener.missing(t);
        }
      }
    } else {
      for (String t : present) {
        if (missing.contains(t)) {
          nowAppeared.add(t);
          appeared.add(t);
        }
      }
    }
    listed = true;
    Set<String> grown = new LinkedHashSet<>(subscribed);
    grown.addAll(present);
    if (grown.size() > subscribed.size()) {
      consumer.subscribe(grown, rebalance);
      subscribed = List.copyOf(grown);
    }
    for (String t : nowAppeared) {
      missing.remove(t);
      listener.appeared(t);
    }
  }

  /** Listed with partitions that all have a leader. */
  private static boolean readable(List<PartitionInfo> partitions) {
    if (partitions == null || partitions.isEmpty()) {
      return false;
    }
    for (PartitionInfo p : partitions) {
      if (p.leader() == null || p.leader().isEmpty()) {
        return false;
      }
    }
    return true;
  }
}
