package io.flowtrace.cli;

import io.flowtrace.tracer.receiver.OtlpGrpcReceiver;
import io.flowtrace.tracer.receiver.OtlpHttpReceiver;
import io.flowtrace.tracer.tap.OtlpSpansTopicSource;
import io.flowtrace.tracer.tap.StartPosition;
import io.flowtrace.verifier.schema.SchemaRegistryClient;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecException;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code flowtrace record}: captures live spans (OTLP) and Kafka records into a recording directory. */
@Command(name = "record",
    header = "Records OTLP spans and Kafka records into a directory replay reads.",
    mixinStandardHelpOptions = true,
    description = {"Records spans received over OTLP (HTTP and gRPC) and, with --bootstrap-servers, the Kafka records",
        "of the flows' topics (and with --spans-topic the spans an OpenTelemetry Collector writes to Kafka)",
        "into a directory that `flowtrace replay` reads.",
        "Runs until Ctrl-C/SIGTERM or --duration; everything acknowledged is written before it exits."})
final class RecordCommand implements Callable<Integer> {

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Recording directory (created if missing).")
  Path out;

  @Option(names = "--flows", paramLabel = "DIR", description = "Flow specs whose topics are tapped (required with --bootstrap-servers).")
  Path flowsDir;

  @Option(names = "--host", defaultValue = OtlpHttpReceiver.DEFAULT_HOST, description = "Address the receivers bind to (default ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--otlp-http-port", defaultValue = "" + OtlpHttpReceiver.DEFAULT_PORT, paramLabel = "N",
      description = "OTLP/HTTP port; 0 picks a free one, -1 turns it off (default ${DEFAULT-VALUE}).")
  int httpPort;

  @Option(names = "--otlp-grpc-port", defaultValue = "" + OtlpGrpcReceiver.DEFAULT_PORT, paramLabel = "N",
      description = "OTLP/gRPC port; 0 picks a free one, -1 turns it off (default ${DEFAULT-VALUE}).")
  int grpcPort;

  @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT", description = "Also record the flows' topics from this Kafka cluster.")
  String bootstrapServers;

  @Option(names = "--from", defaultValue = "latest", paramLabel = "latest|earliest|INSTANT",
      description = "Where the Kafka tap and the spans topic start: latest, earliest, or the first record at or after"
          + " an ISO-8601 instant such as 2026-11-25T14:00:00Z (default ${DEFAULT-VALUE}).")
  String from;

  @Option(names = "--spans-topic", paramLabel = "TOPIC",
      description = "Also record the spans an OpenTelemetry Collector's kafka exporter writes to this topic"
          + " (e.g. " + OtlpSpansTopicSource.DEFAULT_TOPIC + "); needs --bootstrap-servers.")
  String spansTopic;

  @Option(names = "--spans-encoding", defaultValue = "otlp_proto", paramLabel = "otlp_proto|otlp_json",
      description = "How the Collector encodes the spans topic (its kafka exporter's `encoding`; default ${DEFAULT-VALUE}).")
  String spansEncoding;

  @Option(names = "--kafka-property", paramLabel = "KEY=VALUE",
      description = "Kafka client property for the tap and the spans topic's reader (repeatable), e.g. security.protocol=SASL_SSL.")
  Map<String, String> kafkaProperties = new LinkedHashMap<>();

  @Option(names = "--duration", paramLabel = "DURATION", description = "Stop after this long, e.g. 30s or 5m (default: until Ctrl-C/SIGTERM).")
  String duration;

