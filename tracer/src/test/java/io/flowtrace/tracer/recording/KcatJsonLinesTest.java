package io.flowtrace.tracer.recording;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.TestObjects;
import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KcatJsonLinesTest {

  @TempDir Path dir;

  private final KcatJsonLinesReader reader = new KcatJsonLinesReader();
  private final Collected collected = new Collected();

  private Path write(String... lines) throws IOException {
    Path file = dir.resolve("orders.kcat.jsonl");
    Files.writeString(file, String.join("\n", lines) + "\n");
    return file;
  }

  private static String written(KafkaRecord... records) throws IOException {
    StringWriter out = new StringWriter();
    try (KcatJsonLinesWriter writer = new KcatJsonLinesWriter(out)) {
      for (KafkaRecord record : records) {
        writer.write(record);
      }
    }
    return out.toString();
  }

  @Test
  void acceptsKcatFileNamesOnly() {
    assertThat(reader.accepts(Path.of("orders.kcat.jsonl"))).isTrue();
    assertThat(reader.accepts(Path.of("orders.kcat.jsonl.gz"))).isTrue();
    assertThat(reader.accepts(Path.of("orders.jsonl"))).isFalse();
  }

  @Test
  void recordsShareTheirTopicAndHeaderNames() throws IOException {
    Path file = write(
        "{\"topic\":\"orders.created\",\"partition\":0,\"offset\":1,\"headers\":[\"traceparent\",\"x\"],\"payload\":\"{}\"}",
        "{\"topic\":\"orders.created\",\"partition\":0,\"offset\":2,\"headers\":[\"traceparent\",\"y\"],\"payload\":\"{}\"}");

    assertThat(reader.read(file, collected, collected)).isEqualTo(2);

    List<KafkaRecord> records = collected.records();
    assertThat(records.get(0).topic()).isEqualTo("orders.created").isSameAs(records.get(1).topic());
    assertThat(records.get(0).headers().get(0).name()).isSameAs(records.get(1).headers().get(0).name());
  }

  @Test
  void readsARecordAsKcatPrintsIt() throws IOException {
    Path file = write("{\"topic\":\"orders.created\",\"partition\":0,\"offset\":42,\"tstype\":\"create\","
        + "\"ts\":1732530000123,\"broker\":1,\"headers\":[\"traceparent\",\"" + TestObjects.TRACEPARENT
        + "\"],\"key\":\"o-1\",\"payload\":\"{\\\"orderId\\\":\\\"o-1\\\",\\\"userName\\\":\\\"Zoë\\\","
        + "\\\"currency\\\":\\\"EUR\\\",\\\"total\\\":12.5}\"}");

    assertThat(reader.read(file, collected, collected)).isEqualTo(1);

    assertThat(collected.problems).isEmpty();
    assertThat(collected.records()).containsExactly(TestObjects.orderCreated());
    assertThat(collected.records().get(0).traceContext()).isPresent();
  }

  @Test
  void acceptsNumbersAsStringsAndRecordsWithoutHeadersKeyOrTimestamp() throws IOException {
    Path file = write("{\"topic\":\"orders.cancelled\",\"partition\":\"2\",\"offset\":\"7\",\"ts\":\"1732530000000\","
        + "\"key\":null,\"payload\":null}",
        "{\"topic\":\"t\",\"partition\":0,\"offset\":1}");

    reader.read(file, collected, collected);

    assertThat(collected.problems).isEmpty();
    assertThat(collected.records()).containsExactly(
        new KafkaRecord("orders.cancelled", 2, 7, 1732530000000L, null, List.of(), null),
        new KafkaRecord("t", 0, 1, KcatJsonLinesReader.NO_TIMESTAMP, null, List.of(), null));
  }

  @Test
  void reportsEachMalformedLineWithItsNumberAndReadsTheRest() throws IOException {
    Path file = write(
        "{\"topic\":\"orders.created\",\"partition\":0,\"offset\":1,\"payload\":\"first\"}",
        "{\"topic\":\"orders.created\",\"partition\":0,",
        "{\"topic\":\"orders.created\",\"partition\":0,\"payload\":\"no offset\"}",
        "{\"partition\":0,\"payload\":\"nothing\"}",
        "{\"topic\":\"notifications.email\",\"partition\":0,\"offset\":3,\"payload_base64\":\"not base64!\"}",
        "{\"topic\":\"orders.created\",\"partition\":0,\"offset\":4,\"headers\":[\"traceparent\"]}",
        "{\"topic\":\"orders.created\",\"partition\":0,\"offset\":\"four\"}",
        "[1,2]",
        "{\"topic\":\"orders.created\",\"partition\":0,\"offset\":8,\"payload\":\"cut short\"",
        "",
        "{\"topic\":\"orders.created\",\"partition\":0,\"offset\":9,\"payload\":\"last\"}");

    assertThat(reader.read(file, collected, collected)).isEqualTo(2);

    assertThat(collected.records()).extracting(KafkaRecord::offset).containsExactly(1L, 9L);
    assertThat(collected.problemTexts()).containsExactly(
        file + ":2: not a kcat JSON record: Unexpected end-of-input within/between Object entries",
        file + ":3: kcat record lacks \"offset\"",
        file + ":4: kcat record lacks \"topic\", \"offset\"",
        file + ":5: \"payload_base64\" is not base64: Illegal base64 character 20",
        file + ":6: \"headers\" has an odd number of entries (1); expected name, value pairs",
        file + ":7: \"offset\" is not an integer: \"four\"",
        file + ":8: not a kcat JSON record: expected an object but got array",
        file + ":9: not a kcat JSON record: Unexpected end-of-input: expected close marker for Object");
  }

  /** A trial's dump had a time in seconds and one of -5: each made a phantom 1970 instance, blamed on a reused key. */
  @Test
  void aTimeThatCannotBeEpochMillisecondsIsReportedAndItsRecordLeftOut() throws IOException {
    Path file = write(
        "{\"topic\":\"claims\",\"partition\":0,\"offset\":1,\"ts\":1795161600123,\"payload\":\"{}\"}",
        "{\"topic\":\"claims\",\"partition\":0,\"offset\":2,\"ts\":1795161601,\"payload\":\"{}\"}",
        "{\"topic\":\"claims\",\"partition\":0,\"offset\":3,\"ts\":-5,\"payload\":\"{}\"}",
        "{\"topic\":\"claims\",\"partition\":0,\"offset\":4,\"ts\":1795161602000000,\"payload\":\"{}\"}",
        "{\"topic\":\"claims\",\"partition\":0,\"offset\":5,\"ts\":\"1795161603\",\"payload\":\"{}\"}",
        "{\"topic\":\"claims\",\"partition\":0,\"offset\":6,\"ts\":-1,\"payload\":\"{}\"}");

    assertThat(reader.read(file, collected, collected)).isEqualTo(2);

    assertThat(collected.records()).extracting(KafkaRecord::offset).containsExactly(1L, 6L);
    assertThat(collected.problemTexts()).containsExactly(
        file + ":2: \"ts\" 1795161601 reads as 1970-01-21T18:39:21.601Z in epoch milliseconds: seconds, not"
            + " milliseconds?; the record is left out",
        file + ":3: \"ts\" is -5, before 1970: not a time in epoch milliseconds; the record is left out",
        file + ":4: \"ts\" 1795161602000000 reads as +58856-05-28T08:33:20Z in epoch milliseconds: micro- or"
            + " nanoseconds, not milliseconds?; the record is left out",
        file + ":5: \"ts\" 1795161603 reads as 1970-01-21T18:39:21.603Z in epoch milliseconds: seconds, not"
            + " milliseconds?; the record is left out");
  }

  @Test
  void writesTheShapeKcatPrints() throws IOException {
    assertThat(written(TestObjects.orderCreated())).isEqualTo(
        "{\"topic\":\"orders.created\",\"partition\":0,\"offset\":42,\"tstype\":\"create\",\"ts\":1732530000123,"
            + "\"broker\":-1,\"headers\":[\"traceparent\",\"" + TestObjects.TRACEPARENT + "\"],\"key\":\"o-1\","
            + "\"payload\":\"{\\\"orderId\\\":\\\"o-1\\\",\\\"userName\\\":\\\"Zoë\\\",\\\"currency\\\":\\\"EUR\\\","
            + "\\\"total\\\":12.5}\"}\n");
  }

  @Test
  void writesBinaryValuesAsBase64AndLeavesOutAbsentHeaders() throws IOException {
    KafkaRecord avro = new KafkaRecord("notifications.email", 3, 7, 1732530001000L, null, List.of(),
        TestObjects.AVRO_VALUE);

    assertThat(written(avro)).isEqualTo("{\"topic\":\"notifications.email\",\"partition\":3,\"offset\":7,"
        + "\"tstype\":\"create\",\"ts\":1732530001000,\"broker\":-1,\"key\":null,"
        + "\"payload_base64\":\"AAAAAAEGYUBi/w==\"}\n");
  }

  @Test
  void aWriteThatFailsOnceDoesNotSpoilTheRecordsAfterIt() throws IOException {
    StringWriter file = new StringWriter();
    java.io.Writer failingOnce = new java.io.FilterWriter(file) {
      private boolean failed;

      @Override
      public java.io.Writer append(CharSequence text) throws IOException {
        if (!failed) {
          failed = true;
          throw new IOException("No space left on device");
        }
        return super.append(text);
      }
    };
    KafkaRecord lost = TestObjects.orderCreated();
    KafkaRecord next = TestObjects.emailNotification();

    try (KcatJsonLinesWriter writer = new KcatJsonLinesWriter(failingOnce)) {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> writer.write(lost)).hasMessage("No space left on device");
      writer.write(next);
    }

    reader.read(new java.io.ByteArrayInputStream(file.toString().getBytes(StandardCharsets.UTF_8)), "file",
        collected, collected);
    assertThat(collected.problems).isEmpty();
    assertThat(collected.records()).containsExactly(next);
  }

  @Test
  void aBinaryHeaderValueSurvivesWriteThenReadWhileKcatReadersStillSeeText() throws IOException {
    byte[] apicurioId200 = {0, 0, 0, 0, 0, 0, 0, (byte) 0xC8};
    KafkaRecord record = new KafkaRecord("notifications.email", 0, 3, 1732530002000L, "o-1",
        List.of(RecordHeader.ofString("traceparent", TestObjects.TRACEPARENT),
            new RecordHeader("apicurio.value.globalId", apicurioId200), new RecordHeader("retry", null)),
        "x".getBytes(StandardCharsets.UTF_8));
    Path file = dir.resolve("binary.kcat.jsonl");
    try (KcatJsonLinesWriter writer = KcatJsonLinesWriter.open(file)) {
      writer.write(record);
    }

    reader.read(file, collected, collected);

    assertThat(collected.problems).isEmpty();
    assertThat(collected.records()).containsExactly(record);
    assertThat(Files.readString(file)).contains("\"headers_base64\":[null,\"AAAAAAAAAMg=\",null]");
  }

  @Test
  void aHeadersBase64ListThatDoesNotMatchTheHeadersIsAProblemOfItsLine() throws IOException {
    Path file = write("{\"topic\":\"t\",\"partition\":0,\"offset\":1,\"headers\":[\"a\",\"1\"],"
        + "\"headers_base64\":[null,\"AA==\"]}");

    reader.read(file, collected, collected);

    assertThat(collected.records()).isEmpty();
    assertThat(collected.problems).singleElement().asString().contains(":1: \"headers_base64\" is not a list of 1 entries");
  }

  @Test
  void textAndBinaryValuesHeadersAndNullKeysSurviveWriteThenRead() throws IOException {
    KafkaRecord tombstone = new KafkaRecord("orders.created", 1, 8, 1732530002000L, "o-2", List.of(), null);
    KafkaRecord controlChars = new KafkaRecord("t", 0, 0, 0, "k", List.of(),
        "a\u0001b".getBytes(StandardCharsets.UTF_8));
    KafkaRecord multiline = new KafkaRecord("t", 0, 1, 0, "k",
        List.of(RecordHeader.ofString("h", "v1"), RecordHeader.ofString("h", "v2")),
        "line 1\nline 2\t\"quoted\" \\ €".getBytes(StandardCharsets.UTF_8));
    List<KafkaRecord> records = List.of(TestObjects.orderCreated(), TestObjects.emailNotification(),
        tombstone, controlChars, multiline);
    Path file = dir.resolve("all.kcat.jsonl");
    try (KcatJsonLinesWriter writer = KcatJsonLinesWriter.open(file)) {
      for (KafkaRecord record : records) {
        writer.write(record);
      }
    }

    reader.read(file, collected, collected);

    assertThat(collected.problems).isEmpty();
    assertThat(collected.records()).containsExactlyElementsOf(records);
    assertThat(collected.records().get(1).value()).startsWith(0x00, 0x00, 0x00, 0x00, 0x01);
    assertThat(collected.records().get(1).lastHeader("retry")).hasValue(new RecordHeader("retry", null));
    assertThat(Files.readAllLines(file)).hasSize(5);
  }

  private static String recordLine(int offset) {
    return "{\"topic\":\"orders.created\",\"partition\":0,\"offset\":" + offset
        + ",\"payload\":\"{\\\"orderId\\\":\\\"o-" + offset + "\\\"}\"}";
  }

  private static List<Long> offsets(List<KafkaRecord> records) {
    return records.stream().map(KafkaRecord::offset).toList();
  }

  @Test
  void aLineLongerThanTheLimitIsReportedAndSkippedAndTheNextLineIsRead() throws IOException {
    Path file = write(recordLine(1), recordLine(2) + " ".repeat(200), recordLine(3));

    new KcatJsonLinesReader(150).read(file, collected, collected);

    assertThat(offsets(collected.records())).containsExactly(1L, 3L);
    assertThat(collected.problemTexts()).containsExactly(file + ":2: line longer than 150 bytes; skipped");
  }

  @Test
  void aLineThatIsNotUtf8IsReportedAndSkippedNotReadWithReplacementCharacters() throws IOException {
    byte[] bad = recordLine(2).replace("o-2", "o-\u00ff").getBytes(StandardCharsets.ISO_8859_1);
    Path file = dir.resolve("orders.kcat.jsonl");
    Files.write(file, (recordLine(1) + "\n").getBytes(StandardCharsets.UTF_8));
    Files.write(file, bad, java.nio.file.StandardOpenOption.APPEND);
    Files.writeString(file, "\n" + recordLine(3) + "\n", java.nio.file.StandardOpenOption.APPEND);
    int badByte = recordLine(2).indexOf("o-2") + 3;

    reader.read(file, collected, collected);

    assertThat(offsets(collected.records())).containsExactly(1L, 3L);
    assertThat(collected.problemTexts())
        .containsExactly(file + ":2: not UTF-8 at byte " + badByte + " of the line; skipped");
  }

  @Test
  void aCutOffGzipKeepsEveryLineBeforeTheCutAndReportsTheLineWhereItStopped() throws IOException {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < 3000; i++) {
      text.append(recordLine(i)).append('\n');
    }
    byte[] cut = CutGzip.cut(text.toString().getBytes(StandardCharsets.UTF_8), 100);
    int whole = CutGzip.wholeLines(CutGzip.readable(cut));
    assertThat(whole).isBetween(1000, 2999);
    Path file = dir.resolve("orders.kcat.jsonl.gz");
    Files.write(file, cut);

    assertThat(reader.read(file, collected, collected)).isEqualTo(whole);

    assertThat(offsets(collected.records()))
        .containsExactlyElementsOf(java.util.stream.LongStream.range(0, whole).boxed().toList());
    assertThat(collected.problemTexts()).containsExactly(file + ":" + (whole + 1)
        + ": file cut off or corrupt here: Unexpected end of ZLIB input stream; rest of the file skipped");
    assertThat(collected.progress.get(file.toString())).last().isEqualTo((long) cut.length);
  }
}
