package io.flowtrace.example.order;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Runs one or more services of the reference order system in this JVM:
 * {@code java -cp ... io.flowtrace.example.order.OrderSystem gateway|order-service|inventory-service|notification-service|payment-provider|all}.
 *
 * <p>Settings (system property, else environment variable): {@code bootstrap.servers}/{@code
 * BOOTSTRAP_SERVERS} (127.0.0.1:9092), {@code gateway.port}/{@code GATEWAY_PORT} (8080), {@code
 * order.port}/{@code ORDER_SERVICE_PORT} (8081, the webhook), {@code payment.port}/{@code
 * PAYMENT_PROVIDER_PORT} (8082), {@code payment.url}/{@code PAYMENT_URL}, {@code webhook.url}/{@code
 * WEBHOOK_URL}, {@code webhook.deliveries}/{@code WEBHOOK_DELIVERIES} (2: every webhook is delivered
 * twice), {@code webhook.delay.ms}/{@code WEBHOOK_DELAY_MS} (300), {@code http.host}/{@code
 * HTTP_HOST} (127.0.0.1, the address the HTTP servers bind to; 0.0.0.0 in a container), and {@code
 * flowtrace.defects}/{@code FLOWTRACE_DEFECTS} (see {@link Defect}; {@code NAME@PRODUCT} scopes one to
 * orders with that product, see {@link DefectSwitches}). Runs until SIGTERM, or with
 * {@code exit.on.stdin.eof}/{@code EXIT_ON_STDIN_EOF=true} also until its stdin ends (so a forked
 * service never outlives the test that started it).
 *
 * <p>Tracing is the OpenTelemetry Java agent's ({@code -javaagent:opentelemetry-javaagent.jar}; see
 * the README for the settings the tests use): the services create no SDK of their own and use only
 * the API ({@code GlobalOpenTelemetry}), so every agent setting applies. Head sampling in
 * particular is the agent's: {@code OTEL_TRACES_SAMPLER=parentbased_traceidratio} with {@code
 * OTEL_TRACES_SAMPLER_ARG=0.25} (or {@code -Dotel.traces.sampler=parentbased_traceidratio
 * -Dotel.traces.sampler.arg=0.25}) keeps about a quarter of the traces, decided per trace from its
 * trace id where the trace starts: the gateway's request, each webhook delivery (the provider calls
 * back without a trace context), a consumer that starts a trace of its own. Spans of an unsampled
 * trace are not exported; the records produced in it still carry {@code traceparent} with the trace
 * and span id and the sampled bit clear, so downstream services follow the decision. (Agent 2.33.1
 * also sets the random-trace-id bit on the traces it starts: flags {@code 03} sampled, {@code 02}
 * not; checked on a real broker by {@code SampledOutTracingIT}.) The default is {@code
 * parentbased_always_on}.
 */
public final class OrderSystem {

  private OrderSystem() {}

  /** Exits (running the shutdown hook) when stdin ends: a forked service dies with its parent. */
  private static void exitOnStdinEof() {
    Thread watcher = new Thread(() -> {
      try {
        while (System.in.read() >= 0) {
          // ignore input
        }
      } catch (IOException e) {
        // treat as end of input
      }
      System.exit(0);
    }, "stdin-eof-watcher");
    watcher.setDaemon(true);
    watcher.start();
  }

  private static <T> List<T> reversed(List<T> list) {
    List<T> r = new ArrayList<>(list);
    java.util.Collections.reverse(r);
    return r;
  }

  public static void main(String[] args) throws IOException, InterruptedException {
    if (args.length != 1) {
      System.err.println("usage: OrderSystem gateway|order-service|inventory-service|notification-service|payment-provider|all");
      System.exit(2);
    }
    String bootstrap = Config.bootstrapServers();
    int gatewayPort = Config.port("gateway.port", "GATEWAY_PORT", 8080);
    int orderPort = Config.port("order.port", "ORDER_SERVICE_PORT", 8081);
    int paymentPort = Config.port("payment.port", "PAYMENT_PROVIDER_PORT", 8082);
    URI paymentUrl = URI.create(Config.get("payment.url", "PAYMENT_URL", "http://127.0.0.1:" + paymentPort + "/payments"));
    URI webhookUrl = URI.create(Config.get("webhook.url", "WEBHOOK_URL", "http://127.0.0.1:" + orderPort + "/webhooks/payment"));
    int deliveries = Config.port("webhook.deliveries", "WEBHOOK_DELIVERIES", 2);
    Duration delay = Duration.ofMillis(Config.port("webhook.delay.ms", "WEBHOOK_DELAY_MS", 300));
    DefectSwitches defects = DefectSwitches.active();

    String which = args[0];
    boolean all = "all".equals(which);
    List<AutoCloseable> running = new ArrayList<>();
    if (all || "payment-provider".equals(which)) {
      running.add(new PaymentProvider(paymentPort, webhookUrl, delay, deliveries));
    }
    if (all || "inventory-service".equals(which)) {
      running.add(new InventoryService(bootstrap));
    }
    if (all || "notification-service".equals(which)) {
      running.add(new NotificationService(bootstrap, defects));
    }
    if (all || "order-service".equals(which)) {
      running.add(new OrderService(bootstrap, orderPort, paymentUrl, defects));
    }
    if (all || "gateway".equals(which)) {
      running.add(new Gateway(bootstrap, gatewayPort, defects));
    }
    if (running.isEmpty()) {
      System.err.println("unknown service '" + which + "'");
      System.exit(2);
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      for (AutoCloseable c : reversed(running)) {
        try {
          c.close();
        } catch (Exception e) {
          System.err.println("closing " + c + ": " + e);
        }
      }
      stopped.countDown();
    }, "order-system-shutdown"));
    if (Boolean.parseBoolean(Config.get("exit.on.stdin.eof", "EXIT_ON_STDIN_EOF", "false"))) {
      exitOnStdinEof();
    }
    System.out.println("ready " + which);
    System.out.flush();
    stopped.await();
  }
}
