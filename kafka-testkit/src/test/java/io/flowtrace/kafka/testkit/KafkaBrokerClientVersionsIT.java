package io.flowtrace.kafka.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import io.flowtrace.kafka.testkit.internal.BrokerClasspath;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A test project on another kafka-clients version than the broker's: a JVM whose class path holds
 * only the testkit, that kafka-clients and SLF4J (no kafka_2.13) starts a broker, which runs on its
 * own class path, and produces and consumes a record with its client. The versions are this build's
 * kafka-clients and each jar the build copied into {@code flowtrace.it.client-versions}.
 */
class KafkaBrokerClientVersionsIT {

  @TempDir Path dir;

  static Stream<Path> clientJars() throws Exception {
    List<Path> jars = new ArrayList<>();
    Path copied = Path.of(System.getProperty("flowtrace.it.client-versions", "target/client-versions"));
    try (Stream<Path> files = Files.list(copied)) {
      files.filter(f -> f.getFileName().toString().matches("kafka-clients-.*\\.jar")).sorted().forEach(jars::add);
    }
    assertThat(jars).as("kafka-clients jars in %s", copied).isNotEmpty();
    jars.add(location(KafkaProducer.class));
    return jars.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("clientJars")
  void aJvmOnThisKafkaClientsStartsTheBrokerAndProducesAndConsumes(Path clientJar) throws Exception {
    String version = version(clientJar);
    List<String> classpath = classpath(clientJar);
    Path out = dir.resolve("check.log");
    Process check = check(classpath, out, List.of());
    boolean exited = check.waitFor(5, TimeUnit.MINUTES);
    if (!exited) {
      check.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    String log = Files.readString(out, StandardCharsets.UTF_8);

    assertThat(exited).as("the check exits; its output:%n%s", log).isTrue();
    assertThat(check.exitValue()).as("exit code; output:%n%s", log).isZero();
    assertThat(log).contains("kafka-clients " + version + ": produced and consumed 'hello from kafka-clients "
        + version + "' at offset 0")
        .doesNotContain("using this JVM's class path");
    assertThat(classpath).noneMatch(e -> e.contains("kafka_2.13"));
  }

  @Test
  void withoutTheBrokersJarsAndNoMatchingOnesOnTheClassPathTheStartSaysWhatIsMissingAndHowToGetIt() throws Exception {
    String current = version(location(KafkaProducer.class));
    Path oldest = clientJars().filter(j -> !version(j).equals(current)).findFirst().orElseThrow();
    Path emptyRepository = Files.createDirectories(dir.resolve("m2"));
    Path emptyCache = dir.resolve("cache");
    Path out = dir.resolve("check.log");
    Process check = check(classpath(oldest), out, List.of("-Dmaven.repo.local=" + emptyRepository,
        "-Dflowtrace.kafka.cache=" + emptyCache, "-Dflowtrace.kafka.repository=http://127.0.0.1:1/maven2/"));
    assertThat(check.waitFor(2, TimeUnit.MINUTES)).isTrue();
    String log = Files.readString(out, StandardCharsets.UTF_8);

    assertThat(check.exitValue()).as("exit code; output:%n%s", log).isEqualTo(3);
    String kafka = BrokerClasspath.defaults().kafkaVersion();
    assertThat(log).contains("start failed: The Kafka " + kafka + " broker's jars could not be had: Could not"
        + " download the broker jar org/apache/kafka/kafka_2.13/" + kafka + "/kafka_2.13-" + kafka + ".jar (not in "
        + emptyRepository + " nor " + emptyCache + "): ")
        .contains(". This JVM's class path holds no kafka_2.13 and kafka-clients " + version(oldest)
            + ", so it cannot run the broker instead. Let the testkit download them once (from Maven Central,"
            + " or the repository named by the system property flowtrace.kafka.repository), or set"
            + " KafkaBroker.Builder.classpath(...)");
  }

  private static String version(Path clientJar) {
    return clientJar.getFileName().toString().replaceAll("^kafka-clients-|\\.jar$", "");
  }

  private static List<String> classpath(Path clientJar) throws URISyntaxException {
    return List.of(
        location(KafkaBroker.class).toString(),               // the testkit (target/classes)
        location(ClientVersionCheck.class).toString(),        // the check's main class
        clientJar.toString(),
        location(org.slf4j.LoggerFactory.class).toString(),
        location(org.slf4j.simple.SimpleLogger.class).toString());
  }

  /** Runs {@link ClientVersionCheck} on {@code classpath}, its output to {@code out}. */
  private static Process check(List<String> classpath, Path out, List<String> options) throws Exception {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-cp", String.join(File.pathSeparator, classpath)));
    String repo = System.getProperty("maven.repo.local");
    if (repo != null) {
      command.add("-Dmaven.repo.local=" + repo);
    }
    command.addAll(options); // later -D options win
    command.add(ClientVersionCheck.class.getName());
    return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
  }

  private static Path location(Class<?> type) throws URISyntaxException {
    return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
  }
}
