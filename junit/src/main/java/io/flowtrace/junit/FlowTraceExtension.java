package io.flowtrace.junit;

import static java.util.Objects.requireNonNull;

import io.flowtrace.junit.internal.FlowSpecs;
import io.flowtrace.junit.internal.LiveSession;
import io.flowtrace.junit.internal.SessionConfig;
import io.flowtrace.junit.internal.TestWindow;
import io.flowtrace.verifier.assembly.FlowEngine;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Verifies whole flows while a JUnit 5 test drives its system. Before the test class it loads the
 * flow specs and starts an OTLP/HTTP receiver on a free loopback port ({@link #otlpEndpoint()}) and
 * an in-JVM {@link SpanExporter} ({@link #spanExporter()}); before each test it taps the flows'
 * Kafka topics (once bootstrap servers are known) and forgets the last test's flows; a live {@link
 * FlowEngine} on one thread verifies everything as it arrives. After the class everything is
 * closed (the running state lives in the class's {@link ExtensionContext.Store}).
 *
 * <pre>{@code
 * @RegisterExtension
 * static SharedKafka kafka = SharedKafka.create().withTopic("orders.requested", 1);
 *
 * @RegisterExtension
 * static FlowTraceExtension flows = FlowTraceExtension.builder()   // specs: src/test/resources/flows
 *     .kafka(kafka::bootstrapServers)
 *     .build();
 *
 * @Test
 * void anOrderGoesThrough() {
 *   String id = placeOrder();   // the system traces with flows.openTelemetry("order-service"),
 *                               // exports to flows.spanExporter() or to flows.otlpEndpoint()
 *   flows.assertThatFlow("order-creation").withKey("requestId", id)
 *       .completesWithin(Duration.ofSeconds(10))
 *       .hasNoViolations();
 * }
 * }</pre>
 *
 * <p>Or {@link FlowTraceTest @FlowTraceTest} on the class, with {@link FlowTraceAssertions} for the
 * static entry points and a {@code FlowTraceExtension} parameter for the endpoint.
 */
public final class FlowTraceExtension implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback,
    ParameterResolver {

  /** Default flow specs: the classpath resource directory {@code flows} ({@code src/test/resources/flows}). */
  public static final String DEFAULT_FLOWS = FlowSpecs.CLASSPATH + "flows";
  /** Default longest wait of an assertion for its verdict: 30 s. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
  /** Default time a decided verdict must stay unchanged before assertions read it: 1 s. */
  public static final Duration DEFAULT_SETTLE = Duration.ofSeconds(1);
  /** Default lag of the engine's event time behind the wall clock: 500 ms. */
  public static final Duration DEFAULT_ALLOWED_LATENESS = Duration.ofMillis(500);
  /**
   * Default wait, after the terminal stage, for what is still missing before deciding anyway: 6 s,
   * longer than the 5 s schedule delay of the SDK's and the Java agent's default
   * {@code BatchSpanProcessor} (records arrive at once, their spans up to a batch later). A flow
   * whose data is complete and trace-connected is decided at once, without waiting.
   */
  public static final Duration DEFAULT_COMPLETION_GRACE = Duration.ofSeconds(6);
  /** Default time a decided verdict stays open to amendment by late events: 10 min. */
  public static final Duration DEFAULT_AMEND_WINDOW = Duration.ofMinutes(10);

  private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(FlowTraceExtension.class);
  private static final ThreadLocal<FlowTraceExtension> CURRENT = new ThreadLocal<>();
  private static final String PREVIOUS = "previous";
  private static volatile FlowTraceExtension lastActive;

  private final SessionConfig configured;
  private volatile LiveSession session;
  /** Where a failed assertion writes its instance's page; {@code null}: nowhere. */
  private Path failurePages = FailurePages.DEFAULT_DIRECTORY;

  /**
   * For {@code @ExtendWith(FlowTraceExtension.class)} and {@link FlowTraceTest}: configured by the
   * test class's {@link FlowTraceTest} annotation, else with the defaults. In code, use {@link
   * #create()} or {@link #builder()}.
   */
  public FlowTraceExtension() {
    this(null);
  }

  private FlowTraceExtension(SessionConfig configured) {
    this.configured = configured;
  }

  /** An extension with the defaults: flows from the classpath directory {@code flows}, no Kafka. */
  public static FlowTraceExtension create() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * The extension running the current test on this thread (for {@link FlowTraceAssertions}); on
   * another thread, the one that started a test last.
   *
   * @throws IllegalStateException when no test with the extension is running
   */
  public static FlowTraceExtension current() {
    FlowTraceExtension e = CURRENT.get();
    if (e == null) {
      e = lastActive;
    }
    if (e == null) {
      throw new IllegalStateException("flowtrace: no FlowTraceExtension is running: register one with "
          + "@RegisterExtension or annotate the test class with @FlowTraceTest");
    }
    return e;
  }

  // ---- JUnit callbacks ----

  @Override
  public void beforeAll(ExtensionContext context) {
    session = sessionFor(context);
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    LiveSession s = sessionFor(context);
    session = s;
    s.beginTest();
    FailurePages.beginTest(context);
    FlowTraceExtension previous = CURRENT.get();
    if (previous != null) {
      context.getStore(NAMESPACE).put(PREVIOUS, previous);
    }
    CURRENT.set(this);
    lastActive = this;
  }

  /**
   * With {@link Builder#failOnAnyFailedFlow(boolean) failOnAnyFailedFlow(true)}, fails a test that
   * passed when a flow that started in it failed (see there); then restores the extension of an
   * enclosing test (a test that runs tests), if any.
   */
  @Override
  public void afterEach(ExtensionContext context) {
    try {
      LiveSession s = session;
      if (s != null && s.config().failOnAnyFailedFlow() && context.getExecutionException().isEmpty()) {
        Outcomes.failUnlessAllPassed(s, s.config().timeout());
      }
    } finally {
      FlowTraceExtension previous = context.getStore(NAMESPACE).remove(PREVIOUS, FlowTraceExtension.class);
      if (previous != null) {
        CURRENT.set(previous);
        lastActive = previous;
      } else {
        CURRENT.remove();
      }
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == FlowTraceExtension.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    session = sessionFor(context);
    return this;
  }

  /** The session of this extension in the class's store (a nested class finds its outer class's). */
  private LiveSession sessionFor(ExtensionContext context) {
    ExtensionContext owner = context.getTestMethod().isPresent() && context.getParent().isPresent()
        ? context.getParent().get() : context;
    return owner.getStore(NAMESPACE).getOrComputeIfAbsent(this, k -> LiveSession.start(config(context)),
        LiveSession.class);
  }

  private SessionConfig config(ExtensionContext context) {
    if (configured != null) {
      return configured;
    }
    for (Class<?> c = context.getRequiredTestClass(); c != null; c = c.getEnclosingClass()) {
      FlowTraceTest a = c.getAnnotation(FlowTraceTest.class);
      if (a != null) {
        return Builder.from(a).config();
      }
    }
    return builder().config();
  }

  // ---- what tests use ----

  /**
   * The OTLP/HTTP endpoint to point the system under test at, e.g. {@code http://127.0.0.1:41234}
   * (as {@code OTEL_EXPORTER_OTLP_ENDPOINT}, protocol {@code http/protobuf} or {@code http/json};
   * spans go to {@code /v1/traces} below it).
   */
  public String otlpEndpoint() {
    return session().otlpEndpoint();
  }

  /**
   * An OpenTelemetry SDK exporter into the extension, for a system running in the test's JVM that
   * sets up its own SDK: {@code SdkTracerProvider.builder().addSpanProcessor(BatchSpanProcessor
   * .builder(flows.spanExporter()).build())} (as production code does; the default completion grace
   * outlasts the batch delay) or {@code SimpleSpanProcessor.create(flows.spanExporter())} (each
   * span at once). Its {@code shutdown()} only flushes: closing a tracer provider built on it does
   * not stop the spans of later tests. Without SDK code of your own, use {@link #openTelemetry(String)}.
   */
  public SpanExporter spanExporter() {
    return session().spanExporter();
  }

  /**
   * An {@link OpenTelemetry} for a service of the system under test that runs in the test's JVM:
   * the SDK with a resource of {@code service.name=service}, W3C trace-context (and baggage)
   * propagation, and every span exported into the extension as it ends (no batching delay). The
   * same one for the same name, for the whole test class; the extension closes it after the class,
   * and nothing a test does can shut it down.
   *
   * <pre>{@code
   * Tracer tracer = flows.openTelemetry("order-service").getTracer("orders");
   * }</pre>
   */
  public OpenTelemetry openTelemetry(String service) {
    requireNonNull(service, "service");
    if (service.isBlank()) {
      throw new IllegalArgumentException("service must not be blank");
    }
    return session().openTelemetry(service);
  }

  /**
   * {@link #openTelemetry(String)} for the builder's {@link Builder#serviceName(String) serviceName};
   * this is the one {@link Builder#registerGlobal(boolean) registerGlobal(true)} makes global.
   */
  public OpenTelemetry openTelemetry() {
    LiveSession s = session();
    return s.openTelemetry(s.config().serviceName());
  }

  /**
   * What the extension received so far and made of it, for debugging: spans by service and records
   * by topic in this test and in the class, the flows that started in this test with their
   * verdicts as they stand (no waiting), where spans and records come from. Print it, or assert on it.
   */
  public Received received() {
    return Outcomes.received(session());
  }

  /** Taps the flows' topics on this Kafka cluster from now on (when not given to the builder). */
  public void attachKafka(String bootstrapServers) {
    session().attachKafka(requireNonNull(bootstrapServers, "bootstrapServers"));
  }

  /** The Kafka cluster being tapped, or {@code null}. */
  public String bootstrapServers() {
    return session().bootstrapServers();
  }

  /** The loaded flow specs. */
  public List<FlowSpec> flows() {
    return session().specs();
  }

  /** Assertions on one instance of the named flow that started during the current test. */
  /** Where a failed assertion writes its instance's page, or {@code null}. */
  Path failurePages() {
    return failurePages;
  }

  public FlowAssert assertThatFlow(String flow) {
    requireNonNull(flow, "flow");
    LiveSession s = session();
    s.spec(flow);
    return new FlowAssert(new FlowUnderTest(s, flow, java.util.Map.of(), s.config().timeout(), null));
  }

  /** Assertions on every flow instance that started during the current test. */
  public AllFlowsAssert assertThatAllFlows() {
    LiveSession s = session();
    return new AllFlowsAssert(new FlowsUnderTest(s, s.config().timeout()));
  }

  /**
   * Sends the outcome's captured occurrence of a trigger (event id, or a stage id) to the system
   * again — a Kafka record re-published with the same key, value and headers, an HTTP request
   * re-sent to the URL its span names — and waits for the idempotency window; see {@link
   * FlowAssert#whenRedelivered}. Returns what was sent and the side effects before and after.
   */
  public Redelivery redeliver(String eventOrStage, FlowOutcome outcome) {
    return redeliver(eventOrStage, outcome, null);
  }

  /** {@link #redeliver(String, FlowOutcome)}, sending an HTTP trigger to {@code target}. */
  public Redelivery redeliver(String eventOrStage, FlowOutcome outcome, URI target) {
    LiveSession s = session();
    return Outcomes.redeliver(s, requireNonNull(outcome, "outcome"), requireNonNull(eventOrStage, "eventOrStage"),
        target, s.config().timeout()).redelivery();
  }

  /** The flows of the current test decided so far (no waiting). */
  public List<FlowOutcome> outcomes() {
    List<FlowOutcome> out = new ArrayList<>();
    for (TestWindow.Entry e : session().window().entries()) {
      if (e.decided() && e.snapshot() != null) {
        out.add(new FlowOutcome(e.verdict(), e.snapshot(), true, null));
      }
    }
    return out;
  }

  private LiveSession session() {
    LiveSession s = session;
    if (s == null) {
      throw new IllegalStateException("flowtrace: the FlowTraceExtension has not started: it starts before the"
          + " test class (register it in a static field) or before the first test");
    }
    return s;
  }

  /** Configures a {@link FlowTraceExtension}; every setting has a default. */
  public static final class Builder {
    private String flows = DEFAULT_FLOWS;
    private Supplier<String> bootstrapServers;
    private boolean otlpReceiver = true;
    private int otlpPort;
    private Duration timeout = DEFAULT_TIMEOUT;
    private Duration settle = DEFAULT_SETTLE;
    private Duration lateness = DEFAULT_ALLOWED_LATENESS;
    private Duration completionGrace = DEFAULT_COMPLETION_GRACE;
    private Duration amendWindow = DEFAULT_AMEND_WINDOW;
    private Duration idempotencyWindow;
    private String serviceName = defaultServiceName();
    private boolean registerGlobal;
    private boolean failOnAnyFailedFlow;
    private java.net.URI schemaRegistry;

    private Path failurePages = FailurePages.DEFAULT_DIRECTORY;

    private Builder() {}

    /** {@code otel.service.name}, else {@code OTEL_SERVICE_NAME}, else the SDK's {@code unknown_service:java}. */
    private static String defaultServiceName() {
      String name = System.getProperty("otel.service.name");
      if (name == null || name.isBlank()) {
        name = System.getenv("OTEL_SERVICE_NAME");
      }
      return name == null || name.isBlank() ? "unknown_service:java" : name;
    }

    static Builder from(FlowTraceTest a) {
      Builder b = builder().flows(a.flows()).otlpPort(a.otlpPort())
          .timeout(FlowSpecLoader.parseDuration(a.timeout()))
          .failOnAnyFailedFlow(a.failOnAnyFailedFlow());
      if (!a.bootstrapServers().isBlank()) {
        String value = a.bootstrapServers();
        b.kafka(() -> resolve(value));
      }
      return b;
    }

    /** {@code ${name}}: the system property, else the environment variable; anything else as it is. */
    static String resolve(String value) {
      if (value.startsWith("${") && value.endsWith("}")) {
        String name = value.substring(2, value.length() - 1);
        String v = System.getProperty(name);
        return v != null ? v : System.getenv(name);
      }
      return value;
    }

    /**
     * The flow specs in this directory (or file) of the file system, e.g. {@code
     * Path.of("src/test/flows")}, relative to the working directory (a module's directory under
     * Maven). Without it they are read from the classpath directory {@code flows}: {@code
     * src/test/resources/flows} ({@link #flowsOnClasspath(String)} for another one).
     */
    public Builder flows(Path directory) {
      this.flows = requireNonNull(directory, "directory").toString();
      return this;
    }

    /** The flow specs' location: {@code classpath:DIR} or a filesystem path. */
    public Builder flows(String location) {
      requireNonNull(location, "location");
      if (location.isBlank()) {
        throw new IllegalArgumentException("flows location must not be blank");
      }
      this.flows = location;
      return this;
    }

    /** The flow specs are in this classpath resource directory, e.g. {@code flows}. */
    public Builder flowsOnClasspath(String resourceDirectory) {
      return flows(FlowSpecs.CLASSPATH + requireNonNull(resourceDirectory, "resourceDirectory"));
    }

    /**
     * The Confluent-compatible schema registry ({@code GET URL/schemas/ids/ID}) that flows whose
     * schema is {@code {avro-registry: true}} take their Avro schemas from, as replay's {@code
     * --schema-registry URL}. Defaults to none.
     *
     * @throws IllegalArgumentException when it is not an http(s) URL
     */
    public Builder schemaRegistry(String url) {
      this.schemaRegistry = io.flowtrace.verifier.schema.SchemaRegistryClient.create(
          java.net.URI.create(requireNonNull(url, "url").strip())).url();
      return this;
    }

    /** Taps the flows' topics on this Kafka cluster. Defaults to no Kafka. */
    public Builder kafka(String bootstrapServers) {
      requireNonNull(bootstrapServers, "bootstrapServers");
      return kafka(() -> bootstrapServers);
    }

    /**
     * Taps the flows' topics on the cluster this gives. It is asked before each test until it gives
     * one, so it may read a broker the test class starts in its own {@code @BeforeAll} (return
     * {@code null} while there is none).
     */
    public Builder kafka(Supplier<String> bootstrapServers) {
      this.bootstrapServers = requireNonNull(bootstrapServers, "bootstrapServers");
      return this;
    }

    /** Whether to run the OTLP/HTTP receiver. Defaults to true. */
    public Builder otlpReceiver(boolean enabled) {
      this.otlpReceiver = enabled;
      return this;
    }

    /** The OTLP/HTTP receiver's port on 127.0.0.1. Defaults to 0: a free port. */
    public Builder otlpPort(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("otlpPort must be 0..65535: " + port);
      }
      this.otlpPort = port;
      return this;
    }

    /** How long assertions wait for a verdict unless told otherwise. Defaults to 30 s. */
    public Builder timeout(Duration timeout) {
      this.timeout = positive(timeout, "timeout");
      return this;
    }

    /**
     * How long a decided verdict must stay unchanged before assertions read it, so that a late
     * event (a duplicate delivery just after the flow completed) is not missed. Defaults to 1 s.
     */
    public Builder settle(Duration settle) {
      this.settle = notNegative(settle, "settle");
      return this;
    }

    /**
     * How far the engine's event time trails the wall clock: how late telemetry may arrive after
     * it happened. Deadlines and the completion grace are measured in event time, so this adds to
     * both. Defaults to 500 ms.
     */
    public Builder allowedLateness(Duration lateness) {
      this.lateness = notNegative(lateness, "lateness");
      return this;
    }

    /**
     * How long after the terminal stage the engine waits for what is still missing (spans an
     * exporter still batches) before deciding anyway. Defaults to 6 s
     * ({@link #DEFAULT_COMPLETION_GRACE}); complete, trace-connected flows are decided at once.
     */
    public Builder completionGrace(Duration grace) {
      this.completionGrace = notNegative(grace, "grace");
      return this;
    }

    /** How long a decided verdict stays open to amendment by late events. Defaults to 10 min. */
    public Builder amendWindow(Duration window) {
      this.amendWindow = notNegative(window, "amendWindow");
      return this;
    }

    /**
     * How long after a redelivery to watch for side effects that happen again. Defaults to the
     * longest latency budget of the flow that ends at one of the effects, else 2 s.
     */
    public Builder idempotencyWindow(Duration window) {
      this.idempotencyWindow = positive(window, "idempotencyWindow");
      return this;
    }

    /**
     * Where a failed flow assertion writes that instance's HTML page (its sequence diagram), as
     * {@code <directory>/<test class>/<test method>-<flow>-<key>.html}; {@code null} writes none.
     * Defaults to {@code target/flowtrace}.
     */
    public Builder failurePages(Path directory) {
      this.failurePages = directory;
      return this;
    }

    /**
     * The {@code service.name} of {@link FlowTraceExtension#openTelemetry()}. Defaults to the system
     * property {@code otel.service.name}, else the environment variable {@code OTEL_SERVICE_NAME},
     * else {@code unknown_service:java}.
     */
    public Builder serviceName(String serviceName) {
      requireNonNull(serviceName, "serviceName");
      if (serviceName.isBlank()) {
        throw new IllegalArgumentException("serviceName must not be blank");
      }
      this.serviceName = serviceName;
      return this;
    }

    /**
     * Whether {@link FlowTraceExtension#openTelemetry()} is registered as {@code
     * GlobalOpenTelemetry} before the class (replacing whatever was global) and unregistered after
     * it, for code under test that calls {@code GlobalOpenTelemetry.get()}. Defaults to false.
     */
    public Builder registerGlobal(boolean registerGlobal) {
      this.registerGlobal = registerGlobal;
      return this;
    }

    /**
     * Whether a test that passed fails after it (in {@code afterEach}) when a flow that started
     * during it did not pass, though no assertion asked: it waits (as {@code assertThatAllFlows()}
     * does, up to the timeout; a test in which no flow started waits until nothing arrived for the
     * settle time) and fails with the verdict of every such flow. Flows whose verdict an
     * assertion of the test looked at ({@code hasNoViolations}, {@code hasStatus}, {@code
     * hasViolation}, {@code haveNoViolations}) are left to that assertion, so a test that expects a
     * violation still passes. Defaults to false.
     */
    public Builder failOnAnyFailedFlow(boolean failOnAnyFailedFlow) {
      this.failOnAnyFailedFlow = failOnAnyFailedFlow;
      return this;
    }

    public FlowTraceExtension build() {
      FlowTraceExtension e = new FlowTraceExtension(config());
      e.failurePages = failurePages;
      return e;
    }

    SessionConfig config() {
      return new SessionConfig(flows, bootstrapServers, otlpReceiver, otlpPort, timeout, settle, lateness,
          completionGrace, amendWindow, idempotencyWindow, serviceName, registerGlobal, failOnAnyFailedFlow,
          schemaRegistry);
    }

    private static Duration positive(Duration d, String name) {
      requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive: " + d);
      }
      return d;
    }

    private static Duration notNegative(Duration d, String name) {
      requireNonNull(d, name);
      if (d.isNegative()) {
        throw new IllegalArgumentException(name + " must not be negative: " + d);
      }
      return d;
    }
  }
}
