package io.flowtrace.tracer.receiver;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A measurement, not a test: posts 100-span protobuf requests made by the OpenTelemetry SDK (the
 * bytes its OTLP exporter sends) from 2 client threads to a receiver on 127.0.0.1 for a fixed time
 * and prints how many spans per second were accepted (200) and reached the sink. Arguments:
 * {@code [seconds=10] [spansPerRequest=100] [clients=2]}. Run after {@code mvn -q -B -o
 * test-compile -pl tracer} with the test class path, e.g. {@code taskset -c 0,1 java -cp ...
 * io.flowtrace.tracer.receiver.OtlpHttpReceiverLoad}.
 */
public final class OtlpHttpReceiverLoad {

  private OtlpHttpReceiverLoad() {}

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    int spansPerRequest = args.length > 1 ? Integer.parseInt(args[1]) : 100;
    int clients = args.length > 2 ? Integer.parseInt(args[2]) : 2;
    byte[] body = ReceiverFixtures.protobuf(ReceiverFixtures.sdkSpans(spansPerRequest));
    AtomicLong sunk = new AtomicLong();
    try (BoundedTelemetryQueue queue = BoundedTelemetryQueue.create(new TelemetrySink() {
          @Override
          public void accept(io.flowtrace.tracer.model.Telemetry telemetry) {
            sunk.incrementAndGet();
          }

          @Override
          public void acceptAll(java.util.List<? extends io.flowtrace.tracer.model.Telemetry> batch) {
            sunk.addAndGet(batch.size());
          }
        });
        OtlpHttpReceiver receiver = OtlpHttpReceiver.builder(queue).port(0).start()) {
      HttpRequest request = HttpRequest.newBuilder(receiver.endpoint())
          .header("Content-Type", "application/x-protobuf")
          .POST(HttpRequest.BodyPublishers.ofByteArray(body))
          .build();
      LongAdder ok = new LongAdder();
      LongAdder refused = new LongAdder();
      // Warm up for 2 s, then measure.
      run(request, clients, Duration.ofSeconds(2), new LongAdder(), new LongAdder());
      queue.awaitDrained(Duration.ofSeconds(30));
      long sunkBefore = sunk.get();
      long start = System.nanoTime();
      run(request, clients, Duration.ofSeconds(seconds), ok, refused);
      double elapsed = (System.nanoTime() - start) / 1e9;
      queue.awaitDrained(Duration.ofSeconds(30));
      long spans = ok.sum() * spansPerRequest;
      System.out.printf("%d client threads, %d-span requests (%d bytes), %.1f s: %d accepted, %d refused;"
              + " %.0f spans/s accepted, %d spans reached the sink; cores=%d%n",
          clients, spansPerRequest, body.length, elapsed, ok.sum(), refused.sum(), spans / elapsed,
          sunk.get() - sunkBefore, Runtime.getRuntime().availableProcessors());
      System.out.println(queue.stats());
    }
  }

  private static void run(HttpRequest request, int clients, Duration duration, LongAdder ok, LongAdder refused)
      throws InterruptedException {
    long deadline = System.nanoTime() + duration.toNanos();
    Thread[] threads = new Thread[clients];
    for (int c = 0; c < clients; c++) {
      threads[c] = new Thread(() -> {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        while (System.nanoTime() < deadline) {
          try {
            HttpResponse<Void> response = client.send(request, HttpResponse.BodyHandlers.discarding());
            (response.statusCode() == 200 ? ok : refused).increment();
          } catch (Exception e) {
            refused.increment();
          }
        }
      }, "load-client-" + c);
      threads[c].start();
    }
    for (Thread thread : threads) {
      thread.join();
    }
  }
}
