package io.flowtrace.example.order;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import tools.jackson.databind.json.JsonMapper;

/**
 * The reference order system's five services as forked JVMs, the four of ours under the
 * OpenTelemetry Java agent exporting to an OTLP/HTTP endpoint, the payment provider without it. A
 * service is restarted only when the defects asked for change what it runs with, so a test class
 * can go through every defect switch without starting the whole system each time. Logs go to
 * {@code target/it-logs/NAME-SERVICE-N.log}; the services exit with the test JVM (their stdin ends).
 */
final class OrderServices implements AutoCloseable {

  static final Path AGENT = Path.of(System.getProperty("order.javaagent", "target/opentelemetry-javaagent.jar"));
  static final String CLASSPATH = System.getProperty("order.classpath", System.getProperty("java.class.path"));
  static final Path LOGS = Path.of("target/it-logs");
  static final Duration TIMEOUT = Duration.ofSeconds(90);

  /** The services in start order (the provider first, the gateway, which takes orders, last). */
  static final List<String> SERVICES =
      List.of("payment-provider", "inventory-service", "notification-service", "order-service", "gateway");

  /** The services that consume: ready once their consumer group has its partitions. */
  static final Set<String> CONSUMERS = Set.of("inventory-service", "notification-service", "order-service");

  /** Which service each defect switch changes. */
  static final Map<Defect, String> SERVICE_OF = Map.of(
      Defect.DROP_ENRICHMENT, "gateway",
      Defect.WRONG_TOTAL, "order-service",
      Defect.PAYMENT_AMOUNT_MISMATCH, "order-service",
      Defect.NON_IDEMPOTENT_WEBHOOK, "order-service",
      Defect.LOSE_TRACEPARENT, "notification-service",
      Defect.SLOW_NOTIFICATION, "notification-service",
      Defect.NO_NOTIFICATION, "notification-service",
      Defect.BROKEN_EMAIL_SCHEMA, "notification-service");

