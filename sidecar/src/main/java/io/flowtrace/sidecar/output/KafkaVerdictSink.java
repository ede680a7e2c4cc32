package io.flowtrace.sidecar.output;

import static java.util.Objects.requireNonNull;

import io.flowtrace.verifier.report.LateEvent;
import io.flowtrace.verifier.report.Verdict;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Verdicts to a Kafka topic (by default {@code flowtrace.verdicts}): key = {@link
 * Verdict#instanceKey()} (flow + instance keys, so one instance's revisions stay in one partition,
 * in order, and a compacted topic keeps the latest), value = {@link VerdictText#json}, header
 * {@code flowtrace.revision}. The producer is idempotent with {@code acks=all}; {@link #flush()}
 * waits for every send and throws if any failed, so offsets are never committed past a lost verdict.
 * {@link #rewind()} starts a new producer; what the broker acknowledged since the last flush is not
 * sent again. A send waits at most 5 s for the topic's metadata ({@code max.block.ms}, unless set):
 * a topic that is gone fails the send instead of holding the engine for a minute, and a flush waits
 * at most {@link #FLUSH_WAIT} for the broker's acknowledgements.
 */
public final class KafkaVerdictSink implements VerdictSink {

  /** Header carrying the verdict's revision as decimal text. */
  public static final String REVISION_HEADER = "flowtrace.revision";
  /** Header marking a late-event note (not a verdict). */
  public static final String LATE_HEADER = "flowtrace.late";

  private final Map<String, Object> config;
  private Producer<String, byte[]> producer;
  private final String topic;
  private final AtomicReference<Exception> failure = new AtomicReference<>();
  /** What the broker acknowledged since the last flush (instance key and revision, or the note). */
  private final java.util.Set<String> acknowledged = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private volatile int generation;
  private final Object acks = new Object();
  private int inFlight;

  /** How long {@link #flush()} waits for the broker to acknowledge what was sent. */
  public static final Duration FLUSH_WAIT = Duration.ofSeconds(5);

  /** A sink writing to {@code topic} with a producer made from {@code properties} (bootstrap servers included). */
  public KafkaVerdictSink(Map<String, Object> properties, String topic) {
    Map<String, Object> p = new HashMap<>(properties);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 5);
    p.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "flowtrace-verdicts");
    p.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, 5000);
    this.config = Map.copyOf(p);
    this.producer = new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer());
    this.topic = requireNonNull(topic, "topic");
  }

  private void send(ProducerRecord<String, byte[]> record, String id) {
    if (acknowledged.contains(id)) {
      return; // delivered before a failure of others: not again
    }
    int sentIn = generation;
    synchronized (acks) {
      inFlight++;
    }
    try {
      producer.send(record, (metadata, e) -> {
        if (e == null) {
          acknowledged.add(id);
        } else if (sentIn == generation) {
          failure.compareAndSet(null, e);
        }
        answered(sentIn);
      });
    } catch (RuntimeException e) {
      answered(sentIn);
      throw e;
    }
  }

  @Override
  public void write(Verdict verdict) throws IOException {
    throwIfFailed();
    ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, verdict.instanceKey(),
        VerdictText.json(verdict).getBytes(StandardCharsets.UTF_8));
    record.headers().add(REVISION_HEADER, Integer.toString(verdict.revision()).getBytes(StandardCharsets.UTF_8));
    send(record, verdict.instanceKey() + "#" + verdict.revision());
  }

  @Override
  public void copy(String instanceKey, int revision, String json) throws IOException {
    throwIfFailed();
    ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, instanceKey, json.getBytes(StandardCharsets.UTF_8));
    record.headers().add(REVISION_HEADER, Integer.toString(revision).getBytes(StandardCharsets.UTF_8));
    send(record, instanceKey + "#" + revision);
  }

  /** A late event goes to the same topic under its instance's key, with header {@code flowtrace.late}. */
  @Override
  public void late(LateEvent event) throws IOException {
    throwIfFailed();
    String json = VerdictText.json(event);
    ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, event.instanceKey(),
        json.getBytes(StandardCharsets.UTF_8));
    record.headers().add(LATE_HEADER, new byte[] {'1'});
    send(record, "late#" + json);
  }

  private void answered(int sentIn) {
    synchronized (acks) {
      if (sentIn == generation) {
        inFlight--;
        acks.notifyAll();
      }
    }
  }

  @Override
  public void flush() throws IOException {
    long deadline = System.nanoTime() + FLUSH_WAIT.toNanos();
    synchronized (acks) {
      while (inFlight > 0 && failure.get() == null) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new IOException(inFlight + " verdicts sent to topic " + topic + " were not acknowledged within "
              + FLUSH_WAIT.toSeconds() + " s");
        }
        try {
          acks.wait(Math.max(1, left / 1_000_000));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while waiting for topic " + topic + " to acknowledge verdicts", e);
        }
      }
    }
    throwIfFailed();
    acknowledged.clear();
  }

  @Override
  public void rewind() {
    synchronized (acks) {
      generation++;
      inFlight = 0;
    }
    producer.close(Duration.ZERO);
    failure.set(null);
    producer = new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer());
  }

  private void throwIfFailed() throws IOException {
    Exception e = failure.get();
    if (e != null) {
      throw new IOException("writing a verdict to topic " + topic + " failed: " + e, e);
    }
  }

  @Override
  public void close() throws IOException {
    try {
      flush();
    } finally {
      producer.close(Duration.ofSeconds(10));
    }
  }
}
