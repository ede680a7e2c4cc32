package io.flowtrace.cli;

import io.flowtrace.sidecar.Sidecar;
import io.flowtrace.sidecar.SidecarConfig;
import io.flowtrace.verifier.spec.FlowSpecException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code flowtrace sidecar}: verifies live flows continuously (see {@link Sidecar}). */
@Command(name = "sidecar",
    header = "Verifies flows continuously on live traffic.",
    mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Verifies flows continuously on live traffic: spans over OTLP (or from the Collector's Kafka topic)",
        "and records of the flows' topics; verdicts to a Kafka topic, JSON-lines files and the console;",
        "Prometheus /metrics, /healthz and /readyz on --http-port. Runs until Ctrl-C/SIGTERM or --duration.",
        "Settings come from --config FILE (YAML or .properties), then FLOWTRACE_* environment variables",
        "(FLOWTRACE_SPANS_TOPIC, FLOWTRACE_KAFKA_SASL_MECHANISM → kafka.sasl.mechanism), then these flags."})
final class SidecarCommand implements Callable<Integer> {

  @Option(names = "--config", paramLabel = "FILE", description = "Settings file (YAML or .properties; names as the long options).")
  Path config;

  @Option(names = "--flows", paramLabel = "DIR", description = "Flow specs to verify (required).")
  String flows;

  @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT", description = "Kafka cluster: records of the flows' topics in, verdicts out.")
  String bootstrapServers;

  @Option(names = "--group-id", paramLabel = "ID", description = "The sidecar's own consumer group (default flowtrace-sidecar); instances sharing it share the work.")
  String groupId;

  @Option(names = "--start-from", paramLabel = "latest|earliest", description = "Where a group without committed offsets starts (default latest).")
  String startFrom;

  @Option(names = "--spans-topic", paramLabel = "TOPIC", description = "Read spans from this topic (the Collector's Kafka exporter, e.g. otlp_spans).")
  String spansTopic;

  @Option(names = "--spans-encoding", paramLabel = "ENC", description = "otlp_proto (default) or otlp_json.")
  String spansEncoding;

  @Option(names = "--otlp-host", paramLabel = "ADDR", description = "Address of the OTLP receivers (default 127.0.0.1).")
  String otlpHost;

  @Option(names = "--otlp-http-port", paramLabel = "N", description = "OTLP/HTTP port (default 4318; 0 = any free; -1 = off).")
  String otlpHttpPort;

  @Option(names = "--otlp-grpc-port", paramLabel = "N", description = "OTLP/gRPC port (default 4317; 0 = any free; -1 = off).")
  String otlpGrpcPort;

  @Option(names = "--http-host", paramLabel = "ADDR", description = "Address of /metrics, /healthz, /readyz (default 127.0.0.1).")
  String httpHost;

  @Option(names = "--http-port", paramLabel = "N", description = "Port of /metrics, /healthz, /readyz (default off; 0 = any free).")
  String httpPort;

  @Option(names = "--verdicts-topic", paramLabel = "TOPIC", description = "Verdicts topic (default flowtrace.verdicts; empty = none).")
  String verdictsTopic;

  @Option(names = "--verdicts-dir", paramLabel = "DIR", description = "Also write verdicts as rolling verdicts-NNNN.jsonl files here.")
  String verdictsDir;

  @Option(names = "--verdicts-file-bytes", paramLabel = "N", description = "Size at which a verdicts file rolls over (default 64 MiB).")
  String verdictsFileBytes;

  @Option(names = "--console", paramLabel = "true|false", description = "Print a line per failed flow (default true).")
  String console;

  @Option(names = "--max-open-instances", paramLabel = "N", description = "Cap on instances in flight (default 100000).")
  String maxOpenInstances;

  @Option(names = "--max-retained-events", paramLabel = "N|auto", description = "Cap on events held for amendments "
      + "and joins (eight spans held for joins count as one); past it the oldest amendment windows end early "
      + "(default auto: one per 6 KiB of heap).")
  String maxRetainedEvents;

  @Option(names = "--max-events-per-instance", paramLabel = "N", description = "Cap on events per instance (default 1000).")
  String maxEventsPerInstance;

  @Option(names = "--max-payload-bytes", paramLabel = "N", description = "Cap on one payload's size (default 1048576).")
  String maxPayloadBytes;

  @Option(names = "--verification-threads", paramLabel = "N", description = "Threads that run the checks of decided "
      + "instances beside the engine thread (default 0: on the engine thread).")
  String verificationThreads;

