package io.flowtrace.junit;

import static java.util.Objects.requireNonNull;

import io.flowtrace.kafka.testkit.KafkaBroker;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One Kafka broker for every test class of a test run: the first class that registers a {@code
 * SharedKafka} starts it ({@link KafkaBroker#start()}, about 5 s), the others reuse it, and it is
 * closed when the run ends (it lives in the store of JUnit's root context). Topics named with
 * {@link #withTopic} are created when missing, so each class can declare what it needs.
 *
 * <pre>{@code
 * @RegisterExtension
 * static SharedKafka kafka = SharedKafka.create().withTopic("payments.requested", 1);
 *
 * @RegisterExtension
 * static FlowTraceExtension flows = FlowTraceExtension.builder()
 *     .kafka(kafka::bootstrapServers)      // null until the broker is up; asked before each test
 *     .build();
 * }</pre>
 *
 * <p>Needs {@code io.flowtrace:flowtrace-kafka-testkit} on the test class path (this module does
 * not bring it: it is an optional dependency). The broker is started with the starter of the first
 * class that needs it; later classes' starters are not used. Records of earlier classes stay on the
 * topics: the extension only sees what arrives after each test began.
 */
public final class SharedKafka implements BeforeAllCallback {

  private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(SharedKafka.class);

  private final Supplier<KafkaBroker> starter;
  private final Map<String, Integer> topics;
  private volatile KafkaBroker broker;

  private SharedKafka(Supplier<KafkaBroker> starter, Map<String, Integer> topics) {
    this.starter = starter;
    this.topics = topics;
  }

  /** A shared broker started with {@link KafkaBroker#start()}. */
  public static SharedKafka create() {
    return create(KafkaBroker::start);
  }

  /** A shared broker started by {@code starter} (e.g. {@code () -> KafkaBroker.builder()...start()}). */
  public static SharedKafka create(Supplier<KafkaBroker> starter) {
    return new SharedKafka(requireNonNull(starter, "starter"), Map.of());
  }

  /** The same, also creating this topic (when it does not exist yet) before the class. */
  public SharedKafka withTopic(String name, int partitions) {
    requireNonNull(name, "name");
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be >= 1, was " + partitions);
    }
    Map<String, Integer> more = new LinkedHashMap<>(topics);
    more.put(name, partitions);
    return new SharedKafka(starter, Map.copyOf(more));
  }

  /** Starts the run's broker if no class has yet, and creates this class's topics. */
  @Override
  public void beforeAll(ExtensionContext context) {
    Running running = context.getRoot().getStore(NAMESPACE)
        .getOrComputeIfAbsent(Running.class, k -> new Running(starter.get()), Running.class);
    topics.forEach(running::ensureTopic);
    broker = running.broker;
  }

  /**
   * The run's broker.
   *
   * @throws IllegalStateException before the test class started (in a static initializer, say)
   */
  public KafkaBroker broker() {
    KafkaBroker b = broker;
    if (b == null) {
      throw new IllegalStateException("flowtrace: the shared Kafka broker starts before the test class: register"
          + " SharedKafka with @RegisterExtension on a static field");
    }
    return b;
  }

  /** The broker's {@code host:port}, or {@code null} before the test class started. */
  public String bootstrapServers() {
    KafkaBroker b = broker;
    return b == null ? null : b.bootstrapServers();
  }

  /** The broker of one run and the topics made on it; closed by JUnit when the run ends. */
  private static final class Running implements AutoCloseable {
    final KafkaBroker broker;
    final Set<String> created = ConcurrentHashMap.newKeySet();

    Running(KafkaBroker broker) {
      this.broker = requireNonNull(broker, "the starter gave no broker");
    }

    synchronized void ensureTopic(String name, int partitions) {
      if (created.contains(name)) {
        return;
      }
      try {
        broker.createTopic(name, partitions);
      } catch (IllegalStateException e) {
        if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) {
          throw e;
        }
      }
      created.add(name);
    }

    @Override
    public void close() {
      broker.close();
    }
  }
}
