package io.flowtrace.sidecar.output;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.check.ViolationKind;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class JsonLinesVerdictSinkTest {

  @TempDir Path dir;

  static Verdict verdict(String orderId, int revision) {
    return new Verdict("order-creation", Map.of("orderId", orderId), VerdictStatus.FAILED,
        List.of(Violation.builder(ViolationKind.MISSING_ENRICHMENT, "order-requested").field("userId")
            .message("orders.requested lacks 'userId'").build()),
        List.of("4bf92f3577b34da6a3ce929d0e0e4736"), 1_764_000_000_000_000_000L, 1_764_000_001_000_000_000L, revision,
        "complete", List.of());
  }

  @Test
  void writesOneJsonVerdictPerLineAndRollsOverBySize() throws Exception {
    try (JsonLinesVerdictSink sink = new JsonLinesVerdictSink(dir, 600)) {
      for (int i = 0; i < 5; i++) {
        sink.write(verdict("ord-" + i, 0));
      }
    }
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.sorted().toList();
    }
    assertThat(files).hasSizeGreaterThan(1)
        .allSatisfy(f -> assertThat(f.getFileName().toString()).matches("verdicts-\\d{4}\\.jsonl"));
    List<JsonNode> lines = files.stream().flatMap(f -> {
      try {
        return Files.readAllLines(f).stream();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }).map(l -> JsonMapper.builder().build().readTree(l)).toList();
    assertThat(lines).hasSize(5);
    assertThat(lines.get(0).path("instanceKey").asString()).isEqualTo("order-creation|orderId=ord-0");
    assertThat(lines.get(0).path("verdict").path("violations").get(0).path("field").asString()).isEqualTo("userId");
  }

  @Test
  void aRewindCutsTheFilesBackToTheLastFlushSoTheSameVerdictsCanBeWrittenAgainWithoutDuplicates() throws Exception {
    try (JsonLinesVerdictSink sink = new JsonLinesVerdictSink(dir, 600)) {
      sink.write(verdict("ord-0", 0));
      sink.flush();
      for (int i = 1; i < 5; i++) {
        sink.write(verdict("ord-" + i, 0)); // rolls over into further files, partly still buffered
      }
      assertThat(files()).hasSizeGreaterThan(1);

      sink.rewind();
      assertThat(files()).hasSize(1);
      assertThat(orderIds()).containsExactly("ord-0");

      for (int i = 1; i < 5; i++) {
        sink.write(verdict("ord-" + i, 0));
      }
    }
    assertThat(orderIds()).containsExactly("ord-0", "ord-1", "ord-2", "ord-3", "ord-4");
  }

  private List<Path> files() throws java.io.IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.sorted().toList();
    }
  }

  private List<String> orderIds() throws java.io.IOException {
    return files().stream().flatMap(f -> {
      try {
        return Files.readAllLines(f).stream();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }).map(l -> JsonMapper.builder().build().readTree(l).path("verdict").path("keys").path("orderId").asString()).toList();
  }

  @Test
  void verdictFilesAreReadableByOthersAndAnUnwritableDirectoryIsNamedWithWhy() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        java.nio.file.FileSystems.getDefault().supportedFileAttributeViews().contains("posix"), "POSIX file system");
    try (JsonLinesVerdictSink sink = new JsonLinesVerdictSink(dir.resolve("verdicts"), 1 << 20)) {
      sink.write(verdict("ord-1", 0));
    }
    Path reference = Files.createFile(dir.resolve("any-tool"));
    assertThat(Files.getPosixFilePermissions(dir.resolve("verdicts/verdicts-0001.jsonl")))
        .as("as any tool's new file under the umask").isEqualTo(Files.getPosixFilePermissions(reference));

    Path file = Files.writeString(dir.resolve("notes.txt"), "not a directory");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new JsonLinesVerdictSink(file, 1 << 20))
        .isInstanceOf(io.flowtrace.tracer.files.CannotWriteException.class)
        .hasMessage("cannot write " + file + ": " + file + " is not a directory (FileAlreadyExistsException)");
  }

  @Test
  void aRestartAppendsToANewFileAfterTheExistingOnes() throws Exception {
    try (JsonLinesVerdictSink sink = new JsonLinesVerdictSink(dir, 1 << 20)) {
      sink.write(verdict("ord-1", 0));
    }
    try (JsonLinesVerdictSink sink = new JsonLinesVerdictSink(dir, 1 << 20)) {
      sink.write(verdict("ord-1", 1));
    }
    assertThat(dir.resolve("verdicts-0001.jsonl")).exists();
    assertThat(Files.readString(dir.resolve("verdicts-0002.jsonl"))).contains("\"revision\":1");
  }

  @Test
  void aRunThatWritesNothingLeavesNoEmptyFile() throws Exception {
    try (JsonLinesVerdictSink sink = new JsonLinesVerdictSink(dir, 1 << 20)) {
      sink.write(verdict("ord-1", 0));
    }
    try (JsonLinesVerdictSink sink = new JsonLinesVerdictSink(dir, 1 << 20)) {
      sink.flush();
    }
    assertThat(dir.resolve("verdicts-0002.jsonl")).as("a restart that decided nothing").doesNotExist();

    try (JsonLinesVerdictSink sink = new JsonLinesVerdictSink(dir, 1 << 20)) {
      sink.write(verdict("ord-2", 0));
    }
    assertThat(Files.readString(dir.resolve("verdicts-0001.jsonl"))).contains("ord-1");
    assertThat(Files.readString(dir.resolve("verdicts-0002.jsonl"))).contains("ord-2");
  }

  @Test
  void theConsoleLineNamesStatusKeysAndEachViolation() {
    assertThat(VerdictText.line(verdict("ord-7", 0)))
        .isEqualTo("FAILED order-creation orderId=ord-7: MISSING_ENRICHMENT at order-requested (userId)");
    assertThat(VerdictText.line(verdict("ord-7", 2))).contains("(amended, revision 2)");
  }

  @Test
  void aKeylessInstancesConsoleLineNamesItsTraceOrItsFirstRecord() {
    Verdict traced = new Verdict("order-creation", Map.of(), VerdictStatus.FAILED, List.of(),
        List.of("4bf92f3577b34da6a3ce929d0e0e4736"), 0, 0, 0, "deadline passed", List.of());
    Verdict untraced = new Verdict("order-creation", Map.of(), VerdictStatus.FAILED, List.of(), List.of(), 0, 0, 0,
        "deadline passed", List.of(new io.flowtrace.verifier.report.TimelineEntry("order-requested",
            "orders_requested", "orders.requested[0]@17", 0, null)));

    assertThat(VerdictText.line(traced))
        .isEqualTo("FAILED order-creation trace=4bf92f3577b34da6a3ce929d0e0e4736: deadline passed");
    assertThat(VerdictText.line(untraced)).isEqualTo("FAILED order-creation at=orders.requested[0]@17: deadline passed");
  }
}
