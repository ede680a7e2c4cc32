package io.flowtrace.cli.synth;

import static java.util.Objects.requireNonNull;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.recording.KcatJsonLinesWriter;
import io.flowtrace.tracer.recording.OtlpJsonLinesWriter;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Writes a recording directory: {@code <service>.otlp.jsonl} per service (each line one export
 * request, as a service's exporter sent it) and {@value #MESSAGES_FILE}, a dump of every topic as
 * {@code kcat -C -J} prints it, topic after topic and partition after partition. Records are
 * staged per topic-partition in a hidden work directory that {@link #close()} concatenates and
 * removes, so memory does not grow with the recording.
 */
final class DirectoryRecordingSink implements RecordingSink {

  static final String MESSAGES_FILE = "messages.kcat.jsonl";
  static final String SPANS_SUFFIX = ".otlp.jsonl";

  private final Path dir;
  private final Path work;
  private final Map<String, OtlpJsonLinesWriter> spanWriters = new LinkedHashMap<>();
  private final Map<String, KcatJsonLinesWriter> partitionWriters = new HashMap<>();
  private int partitions;
  private boolean closed;

  DirectoryRecordingSink(Path dir) throws IOException {
    this.dir = requireNonNull(dir, "dir");
    io.flowtrace.tracer.files.OutputFile.writableDirectory(dir);
    this.work = Files.createTempDirectory(dir, ".synth-");
  }

  @Override
  public void spans(String service, ExportTraceServiceRequest request) throws IOException {
    OtlpJsonLinesWriter writer = spanWriters.get(service);
    if (writer == null) {
      writer = OtlpJsonLinesWriter.open(dir.resolve(service + SPANS_SUFFIX));
      spanWriters.put(service, writer);
    }
    writer.write(request);
  }

  @Override
  public void record(KafkaRecord record) throws IOException {
    String name = partitionFile(record.topic(), record.partition());
    KcatJsonLinesWriter writer = partitionWriters.get(name);
    if (writer == null) {
      writer = KcatJsonLinesWriter.open(work.resolve(name));
      partitionWriters.put(name, writer);
    }
    writer.write(record);
    partitions = Math.max(partitions, record.partition() + 1);
  }

  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    IOException failure = null;
    List<AutoCloseableWriter> writers = new ArrayList<>();
    spanWriters.values().forEach(w -> writers.add(w::close));
    partitionWriters.values().forEach(w -> writers.add(w::close));
    for (AutoCloseableWriter writer : writers) {
      try {
        writer.close();
      } catch (IOException e) {
        failure = failure == null ? e : failure;
      }
    }
    if (failure == null) {
      try (OutputStream out = Files.newOutputStream(dir.resolve(MESSAGES_FILE))) {
        for (String topic : FlowPlanner.TOPICS) {
          for (int partition = 0; partition < partitions; partition++) {
            Path file = work.resolve(partitionFile(topic, partition));
            if (Files.exists(file)) {
              Files.copy(file, out);
            }
          }
        }
      } catch (IOException e) {
        failure = e;
      }
    }
    try (Stream<Path> files = Files.walk(work)) {
      for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(file);
      }
    } catch (IOException e) {
      failure = failure == null ? e : failure;
    }
    if (failure != null) {
      throw failure;
    }
  }

  private static String partitionFile(String topic, int partition) {
    return topic + "-" + partition + ".part";
  }

  @FunctionalInterface
  private interface AutoCloseableWriter {
    void close() throws IOException;
  }
}
