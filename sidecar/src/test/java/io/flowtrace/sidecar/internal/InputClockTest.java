package io.flowtrace.sidecar.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Telemetry;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** The sidecar's watermark over its Kafka inputs. */
class InputClockTest {

  private static final TopicPartition CREATED = new TopicPartition("orders.created", 0);
  private static final TopicPartition EMAILS = new TopicPartition("notifications.email", 0);
  private static final long NOW = 1_000_000_000_000L;
  private static final long NOW_EPOCH_MILLIS = 1_764_000_000_000L;

  private final InputClock clock = new InputClock();

  @Test
  void isTheWallClockWhenEveryPartitionIsCaughtUp() {
    clock.processed(batch(CREATED, 5, 100, 900));

    assertThat(clock.watermark(NOW, Map.of(CREATED, new KafkaInput.Progress(5, 0),
        EMAILS, new KafkaInput.Progress(-1, 0)))).isEqualTo(NOW);
  }

  @Test
  void staysAtTheEventTimeTheFurthestBehindPartitionWasProcessedTo() {
    clock.processed(batch(CREATED, 5, 100, 900));
    clock.processed(batch(EMAILS, 3, 400));

    assertThat(clock.watermark(NOW, Map.of(CREATED, new KafkaInput.Progress(5, 70),
        EMAILS, new KafkaInput.Progress(3, 12)))).isEqualTo(400_000_000L);
    assertThat(clock.watermark(NOW, Map.of(CREATED, new KafkaInput.Progress(5, 70),
        EMAILS, new KafkaInput.Progress(3, 0)))).as("e-mails caught up").isEqualTo(900_000_000L);
  }

  @Test
  void aPartitionReadButNotYetProcessedIsBehind() {
    clock.processed(batch(CREATED, 5, 100, 900));

    assertThat(clock.watermark(NOW, Map.of(CREATED, new KafkaInput.Progress(9, 0)))).isEqualTo(900_000_000L);
  }

  @Test
  void holdsWhileABehindPartitionHasNothingProcessedOrItsLagIsUnknown() {
    assertThat(clock.watermark(NOW, Map.of(CREATED, new KafkaInput.Progress(-1, -1))))
        .isEqualTo(InputClock.UNKNOWN);
    assertThat(clock.watermark(NOW, Map.of(CREATED, new KafkaInput.Progress(-1, 0)))).isEqualTo(NOW);
    assertThat(clock.watermark(NOW + 5, Map.of(CREATED, new KafkaInput.Progress(-1, 0),
        EMAILS, new KafkaInput.Progress(-1, 40)))).as("held where it was").isEqualTo(NOW);
  }

  @Test
  void whereItIsHeldNowGoesBackWhenAPartitionBehindIsTakenOver() {
    clock.processed(batch(CREATED, 5, 900));
    assertThat(clock.heldAt(NOW, Map.of(CREATED, new KafkaInput.Progress(5, 0)))).isEqualTo(NOW);

    assertThat(clock.heldAt(NOW, Map.of(CREATED, new KafkaInput.Progress(5, 0), EMAILS, new KafkaInput.Progress(-1, -1))))
        .as("a partition just assigned, nothing of it processed").isEqualTo(InputClock.UNKNOWN);
    clock.processed(batch(EMAILS, 3, 400));
    assertThat(clock.heldAt(NOW, Map.of(CREATED, new KafkaInput.Progress(5, 0), EMAILS, new KafkaInput.Progress(3, 8))))
        .isEqualTo(400_000_000L);
    assertThat(clock.heldAt(NOW, Map.of())).as("owning nothing").isEqualTo(NOW);
  }

  @Test
  void neverGoesBackAndForgetsRevokedPartitions() {
    clock.processed(batch(CREATED, 5, 900));
    assertThat(clock.watermark(NOW, Map.of(CREATED, new KafkaInput.Progress(5, 0)))).isEqualTo(NOW);
    clock.processed(batch(EMAILS, 3, 400));
    assertThat(clock.watermark(NOW + 1, Map.of(EMAILS, new KafkaInput.Progress(3, 8)))).isEqualTo(NOW);

    clock.revoked(List.of(EMAILS));
    assertThat(clock.watermark(NOW + 2, Map.of(EMAILS, new KafkaInput.Progress(3, 8))))
        .as("nothing processed of it any more: held").isEqualTo(NOW);
  }

  @Test
  void aProducerRunningBehindHoldsTheWatermarkAsFarBehindAsItsRecordsArrive() {
    long now = NOW_EPOCH_MILLIS * 1_000_000L;
    for (int i = 0; i < 5; i++) {
      clock.processed(arrived(CREATED, 5 + i, NOW_EPOCH_MILLIS - 1_000 + i, NOW_EPOCH_MILLIS - 20_000 + i));
    }

    assertThat(clock.watermark(now, Map.of(CREATED, new KafkaInput.Progress(9, 0), EMAILS, new KafkaInput.Progress(-1, 0))))
        .isEqualTo(now - 19_000_000_000L);
  }

  @Test
  void oneLateRecordAmongTimelyOnesHoldsNothing() {
    long now = NOW_EPOCH_MILLIS * 1_000_000L;
    for (int i = 0; i < 4; i++) {
      clock.processed(arrived(CREATED, 5 + i, NOW_EPOCH_MILLIS - 1_000 + i, NOW_EPOCH_MILLIS - 1_000 + i));
    }
    clock.processed(arrived(CREATED, 9, NOW_EPOCH_MILLIS - 500, NOW_EPOCH_MILLIS - 60_000));

    assertThat(clock.watermark(now, Map.of(CREATED, new KafkaInput.Progress(9, 0)))).isEqualTo(now);
  }

  @Test
  void aBacklogStampedMinutesAgoIsNoProducerBehindAndADelayIsForgottenAfterThirtySeconds() {
    long now = NOW_EPOCH_MILLIS * 1_000_000L;
    clock.processed(arrived(CREATED, 5, NOW_EPOCH_MILLIS - 1_000, NOW_EPOCH_MILLIS - 3_600_000));
    assertThat(clock.watermark(now, Map.of(CREATED, new KafkaInput.Progress(5, 0)))).as("an hour-old backlog")
        .isEqualTo(now);

    clock.processed(arrived(EMAILS, 3, NOW_EPOCH_MILLIS - 31_000, NOW_EPOCH_MILLIS - 41_000));
    assertThat(clock.watermark(now + 1, Map.of(EMAILS, new KafkaInput.Progress(3, 0)))).as("31 s ago").isEqualTo(now + 1);
  }

  /** A batch of one record stamped {@code recordMillis}, handed over at {@code arrivedMillis}. */
  private static Batch arrived(TopicPartition tp, long endOffset, long arrivedMillis, long recordMillis) {
    Telemetry record = Telemetry.of(new KafkaRecord(tp.topic(), tp.partition(), endOffset - 1, recordMillis, null,
        List.of(), new byte[0]));
    return new Batch(List.of(record), Map.of(tp, endOffset), tp.partition(), System.nanoTime(), arrivedMillis, null, null);
  }

  private static Batch batch(TopicPartition tp, long endOffset, long... eventMillisTimes) {
    List<Telemetry> items = new java.util.ArrayList<>();
    long offset = endOffset - eventMillisTimes.length;
    for (long t : eventMillisTimes) {
      items.add(Telemetry.of(new KafkaRecord(tp.topic(), tp.partition(), offset++, t, null, List.of(), new byte[0])));
    }
    return Batch.of(items, Map.of(tp, endOffset), tp.partition());
  }
}
