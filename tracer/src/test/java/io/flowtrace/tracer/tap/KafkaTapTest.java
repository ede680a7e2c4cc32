package io.flowtrace.tracer.tap;

import io.flowtrace.tracer.testing.Await;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Telemetry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.errors.RecordDeserializationException.DeserializationExceptionOrigin;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;

/** Builder validation and the poll loop's error handling, against Kafka's MockConsumer. */
class KafkaTapTest {

  private static final TopicPartition TP = new TopicPartition("orders.created", 0);

  @Test
  void reportsEveryMissingSettingAtOnce() {
    assertThatThrownBy(() -> KafkaTap.builder().start())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("Missing : bootstrapServers topics sink");
  }

  @Test
  void overridesMayNotTakeOverTheGroupCommitsOrDeserializers() {
    assertThatThrownBy(() -> KafkaTap.builder().overrides(Map.of("enable.auto.commit", true)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("overrides may not set enable.auto.commit: the tap sets it itself (it never"
            + " auto-commits, reads raw bytes, and has its own group; use groupId(...) to name the group and"
            + " commit(...) to commit)");
    assertThatThrownBy(() -> KafkaTap.builder().overrides(Map.of("group.id", "order-service")))
        .hasMessageStartingWith("overrides may not set group.id:");
  }

  @Test
  void consumerIsReadOnlyInItsOwnGroupWithRawOverridesPassedThrough() {
    Map<String, Object> props = KafkaTap.builder()
        .bootstrapServers("127.0.0.1:9092")
        .overrides(Map.of("security.protocol", "SASL_SSL", "isolation.level", "read_uncommitted"))
        .consumerProperties("flowtrace-tap-x");
    assertThat(props)
        .containsEntry("group.id", "flowtrace-tap-x")
        .containsEntry("enable.auto.commit", false)
        .containsEntry("auto.offset.reset", "latest")
        .containsEntry("key.deserializer", ByteArrayDeserializer.class)
        .containsEntry("value.deserializer", ByteArrayDeserializer.class)
        .containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("isolation.level", "read_uncommitted");
    assertThat(KafkaTap.builder().bootstrapServers("h:1").consumerProperties("g"))
        .containsEntry("isolation.level", "read_committed");
  }

  @Test
  void skipsAPoisonRecordWithOneCountAndReadsOn() throws Exception {
    MockConsumer<byte[], byte[]> mock = new MockConsumer<>("earliest");
    mock.updateBeginningOffsets(Map.of(TP, 0L));
    mock.updateEndOffsets(Map.of(TP, 3L));
    mock.schedulePollTask(() -> {
      mock.rebalance(List.of(TP));
      mock.addRecord(new ConsumerRecord<>(TP.topic(), 0, 0, "k0".getBytes(), "v0".getBytes()));
    });
    mock.schedulePollTask(() -> mock.setPollException(
        new RecordDeserializationException(DeserializationExceptionOrigin.VALUE, TP, 1, 0L,
            TimestampType.CREATE_TIME, null, null, new RecordHeaders(), "corrupt record", null)));
    mock.schedulePollTask(() ->
        mock.addRecord(new ConsumerRecord<>(TP.topic(), 0, 2, "k2".getBytes(), "v2".getBytes())));
    List<KafkaRecord> seen = new CopyOnWriteArrayList<>();

    try (KafkaTap tap = KafkaTap.builder()
        .bootstrapServers("127.0.0.1:9")
        .topics(List.of(TP.topic()))
        .startPosition(StartPosition.EARLIEST)
        .pollTimeout(Duration.ofMillis(10))
        .sink(t -> seen.add(((Telemetry.RecordEvent) t).record()))
        .consumerFactory(props -> mock)
        .start()) {
      Await.until(() -> seen.size() >= 2, () -> seen + " skipped=" + tap.skipped());
      assertThat(seen).extracting(KafkaRecord::coordinates)
          .containsExactly("orders.created[0]@0", "orders.created[0]@2");
      assertThat(tap.skipped()).isEqualTo(1);
      assertThat(tap.isRunning()).isTrue();
    }
    assertThat(mock.closed()).isTrue();
  }
}
