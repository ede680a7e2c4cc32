package io.flowtrace.sidecar.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Telemetry;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Whether the engine is behind its OTLP receivers, and where that holds the watermark and the Kafka input. */
class ReceiverLagTest {

  private static final long SECOND = 1_000_000_000L;
  private static final long NOW = 1_000_000 * SECOND;
  private static final long SLACK = 6 * SECOND;
  private static final long NONE = Long.MAX_VALUE;

  private final ReceiverLag lag = new ReceiverLag(SLACK);

  @Test
  void isNotBehindWhileWhatTheReceiversAcknowledgedIsTakenWithinASecond() {
    assertThat(lag.heldAt(NOW, NONE, 0)).isEqualTo(ReceiverLag.NOT_BEHIND);
    assertThat(lag.heldAt(NOW, NOW - SECOND / 2, 0)).isEqualTo(ReceiverLag.NOT_BEHIND);
    assertThat(lag.kafkaUpTo()).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void behindItHoldsTheWatermarkAtTheLatestSpanProcessedAndKafkaAGraceLater() {
    Batch first = batch(NOW - 10 * SECOND, NOW - 9 * SECOND);
    lag.handedOver(first, NOW - 8 * SECOND);
    assertThat(lag.heldAt(NOW, NONE, 0)).as("nothing processed yet").isEqualTo(InputClock.UNKNOWN);
    assertThat(lag.kafkaUpTo()).isEqualTo(Long.MIN_VALUE);

    lag.processed(first);
    assertThat(lag.heldAt(NOW, NOW - 3 * SECOND, 0)).as("queued 3 s ago").isEqualTo(NOW - 9 * SECOND);
    assertThat(lag.kafkaUpTo()).isEqualTo(NOW - 9 * SECOND + SLACK);
    assertThat(lag.heldAt(NOW, NONE, 0)).as("caught up").isEqualTo(ReceiverLag.NOT_BEHIND);
  }

  @Test
  void aBatchStillInTheInboxCountsAsWaiting() {
    Batch b = batch(NOW - 5 * SECOND);
    lag.processed(batch(NOW - 7 * SECOND)); // not from the receivers: ignored
    lag.handedOver(b, NOW - 2 * SECOND);
    assertThat(lag.heldAt(NOW, NONE, 0)).isEqualTo(InputClock.UNKNOWN);
    lag.withdrawn(b);
    assertThat(lag.heldAt(NOW, NONE, 0)).isEqualTo(ReceiverLag.NOT_BEHIND);
  }

  @Test
  void aRefusalKeepsItBehindUntilTheReceiversHaveRefusedNothingFor5Seconds() {
    Batch b = batch(NOW - SECOND);
    lag.handedOver(b, NOW - SECOND);
    lag.processed(b);
    assertThat(lag.heldAt(NOW, NONE, 3)).isEqualTo(NOW - SECOND);
    assertThat(lag.heldAt(NOW + 4 * SECOND, NONE, 3)).isEqualTo(NOW - SECOND);
    assertThat(lag.heldAt(NOW + 6 * SECOND, NONE, 3)).isEqualTo(ReceiverLag.NOT_BEHIND);
  }

  private static Batch batch(long... eventNanos) {
    List<Telemetry> items = new java.util.ArrayList<>();
    for (long t : eventNanos) {
      items.add(Telemetry.of(new KafkaRecord("t", 0, 0, t / 1_000_000, null, List.of(), new byte[0])));
    }
    return Batch.of(items, Map.of());
  }
}
