package io.flowtrace.tracer.recording;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.TestObjects;
import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.Telemetry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecordingWriterTest {

  @TempDir Path dir;

  private static Span span(int i) {
    return new Span(TestObjects.TRACE_ID, String.format("%016x", i + 1), "", "op", SpanKind.SERVER,
        i % 2 == 0 ? "gateway" : "order-service", TestObjects.START_NANOS + i, TestObjects.START_NANOS + i + 10,
        Map.of("i", (long) i), List.of(), false);
  }

  private static KafkaRecord record(int i) {
    KafkaRecord r = TestObjects.orderCreated();
    return new KafkaRecord(r.topic(), r.partition(), i, r.timestampMillis(), r.key(), r.headers(), r.value());
  }

  private List<Telemetry> readBack() throws IOException {
    List<Telemetry> out = new ArrayList<>();
    RecordingReader.defaults().read(dir, out::add, p -> {
      throw new AssertionError(p.toString());
    });
    return out;
  }

  @Test
  void writesEverythingAcceptedSoThatTheReaderGetsItBack() throws IOException {
    List<Telemetry> written = new ArrayList<>();
    try (RecordingWriter writer = RecordingWriter.builder(dir).spansPerLine(3).build()) {
      for (int i = 0; i < 10; i++) {
        written.add(Telemetry.of(span(i)));
        written.add(Telemetry.of(record(i)));
      }
      written.add(Telemetry.of(TestObjects.emailNotification()));
      written.forEach(writer::accept);
      assertThat(writer.spansAccepted()).isEqualTo(10);
      assertThat(writer.spansWritten()).isEqualTo(9); // three lines; one span waits for the next
      writer.close();
      writer.close(); // idempotent
      assertThat(writer.spansWritten()).isEqualTo(10);
      assertThat(writer.recordsWritten()).isEqualTo(11);
      assertThat(writer.failed()).isZero();
    }
    assertThat(Files.readAllLines(dir.resolve("spans-0001.otlp.jsonl"))).hasSize(4);
    assertThat(Files.readAllLines(dir.resolve("messages-0001.kcat.jsonl"))).hasSize(11);
    assertThat(readBack()).containsExactlyInAnyOrderElementsOf(written);
  }

  @Test
  void rollsToNewFilesOnceAFileReachesTheSizeAndNumbersAfterExistingOnes() throws IOException {
    Files.writeString(dir.resolve("messages-0007.kcat.jsonl"), "");
    List<Telemetry> written = new ArrayList<>();
    try (RecordingWriter writer = RecordingWriter.builder(dir).spansPerLine(1).maxFileBytes(1).build()) {
      for (int i = 0; i < 3; i++) {
        written.add(Telemetry.of(span(i)));
        written.add(Telemetry.of(record(i)));
      }
      written.forEach(writer::accept);
      assertThat(writer.files()).extracting(p -> p.getFileName().toString()).containsExactly(
          "spans-0001.otlp.jsonl", "messages-0008.kcat.jsonl", "spans-0002.otlp.jsonl",
          "messages-0009.kcat.jsonl", "spans-0003.otlp.jsonl", "messages-0010.kcat.jsonl");
    }
    for (int n = 1; n <= 3; n++) {
      assertThat(Files.readAllLines(dir.resolve(RecordingWriter.name("spans-", n, ".otlp.jsonl")))).hasSize(1);
    }
    assertThat(readBack()).containsExactlyInAnyOrderElementsOf(written);
  }

  @Test
  void aTimedFlushWritesALineWithoutWaitingForAFullBatch() throws Exception {
    try (RecordingWriter writer = RecordingWriter.builder(dir).spansPerLine(1000)
        .flushInterval(Duration.ofMillis(10)).build()) {
      writer.accept(Telemetry.of(span(0)));
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (writer.spansWritten() < 1 && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      assertThat(writer.spansWritten()).isEqualTo(1);
    }
  }

  @Test
  void telemetryAfterCloseIsCountedNotThrown() throws IOException {
    RecordingWriter writer = RecordingWriter.open(dir);
    writer.close();
    writer.accept(Telemetry.of(span(0)));
    assertThat(writer.failed()).isEqualTo(1);
    assertThat(writer.toString()).isEqualTo(
        "RecordingWriter{" + dir + ", spans=0/0, records=0/0, failed=1}");
  }
}
