package io.flowtrace.tracer.recording;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowtrace.tracer.TestObjects;
import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Telemetry;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecordingReaderTest {

  @TempDir Path recording;

  private final RecordingReader reader = RecordingReader.defaults();
  private final Collected collected = new Collected();

  @BeforeEach
  void writeARecording() throws IOException {
    try (OtlpJsonLinesWriter writer = OtlpJsonLinesWriter.open(recording.resolve("spans.otlp.jsonl"))) {
      writer.write(TestObjects.gatewayRequest());
    }
    try (OtlpProtobufWriter writer = OtlpProtobufWriter.open(recording.resolve("spans-2.otlp.pb"))) {
      writer.write(TestObjects.request("order-service", TestObjects.span("c0ffee0000000001",
          TestObjects.PRODUCER_SPAN_ID, "process orders.requested",
          io.opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_CONSUMER)));
    }
    Files.createDirectories(recording.resolve("kafka"));
    try (KcatJsonLinesWriter writer = KcatJsonLinesWriter.open(recording.resolve("kafka/orders.kcat.jsonl"))) {
      writer.write(TestObjects.orderCreated());
      writer.write(TestObjects.emailNotification());
    }
    Files.writeString(recording.resolve("kafka/broken.kcat.jsonl"), "{\"topic\":\"x\"}\n");
    Files.writeString(recording.resolve("README.md"), "# sample recording\n");
    Files.writeString(recording.resolve("kafka/notes.txt"), "not telemetry\n");
  }

  @Test
  void listsTheRecordingFilesSortedByPathAndIgnoresOthers() throws IOException {
    assertThat(reader.files(recording)).extracting(file -> recording.relativize(file).toString())
        .containsExactly("kafka/broken.kcat.jsonl", "kafka/orders.kcat.jsonl", "spans-2.otlp.pb", "spans.otlp.jsonl");
  }

  @Test
  void readsEveryFileAndSummarisesWhatItHeld() throws IOException {
    RecordingReader.Summary summary = reader.read(recording, collected, collected);

    long bytes = 0;
    for (Path file : reader.files(recording)) {
      bytes += Files.size(file);
    }
    assertThat(summary).isEqualTo(new RecordingReader.Summary(4, 3, 2, 1, bytes));
    assertThat(summary.telemetry()).isEqualTo(5);
    assertThat(collected.telemetry).extracting(t -> t instanceof Telemetry.SpanEvent ? "span" : "record")
        .containsExactly("record", "record", "span", "span", "span");
    assertThat(collected.records()).containsExactly(TestObjects.orderCreated(), TestObjects.emailNotification());
    assertThat(collected.problemTexts()).containsExactly(
        recording.resolve("kafka/broken.kcat.jsonl") + ":1: kcat record lacks \"partition\", \"offset\"");
  }

  @Test
  void reportsTheBytesReadOfEveryFile() throws IOException {
    reader.read(recording, collected, collected);

    for (Path file : reader.files(recording)) {
      assertThat(collected.progress.get(file.toString())).last().isEqualTo(Files.size(file));
    }
  }

  @Test
  void reportsProgressAboutEveryMebibyteOfALargeFile() throws IOException {
    Path large = recording.resolve("large.kcat.jsonl");
    try (KcatJsonLinesWriter writer = KcatJsonLinesWriter.open(large)) {
      for (int i = 0; i < 10_000; i++) {
        KafkaRecord r = TestObjects.orderCreated();
        writer.write(new KafkaRecord(r.topic(), 0, i, r.timestampMillis(), r.key(), r.headers(),
            ("{\"orderId\":\"o-" + i + "\",\"padding\":\"" + "x".repeat(200) + "\"}").getBytes(StandardCharsets.UTF_8)));
      }
    }
    long size = Files.size(large);
    assertThat(size).isGreaterThan(3 * ProgressInputStream.STEP);

    new KcatJsonLinesReader().read(large, collected, collected);

    List<Long> progress = collected.progress.get(large.toString());
    assertThat(progress).hasSize((int) (size / ProgressInputStream.STEP) + 1).isSorted();
    assertThat(progress.get(0)).isBetween(ProgressInputStream.STEP, ProgressInputStream.STEP + 65_536);
    assertThat(progress).last().isEqualTo(size);
    assertThat(collected.records()).hasSize(10_000);
  }

  @Test
  void readsASingleFileAndGzippedFiles() throws IOException {
    Path gzipped = recording.resolve("more.otlp.jsonl.gz");
    try (Writer out = new OutputStreamWriter(new GZIPOutputStream(Files.newOutputStream(gzipped)),
        StandardCharsets.UTF_8); OtlpJsonLinesWriter writer = new OtlpJsonLinesWriter(out)) {
      writer.write(TestObjects.gatewayRequest());
    }

    RecordingReader.Summary summary = reader.read(gzipped, collected, collected);

    assertThat(summary.files()).isEqualTo(1);
    assertThat(collected.spanNames()).containsExactly("POST /api/orders", "send orders.requested");
    assertThat(collected.progress.get(gzipped.toString())).last().isEqualTo(Files.size(gzipped));
  }

  @Test
  void refusesAFileThatIsNoRecordingAndAPathThatDoesNotExist() {
    Path readme = recording.resolve("README.md");
    assertThatThrownBy(() -> reader.read(readme, collected, collected))
        .isInstanceOf(FileSystemException.class)
        .hasMessage(readme + ": not a recording file (expected *.otlp.jsonl, *.otlp.json, *.otlp.pb or *.kcat.jsonl)");
    assertThatThrownBy(() -> reader.read(recording.resolve("nope"), collected, collected))
        .isInstanceOf(NoSuchFileException.class)
        .hasMessage(recording.resolve("nope").toString());
  }

  @Test
  void aDirectoryWithoutRecordingFilesIsAnErrorSayingWhatItHolds() throws IOException {
    Path empty = Files.createDirectory(recording.resolve("empty"));
    Path misnamed = Files.createDirectory(recording.resolve("misnamed"));
    Files.writeString(misnamed.resolve("messages.json"), kcatLines(2));
    Files.writeString(misnamed.resolve("notes.txt"), "x");

    assertThatThrownBy(() -> reader.read(empty, collected, collected))
        .isInstanceOf(java.nio.file.FileSystemException.class)
        .hasMessage(empty + ": no recording file in the directory (expected *.otlp.jsonl, *.otlp.json, *.otlp.pb"
            + " or *.kcat.jsonl, each optionally .gz)");
    assertThatThrownBy(() -> reader.read(misnamed, collected, collected))
        .hasMessageEndingWith("each optionally .gz); not read: messages.json, notes.txt");
    assertThat(collected.problemTexts()).isEmpty();
  }

  @Test
  void aDirectoryOfEmptyRecordingFilesIsAnEmptyRecording() throws IOException {
    Path quiet = Files.createDirectory(recording.resolve("quiet"));
    Files.writeString(quiet.resolve("messages.kcat.jsonl"), "");

    assertThat(reader.read(quiet, collected, collected)).isEqualTo(new RecordingReader.Summary(1, 0, 0, 0, 0));
  }

  private static String kcatLines(int count) {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < count; i++) {
      text.append("{\"topic\":\"orders.created\",\"partition\":0,\"offset\":").append(i)
          .append(",\"payload\":\"order ").append(i).append("\"}\n");
    }
    return text.toString();
  }

  @Test
  void aCutOffGzipKeepsEveryLineBeforeTheCutAndTheOtherFilesAreReadInFull() throws IOException {
    byte[] cut = CutGzip.cut(kcatLines(3000).getBytes(StandardCharsets.UTF_8), 100);
    int whole = CutGzip.wholeLines(CutGzip.readable(cut));
    assertThat(whole).isBetween(1000, 2999);
    Path gz = recording.resolve("kafka/cut.kcat.jsonl.gz");
    Files.write(gz, cut);

    RecordingReader.Summary summary = reader.read(recording, collected, collected);

    assertThat(summary.files()).isEqualTo(5);
    assertThat(summary.spans()).isEqualTo(3);
    assertThat(summary.records()).isEqualTo(2 + whole);
    assertThat(collected.records()).filteredOn(r -> r.topic().equals("orders.created") && r.key() == null)
        .extracting(KafkaRecord::offset)
        .containsExactlyElementsOf(java.util.stream.LongStream.range(0, whole).boxed().toList());
    assertThat(collected.records()).contains(TestObjects.orderCreated(), TestObjects.emailNotification());
    assertThat(collected.problemTexts()).containsExactly(
        recording.resolve("kafka/broken.kcat.jsonl") + ":1: kcat record lacks \"partition\", \"offset\"",
        gz + ":" + (whole + 1)
            + ": file cut off or corrupt here: Unexpected end of ZLIB input stream; rest of the file skipped");
  }

  @Test
  void aFileThatCannotBeOpenedIsReportedAndTheOtherFilesAreRead() throws IOException {
    Path notGzip = recording.resolve("kafka/a.kcat.jsonl.gz");
    Files.writeString(notGzip, kcatLines(1));
    Path empty = recording.resolve("kafka/b.kcat.jsonl.gz");
    Files.write(empty, new byte[0]);

    RecordingReader.Summary summary = reader.read(recording, collected, collected);

    assertThat(summary.telemetry()).isEqualTo(5);
    assertThat(collected.problemTexts()).containsExactly(
        notGzip + ":1: cannot read the file: Not in GZIP format; the file is skipped",
        empty + ":1: cannot read the file: unexpected end of file; the file is skipped",
        recording.resolve("kafka/broken.kcat.jsonl") + ":1: kcat record lacks \"partition\", \"offset\"");
  }

  @Test
  void aReaderThatThrowsHasItReportedForItsFileAndTheOtherFilesAreRead() throws IOException {
    TelemetryFileReader failing = new TelemetryFileReader() {
      @Override
      public boolean accepts(Path file) {
        return file.getFileName().toString().equals("orders.kcat.jsonl");
      }

      @Override
      public long read(Path file, java.util.function.Consumer<Telemetry> sink, ReadListener listener)
          throws IOException {
        throw new java.nio.file.AccessDeniedException(file.toString());
      }
    };
    RecordingReader withFailing = RecordingReader.of(failing, new OtlpJsonLinesReader());

    RecordingReader.Summary summary = withFailing.read(recording, collected, collected);

    assertThat(summary.files()).isEqualTo(2);
    assertThat(collected.spanNames()).containsExactly("POST /api/orders", "send orders.requested");
    assertThat(collected.problemTexts()).containsExactly(recording.resolve("kafka/orders.kcat.jsonl")
        + ": cannot read the file: permission denied; the file is skipped");
  }

  @Test
  void aSubdirectoryThatCannotBeListedIsReportedAndTheRestIsRead() throws IOException {
    Path locked = recording.resolve("kafka");
    Files.setPosixFilePermissions(locked, java.nio.file.attribute.PosixFilePermissions.fromString("---------"));
    try {
      org.junit.jupiter.api.Assumptions.assumeFalse(Files.isReadable(locked),
          "permissions do not keep this user (root?) from listing a directory");

      RecordingReader.Summary summary = reader.read(recording, collected, collected);

      assertThat(summary.files()).isEqualTo(2);
      assertThat(collected.spans()).hasSize(3);
      assertThat(collected.problemTexts())
          .containsExactly(locked + ": cannot list the directory: permission denied; skipped");
      assertThatThrownBy(() -> reader.files(recording)).isInstanceOf(java.nio.file.AccessDeniedException.class);
    } finally {
      Files.setPosixFilePermissions(locked, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    }
  }
}
