package io.flowtrace.tracer.tap;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.DisconnectException;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.errors.RecordDeserializationException.DeserializationExceptionOrigin;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Which record a failed poll names, as the Kafka 4 consumer words it. The consumer is a real one
 * that never connects: positions set by {@code seek} are known without a broker.
 */
class UnreadableRecordsTest {

  private static final TopicPartition ORDERS = new TopicPartition("orders.created", 0);

  private final KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(
      Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9"),
      new ByteArrayDeserializer(), new ByteArrayDeserializer());

  @AfterEach
  void close() {
    consumer.close();
  }

  @Test
  void aDeserializerFailureNamesItsRecord() {
    var failure = new RecordDeserializationException(DeserializationExceptionOrigin.VALUE, ORDERS, 4, 0L,
        TimestampType.CREATE_TIME, null, null, new RecordHeaders(), "bad value", null);

    var skip = UnreadableRecords.locate(consumer, failure).orElseThrow();

    assertThat(skip.partition()).isEqualTo(ORDERS);
    assertThat(skip.offset()).isEqualTo(4);
    assertThat(skip.resumeAt()).isEqualTo(5);
    assertThat(skip.coordinates()).isEqualTo("orders.created[0]@4");
    assertThat(skip.reason()).isEqualTo("unreadable record: bad value");
  }

  @Test
  void aBatchFailingItsChecksumIsFoundInsideTheWrappingException() {
    var failure = new KafkaException("Received exception when fetching the next record from my-app.orders-v2-12. "
        + "If needed, please seek past the record to continue consumption.",
        new KafkaException("Record batch for partition my-app.orders-v2-12 at offset 7 is invalid, cause: "
            + "Record is corrupt (stored crc = 1, computed crc = 2)"));

    var skip = UnreadableRecords.locate(consumer, failure).orElseThrow();

    assertThat(skip.partition()).isEqualTo(new TopicPartition("my-app.orders-v2", 12));
    assertThat(skip.offset()).isEqualTo(7);
    assertThat(skip.resumeAt()).isEqualTo(8);
    assertThat(skip.reason()).isEqualTo("corrupt record: Record is corrupt (stored crc = 1, computed crc = 2)");
  }

  @Test
  void aCorruptBatchReportedAgainAtItsBaseOffsetMovesOnFromTheConsumersPosition() {
    consumer.assign(List.of(ORDERS));
    consumer.seek(ORDERS, 8);
    var failure = new KafkaException("Record batch for partition orders.created-0 at offset 7 is invalid, cause: "
        + "Record is corrupt");

    var skip = UnreadableRecords.skipPast(consumer, failure).orElseThrow();

    assertThat(skip.offset()).isEqualTo(8);
    assertThat(skip.resumeAt()).isEqualTo(9);
    assertThat(consumer.position(ORDERS)).isEqualTo(9);
  }

  @Test
  void aWrappedFailureWithoutAnOffsetSkipsTheRecordAtTheConsumersPosition() {
    consumer.assign(List.of(ORDERS));
    consumer.seek(ORDERS, 3);
    var failure = new KafkaException("Received exception when fetching the next record from orders.created-0. "
        + "If needed, please seek past the record to continue consumption.", new IllegalStateException("odd bytes"));

    var skip = UnreadableRecords.locate(consumer, failure).orElseThrow();

    assertThat(skip.coordinates()).isEqualTo("orders.created[0]@3");
    assertThat(skip.resumeAt()).isEqualTo(4);
  }

  @Test
  void aFailureThatIsNotAboutOneRecordIsLeftToRetry() {
    consumer.assign(List.of(ORDERS));
    consumer.seek(ORDERS, 3);

    assertThat(UnreadableRecords.skipPast(consumer, new DisconnectException("broker went away"))).isEmpty();
    assertThat(UnreadableRecords.skipPast(consumer, new KafkaException("Failed to construct kafka consumer"))).isEmpty();
    assertThat(consumer.position(ORDERS)).isEqualTo(3);
  }
}
