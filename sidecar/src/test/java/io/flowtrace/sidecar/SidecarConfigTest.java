package io.flowtrace.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SidecarConfigTest {

  @TempDir Path dir;

  @Test
  void defaultsNeedOnlyTheFlows() throws Exception {
    SidecarConfig c = SidecarConfig.from(null, Map.of(), Map.of("flows", "flows"));

    assertThat(c.flows()).isEqualTo(Path.of("flows"));
    assertThat(c.bootstrapServers()).isNull();
    assertThat(c.groupId()).isEqualTo("flowtrace-sidecar");
    assertThat(c.otlpHttpPort()).isEqualTo(4318);
    assertThat(c.otlpGrpcPort()).isEqualTo(4317);
    assertThat(c.otlpHost()).isEqualTo("127.0.0.1");
    assertThat(c.httpHost()).isEqualTo("127.0.0.1");
    assertThat(c.httpPort()).isEqualTo(-1);
    assertThat(c.completionGrace()).isEqualTo(Duration.ofSeconds(6));
    assertThat(c.hasVerdictsTopic()).isFalse();
    assertThat(c.durableInputsOnly()).isFalse();
    assertThat(c.verificationThreads()).as("checks on the engine thread").isZero();
  }

  @Test
  void flagsOverrideTheEnvironmentWhichOverridesTheFile() throws Exception {
    Path file = dir.resolve("sidecar.yaml");
    Files.writeString(file, String.join("\n",
        "flows: /from/file",
        "group-id: file-group",
        "spans-topic: file-spans",
        "bootstrap-servers: file:9092",
        "kafka:",
        "  security.protocol: SASL_SSL",
        "  sasl:",
        "    mechanism: PLAIN",
        ""));
    Map<String, String> env = Map.of(
        "FLOWTRACE_GROUP_ID", "env-group",
        "FLOWTRACE_SPANS_TOPIC", "env-spans",
        "FLOWTRACE_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512",
        "PATH", "/usr/bin");
    SidecarConfig c = SidecarConfig.from(file, env, Map.of("spans-topic", "flag-spans", "lateness", "1s"));

    assertThat(c.flows()).isEqualTo(Path.of("/from/file"));
    assertThat(c.groupId()).isEqualTo("env-group");
    assertThat(c.spansTopic()).isEqualTo("flag-spans");
    assertThat(c.lateness()).isEqualTo(Duration.ofSeconds(1));
    assertThat(c.kafka()).containsEntry("security.protocol", "SASL_SSL").containsEntry("sasl.mechanism", "SCRAM-SHA-512");
  }

  @Test
  void theShippedExampleFileIsValid() throws Exception {
    SidecarConfig c = SidecarConfig.from(Path.of("../deploy/sidecar.example.yaml"), Map.of(), Map.of());

    assertThat(c.spansTopic()).isEqualTo("otlp_spans");
    assertThat(c.durableInputsOnly()).isTrue();
    assertThat(c.httpPort()).isEqualTo(9464);
    assertThat(c.kafka()).containsEntry("client.dns.lookup", "use_all_dns_ips");
  }

  @Test
  void theReceiversQueueIsSizedFromTheHeapUnlessSet() throws Exception {
    assertThat(SidecarConfig.queueCapacityFor(1L << 30)).isEqualTo(65_536);
    assertThat(SidecarConfig.queueCapacityFor(8L << 30)).isEqualTo(100_000);
    assertThat(SidecarConfig.queueCapacityFor(1L << 20)).isEqualTo(1_000);
    SidecarConfig auto = SidecarConfig.from(null, Map.of(), Map.of("flows", "f"));
    assertThat(auto.effectiveQueueCapacity()).isEqualTo(SidecarConfig.queueCapacityFor(Runtime.getRuntime().maxMemory()));
    assertThat(SidecarConfig.from(null, Map.of(), Map.of("flows", "f", "queue-capacity", "500")).effectiveQueueCapacity())
        .isEqualTo(500);
    assertThatThrownBy(() -> SidecarConfig.from(null, Map.of(), Map.of("flows", "f", "queue-capacity", "0")))
        .hasMessageContaining("queue-capacity").hasMessageContaining("must be positive or auto");
  }

  @Test
  void aPropertiesFileIsReadToo() throws Exception {
    Path file = dir.resolve("sidecar.properties");
    Files.writeString(file, "flows=/f\nhttp-port=9464\nkafka.ssl.truststore.location=/t.jks\n");

    SidecarConfig c = SidecarConfig.from(file, Map.of(), Map.of());

    assertThat(c.httpPort()).isEqualTo(9464);
    assertThat(c.kafka()).containsEntry("ssl.truststore.location", "/t.jks");
  }

  @Test
  void theLaunchersOwnVariablesAreNotTakenForSettings() throws Exception {
    // bin/flowtrace reads these; FLOWTRACE_JAVA_OPTS, as its README says, once stopped the sidecar
    SidecarConfig config = SidecarConfig.from(null, Map.of("FLOWTRACE_JAVA_OPTS", "-Xmx1g", "FLOWTRACE_CDS", "off",
        "FLOWTRACE_CACHE_DIR", "/tmp/c", "FLOWTRACE_DEFECTS", "x", "FLOWTRACE_GROUP_ID", "g"), Map.of("flows", "f"));

    assertThat(config.groupId()).isEqualTo("g");
  }

  @Test
  void anUnknownSettingIsNamedWithItsSourceAndASuggestion() {
    assertThatThrownBy(() -> SidecarConfig.from(null, Map.of("FLOWTRACE_SPAN_TOPIC", "x"), Map.of("flows", "f")))
        .hasMessage("environment: unknown setting 'span-topic' (did you mean 'spans-topic'?)");
  }

  @Test
  void aBadValueIsNamedWithItsSource() {
    assertThatThrownBy(() -> SidecarConfig.from(null, Map.of(), Map.of("flows", "f", "max-open-instances", "0")))
        .hasMessage("command line: max-open-instances = '0': must be positive");
    assertThatThrownBy(() -> SidecarConfig.from(null, Map.of(), Map.of("flows", "f", "verification-threads", "-1")))
        .hasMessage("command line: verification-threads = '-1': must not be negative");
    assertThatThrownBy(() -> SidecarConfig.from(null, Map.of("FLOWTRACE_LATENESS", "soon"), Map.of("flows", "f")))
        .hasMessage("environment: lateness = 'soon': not a duration (e.g. 250ms, 2s, 1m, PT2S)");
    assertThatThrownBy(() -> SidecarConfig.from(null, Map.of(), Map.of()))
        .hasMessage("flows: required (a directory of flow specs)");
    assertThatThrownBy(() -> SidecarConfig.from(null, Map.of(), Map.of("flows", "f", "cluster", "true")))
        .hasMessageContaining("cluster needs bootstrap-servers");
  }

  @Test
  void aClusterOrKafkaOnlySpansMakeEveryInputDurable() throws Exception {
    assertThat(SidecarConfig.from(null, Map.of(), Map.of("flows", "f", "bootstrap-servers", "b:1", "cluster", "true"))
        .durableInputsOnly()).isTrue();
    assertThat(SidecarConfig.from(null, Map.of(), Map.of("flows", "f", "bootstrap-servers", "b:1",
        "otlp-http-port", "-1", "otlp-grpc-port", "-1")).durableInputsOnly()).isTrue();
  }
}
