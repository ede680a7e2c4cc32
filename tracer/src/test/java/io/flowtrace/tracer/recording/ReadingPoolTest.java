package io.flowtrace.tracer.recording;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Telemetry;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReadingPoolTest {

  @TempDir
  Path dir;

  @Test
  void aLargeOtlpFileIsDecodedOnSeveralThreadsWithTheSameSpansAndProblemsInTheFilesOrder() throws Exception {
    Path file = dir.resolve("one.otlp.jsonl");
    StringBuilder text = new StringBuilder();
    for (int i = 1; i <= 30_000; i++) {
      if (i % 997 == 0) {
        text.append("garbage ").append(i).append('\n');
      } else if (i % 1_499 == 0) {
        text.append(otlpLine(i, "not-an-id")).append('\n');
      } else if (i % 2_003 == 0) {
        text.append(otlpLine(i, "nul\u0000name")).append('\n'); // read as text, on the reading thread
      } else if (i % 113 == 0) {
        text.append('\n');
      } else {
        text.append(otlpLine(i, "op-\u00e9-" + i)).append('\n');
      }
    }
    Files.writeString(file, text, StandardCharsets.UTF_8);

    // the first line (which decides how the file is read) and lines with a NUL are decoded by the reading thread itself
    assertReadInPoolAsAlone(new OtlpJsonLinesReader(), file, t -> {
      String name = ((Telemetry.SpanEvent) t).span().name();
      return !name.contains("\u0000") && !name.endsWith("-1");
    });
  }

  @Test
  void aCutOffGzippedFileGivesInThePoolWhatItGivesAloneWithTheCutReportedLast() throws Exception {
    StringBuilder text = new StringBuilder();
    for (int i = 1; i <= 30_000; i++) {
      text.append(i % 997 == 0 ? "garbage " + i : otlpLine(i, "op-" + i)).append('\n');
    }
    Path file = dir.resolve("cut.otlp.jsonl.gz");
    Files.write(file, CutGzip.cut(text.toString().getBytes(StandardCharsets.UTF_8), 4_000));

    Collected alone = assertReadInPoolAsAlone(new OtlpJsonLinesReader(), file, t -> !((Telemetry.SpanEvent) t).span().name().equals("op-1"));

    assertThat(alone.problemTexts().get(alone.problems.size() - 1)).contains("cut off");
  }

  @Test
  void aLargeKcatFileIsDecodedOnSeveralThreadsWithTheSameRecordsAndProblemsInTheFilesOrder() throws Exception {
    Path file = dir.resolve("one.kcat.jsonl");
    StringWriter text = new StringWriter();
    try (KcatJsonLinesWriter writer = new KcatJsonLinesWriter(text)) {
      for (int i = 1; i <= 40_000; i++) {
        if (i % 991 == 0) {
          writer.flush();
          text.write("{\"topic\": \"orders\", \"partition\": \"not a number\"}\n");
        } else if (i % 1_999 == 0) {
          writer.flush();
          text.write("not json " + i + "\n");
        } else {
          writer.write(new KafkaRecord("orders", i % 3, i, 1_700_000_000_000L + i, "k" + i,
              List.of(new RecordHeader("traceparent",
                  ("00-" + hex(i, 32) + "-" + hex(i, 16) + "-01").getBytes(StandardCharsets.UTF_8))),
              ("{\"orderId\":\"o-" + i + "\",\"note\":\"" + "x".repeat(i % 200) + "\"}").getBytes(StandardCharsets.UTF_8)));
        }
      }
    }
    Files.writeString(file, text.toString(), StandardCharsets.UTF_8);

    assertReadInPoolAsAlone(new KcatJsonLinesReader(), file, t -> true);
  }

  /**
   * Reads the file alone and in a pool of two, where the first item a thread decodes from a chunk
   * ({@code fromChunk}) waits until another thread decodes one too: both must have decoded.
   */
  private static Collected assertReadInPoolAsAlone(TelemetryFileReader reader, Path file,
      java.util.function.Predicate<Telemetry> fromChunk) throws Exception {
    Collected alone = new Collected();
    long aloneCount = reader.read(file, alone, alone);

    List<Telemetry> items = Collections.synchronizedList(new ArrayList<>());
    List<ReadProblem> problems = Collections.synchronizedList(new ArrayList<>());
    Set<Thread> decoding = ConcurrentHashMap.newKeySet();
    CountDownLatch twoThreads = new CountDownLatch(2);
    Consumer<Telemetry> sink = t -> {
      if (fromChunk.test(t) && decoding.add(Thread.currentThread())) {
        twoThreads.countDown();
        awaitQuietly(twoThreads); // each thread's first item waits until a second thread decodes too
      }
      items.add(t);
    };
    ReadingPool pool = new ReadingPool(2);
    long pooledCount;
    try {
      pooledCount = pool.submit(() -> reader.read(file, sink, problems::add)).get(2, TimeUnit.MINUTES);
    } finally {
      pool.shutdownNow();
    }

    assertThat(decoding).as("threads that decoded").hasSize(2);
    assertThat(pooledCount).isEqualTo(aloneCount).isEqualTo(alone.telemetry.size());
    assertThat(alone.problems).hasSizeGreaterThan(20);
    assertThat(problems).containsExactlyElementsOf(alone.problems);
    Comparator<Telemetry> byContent = Comparator.comparing(Telemetry::toString);
    List<Telemetry> expected = new ArrayList<>(alone.telemetry);
    expected.sort(byContent);
    List<Telemetry> actual = new ArrayList<>(items);
    actual.sort(byContent);
    assertThat(actual).isEqualTo(expected);
    return alone;
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static final long T0 = 1_796_000_000_000_000_000L;

  private static String otlpLine(int i, String spanName) {
    String spanId = spanName.equals("not-an-id") ? "xyz" : hex(i, 16);
    return "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"svc-"
        + (i % 4) + "\"}}]},\"scopeSpans\":[{\"spans\":[{\"traceId\":\"" + hex(i, 32) + "\",\"spanId\":\"" + spanId
        + "\",\"name\":\"" + spanName.replace("\u0000", "\\u0000") + "\",\"kind\":2,\"startTimeUnixNano\":\"" + (T0 + i * 1000L)
        + "\",\"endTimeUnixNano\":\"" + (T0 + (i + 5) * 1000L) + "\",\"attributes\":[{\"key\":\"order.id\",\"value\":{\"stringValue\":\"o-"
        + i + "\"}}]}]}]}]}";
  }

  private static String hex(int i, int width) {
    String h = Integer.toHexString(i + 1);
    return "0".repeat(width - h.length()) + h;
  }
}