  @Option(names = "--queue-capacity", paramLabel = "N|auto", description = "Spans the receivers queue before answering "
      + "429/503 (default auto: one per 16 KiB of heap, at most 100000).")
  String queueCapacity;

  @Option(names = "--completion-grace", paramLabel = "DURATION", description = "Wait after the terminal stage for stragglers; longer than the exporters' batch delay (default 6s).")
  String completionGrace;

  @Option(names = "--amend-window", paramLabel = "DURATION", description = "How long late events may amend a verdict (default 30s).")
  String amendWindow;

  @Option(names = "--lateness", paramLabel = "DURATION", description = "How far event time trails the wall clock (default 200ms).")
  String lateness;

  @Option(names = "--spans", paramLabel = "complete|may-be-missing",
      description = "Overrides every flow's 'spans' setting: may-be-missing when spans of sampled traces can be lost "
          + "(tail sampling, lossy pipelines).")
  String spans;

  @Option(names = "--commit-interval", paramLabel = "DURATION", description = "How often safe offsets are committed (default 2s).")
  String commitInterval;

  @Option(names = "--cluster", paramLabel = "true|false", description = "One of several sidecars sharing the work in "
      + "--group-id: inputs are routed by instance onto <group-id>.repartition (default false).")
  String cluster;

  @Option(names = "--repartition-partitions", paramLabel = "N", description = "Partitions of <group-id>.repartition when "
      + "a clustered sidecar creates it: at most this many sidecars share the work (default 12).")
  String repartitionPartitions;

  @Option(names = "--schema-registry", paramLabel = "URL", description = "Confluent-compatible schema registry (GET "
      + "URL/schemas/ids/ID) for the flows whose schema is {avro-registry: true}.")
  String schemaRegistry;

  @Option(names = "--kafka-property", paramLabel = "KEY=VALUE", description = "Kafka client property for every client (repeatable), e.g. security.protocol=SASL_SSL.")
  Map<String, String> kafkaProperties = new LinkedHashMap<>();

  @Option(names = "--duration", paramLabel = "DURATION", description = "Stop after this long (default: until Ctrl-C/SIGTERM).")
  String duration;

  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException, InterruptedException {
    PrintWriter err = spec.commandLine().getErr();
    Map<String, String> flags = new LinkedHashMap<>();
    for (OptionSpec o : spec.commandLine().getParseResult().matchedOptions()) {
      String name = o.longestName().substring(2);
      if (SidecarConfig.defaults().containsKey(name)) {
        flags.put(name, o.getValue().toString());
      }
    }
    kafkaProperties.forEach((k, v) -> flags.put("kafka." + k, v));
    SidecarConfig settings;
    Duration limit;
    try {
      settings = SidecarConfig.from(config, System.getenv(), flags);
      limit = duration == null ? null : io.flowtrace.verifier.spec.FlowSpecLoader.parseDuration(duration);
    } catch (IllegalArgumentException e) {
      err.println("flowtrace: " + e.getMessage());
      return FlowTraceCli.EXIT_USAGE;
    }
    Sidecar sidecar;
    try {
      sidecar = Sidecar.start(settings);
    } catch (FlowSpecException e) {
      err.println("flowtrace: the flow specs in " + settings.flows() + " have problems:");
      e.problems().forEach(p -> err.println("  " + p));
      return FlowTraceCli.EXIT_USAGE;
    } catch (io.flowtrace.tracer.files.CannotWriteException e) {
      err.println("flowtrace: cannot write --verdicts-dir " + e.path() + ": " + e.reason());
      return FlowTraceCli.EXIT_USAGE;
    }
    UntilStopped lifetime = UntilStopped.install(sidecar::close);
    System.out.println("flowtrace: sidecar verifying " + settings.flows()
        + (sidecar.otlpHttpEndpoint() == null ? "" : "; OTLP/HTTP " + sidecar.otlpHttpEndpoint())
        + (sidecar.otlpGrpcPort() < 0 ? "" : "; OTLP/gRPC " + settings.otlpHost() + ":" + sidecar.otlpGrpcPort())
        + (sidecar.opsPort() < 0 ? "" : "; metrics http://" + settings.httpHost() + ":" + sidecar.opsPort() + "/metrics"));
    System.out.flush();
    if (lifetime.await(limit, () -> sidecar.failure() != null)) {
      err.println("flowtrace: the sidecar failed (" + sidecar.failure() + "); stopped so that a supervisor "
          + "restarts it: what was not committed is read again");
      err.flush();
      return FlowTraceCli.EXIT_FAILED;
    }
    return FlowTraceCli.EXIT_PASSED;
  }
}
