package io.flowtrace.example.order;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import io.flowtrace.sidecar.SidecarConfig;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * The shipped {@code docker-compose.yml} (repository root) is valid Compose, as checked by {@code
 * docker-compose config -q} (Debian's docker-compose package validates without a Docker engine),
 * and wires the parts together as the README says. Skipped, saying why, without docker-compose.
 */
class DockerComposeFileTest {

  private static final Path ROOT = Path.of("../..");
  private static final Path COMPOSE = ROOT.resolve("docker-compose.yml");

  @Test
  void dockerComposeConfigAcceptsTheFile() throws Exception {
    assumeTrue(onPath("docker-compose"),
        "docker-compose is not on PATH (install Debian's docker-compose package to validate docker-compose.yml)");
    Result quiet = run("docker-compose", "-f", COMPOSE.toString(), "config", "-q");
    assertThat(quiet.exit()).as("docker-compose config -q: %s", quiet.output()).isZero();

    Result resolved = run("docker-compose", "-f", COMPOSE.toString(), "config");
    assertThat(resolved.exit()).as(resolved.output()).isZero();
    assertThat(resolved.output())
        .contains("apache/kafka:", "otel/opentelemetry-collector-contrib:", "dockerfile: deploy/Dockerfile")
        .contains("OTEL_EXPORTER_OTLP_ENDPOINT: http://otel-collector:4318")
        .contains("KAFKA_PROCESS_ROLES: broker,controller");
    for (String service : List.of("gateway", "order-service", "inventory-service", "notification-service",
        "payment-provider", "flowtrace", "kafka", "otel-collector")) {
      assertThat(resolved.output()).as("service %s", service).containsPattern("(?m)^  " + service + ":$");
    }
  }

  @Test
  void theSidecarAndTheCollectorAreConfiguredForTheSpansTopic() throws IOException {
    String compose = Files.readString(COMPOSE);
    JsonNode command = new YAMLMapper().readTree(compose).path("services").path("flowtrace").path("command");
    List<String> args = new java.util.ArrayList<>();
    command.forEach(a -> args.add(a.asString()));
    assertThat(args).startsWith("sidecar");
    java.util.Map<String, String> flags = new java.util.LinkedHashMap<>();
    for (int i = 1; i + 1 < args.size(); i += 2) {
      assertThat(args.get(i)).startsWith("--");
      String name = args.get(i).substring(2);
      if (name.equals("kafka-property")) {
        String[] kv = args.get(i + 1).split("=", 2);
        flags.put("kafka." + kv[0], kv[1]);
      } else {
        flags.put(name, args.get(i + 1));
      }
    }
    SidecarConfig sidecar = SidecarConfig.from(null, java.util.Map.of(), flags); // the sidecar's own parser
    assertThat(sidecar.spansTopic()).isEqualTo("otlp_spans");
    assertThat(sidecar.bootstrapServers()).isEqualTo("kafka:9092");
    assertThat(sidecar.httpHost()).isEqualTo("0.0.0.0");
    assertThat(sidecar.durableInputsOnly()).isTrue();
    String collector = Files.readString(ROOT.resolve("deploy/otel-collector.yaml"));
    assertThat(collector).contains("topic: otlp_spans", "encoding: otlp_proto", "partition_traces_by_id: true",
        "endpoint: 0.0.0.0:4317", "endpoint: 0.0.0.0:4318", "exporters: [kafka]");
    assertThat(ROOT.resolve("deploy/Dockerfile")).content()
        .contains("FROM maven:3-eclipse-temurin-17 AS build", "FROM eclipse-temurin:17-jre");
  }

  private static boolean onPath(String command) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (Files.isExecutable(Path.of(dir, command))) {
        return true;
      }
    }
    return false;
  }

  private record Result(int exit, String output) {}

  private static Result run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("%s finished", List.of(command)).isTrue();
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }
}
