package io.flowtrace.tracer.receiver;

import static io.flowtrace.tracer.TestObjects.PRODUCER_SPAN_ID;
import static io.flowtrace.tracer.TestObjects.SERVER_SPAN_ID;
import static io.flowtrace.tracer.TestObjects.TRACE_ID;
import static io.flowtrace.tracer.TestObjects.id;
import static io.flowtrace.tracer.TestObjects.request;
import static io.flowtrace.tracer.TestObjects.span;
import static io.flowtrace.tracer.receiver.ReceiverFixtures.gzip;
import static io.flowtrace.tracer.receiver.ReceiverFixtures.protobuf;
import static io.flowtrace.tracer.receiver.ReceiverFixtures.sdkSpans;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.RetryInfo;
import com.google.rpc.Status;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.otlp.OtlpJson;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class OtlpHttpReceiverTest {

  private static final String PROTOBUF = "application/x-protobuf";
  private static final String JSON = "application/json";

  /** One line of OTLP/JSON as the agent's stdout exporter writes it: hex ids, kind as a number. */
  private static final String AGENT_JSON_LINE = "{\"resourceSpans\":[{\"resource\":{\"attributes\":["
      + "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"order-service\"}}]},"
      + "\"scopeSpans\":[{\"scope\":{\"name\":\"io.opentelemetry.kafka-clients-0.11\"},\"spans\":[{"
      + "\"traceId\":\"" + TRACE_ID + "\",\"spanId\":\"" + PRODUCER_SPAN_ID + "\",\"parentSpanId\":\""
      + SERVER_SPAN_ID + "\",\"name\":\"orders.requested process\",\"kind\":5,"
      + "\"startTimeUnixNano\":\"1732530000000000000\",\"endTimeUnixNano\":\"1732530000001000000\","
      + "\"attributes\":[{\"key\":\"messaging.system\",\"value\":{\"stringValue\":\"kafka\"}},"
      + "{\"key\":\"messaging.kafka.offset\",\"value\":{\"intValue\":\"42\"}}],\"status\":{}}]}]}]}";

  private final HttpClient client = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5))
      .build();
  private final InMemoryTelemetrySink sink = InMemoryTelemetrySink.create();
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  private BoundedTelemetryQueue queue(BoundedTelemetryQueue.Builder builder) {
    BoundedTelemetryQueue queue = builder.drainTimeout(Duration.ofSeconds(1)).build();
    toClose.add(queue);
    return queue;
  }

  private OtlpHttpReceiver receiver(OtlpHttpReceiver.Builder builder) throws IOException {
    OtlpHttpReceiver receiver = builder.port(0).start();
    toClose.add(receiver);
    return receiver;
  }

  private OtlpHttpReceiver receiver(BoundedTelemetryQueue queue) throws IOException {
    return receiver(OtlpHttpReceiver.builder(queue));
  }

  private HttpResponse<byte[]> post(OtlpHttpReceiver receiver, String contentType, byte[] body,
      String... headers) throws IOException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(receiver.endpoint())
        .timeout(Duration.ofSeconds(10))
        .header("Content-Type", contentType)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (headers.length > 0) {
      request.headers(headers);
    }
    return client.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static Status status(HttpResponse<byte[]> response) throws InvalidProtocolBufferException {
    assertThat(response.headers().firstValue("Content-Type")).contains(PROTOBUF);
    return Status.parseFrom(response.body());
  }

  private static String text(HttpResponse<byte[]> response) {
    return new String(response.body(), StandardCharsets.UTF_8);
  }

  @Test
  void acceptsSpansTheSdkExportsAsProtobufAndDeliversThemWithIdsAndAttributes() throws Exception {
    BoundedTelemetryQueue queue = queue(BoundedTelemetryQueue.builder(sink));
    OtlpHttpReceiver receiver = receiver(queue);
    List<SpanData> sent = sdkSpans(3);

    HttpResponse<byte[]> response = post(receiver, PROTOBUF, protobuf(sent));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).contains(PROTOBUF);
    assertThat(ExportTraceServiceResponse.parseFrom(response.body()).hasPartialSuccess()).isFalse();
    assertThat(queue.awaitDrained(Duration.ofSeconds(5))).isTrue();
    List<Span> received = sink.spans();
    assertThat(received).extracting(Span::spanId)
        .containsExactlyElementsOf(sent.stream().map(SpanData::getSpanId).toList());
    SpanData server = sent.get(2);
    Span producer = received.get(0);
    assertThat(producer.traceId()).isEqualTo(server.getTraceId());
    assertThat(producer.parentSpanId()).isEqualTo(server.getSpanId());
    assertThat(producer.service()).isEqualTo("gateway");
    assertThat(producer.kind()).isEqualTo(SpanKind.PRODUCER);
    assertThat(producer.attributes()).containsEntry("messaging.destination.name", "orders.requested")
        .containsEntry("app.order.number", 1L)
        .containsEntry("messaging.kafka.message.key", "order-1");
    assertThat(received.get(2).attributes()).containsEntry("http.response.status_code", 201L);
    assertThat(queue.received()).isEqualTo(3);
    assertThat(queue.delivered()).isEqualTo(3);
  }

  @Test
  void acceptsAnOtlpJsonLineAsTheAgentWritesItAndAnswersInJson() throws Exception {
    BoundedTelemetryQueue queue = queue(BoundedTelemetryQueue.builder(sink));
    OtlpHttpReceiver receiver = receiver(queue);

    HttpResponse<byte[]> response = post(receiver, "application/json; charset=utf-8",
        AGENT_JSON_LINE.getBytes(StandardCharsets.UTF_8));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).contains(JSON);
    assertThat(text(response)).isEqualTo("{}");
    queue.awaitDrained(Duration.ofSeconds(5));
    assertThat(sink.spans()).containsExactly(new Span(TRACE_ID, PRODUCER_SPAN_ID, SERVER_SPAN_ID,
        "orders.requested process", SpanKind.CONSUMER, "order-service", 1732530000000000000L,
        1732530000001000000L, Map.of("messaging.system", "kafka", "messaging.kafka.offset", 42L),
        List.of(), false));
  }

  @Test
  void acceptsJsonPrintedByOtlpJsonOfSdkSpans() throws Exception {
    BoundedTelemetryQueue queue = queue(BoundedTelemetryQueue.builder(sink));
    OtlpHttpReceiver receiver = receiver(queue);
    List<SpanData> sent = sdkSpans(2);
    String json = OtlpJson.print(ExportTraceServiceRequest.parseFrom(protobuf(sent)));

    HttpResponse<byte[]> response = post(receiver, JSON, json.getBytes(StandardCharsets.UTF_8));

    assertThat(response.statusCode()).isEqualTo(200);
    queue.awaitDrained(Duration.ofSeconds(5));
    assertThat(sink.spans()).extracting(Span::spanId)
        .containsExactlyElementsOf(sent.stream().map(SpanData::getSpanId).toList());
  }

  @Test
  void acceptsGzipProtobufAndGzipJson() throws Exception {
    BoundedTelemetryQueue queue = queue(BoundedTelemetryQueue.builder(sink));
    OtlpHttpReceiver receiver = receiver(queue);

    HttpResponse<byte[]> protobufResponse = post(receiver, PROTOBUF, gzip(protobuf(sdkSpans(4))),
        "Content-Encoding", "gzip");
    HttpResponse<byte[]> jsonResponse = post(receiver, JSON,
        gzip(AGENT_JSON_LINE.getBytes(StandardCharsets.UTF_8)), "Content-Encoding", "gzip");

    assertThat(protobufResponse.statusCode()).isEqualTo(200);
    assertThat(jsonResponse.statusCode()).isEqualTo(200);
    queue.awaitDrained(Duration.ofSeconds(5));
    assertThat(sink.spans()).hasSize(5);
  }

  @Test
  void answersPartialSuccessNamingEachSpanWithAnInvalidId() throws Exception {
    BoundedTelemetryQueue queue = queue(BoundedTelemetryQueue.builder(sink));
    OtlpHttpReceiver receiver = receiver(queue);
    ExportTraceServiceRequest request = request("gateway",
        span(SERVER_SPAN_ID, "", "POST /api/orders", io.opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_SERVER),
        span(PRODUCER_SPAN_ID, SERVER_SPAN_ID, "send orders.requested",
            io.opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_PRODUCER).setTraceId(id("0102030405")));

    HttpResponse<byte[]> response = post(receiver, PROTOBUF, request.toByteArray());

    assertThat(response.statusCode()).isEqualTo(200);
    ExportTraceServiceResponse body = ExportTraceServiceResponse.parseFrom(response.body());
    assertThat(body.getPartialSuccess().getRejectedSpans()).isEqualTo(1);
    assertThat(body.getPartialSuccess().getErrorMessage()).isEqualTo("rejected 1 of 2 spans for invalid ids: "
        + "span 2 'send orders.requested' of resource 1, scope 1 has a traceId of 5 bytes (0102030405), not 16");
    queue.awaitDrained(Duration.ofSeconds(5));
    assertThat(sink.spans()).extracting(Span::spanId).containsExactly(SERVER_SPAN_ID);
    assertThat(queue.dropped(DropReason.INVALID_ID)).isEqualTo(1);
    assertThat(queue.received()).isEqualTo(2);
  }

  @Test
  void answersPartialSuccessInJsonQuotingTheIdAsSent() throws Exception {
    BoundedTelemetryQueue queue = queue(BoundedTelemetryQueue.builder(sink));
    OtlpHttpReceiver receiver = receiver(queue);
    String json = AGENT_JSON_LINE.replace("\"spans\":[{", "\"spans\":[{\"traceId\":\"" + TRACE_ID
        + "\",\"spanId\":\"zz!\",\"name\":\"bad\"},{");

    HttpResponse<byte[]> response = post(receiver, JSON, json.getBytes(StandardCharsets.UTF_8));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(text(response)).isEqualTo("{\"partialSuccess\":{\"rejectedSpans\":\"1\",\"errorMessage\":"
        + "\"rejected 1 of 2 spans for invalid ids: span 1 'bad' of resource 1, scope 1 has spanId 'zz!' "
        + "which is not 8 bytes of hex\"}}");
  }

  @Test
  void refusesARequestWhoseEverySpanHasAnInvalidIdWith400() throws Exception {
    BoundedTelemetryQueue queue = queue(BoundedTelemetryQueue.builder(sink));
    OtlpHttpReceiver receiver = receiver(queue);
    ExportTraceServiceRequest request = request("gateway",
        span(SERVER_SPAN_ID, "", "POST /api/orders", io.opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_SERVER)
            .setSpanId(id("0000000000000000")));

    HttpResponse<byte[]> response = post(receiver, PROTOBUF, request.toByteArray());

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(status(response).getMessage()).isEqualTo("rejected 1 of 1 spans for invalid ids: span 1 "
        + "'POST /api/orders' of resource 1, scope 1 has spanId 0000000000000000 which is all zeros");
    assertThat(status(response).getCode()).isEqualTo(com.google.rpc.Code.INVALID_ARGUMENT_VALUE);
  }

  @Test
  void answersAMalformedProtobufBodyWith400AndServesTheNextRequest() throws Exception {
    BoundedTelemetryQueue queue = queue(BoundedTelemetryQueue.builder(sink));
    OtlpHttpReceiver receiver = receiver(queue);

    HttpResponse<byte[]> bad = post(receiver, PROTOBUF, "not protobuf at all".getBytes(StandardCharsets.UTF_8));
    HttpResponse<byte[]> good = post(receiver, PROTOBUF, protobuf(sdkSpans(2)));

    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(status(bad).getMessage()).isEqualTo("body is not an OTLP ExportTraceServiceRequest in "
        + "protobuf: Protocol message tag had invalid wire type.");
    assertThat(good.statusCode()).isEqualTo(200);
    queue.awaitDrained(Duration.ofSeconds(5));
    assertThat(sink.spans()).hasSize(2);
    assertThat(queue.refusedRequests(DropReason.UNDECODABLE)).isEqualTo(1);
  }

  @Test
  void answersMalformedJsonWith400InJson() throws Exception {
    OtlpHttpReceiver receiver = receiver(queue(BoundedTelemetryQueue.builder(sink)));

    HttpResponse<byte[]> response = post(receiver, JSON, "{\"resourceSpans\": [".getBytes(StandardCharsets.UTF_8));

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.headers().firstValue("Content-Type")).contains(JSON);
    assertThat(text(response)).startsWith("{\"code\":3,\"message\":\"body is not an OTLP "
        + "ExportTraceServiceRequest in JSON: ");
  }

  @Test
  void answersABodyThatIsNotGzipWith400() throws Exception {
    OtlpHttpReceiver receiver = receiver(queue(BoundedTelemetryQueue.builder(sink)));

    HttpResponse<byte[]> response = post(receiver, PROTOBUF, protobuf(sdkSpans(1)), "Content-Encoding", "gzip");

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(status(response).getMessage()).isEqualTo("body is not valid gzip: Not in GZIP format");
  }

  @Test
  void answersAnOversizedBodyWith413WithoutReadingPastTheLimit() throws Exception {
    BoundedTelemetryQueue queue = queue(BoundedTelemetryQueue.builder(sink));
    OtlpHttpReceiver receiver = receiver(OtlpHttpReceiver.builder(queue).maxBodyBytes(1024));
    byte[] large = protobuf(sdkSpans(40));
    assertThat(large.length).isGreaterThan(1024);

    HttpResponse<byte[]> declared = post(receiver, PROTOBUF, large);
    HttpResponse<byte[]> chunked = client.send(HttpRequest.newBuilder(receiver.endpoint())
        .header("Content-Type", PROTOBUF)
        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(large)))
        .build(), HttpResponse.BodyHandlers.ofByteArray());
    HttpResponse<byte[]> bomb = post(receiver, PROTOBUF, gzip(new byte[100_000]), "Content-Encoding", "gzip");
    HttpResponse<byte[]> good = post(receiver, PROTOBUF, protobuf(sdkSpans(2)));

    assertThat(declared.statusCode()).isEqualTo(413);
    assertThat(status(declared).getMessage())
        .isEqualTo("body of " + large.length + " bytes exceeds the limit of 1024 bytes");
    assertThat(chunked.statusCode()).isEqualTo(413);
    assertThat(status(chunked).getMessage()).isEqualTo("body exceeds the limit of 1024 bytes");
    assertThat(bomb.statusCode()).isEqualTo(413);
    assertThat(status(bomb).getMessage()).isEqualTo("gzip body expands beyond the limit of 1024 bytes");
    assertThat(good.statusCode()).isEqualTo(200);
    assertThat(queue.refusedRequests(DropReason.TOO_LARGE)).isEqualTo(3);
  }

  @Test
  void answersOtherContentTypesWith415OtherMethodsWith405AndOtherPathsWith404() throws Exception {
    OtlpHttpReceiver receiver = receiver(queue(BoundedTelemetryQueue.builder(sink)));

    HttpResponse<byte[]> text = post(receiver, "text/plain", "hello".getBytes(StandardCharsets.UTF_8));
    HttpResponse<byte[]> brotli = post(receiver, PROTOBUF, protobuf(sdkSpans(1)), "Content-Encoding", "br");
    HttpResponse<byte[]> get = client.send(HttpRequest.newBuilder(receiver.endpoint()).GET().build(),
        HttpResponse.BodyHandlers.ofByteArray());
    HttpResponse<byte[]> metrics = client.send(HttpRequest.newBuilder(receiver.endpoint().resolve("/v1/metrics"))
        .header("Content-Type", PROTOBUF)
        .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[0])).build(), HttpResponse.BodyHandlers.ofByteArray());

    assertThat(text.statusCode()).isEqualTo(415);
    assertThat(text(text)).isEqualTo("{\"code\":3,\"message\":\"unsupported Content-Type 'text/plain'; "
        + "send application/x-protobuf or application/json\"}");
    assertThat(brotli.statusCode()).isEqualTo(415);
    assertThat(status(brotli).getMessage()).isEqualTo("unsupported Content-Encoding 'br'; send gzip or none");
    assertThat(get.statusCode()).isEqualTo(405);
    assertThat(get.headers().firstValue("Allow")).contains("POST");
    assertThat(text(get)).isEqualTo("{\"code\":12,\"message\":\"method GET is not allowed on /v1/traces; use POST\"}");
    assertThat(metrics.statusCode()).isEqualTo(404);
    assertThat(status(metrics).getMessage()).isEqualTo("no such path /v1/metrics; OTLP traces go to POST /v1/traces");
  }

  @Test
  void meetsAFloodWith429AndRetryAfterThenRecoversWhenTheSinkCatchesUp() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    InMemoryTelemetrySink delivered = InMemoryTelemetrySink.create();
    TelemetrySink blocking = telemetry -> {
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      delivered.accept(telemetry);
    };
    BoundedTelemetryQueue queue = queue(BoundedTelemetryQueue.builder(blocking).capacity(10));
    OtlpHttpReceiver receiver = receiver(queue);
    byte[] fiveSpans = protobuf(sdkSpans(5));

    assertThat(post(receiver, PROTOBUF, fiveSpans).statusCode()).isEqualTo(200);
    assertThat(post(receiver, PROTOBUF, protobuf(sdkSpans(4))).statusCode()).isEqualTo(200);
    ExecutorService clients = Executors.newFixedThreadPool(4);
    List<Future<HttpResponse<byte[]>>> flood = new ArrayList<>();
    try {
      for (int i = 0; i < 200; i++) {
        flood.add(clients.submit(() -> post(receiver, PROTOBUF, fiveSpans)));
      }
      for (Future<HttpResponse<byte[]>> future : flood) {
        HttpResponse<byte[]> response = future.get(30, TimeUnit.SECONDS);
        assertThat(response.statusCode()).isEqualTo(429);
        assertThat(response.headers().firstValue("Retry-After")).contains("1");
        Status status = status(response);
        assertThat(status.getMessage()).isEqualTo("flowtrace cannot keep up: its queue cannot take 5 more "
            + "spans now (9 of 10 queued); retry later");
        assertThat(status.getDetails(0).unpack(RetryInfo.class).getRetryDelay().getSeconds()).isEqualTo(1);
      }
    } finally {
      clients.shutdownNow();
    }
    HttpResponse<byte[]> tooMany = post(receiver, PROTOBUF, protobuf(sdkSpans(11)));
    assertThat(tooMany.statusCode()).isEqualTo(413);
    assertThat(status(tooMany).getMessage())
        .isEqualTo("the request has 11 spans, more than the queue holds (10); send smaller batches");
    assertThat(queue.queued()).isEqualTo(9);
    assertThat(queue.refusedRequests(DropReason.OVERLOADED)).isEqualTo(200);
    assertThat(queue.dropped(DropReason.OVERLOADED)).isEqualTo(1000);

    release.countDown();
    assertThat(queue.awaitDrained(Duration.ofSeconds(5))).isTrue();
    HttpResponse<byte[]> after = post(receiver, PROTOBUF, fiveSpans);

    assertThat(after.statusCode()).isEqualTo(200);
    assertThat(queue.awaitDrained(Duration.ofSeconds(5))).isTrue();
    assertThat(delivered.spans()).hasSize(14);
    assertThat(queue.stats()).isEqualTo("received=1025 accepted=14 delivered=14 queued=0 "
        + "dropped={TOO_LARGE=11, OVERLOADED=1000} refused_requests={TOO_LARGE=1, OVERLOADED=200}");
  }

  @Test
  void answersWith503WhenMoreRequestsAreInFlightThanItTakes() throws Exception {
    BoundedTelemetryQueue queue = queue(BoundedTelemetryQueue.builder(sink));
    OtlpHttpReceiver receiver = receiver(OtlpHttpReceiver.builder(queue).threads(1).backlog(0));
    byte[] body = protobuf(sdkSpans(2));
    try (java.net.Socket slowClient = new java.net.Socket("127.0.0.1", receiver.port())) {
      OutputStream out = slowClient.getOutputStream();
      // Connection: close, so that the server does not watch this socket for a next request: when
      // it is closed below, that watch would take the only request slot for a moment.
      out.write(("POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: " + PROTOBUF
          + "\r\nContent-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(body, 0, 10);
      out.flush();

      java.util.concurrent.atomic.AtomicReference<HttpResponse<byte[]>> last = new java.util.concurrent.atomic.AtomicReference<>();
      io.flowtrace.tracer.testing.Await.until(java.time.Duration.ofSeconds(10), () -> {
        try {
          last.set(post(receiver, PROTOBUF, body));
        } catch (Exception e) {
          throw new AssertionError(e);
        }
        return last.get().statusCode() != 200;
      }, () -> "status " + last.get().statusCode());
      HttpResponse<byte[]> refused = last.get();
      out.write(body, 10, body.length - 10);
      out.flush();

      assertThat(refused.statusCode()).isEqualTo(503);
      assertThat(refused.headers().firstValue("Retry-After")).contains("1");
      assertThat(status(refused).getMessage()).isEqualTo("flowtrace has too many requests in flight; retry later");
      String statusLine = new java.io.BufferedReader(new java.io.InputStreamReader(
          slowClient.getInputStream(), StandardCharsets.US_ASCII)).readLine();
      assertThat(statusLine).isEqualTo("HTTP/1.1 200 OK");
    }
    // The slow request's slot is freed just after its response is written: wait for that.
    io.flowtrace.tracer.testing.Await.until(java.time.Duration.ofSeconds(10),
        () -> receiver.requestsInFlight() == 0, () -> receiver.requestsInFlight() + " requests in flight");
    assertThat(post(receiver, PROTOBUF, body).statusCode()).isEqualTo(200);
    assertThat(queue.refusedRequests(DropReason.OVERLOADED)).isEqualTo(1);
  }

  @Test
  void boundsHowLongTheJdkServerWaitsForARequestUnlessTheUserSetIt() {
    OtlpHttpReceiver.boundRequestTime();

    assertThat(System.getProperty(OtlpHttpReceiver.MAX_REQUEST_SECONDS_PROPERTY)).isEqualTo("30");
  }

  @Test
  void bindsToLoopbackOnAFreePortAndSaysWhere() throws Exception {
    OtlpHttpReceiver receiver = receiver(queue(BoundedTelemetryQueue.builder(sink)));

    assertThat(receiver.port()).isPositive();
    assertThat(receiver.endpoint()).isEqualTo(URI.create("http://127.0.0.1:" + receiver.port() + "/v1/traces"));
    assertThat(OtlpHttpReceiver.DEFAULT_PORT).isEqualTo(4318);
    assertThat(OtlpHttpReceiver.DEFAULT_HOST).isEqualTo("127.0.0.1");
    receiver.close();
    receiver.close();
  }
}
