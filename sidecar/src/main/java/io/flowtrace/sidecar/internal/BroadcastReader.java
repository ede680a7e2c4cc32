package io.flowtrace.sidecar.internal;

import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.spill.TelemetryCodec;
import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads every partition of a cluster's broadcast topic (the spans that only correlate records
 * with traces, and the routers' progress marks, see {@link RoutingProgress}), outside any consumer
 * group, starting {@code lookback} ago so a restarted sidecar has the correlation spans of the
 * instances it will re-assemble. Nothing is committed.
 */
public final class BroadcastReader implements Closeable {

  private static final Logger LOG = LoggerFactory.getLogger(BroadcastReader.class);

  private final KafkaConsumer<byte[], byte[]> consumer;
  private final BlockingQueue<Batch> inbox;
  private final SidecarMetrics metrics;
  private final RoutingProgress routing;
  private final Thread thread;
  private final AtomicBoolean closing = new AtomicBoolean();

  public BroadcastReader(Map<String, Object> kafka, String topic, long lookbackMillis, BlockingQueue<Batch> inbox,
      RoutingProgress routing, SidecarMetrics metrics) {
    this.routing = routing;
    Map<String, Object> c = new HashMap<>(kafka);
    c.remove(ConsumerConfig.GROUP_ID_CONFIG);
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.CLIENT_ID_CONFIG, "flowtrace-broadcast");
    this.consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    this.inbox = inbox;
    this.metrics = metrics;
    List<TopicPartition> tps = Router.partitionsOf(consumer, topic);
    consumer.assign(tps);
    Map<TopicPartition, Long> since = new HashMap<>();
    tps.forEach(tp -> since.put(tp, System.currentTimeMillis() - lookbackMillis));
    Map<TopicPartition, OffsetAndTimestamp> starts = consumer.offsetsForTimes(since);
    for (TopicPartition tp : tps) {
      OffsetAndTimestamp at = starts.get(tp);
      if (at == null) {
        consumer.seekToEnd(List.of(tp));
      } else {
        consumer.seek(tp, at.offset());
      }
      consumer.position(tp);
    }
    this.thread = new Thread(this::run, "flowtrace-broadcast");
    this.thread.setDaemon(true);
  }

  public void start() {
    thread.start();
  }

  /** Whether the reader thread runs. */
  public boolean healthy() {
    return thread.isAlive();
  }

  private void run() {
    try {
      while (!closing.get()) {
        List<Telemetry> items = new ArrayList<>();
        try {
          for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(50))) {
            org.apache.kafka.common.header.Header router = r.headers().lastHeader(RoutingProgress.HEADER);
            if (router != null) {
              String id = router.value() == null ? "" : new String(router.value(), java.nio.charset.StandardCharsets.UTF_8);
              if (!routing.apply(id, r.value(), System.currentTimeMillis())) {
                metrics.dropped("undecodable_progress_mark", 1);
              }
              continue;
            }
            try {
              items.add(TelemetryCodec.read(r.value()));
            } catch (IOException | RuntimeException | StackOverflowError e) { // the codec bounds nesting; this is the backstop
              LOG.warn("event=skip topic={} partition={} offset={} reason=\"not a routed item: {}\"", r.topic(),
                  r.partition(), r.offset(), e.toString());
              metrics.dropped("undecodable_routed_item", 1);
            }
          }
        } catch (WakeupException e) {
          continue;
        } catch (KafkaException e) {
          if (!KafkaInput.skipUnreadable(consumer, e, LOG, metrics::dropped)) {
            LOG.warn("event=broadcast_poll_failed error=\"{}\"", e.toString());
            pauseAfterFailure();
          }
          continue;
        }
        if (!items.isEmpty()) {
          metrics.spans("broadcast", items.size());
          Batch batch = Batch.of(items, Map.of());
          while (!inbox.offer(batch, 100, TimeUnit.MILLISECONDS)) {
            if (closing.get()) {
              return;
            }
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      consumer.close(Duration.ofSeconds(5));
    }
  }

  @Override
  public void close() {
    closing.set(true);
    if (thread.getState() == Thread.State.NEW) {
      consumer.close(Duration.ofSeconds(5)); // never started: its thread would have closed it
      return;
    }
    consumer.wakeup();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void pauseAfterFailure() {
    java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(500));
  }
}
