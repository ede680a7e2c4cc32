package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecordCommandTest {

  @TempDir Path dir;

  @Test
  void bootstrapServersWithoutFlowsIsABadUsageThatSaysWhy() {
    String[] err = new String[1];
    int exit = run(err, "record", "--out", dir.toString(), "--bootstrap-servers", "127.0.0.1:9");
    assertThat(exit).isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(err[0]).contains(
        "flowtrace: --bootstrap-servers needs --flows: the tap reads the topics the flows name");
  }

  @Test
  void aBadFromSpansTopicOrEncodingIsABadUsageThatSaysWhy() {
    String[] err = new String[1];
    assertThat(run(err, "record", "--out", dir.toString(), "--from", "yesterday")).isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(err[0]).contains("flowtrace: --from: 'yesterday' is not latest, earliest or an ISO-8601 instant"
        + " such as 2026-11-25T14:00:00Z");
    assertThat(run(err, "record", "--out", dir.toString(), "--spans-topic", "otlp_spans")).isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(err[0]).contains("flowtrace: --spans-topic needs --bootstrap-servers: the spans are read from that Kafka cluster");
    assertThat(run(err, "record", "--out", dir.toString(), "--spans-encoding", "zipkin")).isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(err[0]).contains("flowtrace: --spans-encoding: unknown spans encoding 'zipkin'; known: otlp_proto, otlp_json");
  }

  @Test
  void anOutDirectoryThatCannotBeMadeIsNamedWithWhyBeforeAnythingIsBound() throws Exception {
    Path file = java.nio.file.Files.writeString(dir.resolve("notes.txt"), "not a directory");
    String[] err = new String[1];

    int exit = run(err, "record", "--out", file.resolve("recording").toString(), "--otlp-http-port", "0",
        "--otlp-grpc-port", "0", "--duration", "100ms");

    assertThat(exit).isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(err[0]).isEqualTo("flowtrace: cannot write --out recording " + file.resolve("recording") + ": cannot create"
        + " directory " + file.resolve("recording") + ": Not a directory (FileSystemException)" + System.lineSeparator());
  }

  @Test
  void runsForTheDurationOnFreePortsAndPrintsTheBoundEndpoints() {
    String[] out = new String[1];
    int exit = runOut(out, "record", "--out", dir.toString(), "--otlp-http-port", "0",
        "--otlp-grpc-port", "0", "--duration", "100ms");
    assertThat(exit).isEqualTo(FlowTraceCli.EXIT_PASSED);
    assertThat(out[0]).containsPattern("flowtrace: OTLP/HTTP http://127\\.0\\.0\\.1:\\d+/v1/traces")
        .containsPattern("flowtrace: OTLP/gRPC 127\\.0\\.0\\.1:\\d+")
        .contains("flowtrace: recorded 0 spans and 0 Kafka records");
  }

  @Test
  void aNegativePortTurnsThatReceiverOffAndBothOffWithoutKafkaIsABadUsage() {
    String[] out = new String[1];
    int exit = runOut(out, "record", "--out", dir.resolve("grpc-only").toString(), "--otlp-http-port", "-1",
        "--otlp-grpc-port", "0", "--duration", "100ms");
    assertThat(exit).isEqualTo(FlowTraceCli.EXIT_PASSED);
    assertThat(out[0]).contains("flowtrace: OTLP/HTTP off").containsPattern("flowtrace: OTLP/gRPC 127\\.0\\.0\\.1:\\d+");

    String[] err = new String[1];
    Path none = dir.resolve("none");
    assertThat(run(err, "record", "--out", none.toString(), "--otlp-http-port", "-1", "--otlp-grpc-port", "-1"))
        .isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(err[0]).contains("flowtrace: nothing to record: both OTLP receivers are off");
    assertThat(none).as("nothing is created for a run that cannot record").doesNotExist();
  }

  private static synchronized int run(String[] err, String... args) {
    PrintStream old = System.err;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try {
      System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
      return FlowTraceCli.run(args);
    } finally {
      System.setErr(old);
      err[0] = bytes.toString(StandardCharsets.UTF_8);
    }
  }

  private static synchronized int runOut(String[] out, String... args) {
    PrintStream old = System.out;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
      return FlowTraceCli.run(args);
    } finally {
      System.setOut(old);
      out[0] = bytes.toString(StandardCharsets.UTF_8);
    }
  }
}
