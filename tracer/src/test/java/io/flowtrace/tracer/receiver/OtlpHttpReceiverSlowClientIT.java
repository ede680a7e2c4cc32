package io.flowtrace.tracer.receiver;

import static io.flowtrace.tracer.receiver.ReceiverFixtures.protobuf;
import static io.flowtrace.tracer.receiver.ReceiverFixtures.sdkSpans;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.testing.Await;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Clients that stop sending in the middle of a request do not starve the receiver. An integration
 * test only because the JDK server reads its request time limit once per JVM: failsafe's JVM sets
 * it to 2 s (see the tracer pom), production gets {@link OtlpHttpReceiver#DEFAULT_MAX_REQUEST_SECONDS}.
 */
class OtlpHttpReceiverSlowClientIT {

  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @Test
  void stalledClientsAreCutOffSoAnExporterIsServedAgain() throws Exception {
    assertThat(System.getProperty(OtlpHttpReceiver.MAX_REQUEST_SECONDS_PROPERTY)).isEqualTo("2");
    InMemoryTelemetrySink sink = InMemoryTelemetrySink.create();
    byte[] body = protobuf(sdkSpans(2));
    List<Socket> stalled = new ArrayList<>();
    try (BoundedTelemetryQueue queue = BoundedTelemetryQueue.builder(sink).build();
        OtlpHttpReceiver receiver = OtlpHttpReceiver.builder(queue).port(0).threads(2).backlog(0).start()) {
      for (int i = 0; i < 2; i++) {
        Socket s = new Socket("127.0.0.1", receiver.port());
        stalled.add(s);
        OutputStream out = s.getOutputStream();
        out.write(("POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\n"
            + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(body, 0, 10);
        out.flush();
      }
      AtomicInteger status = new AtomicInteger();
      Await.until(Duration.ofSeconds(20), () -> {
        status.set(post(receiver.endpoint(), body));
        return status.get() == 200;
      }, () -> "the exporter's last answer: " + status.get());

      for (Socket s : stalled) {
        InputStream in = s.getInputStream();
        assertThat(in.readAllBytes()).as("what the stalled client got before its connection was closed")
            .asString(StandardCharsets.US_ASCII).doesNotStartWith("HTTP/1.1 200");
      }
    } finally {
      for (Socket s : stalled) {
        s.close();
      }
    }
  }

  private int post(URI endpoint, byte[] body) {
    try {
      return client.send(HttpRequest.newBuilder(endpoint).timeout(Duration.ofSeconds(2))
          .header("Content-Type", "application/x-protobuf")
          .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (java.io.IOException e) {
      return -1; // timed out: still starved
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }
}
