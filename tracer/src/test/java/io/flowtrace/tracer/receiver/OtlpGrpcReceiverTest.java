package io.flowtrace.tracer.receiver;

import static io.flowtrace.tracer.TestObjects.SERVER_SPAN_ID;
import static io.flowtrace.tracer.TestObjects.id;
import static io.flowtrace.tracer.TestObjects.request;
import static io.flowtrace.tracer.TestObjects.span;
import static io.flowtrace.tracer.receiver.ReceiverFixtures.protobuf;
import static io.flowtrace.tracer.receiver.ReceiverFixtures.sdkSpans;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.rpc.RetryInfo;
import io.flowtrace.tracer.model.Span;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class OtlpGrpcReceiverTest {

  private final InMemoryTelemetrySink sink = InMemoryTelemetrySink.create();
  private final CountDownLatch release = new CountDownLatch(1);
  private BoundedTelemetryQueue queue;
  private OtlpGrpcReceiver receiver;
  private ManagedChannel channel;

  @AfterEach
  void close() throws InterruptedException {
    release.countDown();
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (receiver != null) {
      receiver.close();
    }
    if (queue != null) {
      queue.close();
    }
  }

  private TraceServiceGrpc.TraceServiceBlockingStub start(BoundedTelemetryQueue queue) throws Exception {
    this.queue = queue;
    receiver = OtlpGrpcReceiver.builder(queue).port(0).maxMessageBytes(64 * 1024).start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", receiver.port()).usePlaintext().build();
    return TraceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  @Test
  void deliversSpansExportedOverARealChannel() throws Exception {
    TraceServiceGrpc.TraceServiceBlockingStub stub = start(BoundedTelemetryQueue.create(sink));
    List<SpanData> sent = sdkSpans(3);

    ExportTraceServiceResponse response = stub.export(ExportTraceServiceRequest.parseFrom(protobuf(sent)));

    assertThat(response.hasPartialSuccess()).isFalse();
    assertThat(queue.awaitDrained(Duration.ofSeconds(5))).isTrue();
    assertThat(sink.spans()).extracting(Span::spanId)
        .containsExactlyElementsOf(sent.stream().map(SpanData::getSpanId).toList());
    assertThat(sink.spans().get(0).attributes()).containsEntry("messaging.destination.name", "orders.requested");
    assertThat(sink.spans()).extracting(Span::service).containsOnly("gateway");
  }

  @Test
  void acceptsGzipCompressedMessages() throws Exception {
    TraceServiceGrpc.TraceServiceBlockingStub stub = start(BoundedTelemetryQueue.create(sink));

    stub.withCompression("gzip").export(ExportTraceServiceRequest.parseFrom(protobuf(sdkSpans(2))));

    queue.awaitDrained(Duration.ofSeconds(5));
    assertThat(sink.spans()).hasSize(2);
  }

  @Test
  void answersResourceExhaustedWithRetryInfoWhenTheQueueIsFull() throws Exception {
    TraceServiceGrpc.TraceServiceBlockingStub stub = start(BoundedTelemetryQueue.builder(telemetry -> {
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      sink.accept(telemetry);
    }).capacity(10).build());
    ExportTraceServiceRequest six = ExportTraceServiceRequest.parseFrom(protobuf(sdkSpans(6)));
    stub.export(six);

    StatusRuntimeException refused = catchThrowableOfType(StatusRuntimeException.class, () -> stub.export(six));

    assertThat(refused.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.RESOURCE_EXHAUSTED);
    assertThat(refused.getStatus().getDescription()).isEqualTo("flowtrace cannot keep up: its queue cannot "
        + "take 6 more spans now (6 of 10 queued); retry later");
    RetryInfo retry = StatusProto.fromThrowable(refused).getDetails(0).unpack(RetryInfo.class);
    assertThat(retry.getRetryDelay().getSeconds()).isEqualTo(1);
    assertThat(queue.dropped(DropReason.OVERLOADED)).isEqualTo(6);

    release.countDown();
    assertThat(queue.awaitDrained(Duration.ofSeconds(5))).isTrue();
    stub.export(six);
    assertThat(queue.awaitDrained(Duration.ofSeconds(5))).isTrue();
    assertThat(sink.spans()).hasSize(12);
  }

  @Test
  void answersResourceExhaustedWithoutRetryInfoWhenTheRequestCanNeverFit() throws Exception {
    TraceServiceGrpc.TraceServiceBlockingStub stub =
        start(BoundedTelemetryQueue.builder(sink).capacity(10).build());

    StatusRuntimeException refused = catchThrowableOfType(StatusRuntimeException.class,
        () -> stub.export(ExportTraceServiceRequest.parseFrom(protobuf(sdkSpans(11)))));

    assertThat(refused.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.RESOURCE_EXHAUSTED);
    assertThat(refused.getStatus().getDescription())
        .isEqualTo("the request has 11 spans, more than the queue holds (10); send smaller batches");
    assertThat(StatusProto.fromThrowable(refused).getDetailsList()).isEmpty();
  }

  @Test
  void answersInvalidArgumentWhenEverySpanHasAnInvalidId() throws Exception {
    TraceServiceGrpc.TraceServiceBlockingStub stub = start(BoundedTelemetryQueue.create(sink));
    ExportTraceServiceRequest request = request("gateway",
        span(SERVER_SPAN_ID, "", "POST /api/orders", io.opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_SERVER)
            .setTraceId(id("0102")));

    StatusRuntimeException refused = catchThrowableOfType(StatusRuntimeException.class, () -> stub.export(request));

    assertThat(refused.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT);
    assertThat(refused.getStatus().getDescription()).isEqualTo("rejected 1 of 1 spans for invalid ids: span 1 "
        + "'POST /api/orders' of resource 1, scope 1 has a traceId of 2 bytes (0102), not 16");
  }

  @Test
  void answersPartialSuccessWhenSomeSpansHaveInvalidIds() throws Exception {
    TraceServiceGrpc.TraceServiceBlockingStub stub = start(BoundedTelemetryQueue.create(sink));
    ExportTraceServiceRequest request = request("gateway",
        span(SERVER_SPAN_ID, "", "POST /api/orders", io.opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_SERVER),
        span(SERVER_SPAN_ID, "", "bad", io.opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_SERVER)
            .setSpanId(id("01")));

    ExportTraceServiceResponse response = stub.export(request);

    assertThat(response.getPartialSuccess().getRejectedSpans()).isEqualTo(1);
    assertThat(response.getPartialSuccess().getErrorMessage()).isEqualTo("rejected 1 of 2 spans for invalid "
        + "ids: span 2 'bad' of resource 1, scope 1 has a spanId of 1 bytes (01), not 8");
  }

  @Test
  void refusesAMessageOverTheSizeLimit() throws Exception {
    TraceServiceGrpc.TraceServiceBlockingStub stub = start(BoundedTelemetryQueue.create(sink));
    ExportTraceServiceRequest large = ExportTraceServiceRequest.parseFrom(protobuf(sdkSpans(400)));
    assertThat(large.getSerializedSize()).isGreaterThan(64 * 1024);

    StatusRuntimeException refused = catchThrowableOfType(StatusRuntimeException.class, () -> stub.export(large));

    assertThat(refused.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.RESOURCE_EXHAUSTED);
    assertThat(refused.getStatus().getDescription()).startsWith("gRPC message exceeds maximum size 65536");
    stub.export(ExportTraceServiceRequest.parseFrom(protobuf(sdkSpans(1))));
    queue.awaitDrained(Duration.ofSeconds(5));
    assertThat(sink.spans()).hasSize(1);
  }
}
