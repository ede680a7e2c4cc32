package io.flowtrace.sidecar.internal;

import java.io.Closeable;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes the records of the repartition topic below the offsets its owners committed, at most once
 * per {@code interval} (as Kafka Streams purges its repartition topics): what is committed was
 * decided and is never read again, so the topic holds what is in flight, not everything ever routed.
 * Asynchronous; a failed deletion is logged and tried again with the next commit. Engine thread only.
 */
public final class RepartitionPurge implements Closeable {

  private static final Logger LOG = LoggerFactory.getLogger(RepartitionPurge.class);

  private final Admin admin;
  private final long intervalMillis;
  private final Map<TopicPartition, Long> committed = new HashMap<>();
  private long lastMillis;

  public RepartitionPurge(Map<String, Object> kafka, Duration interval) {
    Map<String, Object> c = new HashMap<>(kafka);
    c.keySet().removeIf(k -> k.startsWith("group.") || k.startsWith("enable.auto") || k.startsWith("auto.offset"));
    this.admin = Admin.create(c);
    this.intervalMillis = interval.toMillis();
  }

  /** Offsets just committed; deletes below them (and earlier ones) when the interval has passed. */
  public void committed(Map<TopicPartition, Long> offsets, long nowMillis) {
    offsets.forEach((tp, o) -> committed.merge(tp, o, Math::max));
    if (committed.isEmpty() || nowMillis - lastMillis < intervalMillis) {
      return;
    }
    lastMillis = nowMillis;
    Map<TopicPartition, RecordsToDelete> delete = new HashMap<>();
    committed.forEach((tp, o) -> delete.put(tp, RecordsToDelete.beforeOffset(o)));
    committed.clear();
    admin.deleteRecords(delete).all().whenComplete((ok, e) -> {
      if (e != null) {
        LOG.warn("event=purge_failed topic_partitions={} error=\"{}\" detail=\"tried again after the next commit\"",
            delete.keySet(), e.toString());
      }
    });
  }

  @Override
  public void close() {
    admin.close(Duration.ofSeconds(5));
  }
}
