package io.flowtrace.tracer.correlation;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanLink;
import io.flowtrace.tracer.model.TraceContext;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Joins Kafka records to the spans that produced and consumed them, as telemetry streams in.
 *
 * <p>A record's producer span is the span its {@code traceparent} header names, or else the
 * producer span whose topic/partition/offset attributes name the record. Its consumer spans are
 * the spans that are children of the producer span, carry a link to it (batch receive), or name the
 * record's topic/partition/offset. Both OpenTelemetry messaging convention sets are understood.
 *
 * <p>Memory is bounded by {@link #evictBefore}: callers drop spans older than their horizon.
 * Not thread-safe; one assembly thread owns it.
 */
public final class MessageSpanIndex {

  /** Topics learned from spans beyond this many are not remembered (span attributes are input). */
  private static final int MAX_TOPICS_LEARNED = 10_000;

  private final Table byId = new Table(Chain.ID);
  private final Table byParent = new Table(Chain.PARENT);
  private final Table byCoordinates = new Table(Chain.COORDINATES);
  /**
   * Consumer spans by the span ids they link to (batch receive), oldest first: rare, so a plain map;
   * entries leave in the order they came, so an entry leaving is at the head of each of its queues.
   */
  private final Map<String, ArrayDeque<Entry>> receiveByLinked = new HashMap<>();
  private final ArrayDeque<Entry> byArrival = new ArrayDeque<>();
  /** Topics any producer span named, and any consumer span: where such spans are exported at all. */
  private final Set<String> sentTopics = new HashSet<>();
  private final Set<String> receivedTopics = new HashSet<>();

  /**
   * Indexes a messaging span; returns false (and keeps nothing) for any other span. A span already
   * held (the same trace and span id, delivered again) is kept once.
   */
  public boolean add(Span span) {
    return add(span, MessagingAttributes.topicOrBatch(span));
  }

  /**
   * As {@link #add(Span)}, with the span's topic already read ({@link MessagingAttributes#topicOrBatch}:
   * a batch from several topics joins the records it links to on any).
   */
  public boolean add(Span span, String topic) {
    return add(span, topic, false);
  }

  /**
   * As {@link #add(Span, String)}, holding the span without its attributes: the index reads them
   * once, here, and what is joined to records later needs only the span's ids, names and times. For
   * an owner that keeps spans for a minute at thousands a second and never shows their attributes.
   */
  public boolean addStripped(Span span, String topic) {
    return add(span, topic, true);
  }

  private boolean add(Span span, String topic, boolean strip) {
    if (topic == null) {
      return false;
    }
    if (held(span.traceId(), span.spanId()) != null) {
      return true; // delivered again (at-least-once inputs): held once
    }
    boolean send = MessagingAttributes.isSend(span);
    if (!send && !MessagingAttributes.isReceive(span)) {
      return false;
    }
    Integer partition = MessagingAttributes.partition(span);
    Long offset = MessagingAttributes.offset(span);
    if (strip && !span.attributes().isEmpty()) {
      span = span.withAttributes(Map.of());
    }
    boolean located = partition != null && offset != null;
    Entry entry = new Entry(span, topic, send, located, located ? partition : 0, located ? offset : 0);
    byId.add(entry);
    if (located) {
      byCoordinates.add(entry);
    }
    if (send) {
      learn(sentTopics, topic);
    } else {
      if (!topic.equals(MessagingAttributes.SEVERAL)) {
        learn(receivedTopics, topic);
      }
      if (!span.parentSpanId().isEmpty()) {
        byParent.add(entry);
      }
      for (SpanLink link : span.links()) {
        receiveByLinked.computeIfAbsent(link.spanId(), k -> new ArrayDeque<>(2)).add(entry);
      }
    }
    byArrival.add(entry);
    return true;
  }

  private static void learn(Set<String> topics, String topic) {
    if (topics.size() < MAX_TOPICS_LEARNED) {
      topics.add(topic);
    }
  }

  /** Whether a producer span of the topic was ever seen: its producers are traced, so a record's will come. */
  public boolean sendsTraced(String topic) {
    return sentTopics.contains(topic);
  }

  /** Whether a consumer span of the topic was ever seen: some consumer of its records is traced. */
  public boolean receivesTraced(String topic) {
    return receivedTopics.contains(topic);
  }

  /** Whether a messaging span with this id is held. */
  public boolean holds(String spanId) {
    return byId.oldest(spanId, 0, 0) != null;
  }

  private Entry held(String traceId, String spanId) {
    for (Entry e = byId.oldest(spanId, 0, 0); e != null; e = e.byId) {
      if (e.span.traceId().equals(traceId)) {
        return e;
      }
    }
    return null;
  }

  /** The span that produced the record, if it has been seen. */
  public Optional<Span> producerOf(KafkaRecord record) {
    return producerOf(record, record.traceContext().orElse(null));
  }

  /** As {@link #producerOf(KafkaRecord)}, with the record's already parsed trace context (or null). */
  public Optional<Span> producerOf(KafkaRecord record, TraceContext context) {
    return Optional.ofNullable(producer(context, record));
  }

  /**
   * The producer span the record's trace context names, or else the last producer span that named
   * the record's coordinates.
   */
  private Span producer(TraceContext context, KafkaRecord record) {
    if (context != null) {
      Entry e = held(context.traceId(), context.spanId());
      if (e != null && e.send) {
        return e.span;
      }
    }
    Entry last = null;
    for (Entry e = byCoordinates.oldest(record.topic(), record.partition(), record.offset()); e != null;
        e = e.byCoordinates) {
      if (e.send) {
        last = e;
      }
    }
    return last == null ? null : last.span;
  }

  /** The spans that received or processed the record, in arrival order, without duplicates. */
  public List<Span> consumersOf(KafkaRecord record) {
    return consumersOf(record, record.traceContext().orElse(null));
  }

  /** As {@link #consumersOf(KafkaRecord)}, with the record's already parsed trace context (or null). */
  public List<Span> consumersOf(KafkaRecord record, TraceContext context) {
    String producerSpanId = context != null ? context.spanId() : spanIdOf(producer(null, record));
    String topic = record.topic();
    List<Span> out = new ArrayList<>(2);
    // A child of, or a link to, the record's own producer span names exactly this record. Each span
    // is taken once, by the first of the three ways that finds it; which ways find a span is read
    // from the span, not by searching what was taken (a key may have thousands of entries: a
    // producer that sends a hard-coded traceparent gives every consumer span one parent).
    if (producerSpanId != null) {
      for (Entry e = byParent.oldest(producerSpanId, 0, 0); e != null; e = e.byParent) {
        if (e.topic.equals(topic)) {
          out.add(e.span);
        }
      }
      ArrayDeque<Entry> linkers = receiveByLinked.get(producerSpanId);
      if (linkers != null) {
        Entry previous = null; // a span linking twice to one span is listed twice, one after the other
        for (Entry e : linkers) {
          if (e != previous && (e.topic.equals(topic) || e.topic.equals(MessagingAttributes.SEVERAL))
              && !childOf(e, producerSpanId)) {
            out.add(e.span);
          }
          previous = e;
        }
      }
    }
    for (Entry e = byCoordinates.oldest(topic, record.partition(), record.offset()); e != null; e = e.byCoordinates) {
      if (!e.send && (producerSpanId == null || !childOf(e, producerSpanId) && !linksTo(e, producerSpanId))) {
        out.add(e.span);
      }
    }
    return out.isEmpty() ? List.of() : out;
  }

  /** Whether the entry is in the parent table under {@code spanId}. */
  private static boolean childOf(Entry e, String spanId) {
    return !spanId.isEmpty() && e.span.parentSpanId().equals(spanId);
  }

  private static boolean linksTo(Entry e, String spanId) {
    for (SpanLink link : e.span.links()) {
      if (link.spanId().equals(spanId)) {
        return true;
      }
    }
    return false;
  }

  private static String spanIdOf(Span span) {
    return span == null ? null : span.spanId();
  }

  /**
   * Drops spans that arrived (ended) before {@code epochNanos}. Spans are assumed to be added
   * roughly in arrival order; eviction walks from the oldest.
   */
  public void evictBefore(long epochNanos) {
    while (!byArrival.isEmpty() && byArrival.peekFirst().span.endEpochNanos() < epochNanos) {
      remove(byArrival.pollFirst());
    }
  }

  /** Number of spans currently held. */
  public long size() {
    return byArrival.size();
  }

  private void remove(Entry e) {
    byId.remove(e);
    if (e.located) {
      byCoordinates.remove(e);
    }
    if (e.send) {
      return;
    }
    if (!e.span.parentSpanId().isEmpty()) {
      byParent.remove(e);
    }
    for (SpanLink link : e.span.links()) {
      // Not searched: thousands of receive spans may link to one span (a hard-coded context), and
      // the oldest leaves first. Twice when it linked twice to one span.
      ArrayDeque<Entry> linkers = receiveByLinked.get(link.spanId());
      while (linkers != null && linkers.peekFirst() == e) {
        linkers.pollFirst();
      }
      if (linkers != null && linkers.isEmpty()) {
        receiveByLinked.remove(link.spanId());
      }
    }
  }

  /** Which of an entry's links a {@link Table} chains it through, and so what it is keyed by. */
  private enum Chain { ID, PARENT, COORDINATES }

  /**
   * A held span with what its attributes said, and the next entry of the same key in each of the
   * three tables: an index entry costs one object, not a map node, list and boxed key per table.
   */
  private static final class Entry {
    final Span span;
    final String topic;
    final boolean send;
    /** Whether the span named a partition and offset (then {@link #partition}/{@link #offset} hold them). */
    final boolean located;
    final int partition;
    final long offset;
    Entry byId;
    Entry byParent;
    Entry byCoordinates;
    /**
     * Its key's hash in each table, kept so that evicting it finds its group without reaching its
     * span and id strings, which have long left the CPU's caches by then.
     */
    int idHash;
    int parentHash;
    int coordinatesHash;

    Entry(Span span, String topic, boolean send, boolean located, int partition, long offset) {
      this.span = span;
      this.topic = topic;
      this.send = send;
      this.located = located;
      this.partition = partition;
      this.offset = offset;
    }

    /** The text part of this entry's key in {@code chain}'s table (a topic's with a partition and offset). */
    String key(Chain chain) {
      return switch (chain) {
        case ID -> span.spanId();
        case PARENT -> span.parentSpanId();
        case COORDINATES -> topic;
      };
    }

    Entry next(Chain chain) {
      return switch (chain) {
        case ID -> byId;
        case PARENT -> byParent;
        case COORDINATES -> byCoordinates;
      };
    }

    int hash(Chain chain) {
      return switch (chain) {
        case ID -> idHash;
        case PARENT -> parentHash;
        case COORDINATES -> coordinatesHash;
      };
    }

    void hash(Chain chain, int hash) {
      switch (chain) {
        case ID -> idHash = hash;
        case PARENT -> parentHash = hash;
        case COORDINATES -> coordinatesHash = hash;
      }
    }

    void next(Chain chain, Entry next) {
      switch (chain) {
        case ID -> byId = next;
        case PARENT -> byParent = next;
        case COORDINATES -> byCoordinates = next;
      }
    }
  }

  /** The entries of one key in a {@link Table}, oldest first, chained through the table's link. */
  private static final class Group {
    /**
     * The key's hash and text, compared here: a group that is not the key's is passed over, and one
     * that is found, without reaching its entry and span (objects apart in the heap). In the
     * coordinates table the text is the topic, and the partition and offset are the entry's.
     */
    final int hash;
    final String key;
    Entry oldest;
    Entry newest;
    /** The next group in the same bucket. */
    Group next;

    Group(int hash, String key, Entry entry) {
      this.hash = hash;
      this.key = key;
      oldest = entry;
      newest = entry;
    }

    /** Whether this is the group of that key (in {@code chain}'s table). */
    boolean is(Chain chain, int hash, String key, int partition, long offset) {
      return this.hash == hash && (chain != Chain.COORDINATES ? this.key.equals(key)
          : oldest.offset == offset && oldest.partition == partition && this.key.equals(key));
    }
  }

  /**
   * A hash table of entries by one key, a {@link Group} per key: adding an entry and dropping a
   * key's oldest (as eviction does) take constant time however many entries share the key — a
   * producer whose messages all carry one hard-coded {@code traceparent} gives every consumer span
   * one parent.
   */
  private static final class Table {
    private final Chain chain;
    private Group[] buckets = new Group[64];
    private int groups;

    Table(Chain chain) {
      this.chain = chain;
    }

    /**
     * The oldest entry under a key — an id, or a topic with a partition and offset — or null; the
     * key's later entries follow through the table's link.
     */
    Entry oldest(String key, int partition, long offset) {
      int hash = hash(key, partition, offset);
      Group g = group(buckets[slot(hash, buckets.length)], hash, key, partition, offset);
      return g == null ? null : g.oldest;
    }

    void add(Entry entry) {
      String key = entry.key(chain);
      int hash = hash(key, entry.partition, entry.offset);
      entry.hash(chain, hash);
      int slot = slot(hash, buckets.length);
      Group g = group(buckets[slot], hash, key, entry.partition, entry.offset);
      if (g != null) {
        g.newest.next(chain, entry);
        g.newest = entry;
        return;
      }
      g = new Group(hash, key, entry);
      g.next = buckets[slot];
      buckets[slot] = g;
      if (++groups > buckets.length - (buckets.length >>> 2)) {
        grow();
      }
    }

    void remove(Entry entry) {
      int hash = entry.hash(chain);
      int slot = slot(hash, buckets.length);
      Group previousGroup = null;
      Group g = buckets[slot];
      // eviction takes a key's oldest: found by identity, without reading the key
      while (g != null && !(g.hash == hash && g.oldest == entry)) {
        previousGroup = g;
        g = g.next;
      }
      if (g == null) {
        String key = entry.key(chain);
        previousGroup = null;
        g = buckets[slot];
        while (g != null && !g.is(chain, hash, key, entry.partition, entry.offset)) {
          previousGroup = g;
          g = g.next;
        }
      }
      if (g == null) {
        return;
      }
      if (g.oldest == entry) {
        g.oldest = entry.next(chain);
      } else {
        Entry before = g.oldest;
        while (before.next(chain) != null && before.next(chain) != entry) {
          before = before.next(chain);
        }
        if (before.next(chain) != entry) {
          return;
        }
        before.next(chain, entry.next(chain));
        if (g.newest == entry) {
          g.newest = before;
        }
      }
      entry.next(chain, null);
      if (g.oldest == null) {
        if (previousGroup == null) {
          buckets[slot] = g.next;
        } else {
          previousGroup.next = g.next;
        }
        groups--;
      }
    }

    private Group group(Group first, int hash, String key, int partition, long offset) {
      for (Group g = first; g != null; g = g.next) {
        if (g.is(chain, hash, key, partition, offset)) {
          return g;
        }
      }
      return null;
    }

    /**
     * A coordinate key is hashed by mixing, not as {@code 31 * h + offset}: under that, partition
     * {@code p} offset {@code o} and partition {@code p + 1} offset {@code o - 31} collide, and a
     * topic's partitions hold runs of both.
     */
    private int hash(String key, int partition, long offset) {
      if (chain != Chain.COORDINATES) {
        return key.hashCode();
      }
      long x = offset * 0x9E3779B97F4A7C15L + (key.hashCode() * 31L + partition) * 0xC2B2AE3D27D4EB4FL;
      return (int) (x ^ (x >>> 32));
    }

    private void grow() {
      Group[] table = new Group[buckets.length * 2];
      for (Group head : buckets) {
        for (Group g = head; g != null; ) {
          Group next = g.next;
          int slot = slot(g.hash, table.length);
          g.next = table[slot];
          table[slot] = g;
          g = next;
        }
      }
      buckets = table;
    }

    private static int slot(int hash, int length) {
      return (hash ^ (hash >>> 16)) & (length - 1);
    }
  }
}