  @Mixin SchemaRegistryOption schemaRegistry;

  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException, InterruptedException {
    PrintWriter err = spec.commandLine().getErr();
    Duration limit = null;
    if (duration != null) {
      try {
        limit = FlowSpecLoader.parseDuration(duration);
      } catch (IllegalArgumentException e) {
        err.println("flowtrace: --duration: " + e.getMessage());
        return FlowTraceCli.EXIT_USAGE;
      }
    }
    if (!schemaRegistry.valid(err)) {
      return FlowTraceCli.EXIT_USAGE;
    }
    SchemaRegistryClient registry = schemaRegistry.client();
    StartPosition start;
    OtlpSpansTopicSource.Encoding encoding;
    try {
      start = StartPosition.parse(from);
    } catch (IllegalArgumentException e) {
      err.println("flowtrace: --from: " + e.getMessage());
      return FlowTraceCli.EXIT_USAGE;
    }
    try {
      encoding = OtlpSpansTopicSource.Encoding.of(spansEncoding);
    } catch (IllegalArgumentException e) {
      err.println("flowtrace: --spans-encoding: " + e.getMessage());
      return FlowTraceCli.EXIT_USAGE;
    }
    try {
      io.flowtrace.tracer.tap.KafkaTap.builder().overrides(Map.copyOf(kafkaProperties)); // refuses what the tap sets itself
    } catch (IllegalArgumentException e) {
      err.println("flowtrace: --kafka-property: " + e.getMessage());
      return FlowTraceCli.EXIT_USAGE;
    }
    if (httpPort < 0 && grpcPort < 0 && bootstrapServers == null) {
      err.println("flowtrace: nothing to record: both OTLP receivers are off (a negative port) and there is no"
          + " --bootstrap-servers");
      return FlowTraceCli.EXIT_USAGE;
    }
    Recorder.Builder builder = Recorder.builder(out).host(host).httpPort(httpPort).grpcPort(grpcPort)
        .startPosition(start).kafkaProperties(kafkaProperties);
    if (spansTopic != null) {
      if (bootstrapServers == null) {
        err.println("flowtrace: --spans-topic needs --bootstrap-servers: the spans are read from that Kafka cluster");
        return FlowTraceCli.EXIT_USAGE;
      }
      builder.bootstrapServers(bootstrapServers).spansTopic(spansTopic, encoding);
    }
    if (bootstrapServers != null && (flowsDir != null || spansTopic == null)) {
      if (flowsDir == null) {
        err.println("flowtrace: --bootstrap-servers needs --flows: the tap reads the topics the flows name"
            + " (or --spans-topic, to read only spans from Kafka)");
        return FlowTraceCli.EXIT_USAGE;
      }
      List<FlowSpec> flows;
      try {
        flows = new FlowSpecLoader(registry).load(flowsDir);
      } catch (FlowSpecException e) {
        err.println("flowtrace: the flow specs in " + flowsDir + " have problems:");
        e.problems().forEach(p -> err.println("  " + p));
        return FlowTraceCli.EXIT_USAGE;
      }
      Set<String> topics = new TreeSet<>();
      flows.forEach(f -> topics.addAll(f.eventsByTopic().keySet()));
      if (topics.isEmpty()) {
        err.println("flowtrace: the flow specs in " + flowsDir + " name no topics to tap");
        return FlowTraceCli.EXIT_USAGE;
      }
      builder.kafka(bootstrapServers, topics, start);
    }

    Recorder recorder;
    try {
      recorder = builder.start();
    } catch (io.flowtrace.tracer.files.CannotWriteException e) {
      err.println("flowtrace: cannot write --out recording " + e.path() + ": " + e.reason());
      return FlowTraceCli.EXIT_USAGE;
    }
    UntilStopped lifetime = UntilStopped.install(() -> closeAndReport(recorder));
    System.out.println("flowtrace: recording into " + out.toAbsolutePath());
    System.out.println("flowtrace: OTLP/HTTP " + (recorder.httpEndpoint() == null ? "off" : recorder.httpEndpoint()));
    System.out.println("flowtrace: OTLP/gRPC " + (recorder.grpcEndpoint() == null ? "off" : recorder.grpcEndpoint()));
    if (recorder.tap() != null) {
      System.out.println("flowtrace: Kafka " + bootstrapServers + " topics " + recorder.tap().topics()
          + " from " + recorder.tap().startPosition());
    }
    if (recorder.spansSource() != null) {
      System.out.println("flowtrace: spans from Kafka " + bootstrapServers + " topic " + recorder.spansSource().topic()
          + " (" + recorder.spansSource().encoding() + ") from " + recorder.spansSource().startPosition());
    }
    System.out.flush();
    lifetime.await(limit);
    return FlowTraceCli.EXIT_PASSED;
  }

  private static void closeAndReport(Recorder recorder) {
    try {
      recorder.close();
    } catch (IOException e) {
      System.err.println("flowtrace: closing the recording: " + e.getMessage());
    }
    System.out.println("flowtrace: recorded " + Plural.count(recorder.writer().spansWritten(), "span") + " and "
        + Plural.count(recorder.writer().recordsWritten(), "Kafka record")
        + (recorder.writer().failed() > 0 ? " (" + recorder.writer().failed() + " could not be written)" : "")
        + (recorder.tap() != null ? "; tapped " + Plural.count(recorder.tap().records(), "Kafka record") : "")
        + (recorder.spansSource() != null ? "; read " + Plural.count(recorder.spansSource().spans(), "span") + " from "
            + recorder.spansSource().topic() : "")
        + (recorder.spansSource() != null && recorder.spansSource().skipped() > 0
            ? "; skipped " + Plural.count(recorder.spansSource().skipped(), "undecodable message") + " of "
                + recorder.spansSource().topic() : "")
        + "; receivers " + recorder.queue().stats());
    System.out.flush();
  }
}
