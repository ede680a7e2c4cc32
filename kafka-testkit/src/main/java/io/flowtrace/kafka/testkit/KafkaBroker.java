package io.flowtrace.kafka.testkit;

import static java.util.Objects.requireNonNull;

import io.flowtrace.kafka.testkit.internal.BrokerClasspath;
import io.flowtrace.kafka.testkit.internal.BrokerLogProvider;
import io.flowtrace.kafka.testkit.internal.ParentWatchdog;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Apache Kafka broker (KRaft, broker and controller in one process) started as a
 * forked JVM, for integration tests and demos.
 *
 * <p>The broker runs on its own class path: the jars of {@code org.apache.kafka:kafka_2.13} at the
 * version the testkit was built with (4.4.0), listed in the testkit at build time and taken from
 * the local Maven repository ({@code maven.repo.local}, the {@code localRepository} of {@code
 * ~/.m2/settings.xml}, or {@code ~/.m2/repository}). Jars that are not there are downloaded once
 * from Maven Central (44 jars, 45 MB in all), checked against Central's SHA-1, into {@code
 * ~/.cache/flowtrace/maven} (system property {@code flowtrace.kafka.cache}; another repository to
 * download from: {@code flowtrace.kafka.repository}). So the test's own class path may hold any
 * kafka-clients the testkit works with (3.9 and 4.x are tested), and needs no broker jars at all.
 * {@link Builder#classpath(String)} overrides all of this.
 *
 * <p>{@link #start()} (or {@link Builder#start()}) creates a temporary directory, writes {@code
 * server.properties}, runs {@code kafka.tools.StorageTool format --standalone}, then starts {@code
 * kafka.Kafka server.properties} and returns once the PLAINTEXT port accepts connections <em>and</em>
 * an Admin client's {@code describeCluster} succeeds. Both listeners bind to {@code 127.0.0.1}.
 * The broker's stdout and stderr go to {@link #logFile()}; a failed start throws with the tail of
 * that file.
 *
 * <p>For fault tests, {@link #stop()} (SIGTERM) and {@link #kill()} (SIGKILL) take the broker down
 * and {@link #restart()} brings it back on the same log directory and ports, with its topics,
 * records and committed offsets.
 *
 * <p>{@link #close()} sends SIGTERM, waits (10 s by default) for a clean shutdown, then kills the
 * process and deletes the temporary directory; it is idempotent. A JVM shutdown hook closes a broker
 * that a test forgot, and the forked broker exits by itself when its parent JVM dies (it watches
 * its stdin for end-of-file), so a crashed test never leaves a broker running.
 *
 * <pre>{@code
 * try (KafkaBroker kafka = KafkaBroker.start()) {
 *   kafka.createTopic("orders.created", 3);
 *   ... kafka.bootstrapServers() ...
 * }
 * }</pre>
 *
 * <p>For a demo, run {@link #main(String[])}: {@code java -cp <testkit, kafka-clients and slf4j-api jars>
 * io.flowtrace.kafka.testkit.KafkaBroker [--port 9092] [--controller-port 9093]}. It prints the
 * bootstrap servers and runs until Ctrl-C.
 */
public final class KafkaBroker implements AutoCloseable {

  /** The host both listeners bind to and advertise. */
  public static final String HOST = "127.0.0.1";
  /**
   * Default time {@link Builder#start()} waits for the broker to become ready: 180 s. It is ready
   * in about 5 s on an idle machine; on two cores kept busy by busy loops and two other builds, 57
   * starts took 13 to 106 s (median 34 s). A broker process that dies is reported at once.
   */
  public static final Duration DEFAULT_STARTUP_TIMEOUT = Duration.ofSeconds(180);
  /** Default time {@link #close()} waits after SIGTERM before killing the broker: 10 s. */
  public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(10);
  /**
   * Default JVM options of the forked broker: 512 MB of heap, and the client compiler only with the
   * serial collector, which start the broker in about two thirds of the time (8.6 s against 9.4 to
   * 15 s on a busy 2-core machine) and leave the cores to the tests; a test broker needs no peak
   * throughput.
   */
  public static final List<String> DEFAULT_JVM_OPTIONS = List.of("-Xmx512m", "-Djava.awt.headless=true",
      "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");
  /** Default time {@link #createTopic(String, int)} waits until the topic is ready: 30 s. */
  public static final Duration DEFAULT_TOPIC_TIMEOUT = Duration.ofSeconds(30);
  /** The KRaft node id of the single node. */
  public static final int NODE_ID = 1;

  private static final Logger LOG = LoggerFactory.getLogger(KafkaBroker.class);
  private static final int LOG_TAIL_LINES = 60;
  /** The broker class path this JVM resolved, once. */
  private static String resolvedClasspath;

  private final Path workDir;
  private final Path logFile;
  private final int port;
  private final int controllerPort;
  private final Duration shutdownTimeout;
  private final Thread shutdownHook;
  private final Object lock = new Object();
  private Process process;
  private OutputStream processStdin;
  private Admin admin;
  private boolean closed;
  private List<String> runCommand;
  private Duration startupTimeout;
  private boolean hookAdded;

  private KafkaBroker(Path workDir, int port, int controllerPort, Duration shutdownTimeout) {
    this.workDir = workDir;
    this.logFile = workDir.resolve("broker.log");
    this.port = port;
    this.controllerPort = controllerPort;
    this.shutdownTimeout = shutdownTimeout;
    this.shutdownHook = new Thread(this::closeFromHook, "kafka-broker-shutdown-" + port);
  }

  /** Starts a broker with every default: free ports, a temp dir, 180 s startup timeout. */
  public static KafkaBroker start() {
    return builder().start();
  }

  /** A builder with the defaults documented on its setters. */
  public static Builder builder() {
    return new Builder();
  }

  /** {@code 127.0.0.1:<port>}, for {@code bootstrap.servers}. */
  public String bootstrapServers() {
    return HOST + ":" + port;
  }

  /** The PLAINTEXT (client) port. */
  public int port() {
    return port;
  }

  /** The CONTROLLER port. */
  public int controllerPort() {
    return controllerPort;
  }

  /** The file the broker's stdout and stderr go to (deleted with the temp dir on close). */
  public Path logFile() {
    return logFile;
  }

  /** The broker's temporary directory: properties, data and log (deleted on close). */
  public Path workDir() {
    return workDir;
  }

  /** Whether the broker process is alive. */
  public boolean isRunning() {
    synchronized (lock) {
      return process != null && process.isAlive();
    }
  }

  /**
   * Stops the broker process as an operator would — SIGTERM, a controlled shutdown, killed if it
   * takes longer than the shutdown timeout — and keeps its log directory and ports, so {@link
   * #restart()} brings the same broker back with every topic, record and committed offset. Clients
   * see the broker go away meanwhile. Does nothing when it is not running.
   */
  public void stop() {
    Process p;
    synchronized (lock) {
      checkOpen();
      p = process;
    }
    if (p != null) {
      stop(p, shutdownTimeout);
    }
  }

  /**
   * Kills the broker process with SIGKILL, as a crash or the OOM killer would: no controlled
   * shutdown, so the next {@link #restart()} recovers its logs. Returns once the process is gone.
   */
  public void kill() {
    Process p;
    synchronized (lock) {
      checkOpen();
      p = process;
    }
    if (p != null && p.isAlive()) {
      p.destroyForcibly();
      try {
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
          throw new IllegalStateException("Kafka broker pid " + p.pid() + " did not die on SIGKILL");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("Interrupted while killing the broker", e);
      }
    }
  }

  /**
   * Starts the broker process again on the same log directory and ports (stopping it first when it
   * is running) and returns once it is ready, as {@link Builder#start()} does, within the startup
   * timeout.
   *
   * @throws IllegalStateException if it does not become ready in time, with its log tail
   */
  public void restart() {
    stop();
    long t0 = System.nanoTime();
    spawn();
    awaitReady(t0 + startupTimeout.toNanos(), startupTimeout);
    LOG.info("Kafka broker restarted on {} in {} ms", bootstrapServers(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("Broker " + bootstrapServers() + " is closed");
    }
  }

  /**
   * Creates a topic with replication factor 1 and returns once it is ready to be produced to: the
   * broker confirmed it, every partition has a leader and every leader answers. Waits up to {@link
   * #DEFAULT_TOPIC_TIMEOUT} (30 s).
   *
   * @throws IllegalStateException when the broker refuses, does not answer, or a partition has no
   *     leader in time; the message names the topic and the partitions that lack one
   */
  public void createTopic(String name, int partitions) {
    createTopic(name, partitions, DEFAULT_TOPIC_TIMEOUT);
  }

  /**
   * As {@link #createTopic(String, int)}, waiting up to {@code timeout} in all.
   *
   * <p>A topic is not ready when {@code createTopics} returns: its partitions get their leaders a
   * little later, and a producer that sends before then meets {@code NOT_LEADER_OR_FOLLOWER} and,
   * on a busy machine, {@code OUT_OF_ORDER_SEQUENCE_NUMBER} and lost records.
   */
  public void createTopic(String name, int partitions, Duration timeout) {
    requireNonNull(name, "name");
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be >= 1, was " + partitions);
    }
    requirePositive(timeout, "timeout");
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      admin()
          .createTopics(List.of(new NewTopic(name, partitions, (short) 1)))
          .all()
          .get(millisLeft(deadline), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted creating topic " + name, e);
    } catch (ExecutionException | TimeoutException e) {
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      throw new IllegalStateException(
          "Could not create topic " + name + " with " + partitions + " partitions on "
              + bootstrapServers() + " within " + timeout + ": " + cause,
          cause);
    }
    awaitLeaders(name, partitions, deadline, timeout);
  }

  /**
   * Grows {@code topic} to {@code totalPartitions} partitions, as {@code kafka-topics --alter
   * --partitions} does, and returns once every partition has a leader that answers (as {@link
   * #createTopic(String, int)}). Waits up to {@link #DEFAULT_TOPIC_TIMEOUT}.
   *
   * @throws IllegalStateException when the broker refuses (e.g. the topic already has as many) or a
   *     partition has no leader in time; the message names the topic
   */
  public void addPartitions(String topic, int totalPartitions) {
    requireNonNull(topic, "topic");
    long deadline = System.nanoTime() + DEFAULT_TOPIC_TIMEOUT.toNanos();
    try {
      admin().createPartitions(Map.of(topic, org.apache.kafka.clients.admin.NewPartitions.increaseTo(totalPartitions)))
          .all().get(millisLeft(deadline), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted adding partitions to " + topic, e);
    } catch (ExecutionException | TimeoutException e) {
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      throw new IllegalStateException("Could not grow topic " + topic + " to " + totalPartitions + " partitions on "
          + bootstrapServers() + ": " + cause, cause);
    }
    awaitLeaders(topic, totalPartitions, deadline, DEFAULT_TOPIC_TIMEOUT);
  }

  /**
   * Deletes {@code topic} and returns once the broker no longer lists it, so that a topic of the
   * same name can be created again at once. Waits up to {@link #DEFAULT_TOPIC_TIMEOUT}.
   *
   * @throws IllegalStateException when the broker refuses (e.g. no such topic) or still lists it in time
   */
  public void deleteTopic(String topic) {
    requireNonNull(topic, "topic");
    long deadline = System.nanoTime() + DEFAULT_TOPIC_TIMEOUT.toNanos();
    try {
      admin().deleteTopics(List.of(topic)).all().get(millisLeft(deadline), TimeUnit.MILLISECONDS);
      while (admin().listTopics().names().get(millisLeft(deadline), TimeUnit.MILLISECONDS).contains(topic)) {
        if (System.nanoTime() - deadline >= 0) {
          throw new IllegalStateException("Topic " + topic + " is still listed " + DEFAULT_TOPIC_TIMEOUT
              + " after it was deleted");
        }
        sleep(50);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted deleting topic " + topic, e);
    } catch (ExecutionException | TimeoutException e) {
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      throw new IllegalStateException("Could not delete topic " + topic + " on " + bootstrapServers() + ": " + cause,
          cause);
    }
  }

  /** Polls until every partition of the topic has a leader that answers a ListOffsets request. */
  private void awaitLeaders(String topic, int partitions, long deadline, Duration timeout) {
    String problem;
    while (true) {
      try {
        TopicDescription described = admin().describeTopics(List.of(topic)).allTopicNames()
            .get(Math.min(millisLeft(deadline), 5_000), TimeUnit.MILLISECONDS).get(topic);
        problem = leaderProblem(partitions, described.partitions());
        if (problem == null) {
          Map<TopicPartition, OffsetSpec> latest = new LinkedHashMap<>();
          for (int p = 0; p < partitions; p++) {
            latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
          }
          try {
            admin().listOffsets(latest).all()
                .get(Math.min(millisLeft(deadline), 5_000), TimeUnit.MILLISECONDS);
            return;
          } catch (ExecutionException e) {
            problem = "its leaders do not answer ListOffsets yet: " + e.getCause();
          }
        }
      } catch (ExecutionException e) {
        problem = "describeTopics failed: " + e.getCause();
      } catch (TimeoutException e) {
        problem = "the broker did not answer in time";
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("Interrupted waiting for the leaders of topic " + topic, e);
      }
      if (System.nanoTime() - deadline >= 0) {
        throw new IllegalStateException("Topic " + topic + " on " + bootstrapServers()
            + " is not ready within " + timeout + ": " + problem + "." + errorLines(logFile, 10));
      }
      LOG.debug("Topic {} not ready yet: {}", topic, problem);
      sleep(50);
    }
  }

  /**
   * What keeps a topic's partitions from being produced to, or null when each of the {@code
   * expected} partitions is listed with a leader.
   */
  static String leaderProblem(int expected, List<TopicPartitionInfo> partitions) {
    List<Integer> leaderless = new ArrayList<>();
    Set<Integer> listed = new java.util.TreeSet<>();
    for (TopicPartitionInfo p : partitions) {
      listed.add(p.partition());
      if (p.leader() == null || p.leader().isEmpty()) {
        leaderless.add(p.partition());
      }
    }
    for (int p = 0; p < expected; p++) {
      if (!listed.contains(p)) {
        leaderless.add(p);
      }
    }
    if (leaderless.isEmpty()) {
      return null;
    }
    leaderless.sort(null);
    return (leaderless.size() == 1 ? "partition " : "partitions ") + leaderless + " of " + expected
        + (leaderless.size() == 1 ? " has" : " have") + " no leader";
  }

  /**
   * Sends every record with {@code producer}, flushes it (which returns once each record is
   * acknowledged or has failed, within the producer's {@code delivery.timeout.ms}) and checks each
   * one, so a test that loses a record fails here, at the send, rather than later as a missing
   * result. The producer's own settings (batching, idempotence, retries) apply.
   *
   * @return each record's metadata, in the order of {@code records}
   * @throws IllegalStateException when a record is not acknowledged: says how many were not, which
   *     was the first (its index, topic and partition) and why, with the broker log's errors
   */
  public <K, V> List<RecordMetadata> sendAll(Producer<K, V> producer,
      List<? extends ProducerRecord<K, V>> records) {
    requireNonNull(producer, "producer");
    requireNonNull(records, "records");
    List<Future<RecordMetadata>> futures = new ArrayList<>(records.size());
    for (int i = 0; i < records.size(); i++) {
      try {
        futures.add(producer.send(records.get(i)));
      } catch (RuntimeException e) {
        throw sendFailure(records, i, 1, e);
      }
    }
    producer.flush(); // every future is done from here on
    List<RecordMetadata> acknowledged = new ArrayList<>(records.size());
    int failed = 0;
    int first = -1;
    Throwable firstCause = null;
    for (int i = 0; i < futures.size(); i++) {
      try {
        acknowledged.add(futures.get(i).get());
      } catch (ExecutionException e) {
        failed++;
        if (first < 0) {
          first = i;
          firstCause = e.getCause();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("Interrupted waiting for the acknowledgement of record " + i, e);
      }
    }
    if (failed > 0) {
      throw sendFailure(records, first, failed, firstCause);
    }
    return acknowledged;
  }

  private IllegalStateException sendFailure(List<? extends ProducerRecord<?, ?>> records, int index,
      int failed, Throwable cause) {
    ProducerRecord<?, ?> r = records.get(index);
    String where = r.topic() + (r.partition() == null ? "" : " partition " + r.partition());
    return new IllegalStateException(failed + " of " + records.size() + " records sent to "
        + bootstrapServers() + " were not acknowledged; the first, record " + index + " to " + where
        + ": " + cause + errorLines(logFile, 10), cause);
  }

  /**
   * A producer of raw bytes for this broker: {@code linger.ms=0} (each send goes at once) unless
   * {@code overrides} say otherwise. The caller closes it. Check what it sends: {@link
   * #sendAll(Producer, List)}.
   */
  public org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]> newProducer(Map<String, ?> overrides) {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put(org.apache.kafka.clients.producer.ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    p.put(org.apache.kafka.clients.producer.ProducerConfig.LINGER_MS_CONFIG, 0);
    p.putAll(requireNonNull(overrides, "overrides"));
    return new org.apache.kafka.clients.producer.KafkaProducer<>(p,
        new org.apache.kafka.common.serialization.ByteArraySerializer(),
        new org.apache.kafka.common.serialization.ByteArraySerializer());
  }

  /**
   * Fault injection: flips one bit of the first stored occurrence of {@code marker} in the log
   * segments of {@code topic}'s {@code partition}, as a failing disk would. The broker serves the
   * bytes as they are, so consumers' CRC check fails on the record batch holding them. The marker
   * should be a distinctive part of a record's value.
   *
   * @throws IllegalStateException when no segment of that partition holds the marker
   */
  public void corruptStoredBytes(String topic, int partition, byte[] marker) {
    requireNonNull(topic, "topic");
    requireNonNull(marker, "marker");
    if (marker.length == 0) {
      throw new IllegalArgumentException("marker is empty");
    }
    Path dir = workDir.resolve("data").resolve(topic + "-" + partition);
    try (Stream<Path> files = Files.list(dir)) {
      for (Path segment : files.filter(f -> f.getFileName().toString().endsWith(".log")).sorted().toList()) {
        byte[] content = Files.readAllBytes(segment);
        int at = indexOf(content, marker);
        if (at >= 0) {
          try (java.io.RandomAccessFile file = new java.io.RandomAccessFile(segment.toFile(), "rw")) {
            file.seek(at);
            file.write(marker[0] ^ 0x01);
          }
          return;
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Could not corrupt " + dir + ": " + e.getMessage(), e);
    }
    throw new IllegalStateException("No log segment in " + dir + " holds the "
        + marker.length + "-byte marker '" + new String(marker, StandardCharsets.UTF_8) + "'");
  }

  private static int indexOf(byte[] content, byte[] marker) {
    outer:
    for (int i = 0; i + marker.length <= content.length; i++) {
      for (int j = 0; j < marker.length; j++) {
        if (content[i + j] != marker[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /** The last {@code lines} lines of the broker's log, for failure messages. */
  public String logTail(int lines) {
    return tail(logFile, lines);
  }

  /**
   * Stops the broker: SIGTERM, wait up to the shutdown timeout, then kill; deletes the temp dir.
   * Idempotent; never throws.
   */
  @Override
  public void close() {
    closeInternal();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException | SecurityException e) {
      // JVM is already shutting down: the hook is running or will run, and close is idempotent.
    }
  }

  private void closeFromHook() {
    closeInternal();
  }

  private void closeInternal() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      if (admin != null) {
        try {
          admin.close(Duration.ofSeconds(2));
        } catch (RuntimeException e) {
          LOG.debug("Closing admin client of broker {} failed", bootstrapServers(), e);
        }
        admin = null;
      }
      if (process != null) {
        stop(process, shutdownTimeout);
        closeQuietly(processStdin);
      }
      deleteRecursively(workDir);
    }
  }

  private static void stop(Process p, Duration timeout) {
    if (!p.isAlive()) {
      return;
    }
    p.destroy(); // SIGTERM: Kafka's shutdown hook does a controlled shutdown
    try {
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        LOG.warn("Kafka broker pid {} did not stop within {}; killing it", p.pid(), timeout);
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private Admin admin() {
    synchronized (lock) {
      checkOpen();
      if (admin == null) {
        admin = Admin.create(adminProperties(bootstrapServers()));
      }
      return admin;
    }
  }

  private static Map<String, Object> adminProperties(String bootstrapServers) {
    Map<String, Object> props = new LinkedHashMap<>();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
    return props;
  }

  // ---------------------------------------------------------------------------------------------
  // Starting

  /** System properties every forked JVM gets: our SLF4J provider, since Kafka brings none. */
  private static List<String> loggingOptions() {
    return List.of("-Dslf4j.provider=" + BrokerLogProvider.class.getName());
  }

  private void launch(Builder b) {
    Path dataDir = workDir.resolve("data");
    Path propsFile = workDir.resolve("server.properties");
    writeProperties(propsFile, serverProperties(b, dataDir));
    String java = javaExecutable(b.javaExecutable);
    String classpath = b.classpath != null ? b.classpath : brokerClasspath();
    long deadline = System.nanoTime() + b.startupTimeout.toNanos();

    // 1. Format the log dir as a standalone KRaft controller quorum of one.
    List<String> format = new ArrayList<>();
    format.add(java);
    format.addAll(b.jvmOptions);
    format.addAll(loggingOptions());
    format.addAll(List.of("-cp", classpath, "kafka.tools.StorageTool", "format",
        "-t", Uuid.randomUuid().toString(), "-c", propsFile.toString(), "--standalone"));
    try {
      Process fmt = new ProcessBuilder(format)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
          .redirectInput(ProcessBuilder.Redirect.from(devNull()))
          .start();
      long left = Math.max(1, deadline - System.nanoTime());
      if (!fmt.waitFor(left, TimeUnit.NANOSECONDS)) {
        fmt.destroyForcibly();
        throw failure("StorageTool format did not finish within " + b.startupTimeout);
      }
      if (fmt.exitValue() != 0) {
        throw failure("StorageTool format exited with " + fmt.exitValue());
      }
    } catch (IOException e) {
      throw failure("Could not run " + java + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw failure("Interrupted while formatting the log dir");
    }

    // 2. Start the broker, wrapped in a watchdog that exits when our JVM (its stdin) goes away.
    List<String> run = new ArrayList<>();
    run.add(java);
    run.addAll(b.jvmOptions);
    run.addAll(loggingOptions());
    run.addAll(List.of("-cp", classpath, ParentWatchdog.class.getName(), "kafka.Kafka",
        propsFile.toString()));
    synchronized (lock) {
      runCommand = List.copyOf(run);
      startupTimeout = b.startupTimeout;
    }
    spawn();

    // 3. Ready when the client port accepts and the cluster answers describeCluster.
    awaitReady(deadline, b.startupTimeout);
  }

  private void spawn() {
    synchronized (lock) {
      checkOpen();
      closeQuietly(processStdin);
      try {
        process = new ProcessBuilder(runCommand)
            .directory(workDir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
            .start();
        processStdin = process.getOutputStream();
      } catch (IOException e) {
        throw failure("Could not start " + runCommand.get(0) + ": " + e.getMessage());
      }
      if (!hookAdded) {
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        hookAdded = true;
      }
    }
  }

  private void awaitReady(long deadline, Duration timeout) {
    while (!portAccepts()) {
      checkAlive(timeout);
      if (System.nanoTime() > deadline) {
        throw failure("Port " + bootstrapServers() + " did not accept connections within " + timeout);
      }
      sleep(50);
    }
    Admin probe = Admin.create(adminProperties(bootstrapServers()));
    try {
      while (true) {
        checkAlive(timeout);
        long leftMs = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (leftMs <= 0) {
          throw failure("describeCluster did not succeed within " + timeout);
        }
        try {
          probe.describeCluster().nodes().get(Math.min(leftMs, 5_000), TimeUnit.MILLISECONDS);
          return;
        } catch (ExecutionException | TimeoutException e) {
          LOG.debug("Broker {} not ready yet: {}", bootstrapServers(), e.toString());
          sleep(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw failure("Interrupted while waiting for the broker");
        }
      }
    } finally {
      // Bounded: Admin.close() without a timeout waits forever for calls to a dead or alien port.
      probe.close(Duration.ofSeconds(2));
    }
  }

  private void checkAlive(Duration timeout) {
    Process p;
    synchronized (lock) {
      p = process;
    }
    if (p != null && !p.isAlive()) {
      throw failure("Broker process exited with " + p.exitValue() + " before it was ready");
    }
  }

  private boolean portAccepts() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(HOST, port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private IllegalStateException failure(String what) {
    return new IllegalStateException("Kafka broker on " + bootstrapServers() + " (controller "
        + HOST + ":" + controllerPort + "): " + what + "." + errorLines(logFile, 10)
        + "\nLast lines of " + logFile + ":\n" + tail(logFile, LOG_TAIL_LINES));
  }

  private Map<String, String> serverProperties(Builder b, Path dataDir) {
    Map<String, String> p = new LinkedHashMap<>();
    String controller = HOST + ":" + controllerPort;
    p.put("process.roles", "broker,controller");
    p.put("node.id", String.valueOf(NODE_ID));
    p.put("controller.quorum.bootstrap.servers", controller);
    p.put("listeners", "PLAINTEXT://" + HOST + ":" + port + ",CONTROLLER://" + controller);
    p.put("advertised.listeners", "PLAINTEXT://" + HOST + ":" + port + ",CONTROLLER://" + controller);
    p.put("controller.listener.names", "CONTROLLER");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("log.dirs", dataDir.toString());
    p.put("num.partitions", "1");
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "1");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("transaction.state.log.num.partitions", "1");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("group.initial.rebalance.delay.ms", "0");
    p.putAll(b.serverProperties);
    return p;
  }

  private static void writeProperties(Path file, Map<String, String> values) {
    Properties props = new Properties();
    props.putAll(values);
    try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      props.store(w, "flowtrace KafkaBroker");
    } catch (IOException e) {
      throw new UncheckedIOException("Could not write " + file, e);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private static String javaExecutable(Path configured) {
    if (configured != null) {
      return configured.toString();
    }
    Path fromHome = Path.of(System.getProperty("java.home"), "bin", "java");
    if (Files.isExecutable(fromHome)) {
      return fromHome.toString();
    }
    return ProcessHandle.current().info().command().orElse("java");
  }

  /**
   * The broker's own class path: the testkit's own location (for the watchdog and the broker's log
   * provider) and the jars of {@link BrokerClasspath} (the local Maven repository's, or downloaded
   * once from Maven Central), whatever kafka-clients this JVM's class path holds. Only when they
   * cannot be had and this JVM's class path holds kafka_2.13 and kafka-clients of the listed
   * version is that class path used instead.
   */
  static String brokerClasspath() {
    synchronized (KafkaBroker.class) {
      if (resolvedClasspath != null) {
        return resolvedClasspath;
      }
      String version = null;
      try {
        BrokerClasspath listed = BrokerClasspath.defaults();
        version = listed.kafkaVersion();
        Set<String> entries = new LinkedHashSet<>();
        selfLocation().ifPresent(entries::add);
        listed.resolve().forEach(jar -> entries.add(jar.toString()));
        resolvedClasspath = String.join(File.pathSeparator, entries);
        return resolvedClasspath;
      } catch (IOException | RuntimeException e) {
        // version is null when the list itself is missing (classes built without Maven, e.g. by an IDE)
        List<String> jvm = List.of(jvmClasspath().split(File.pathSeparator));
        Optional<String> jvmBroker = BrokerClasspath.versionOf("kafka_2.13", jvm);
        Optional<String> jvmClients = BrokerClasspath.versionOf("kafka-clients", jvm);
        if (jvmBroker.isPresent() && jvmClients.equals(jvmBroker)
            && (version == null || jvmBroker.get().equals(version))) {
          LOG.warn("The Kafka broker's own jars could not be had ({}); using this JVM's class path,"
              + " which holds kafka_2.13 and kafka-clients {}", e.getMessage(), jvmBroker.get());
          return String.join(File.pathSeparator, jvm);
        }
        String wanted = version == null ? "" : " " + version;
        throw new IllegalStateException("The Kafka" + wanted + " broker's jars could not be had: "
            + e.getMessage() + ". This JVM's class path holds "
            + jvmBroker.map(v -> "kafka_2.13 " + v).orElse("no kafka_2.13") + " and "
            + jvmClients.map(v -> "kafka-clients " + v).orElse("no kafka-clients")
            + ", so it cannot run the broker instead. Let the testkit download them once (from Maven"
            + " Central, or the repository named by the system property " + BrokerClasspath.REMOTE_PROPERTY
            + "), or set KafkaBroker.Builder.classpath(...)", e);
      }
    }
  }

  /** Where the testkit's classes are (its jar or classes directory). */
  private static Optional<String> selfLocation() {
    try {
      URL self = KafkaBroker.class.getProtectionDomain().getCodeSource().getLocation();
      return Optional.of(Path.of(self.toURI()).toString());
    } catch (URISyntaxException | RuntimeException e) {
      LOG.debug("Could not locate the testkit's own class path entry", e);
      return Optional.empty();
    }
  }

  /**
   * This JVM's class path with manifest-only jars (as surefire/failsafe use) expanded, plus the
   * testkit's own location so the watchdog main class is found.
   */
  static String jvmClasspath() {
    Set<String> entries = new LinkedHashSet<>();
    for (String entry : System.getProperty("java.class.path", "").split(File.pathSeparator)) {
      if (entry.isBlank()) {
        continue;
      }
      entries.add(entry);
      entries.addAll(manifestClassPath(Path.of(entry)));
    }
    selfLocation().ifPresent(entries::add);
    return String.join(File.pathSeparator, entries);
  }

  private static List<String> manifestClassPath(Path jar) {
    if (!jar.toString().endsWith(".jar") || !Files.isRegularFile(jar)) {
      return List.of();
    }
    try (JarFile jf = new JarFile(jar.toFile())) {
      Manifest m = jf.getManifest();
      String cp = m == null ? null : m.getMainAttributes().getValue("Class-Path");
      if (cp == null || cp.isBlank()) {
        return List.of();
      }
      List<String> out = new ArrayList<>();
      URI base = jar.toUri();
      for (String ref : cp.trim().split("\\s+")) {
        try {
          out.add(Path.of(base.resolve(ref)).toString());
        } catch (IllegalArgumentException e) {
          LOG.debug("Skipping class path entry {} of {}", ref, jar);
        }
      }
      return out;
    } catch (IOException e) {
      return List.of();
    }
  }

  static int freePort() {
    return Ports.free();
  }

  private static File devNull() {
    return new File(File.separatorChar == '\\' ? "NUL" : "/dev/null");
  }

  /**
   * The first {@code max} ERROR and exception lines of the log, since a failed start is usually followed by many
   * lines of orderly shutdown that push the cause out of the tail; empty when there are none.
   */
  static String errorLines(Path file, int max) {
    if (!Files.isRegularFile(file)) {
      return "";
    }
    try (Stream<String> s = Files.lines(file, StandardCharsets.UTF_8)) {
      List<String> errors = s.filter(l -> l.contains(" ERROR ") || l.startsWith("Caused by: ")
          || l.matches("^[\\w.$]+(Exception|Error): .*")).limit(max).toList();
      return errors.isEmpty() ? "" : "\nErrors in the broker log:\n" + String.join("\n", errors);
    } catch (IOException | UncheckedIOException e) {
      return "";
    }
  }

  static String tail(Path file, int lines) {
    if (!Files.isRegularFile(file)) {
      return "(no log file)";
    }
    Deque<String> last = new ArrayDeque<>();
    try (Stream<String> s = Files.lines(file, StandardCharsets.UTF_8)) {
      s.forEach(line -> {
        last.addLast(line);
        if (last.size() > lines) {
          last.removeFirst();
        }
      });
    } catch (IOException | UncheckedIOException e) {
      return "(could not read log: " + e.getMessage() + ")";
    }
    return last.isEmpty() ? "(log is empty)" : String.join("\n", last);
  }

  private static void deleteRecursively(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          LOG.debug("Could not delete {}", p, e);
        }
      });
    } catch (IOException | UncheckedIOException e) {
      LOG.warn("Could not delete broker dir {}: {}", dir, e.toString());
    }
  }

  private static void closeQuietly(OutputStream out) {
    if (out != null) {
      try {
        out.close();
      } catch (IOException ignored) {
        // the process is gone
      }
    }
  }

  private static long millisLeft(long deadlineNanos) {
    return Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()));
  }

  private static Duration requirePositive(Duration d, String name) {
    requireNonNull(d, name);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, was " + d);
    }
    return d;
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while waiting for the broker", e);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Builder

  /** Configures and starts a {@link KafkaBroker}. Every setting has a default. */
  public static final class Builder {
    private int port;
    private int controllerPort;
    private Duration startupTimeout = DEFAULT_STARTUP_TIMEOUT;
    private Duration shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;
    private List<String> jvmOptions = DEFAULT_JVM_OPTIONS;
    private final Map<String, String> serverProperties = new LinkedHashMap<>();
    private Path parentDir;
    private Path javaExecutable;
    private String classpath;

    private Builder() {}

    /** The PLAINTEXT client port. Defaults to 0: a free port. */
    public Builder port(int port) {
      this.port = checkPort(port, "port");
      return this;
    }

    /** The CONTROLLER port. Defaults to 0: a free port. */
    public Builder controllerPort(int controllerPort) {
      this.controllerPort = checkPort(controllerPort, "controllerPort");
      return this;
    }

    /** How long {@link #start()} waits for readiness. Defaults to 180 s. */
    public Builder startupTimeout(Duration timeout) {
      this.startupTimeout = checkPositive(timeout, "startupTimeout");
      return this;
    }

    /** How long {@link KafkaBroker#close()} waits after SIGTERM before killing. Defaults to 10 s. */
    public Builder shutdownTimeout(Duration timeout) {
      this.shutdownTimeout = checkPositive(timeout, "shutdownTimeout");
      return this;
    }

    /**
     * JVM options of the forked broker. Defaults to {@link #DEFAULT_JVM_OPTIONS} ({@code -Xmx512m
     * -XX:TieredStopAtLevel=1 -XX:+UseSerialGC}).
     */
    public Builder jvmOptions(List<String> options) {
      this.jvmOptions = List.copyOf(requireNonNull(options, "options"));
      return this;
    }

    /**
     * A raw broker property, written to {@code server.properties} after (and so overriding) the
     * testkit's own. Defaults: none. Overriding listeners or {@code log.dirs} is at your own risk.
     */
    public Builder serverProperty(String key, String value) {
      serverProperties.put(requireNonNull(key, "key"), requireNonNull(value, "value"));
      return this;
    }

    /** Several raw broker properties; see {@link #serverProperty(String, String)}. */
    public Builder serverProperties(Map<String, String> properties) {
      requireNonNull(properties, "properties").forEach(this::serverProperty);
      return this;
    }

    /** Where the temp dir is created. Defaults to {@code java.io.tmpdir}. */
    public Builder parentDir(Path dir) {
      this.parentDir = requireNonNull(dir, "dir");
      return this;
    }

    /** The {@code java} to run the broker with. Defaults to {@code ${java.home}/bin/java}. */
    public Builder javaExecutable(Path java) {
      this.javaExecutable = requireNonNull(java, "java");
      return this;
    }

    /**
     * The broker's class path; it must hold kafka_2.13 with its dependencies, SLF4J 2 and the
     * testkit's own classes. Defaults to the broker's own jars (see {@link KafkaBroker}),
     * independent of this JVM's class path.
     */
    public Builder classpath(String classpath) {
      this.classpath = requireNonNull(classpath, "classpath");
      return this;
    }

    /**
     * Starts the broker and waits until it is ready.
     *
     * @throws IllegalStateException if it does not become ready in time, with its log tail
     */
    public KafkaBroker start() {
      int p = port == 0 ? freePort() : port;
      int c = controllerPort == 0 ? freePort() : controllerPort;
      while (c == p) {
        c = freePort();
      }
      Path dir;
      try {
        dir = parentDir == null
            ? Files.createTempDirectory("flowtrace-kafka-")
            : Files.createTempDirectory(Files.createDirectories(parentDir), "flowtrace-kafka-");
      } catch (IOException e) {
        throw new UncheckedIOException("Could not create the broker's temp dir", e);
      }
      KafkaBroker broker = new KafkaBroker(dir, p, c, shutdownTimeout);
      long t0 = System.nanoTime();
      try {
        broker.launch(this);
      } catch (RuntimeException e) {
        String tailForLog = e.getMessage();
        broker.close();
        throw e instanceof IllegalStateException ? e : new IllegalStateException(tailForLog, e);
      }
      LOG.info("Kafka broker ready on {} in {} ms (dir {})", broker.bootstrapServers(),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), dir);
      return broker;
    }

    private static int checkPort(int port, String name) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException(name + " must be 0..65535, was " + port);
      }
      return port;
    }

    private static Duration checkPositive(Duration d, String name) {
      requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive, was " + d);
      }
      return d;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Demo entry point

  /**
   * Starts a broker for demos, prints its bootstrap servers and runs until Ctrl-C.
   *
   * <p>Options: {@code --port N} (default a free port; 9092 is the usual demo choice), {@code
   * --controller-port N} (default a free port).
   */
  public static void main(String[] args) throws InterruptedException {
    Builder b = builder();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if ((a.equals("--port") || a.equals("--controller-port")) && i + 1 < args.length) {
        int n;
        try {
          n = Integer.parseInt(args[++i]);
        } catch (NumberFormatException e) {
          System.err.println(a + " expects a number, got '" + args[i] + "'");
          System.exit(2);
          return;
        }
        if (a.equals("--port")) {
          b.port(n);
        } else {
          b.controllerPort(n);
        }
      } else {
        System.err.println("Usage: KafkaBroker [--port N] [--controller-port N]\n"
            + "Unknown or incomplete option: " + a);
        System.exit(2);
        return;
      }
    }
    KafkaBroker broker = b.start(); // the shutdown hook stops it on Ctrl-C
    System.out.println("Kafka broker running. bootstrap.servers=" + broker.bootstrapServers());
    System.out.println("Log: " + broker.logFile() + "  (Ctrl-C to stop)");
    System.out.flush();
    new CountDownLatch(1).await();
  }
}
