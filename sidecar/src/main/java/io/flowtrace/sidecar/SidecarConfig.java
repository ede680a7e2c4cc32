package io.flowtrace.sidecar;

import static java.util.Objects.requireNonNull;

import io.flowtrace.verifier.assembly.FlowEngine;
import io.flowtrace.verifier.spec.SpanCompleteness;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * Everything {@code flowtrace sidecar} is told. One flat set of settings, named as the command's
 * long options without dashes ({@code bootstrap-servers}, {@code spans-topic}, …), plus
 * {@code kafka.*} properties passed to every Kafka client as they are (SASL, TLS, …).
 *
 * <p>Settings come from, lowest precedence first: the defaults below, a configuration file (YAML
 * or {@code .properties}, same names; YAML may nest {@code kafka:}), the environment
 * ({@code FLOWTRACE_SPANS_TOPIC} for {@code spans-topic}; {@code FLOWTRACE_KAFKA_SASL_MECHANISM}
 * for {@code kafka.sasl.mechanism}) and command-line flags. {@link #from} merges them and names the
 * source of a bad value.
 *
 * @param flows directory of flow specs (required)
 * @param bootstrapServers Kafka cluster to tap and to write verdicts to; {@code null}: no Kafka
 * @param kafka client properties passed through to consumers and producers
 * @param groupId the sidecar's consumer group; its committed offsets are what makes a restart safe
 * @param startFrom {@code latest} or {@code earliest}: where a group without committed offsets starts
 * @param spansTopic topic the OpenTelemetry Collector's Kafka exporter writes spans to, or {@code null}
 * @param spansEncoding {@code otlp_proto} or {@code otlp_json}
 * @param otlpHost interface the OTLP receivers bind to
 * @param otlpHttpPort OTLP/HTTP port; 0 picks a free one; negative disables
 * @param otlpGrpcPort OTLP/gRPC port; 0 picks a free one; negative disables
 * @param httpHost interface of the operations endpoint
 * @param httpPort port of {@code /metrics}, {@code /healthz}, {@code /readyz}; 0 picks one; negative disables
 * @param verdictsTopic topic verdicts are written to; {@code null} or empty: none
 * @param verdictsDir directory of rolling {@code verdicts-NNNN.jsonl} files, or {@code null}
 * @param verdictsFileBytes size at which a verdicts file rolls over
 * @param console whether each failed or incomplete verdict is printed to standard output
 * @param maxOpenInstances cap on instances in flight (see {@link FlowEngine.Builder#maxOpenInstances})
 * @param maxRetainedEvents cap on events held for amendments and joins (see {@link
 *     FlowEngine.Builder#maxRetainedEvents}); 0 sizes it from the heap ({@link #retainedEventsFor})
 * @param maxEventsPerInstance cap on events per instance
 * @param maxPayloadBytes cap on one payload's size
 * @param queueCapacity spans the receivers may queue before answering 429/503; 0 sizes it from the heap
 *     ({@link #queueCapacityFor})
 * @param completionGrace wait after the terminal stage for stragglers
 * @param amendWindow how long a decided verdict may still be amended by late events
 * @param lateness how far event time trails the wall clock (absorbs clock skew and exporter delay)
 * @param commitInterval how often safe offsets are committed
 * @param cluster whether this sidecar is one of several sharing the work through its consumer
 *     group: inputs are first routed by instance onto {@code <group-id>.repartition}
 * @param repartitionPartitions partitions of the repartition topic when the sidecar creates it
 * @param spans overrides every flow's {@code spans} setting ({@code null}: each flow's own)
 * @param verificationThreads threads that run the checks of decided instances beside the engine
 *     thread (see {@link FlowEngine.Builder#verificationThreads}); 0: on the engine thread
 * @param schemaRegistry a Confluent-compatible schema registry's URL for the flows whose schema is
 *     {@code {avro-registry: true}} ({@code null}: none)
 */
public record SidecarConfig(
    Path flows,
    String bootstrapServers,
    Map<String, String> kafka,
    String groupId,
    String startFrom,
    String spansTopic,
    String spansEncoding,
    String otlpHost,
    int otlpHttpPort,
    int otlpGrpcPort,
    String httpHost,
    int httpPort,
    String verdictsTopic,
    Path verdictsDir,
    long verdictsFileBytes,
    boolean console,
    int maxOpenInstances,
    long maxRetainedEvents,
    int maxEventsPerInstance,
    int maxPayloadBytes,
    int queueCapacity,
    Duration completionGrace,
    Duration amendWindow,
    Duration lateness,
    Duration commitInterval,
    boolean cluster,
    int repartitionPartitions,
    SpanCompleteness spans,
    int verificationThreads,
    java.net.URI schemaRegistry) {

  /** Default consumer group of the sidecar. */
  public static final String DEFAULT_GROUP_ID = "flowtrace-sidecar";
  /** Default verdicts topic. */
  public static final String DEFAULT_VERDICTS_TOPIC = "flowtrace.verdicts";
  /** Prefix of environment variables that configure the sidecar. */
  public static final String ENV_PREFIX = "FLOWTRACE_";
  /**
   * {@code FLOWTRACE_*} variables that are not settings: read by the launcher ({@code bin/flowtrace}:
   * JVM options, its class-data archive) or by the example system's defect switches.
   */
  static final Set<String> NOT_SETTINGS = Set.of(ENV_PREFIX + "JAVA_OPTS", ENV_PREFIX + "CDS", ENV_PREFIX + "CACHE_DIR",
      ENV_PREFIX + "DEFECTS");

  /** Every setting name understood (besides {@code kafka.*}), with its default as text. */
  static final Map<String, String> DEFAULTS;

  static {
    Map<String, String> d = new LinkedHashMap<>();
    d.put("flows", null);
    d.put("bootstrap-servers", null);
    d.put("group-id", DEFAULT_GROUP_ID);
    d.put("start-from", "latest");
    d.put("spans-topic", null);
    d.put("spans-encoding", "otlp_proto");
    d.put("otlp-host", "127.0.0.1");
    d.put("otlp-http-port", "4318");
    d.put("otlp-grpc-port", "4317");
    d.put("http-host", "127.0.0.1");
    d.put("http-port", "-1");
    d.put("verdicts-topic", DEFAULT_VERDICTS_TOPIC);
    d.put("verdicts-dir", null);
    d.put("verdicts-file-bytes", Long.toString(64L * 1024 * 1024));
    d.put("console", "true");
    d.put("max-open-instances", Integer.toString(FlowEngine.DEFAULT_MAX_OPEN_INSTANCES));
    d.put("max-retained-events", "auto");
    d.put("max-events-per-instance", Integer.toString(FlowEngine.DEFAULT_MAX_EVENTS_PER_INSTANCE));
    d.put("max-payload-bytes", Integer.toString(FlowEngine.DEFAULT_MAX_PAYLOAD_BYTES));
    d.put("queue-capacity", "auto");
    d.put("completion-grace", "6s");
    d.put("amend-window", "30s");
    d.put("lateness", "200ms");
    d.put("commit-interval", "2s");
    d.put("cluster", "false");
    d.put("repartition-partitions", "12");
    d.put("spans", null);
    d.put("verification-threads", "0");
    d.put("schema-registry", null);
    DEFAULTS = Collections.unmodifiableMap(d);
  }

  /** The setting names understood besides {@code kafka.*}, in documentation order, with their defaults ({@code null}: none). */
  public static Map<String, String> defaults() {
    return DEFAULTS;
  }

  public SidecarConfig {
    requireNonNull(flows, "flows");
    kafka = Collections.unmodifiableMap(new TreeMap<>(kafka));
    requireNonNull(groupId, "groupId");
    if (!Set.of("latest", "earliest").contains(startFrom)) {
      throw new IllegalArgumentException("start-from must be latest or earliest, not '" + startFrom + "'");
    }
    if (!Set.of("otlp_proto", "otlp_json").contains(spansEncoding)) {
      throw new IllegalArgumentException("spans-encoding must be otlp_proto or otlp_json, not '" + spansEncoding + "'");
    }
    if (spansTopic != null && bootstrapServers == null) {
      throw new IllegalArgumentException("spans-topic needs bootstrap-servers");
    }
    if (cluster && bootstrapServers == null) {
      throw new IllegalArgumentException("cluster needs bootstrap-servers: the sidecars share work through Kafka");
    }
  }

  /**
   * Whether every input can be read again after a restart: spans arrive only over Kafka, or (in a
   * cluster) OTLP spans are routed through the repartition topic before the engine sees them.
   */
  public boolean durableInputsOnly() {
    return cluster || otlpHttpPort < 0 && otlpGrpcPort < 0;
  }

  /**
   * The retention cap {@code auto} stands for: one event per 6 KiB of the heap's maximum size
   * (174,762 for 1 GiB), which keeps what amendments and joins hold to about a third of the heap
   * at the reference flow's ≈ 2 KiB per held event.
   */
  public static long retainedEventsFor(long maxHeapBytes) {
    return Math.max(10_000, maxHeapBytes / 6144);
  }

  /** The retention cap in force: the setting, or sized from this JVM's heap when {@code auto}. */
  public long effectiveMaxRetainedEvents() {
    return maxRetainedEvents > 0 ? maxRetainedEvents : retainedEventsFor(Runtime.getRuntime().maxMemory());
  }

  /**
   * The receivers' queue capacity {@code auto} stands for: one span per 16 KiB of the heap's maximum
   * size (65,536 for 1 GiB), at most 100,000 and at least 1,000, which keeps what the receivers
   * acknowledged and the engine has not taken to about an eighth of the heap at ≈ 2 KiB per span.
   */
  public static int queueCapacityFor(long maxHeapBytes) {
    return (int) Math.max(1_000, Math.min(MAX_AUTO_QUEUE_CAPACITY, maxHeapBytes / 16_384));
  }

  /** The most spans {@code queue-capacity: auto} queues, whatever the heap: 100,000. */
  public static final int MAX_AUTO_QUEUE_CAPACITY = 100_000;

  /** The receivers' queue capacity in force: the setting, or sized from this JVM's heap when {@code auto}. */
  public int effectiveQueueCapacity() {
    return queueCapacity > 0 ? queueCapacity : queueCapacityFor(Runtime.getRuntime().maxMemory());
  }

  /** Whether verdicts go to a Kafka topic. */
  public boolean hasVerdictsTopic() {
    return bootstrapServers != null && verdictsTopic != null && !verdictsTopic.isEmpty();
  }

  /**
   * Merges the sources, lowest precedence first.
   *
   * @param file a YAML or {@code .properties} file, or {@code null}
   * @param env the environment (only {@code FLOWTRACE_*} variables are read)
   * @param flags settings given on the command line, by setting name
   * @throws IllegalArgumentException naming the source and setting of a bad value
   */
  public static SidecarConfig from(Path file, Map<String, String> env, Map<String, String> flags) throws IOException {
    Map<String, String> values = new LinkedHashMap<>(DEFAULTS);
    Map<String, String> origin = new LinkedHashMap<>();
    if (file != null) {
      merge(values, origin, readFile(file), "file " + file);
    }
    Map<String, String> fromEnv = new LinkedHashMap<>();
    env.forEach((k, v) -> {
      if (k.startsWith(ENV_PREFIX) && !NOT_SETTINGS.contains(k)) {
        String name = k.substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT);
        fromEnv.put(name.startsWith("kafka_") ? name.replace('_', '.') : name.replace('_', '-'), v);
      }
    });
    merge(values, origin, fromEnv, "environment");
    merge(values, origin, flags, "command line");
    return build(values, origin);
  }

  private static void merge(Map<String, String> values, Map<String, String> origin, Map<String, String> source,
      String sourceName) {
    source.forEach((k, v) -> {
      if (!k.startsWith("kafka.") && !DEFAULTS.containsKey(k)) {
        throw new IllegalArgumentException(sourceName + ": unknown setting '" + k + "'" + suggestion(k));
      }
      values.put(k, v);
      origin.put(k, sourceName);
    });
  }

  private static String suggestion(String name) {
    return io.flowtrace.verifier.text.Spelling.didYouMean(name, DEFAULTS.keySet());
  }

  private static Map<String, String> readFile(Path file) throws IOException {
    Map<String, String> out = new LinkedHashMap<>();
    String name = file.getFileName().toString();
    if (name.endsWith(".properties")) {
      Properties p = new Properties();
      try (Reader r = Files.newBufferedReader(file)) {
        p.load(r);
      }
      p.stringPropertyNames().forEach(k -> out.put(k, p.getProperty(k)));
      return out;
    }
    JsonNode root;
    try {
      root = new YAMLMapper().readTree(Files.readString(file));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("file " + file + ": not YAML: " + e.getMessage(), e);
    }
    if (root == null || root.isNull() || root.isMissingNode()) {
      return out;
    }
    if (!root.isObject()) {
      throw new IllegalArgumentException("file " + file + ": expected a mapping of settings");
    }
    flatten("", root, out, file);
    return out;
  }

  private static void flatten(String prefix, JsonNode node, Map<String, String> out, Path file) {
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      String key = prefix + e.getKey();
      JsonNode v = e.getValue();
      if (v.isObject() && key.startsWith("kafka")) {
        flatten(key + ".", v, out, file);
      } else if (v.isValueNode()) {
        out.put(key, v.isNull() ? null : v.asString());
      } else {
        throw new IllegalArgumentException("file " + file + ": setting '" + key + "' must be a single value");
      }
    }
  }

  private static SidecarConfig build(Map<String, String> v, Map<String, String> origin) {
    Map<String, String> kafka = new TreeMap<>();
    v.forEach((k, val) -> {
      if (k.startsWith("kafka.") && val != null) {
        kafka.put(k.substring("kafka.".length()), val);
      }
    });
    Parser p = new Parser(v, origin);
    String flows = p.text("flows");
    if (flows == null) {
      throw new IllegalArgumentException("flows: required (a directory of flow specs)");
    }
    String verdictsDir = p.text("verdicts-dir");
    return new SidecarConfig(
        Path.of(flows),
        p.text("bootstrap-servers"),
        kafka,
        p.text("group-id"),
        p.text("start-from"),
        p.text("spans-topic"),
        p.text("spans-encoding"),
        p.text("otlp-host"),
        p.integer("otlp-http-port"),
        p.integer("otlp-grpc-port"),
        p.text("http-host"),
        p.integer("http-port"),
        p.text("verdicts-topic"),
        verdictsDir == null ? null : Path.of(verdictsDir),
        p.longValue("verdicts-file-bytes"),
        p.bool("console"),
        p.positive("max-open-instances"),
        p.autoOrPositive("max-retained-events"),
        p.positive("max-events-per-instance"),
        p.positive("max-payload-bytes"),
        p.autoOrPositiveInt("queue-capacity"),
        p.duration("completion-grace"),
        p.duration("amend-window"),
        p.duration("lateness"),
        p.duration("commit-interval"),
        p.bool("cluster"),
        p.positive("repartition-partitions"),
        p.spans("spans"),
        p.nonNegative("verification-threads"),
        p.url("schema-registry"));
  }

  /** Reads typed values, naming setting and source on error. */
  private record Parser(Map<String, String> values, Map<String, String> origin) {
    String text(String name) {
      String s = values.get(name);
      return s == null || s.isBlank() ? null : s.trim();
    }

    private IllegalArgumentException bad(String name, String what) {
      return new IllegalArgumentException(origin.getOrDefault(name, "default") + ": " + name + " = '"
          + values.get(name) + "': " + what);
    }

    java.net.URI url(String name) {
      String t = text(name);
      if (t == null) {
        return null;
      }
      try {
        return io.flowtrace.verifier.schema.SchemaRegistryClient.create(java.net.URI.create(t)).url();
      } catch (IllegalArgumentException e) {
        throw bad(name, e.getMessage());
      }
    }

    SpanCompleteness spans(String name) {
      String t = text(name);
      if (t == null) {
        return null;
      }
      SpanCompleteness s = SpanCompleteness.parse(t);
      if (s == null) {
        throw bad(name, "must be complete or may-be-missing");
      }
      return s;
    }

    int integer(String name) {
      try {
        return Integer.parseInt(text(name));
      } catch (NumberFormatException | NullPointerException e) {
        throw bad(name, "not a whole number");
      }
    }

    long longValue(String name) {
      try {
        return Long.parseLong(text(name));
      } catch (NumberFormatException | NullPointerException e) {
        throw bad(name, "not a whole number");
      }
    }

    long autoOrPositive(String name) {
      if ("auto".equalsIgnoreCase(text(name))) {
        return 0;
      }
      long n = longValue(name);
      if (n <= 0) {
        throw bad(name, "must be positive or auto");
      }
      return n;
    }

    int autoOrPositiveInt(String name) {
      long n = autoOrPositive(name);
      if (n > Integer.MAX_VALUE) {
        throw bad(name, "must be at most " + Integer.MAX_VALUE + " or auto");
      }
      return (int) n;
    }

    int nonNegative(String name) {
      int n = integer(name);
      if (n < 0) {
        throw bad(name, "must not be negative");
      }
      return n;
    }

    int positive(String name) {
      int n = integer(name);
      if (n <= 0) {
        throw bad(name, "must be positive");
      }
      return n;
    }

    boolean bool(String name) {
      String s = text(name);
      if ("true".equalsIgnoreCase(s) || "false".equalsIgnoreCase(s)) {
        return Boolean.parseBoolean(s);
      }
      throw bad(name, "must be true or false");
    }

    Duration duration(String name) {
      String s = text(name);
      try {
        Duration d = parseDuration(s);
        if (d.isNegative()) {
          throw bad(name, "must not be negative");
        }
        return d;
      } catch (DateTimeParseException | NumberFormatException | NullPointerException e) {
        throw bad(name, "not a duration (e.g. 250ms, 2s, 1m, PT2S)");
      }
    }
  }

  /** {@code 250ms}, {@code 2s}, {@code 1m}, {@code 1h} or ISO-8601 ({@code PT2S}). */
  static Duration parseDuration(String s) {
    String t = s.trim().toLowerCase(Locale.ROOT);
    if (t.startsWith("p")) {
      return Duration.parse(s.trim());
    }
    if (t.endsWith("ms")) {
      return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
    }
    long n = Long.parseLong(t.substring(0, t.length() - 1));
    return switch (t.charAt(t.length() - 1)) {
      case 's' -> Duration.ofSeconds(n);
      case 'm' -> Duration.ofMinutes(n);
      case 'h' -> Duration.ofHours(n);
      default -> throw new NumberFormatException(s);
    };
  }
}
