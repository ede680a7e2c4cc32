package io.flowtrace.tracer.receiver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowtrace.tracer.TestObjects;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.Telemetry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class BoundedTelemetryQueueTest {

  private static List<Telemetry> spans(int count) {
    List<Telemetry> batch = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      batch.add(Telemetry.of(Span.builder().traceId(TestObjects.TRACE_ID)
          .spanId(String.format("%016x", i + 1)).name("span " + i).build()));
    }
    return batch;
  }

  @Test
  void takesWholeBatchesUpToItsCapacityAndRefusesTheRestUntilTheSinkCatchesUp() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    InMemoryTelemetrySink delivered = InMemoryTelemetrySink.create();
    try (BoundedTelemetryQueue queue = BoundedTelemetryQueue.builder(telemetry -> {
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      delivered.accept(telemetry);
    }).capacity(10).build()) {

      assertThat(queue.offer(spans(6))).isEqualTo(BoundedTelemetryQueue.Offer.ACCEPTED);
      assertThat(queue.offer(spans(5))).isEqualTo(BoundedTelemetryQueue.Offer.FULL);
      assertThat(queue.offer(spans(4))).isEqualTo(BoundedTelemetryQueue.Offer.ACCEPTED);
      assertThat(queue.isFull()).isTrue();
      assertThat(queue.offer(spans(11))).isEqualTo(BoundedTelemetryQueue.Offer.TOO_LARGE);
      assertThat(queue.offer(List.of())).isEqualTo(BoundedTelemetryQueue.Offer.ACCEPTED);
      assertThat(queue.queued()).isEqualTo(10);

      release.countDown();
      assertThat(queue.awaitDrained(Duration.ofSeconds(5))).isTrue();
      assertThat(delivered.spans()).hasSize(10);
      assertThat(queue.stats())
          .isEqualTo("received=26 accepted=10 delivered=10 queued=0 dropped={TOO_LARGE=11, OVERLOADED=5} refused_requests={TOO_LARGE=1, OVERLOADED=1}");
      assertThat(queue.refusedRequests(DropReason.OVERLOADED)).isEqualTo(1);
    }
  }

  @Test
  void deliversWhatItAcceptedBeforeClosingAndRefusesAfter() {
    InMemoryTelemetrySink delivered = InMemoryTelemetrySink.create();
    BoundedTelemetryQueue queue = BoundedTelemetryQueue.builder(delivered).capacity(1000).build();
    for (int i = 0; i < 50; i++) {
      queue.offer(spans(10));
    }

    queue.close();
    queue.close();

    assertThat(delivered.spans()).hasSize(500);
    assertThat(queue.offer(spans(1))).isEqualTo(BoundedTelemetryQueue.Offer.CLOSED);
    assertThat(queue.dropped(DropReason.CLOSED)).isEqualTo(1);
  }

  @Test
  void countsASinkThatThrowsAndGoesOn() throws Exception {
    InMemoryTelemetrySink delivered = InMemoryTelemetrySink.create();
    try (BoundedTelemetryQueue queue = BoundedTelemetryQueue.builder(telemetry -> {
      if (((Telemetry.SpanEvent) telemetry).span().name().equals("span 0")) {
        throw new IllegalStateException("disk full");
      }
      delivered.accept(telemetry);
    }).build()) {

      queue.offer(spans(1));
      queue.offer(spans(3));

      assertThat(queue.awaitDrained(Duration.ofSeconds(5))).isTrue();
      assertThat(queue.dropped(DropReason.SINK_FAILED)).isEqualTo(4);
      assertThat(queue.delivered()).isEqualTo(4);
    }
  }

  @Test
  void refusesACapacityBelowOne() {
    assertThatThrownBy(() -> BoundedTelemetryQueue.builder(TelemetrySink.noop()).capacity(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("capacity must be at least 1, was 0");
  }
}
