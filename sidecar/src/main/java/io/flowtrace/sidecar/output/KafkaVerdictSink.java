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
 */
public final class KafkaVerdictSink implements VerdictSink {

  /** Header carrying the verdict's revision as decimal text. */
  public static final String REVISION_HEADER = "flowtrace.revision";
  /** Header marking a late-event note (not a verdict). */
  public static final String LATE_HEADER = "flowtrace.late";

  private final Producer<String, byte[]> producer;
  private final String topic;
  private final AtomicReference<Exception> failure = new AtomicReference<>();

  /** A sink writing to {@code topic} with a producer made from {@code properties} (bootstrap servers included). */
  public KafkaVerdictSink(Map<String, Object> properties, String topic) {
    Map<String, Object> p = new HashMap<>(properties);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 5);
    p.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "flowtrace-verdicts");
    this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    this.topic = requireNonNull(topic, "topic");
  }

  @Override
  public void write(Verdict verdict) throws IOException {
    throwIfFailed();
    ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, verdict.instanceKey(),
        VerdictText.json(verdict).getBytes(StandardCharsets.UTF_8));
    record.headers().add(REVISION_HEADER, Integer.toString(verdict.revision()).getBytes(StandardCharsets.UTF_8));
    producer.send(record, (metadata, e) -> {
      if (e != null) {
        failure.compareAndSet(null, e);
      }
    });
  }

  /** A late event goes to the same topic under its instance's key, with header {@code flowtrace.late}. */
  @Override
  public void late(LateEvent event) throws IOException {
    throwIfFailed();
    ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, event.instanceKey(),
        VerdictText.json(event).getBytes(StandardCharsets.UTF_8));
    record.headers().add(LATE_HEADER, new byte[] {'1'});
    producer.send(record, (metadata, e) -> {
      if (e != null) {
        failure.compareAndSet(null, e);
      }
    });
  }

  @Override
  public void flush() throws IOException {
    producer.flush();
    throwIfFailed();
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
