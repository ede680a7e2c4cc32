package io.flowtrace.tracer.receiver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Both OTLP receivers' builders take the same settings with the same checks and messages. */
class ReceiverBuilderTest {

  private final BoundedTelemetryQueue queue = BoundedTelemetryQueue.create(InMemoryTelemetrySink.create());

  @AfterEach
  void closeQueue() {
    queue.close();
  }

  private List<ReceiverBuilder<?>> builders() {
    return List.of(OtlpHttpReceiver.builder(queue), OtlpGrpcReceiver.builder(queue));
  }

  @Test
  void bothRejectTheSameBadSettingsWithTheSameMessages() {
    for (ReceiverBuilder<?> b : builders()) {
      assertRejected(b, x -> x.port(-1), "port must be 0..65535, was -1");
      assertRejected(b, x -> x.port(65536), "port must be 0..65535, was 65536");
      assertRejected(b, x -> x.threads(0), "threads must be at least 1, was 0");
      assertRejected(b, x -> x.backlog(-1), "backlog must not be negative, was -1");
      assertRejected(b, x -> x.retryAfter(Duration.ofSeconds(-1)), "retryAfter must not be negative, was PT-1S");
      assertThatThrownBy(() -> b.host(null)).isInstanceOf(NullPointerException.class).hasMessage("host");
    }
    assertThatThrownBy(() -> OtlpHttpReceiver.builder(queue).maxBodyBytes(0))
        .hasMessage("maxBodyBytes must be at least 1, was 0");
    assertThatThrownBy(() -> OtlpGrpcReceiver.builder(queue).maxMessageBytes(0))
        .hasMessage("maxMessageBytes must be at least 1, was 0");
  }

  @Test
  void bothHaveTheSameDefaultsButTheirPort() {
    for (ReceiverBuilder<?> b : builders()) {
      assertThat(b.host).isEqualTo("127.0.0.1");
      assertThat(b.threads).isEqualTo(4);
      assertThat(b.backlog).isEqualTo(64);
      assertThat(b.maxRequestBytes).isEqualTo(16 * 1024 * 1024);
      assertThat(b.retryAfter).isEqualTo(Duration.ofSeconds(1));
    }
    assertThat(OtlpHttpReceiver.builder(queue).port).isEqualTo(4318);
    assertThat(OtlpGrpcReceiver.builder(queue).port).isEqualTo(4317);
  }

  @Test
  void aGrpcReceiverWithoutBacklogStartsAsAnHttpOneDoes() throws Exception {
    try (OtlpGrpcReceiver grpc = OtlpGrpcReceiver.builder(queue).port(0).threads(1).backlog(0).start();
        OtlpHttpReceiver http = OtlpHttpReceiver.builder(queue).port(0).threads(1).backlog(0).start()) {
      assertThat(grpc.port()).isPositive();
      assertThat(http.port()).isPositive();
    }
  }

  private static void assertRejected(ReceiverBuilder<?> b, Function<ReceiverBuilder<?>, Object> set, String message) {
    assertThatThrownBy(() -> set.apply(b)).as(b.getClass().getName())
        .isInstanceOf(IllegalArgumentException.class).hasMessage(message);
  }
}