  private static final List<Process> FORKED = new CopyOnWriteArrayList<>();
  private static final JsonMapper JSON = JsonMapper.builder().build();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> FORKED.forEach(Process::destroyForcibly)));
  }

  private final String name;
  private final Map<String, String> common;
  private final Map<String, String> callerEnv;
  private final String otlpEndpoint;
  private final int gatewayPort;
  private final Map<String, Process> running = new LinkedHashMap<>();
  private final Map<String, String> runningDefects = new HashMap<>();
  private final Map<String, Integer> starts = new HashMap<>();
  private final HttpClient http = HttpClient.newHttpClient();

  /**
   * Services for a broker, exporting spans to {@code otlpEndpoint}; nothing runs before {@link #run}.
   *
   * @param env more settings for every service, e.g. {@code WEBHOOK_DELIVERIES}, or the agent's
   *     sampler from {@link #sampling(double)}; they win over {@link #agentEnv}'s defaults
   */
  OrderServices(String name, String bootstrapServers, String otlpEndpoint, Map<String, String> env) throws IOException {
    Files.createDirectories(LOGS);
    this.name = name;
    this.otlpEndpoint = otlpEndpoint;
    this.gatewayPort = freePort();
    this.common = new HashMap<>(env);
    this.callerEnv = new HashMap<>(env);
    common.putAll(Map.of(
        "BOOTSTRAP_SERVERS", bootstrapServers,
        "GATEWAY_PORT", Integer.toString(gatewayPort),
        "ORDER_SERVICE_PORT", Integer.toString(freePort()),
        "PAYMENT_PROVIDER_PORT", Integer.toString(freePort()),
        "EXIT_ON_STDIN_EOF", "true"));
  }

  /**
   * Makes the system run with exactly these defects: (re)starts, in parallel, each service whose
   * defects differ from what it runs with (or that is not running), and waits until they are ready:
   * listening, and consuming (a consumer that is still joining its group would later get a backlog
   * of several topics at once, in no particular order).
   */
  void run(Set<Defect> defects) throws IOException {
    Map<String, String> switches = new LinkedHashMap<>();
    for (String service : SERVICES) {
      switches.put(service, String.join(",", defects.stream().filter(d -> SERVICE_OF.get(d).equals(service))
          .map(Enum::name).toList()));
    }
    run(switches);
  }

  /**
   * As {@link #run(Set)}, every service with the same defect switches, which may be scoped to the
   * orders carrying a product ({@code WRONG_TOTAL@P-901,SLOW_NOTIFICATION@P-902}, see {@link
   * DefectSwitches}): one start shows every defect side by side, each on its own orders.
   */
  void run(String scopedSwitches) throws IOException {
    Map<String, String> switches = new LinkedHashMap<>();
    SERVICES.forEach(s -> switches.put(s, scopedSwitches));
    run(switches);
  }

  private void run(Map<String, String> switchesByService) throws IOException {
    Map<String, String> wanted = new LinkedHashMap<>();
    switchesByService.forEach((service, own) -> {
      if (!running.containsKey(service) || !own.equals(runningDefects.get(service))) {
        wanted.put(service, own);
      }
    });
    wanted.keySet().forEach(s -> {
      Process p = running.remove(s);
      if (p != null) {
        stop(p);
      }
    });
    Map<String, String> logs = new LinkedHashMap<>();
    for (Map.Entry<String, String> w : wanted.entrySet()) {
      String service = w.getKey();
      String log = name + "-" + service + "-" + starts.merge(service, 1, Integer::sum);
      Map<String, String> env = new HashMap<>(common);
      env.put("FLOWTRACE_DEFECTS", w.getValue());
      boolean agent = !"payment-provider".equals(service);
      if (agent) {
        env.putAll(agentEnv(service, otlpEndpoint));
        env.putAll(callerEnv);
      }
      running.put(service, fork(log, service(service, agent), env));
      runningDefects.put(service, w.getValue());
      logs.put(log, service);
    }
    logs.forEach((log, service) -> {
      awaitLog(log, "ready " + service);
      if (CONSUMERS.contains(service)) {
        awaitLog(log, "Adding newly assigned partitions");
      }
    });
  }

  /** Places an order through the gateway; returns its {@code requestId}. */
  String placeOrder(String token, String body) throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gatewayPort + "/api/orders"))
        .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 202) {
      throw new IllegalStateException("POST /api/orders answered " + r.statusCode() + ": " + r.body());
    }
    return JSON.readTree(r.body()).get("requestId").asString();
  }

  /** Stops every service with SIGTERM (the agents export what they hold). */
  @Override
  public void close() {
    new ArrayList<>(running.values()).forEach(OrderServices::stop);
    running.clear();
  }

  /**
   * The Java agent's head sampling, as {@link OrderSystem} documents it: {@code
   * OTEL_TRACES_SAMPLER=parentbased_traceidratio} and {@code OTEL_TRACES_SAMPLER_ARG=ratio}. Each
   * trace's root decides from its trace id (the gateway's request, each webhook delivery, a
   * consumer that starts a trace); an unsampled trace exports no spans, while its Kafka records
   * still carry a {@code traceparent} with flags {@code 00}. Pass it as (part of) the {@code env}
   * of {@link #OrderServices}.
   */
  static Map<String, String> sampling(double ratio) {
    if (!(ratio >= 0 && ratio <= 1)) {
      throw new IllegalArgumentException("ratio must be within [0, 1]: " + ratio);
    }
    return Map.of("OTEL_TRACES_SAMPLER", "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG", Double.toString(ratio));
  }

  /** How a service runs under the agent, exporting to the endpoint (see the README). */
  static Map<String, String> agentEnv(String service, String otlpEndpoint) {
    return Map.of(
        "OTEL_SERVICE_NAME", service,
        "OTEL_TRACES_EXPORTER", "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT", otlpEndpoint,
        "OTEL_SEMCONV_STABILITY_OPT_IN", "messaging",
        "OTEL_METRICS_EXPORTER", "none",
        "OTEL_LOGS_EXPORTER", "none",
        "OTEL_BSP_SCHEDULE_DELAY", "200",
        "OTEL_INSTRUMENTATION_JAVA_HTTP_CLIENT_ENABLED", "false");
  }

  /** The JVM arguments that run one service, with or without the agent. */
  static List<String> service(String service, boolean agent) {
    List<String> args = new ArrayList<>(List.of("-Xmx256m", "-XX:TieredStopAtLevel=1"));
    if (agent) {
      args.add("-javaagent:" + AGENT.toAbsolutePath());
    }
    args.addAll(List.of("-cp", CLASSPATH, OrderSystem.class.getName(), service));
    return args;
  }

  /** Starts a JVM with these arguments and environment, its output in {@code target/it-logs/NAME.log}. */
  static Process fork(String name, List<String> args, Map<String, String> env) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(LOGS.resolve(name + ".log").toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    FORKED.add(p);
    return p;
  }

  /** SIGTERM, then SIGKILL after 15 s. */
  static void stop(Process p) {
    p.destroy();
    try {
      if (!p.waitFor(15, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
    }
    FORKED.remove(p);
  }

  /** Waits until the log of {@code name} has the line. */
  static void awaitLog(String name, String line) {
    Path log = LOGS.resolve(name + ".log");
    await(() -> {
      try {
        return Files.exists(log) && Files.readString(log).contains(line);
      } catch (IOException e) {
        return false;
      }
    }, () -> name + " did not print '" + line + "'; log:\n" + tail(log));
  }

  static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return e.toString();
    }
  }

  static void await(BooleanSupplier condition, Supplier<String> failure) {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + TIMEOUT + ": " + failure.get());
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
    }
  }

  /** A port for a forked service to bind: outside the range other processes take ports from at random. */
  static int freePort() {
    return io.flowtrace.kafka.testkit.Ports.free();
  }
}
