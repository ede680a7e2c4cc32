package io.flowtrace.tracer.recording;

import static java.util.Objects.requireNonNull;

import io.flowtrace.tracer.model.Telemetry;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Reads a recording: a directory (searched recursively) or a single file. Each file goes to the
 * first reader that {@linkplain TelemetryFileReader#accepts accepts} it; files no reader accepts
 * (a README, say) are ignored. Files are read in the order of their paths, so a recording reads
 * the same way every time.
 */
public final class RecordingReader {

  private final List<TelemetryFileReader> readers;

  private RecordingReader(List<TelemetryFileReader> readers) {
    this.readers = readers;
  }

  /** Reads OTLP/JSON ({@code *.otlp.jsonl}, {@code *.otlp.json}), OTLP protobuf ({@code *.otlp.pb}) and kcat ({@code *.kcat.jsonl}) files. */
  public static RecordingReader defaults() {
    return of(new OtlpJsonLinesReader(), new OtlpProtobufReader(), new KcatJsonLinesReader());
  }

  /** Reads the files these readers accept, asking them in this order. */
  public static RecordingReader of(TelemetryFileReader... readers) {
    List<TelemetryFileReader> list = List.of(readers);
    if (list.isEmpty()) {
      throw new IllegalArgumentException("no readers");
    }
    return new RecordingReader(list);
  }

  /** The reader for the file, if any accepts it. */
  public Optional<TelemetryFileReader> readerFor(Path file) {
    for (TelemetryFileReader reader : readers) {
      if (reader.accepts(file)) {
        return Optional.of(reader);
      }
    }
    return Optional.empty();
  }

  /**
   * The recording files of a directory, recursively, sorted by path; or the path itself when it is
   * a file some reader accepts.
   *
   * @throws java.nio.file.NoSuchFileException when the path does not exist
   * @throws FileSystemException when the path is a file no reader accepts
   */
  public List<Path> files(Path recording) throws IOException {
    requireNonNull(recording, "recording");
    if (!Files.isDirectory(recording)) {
      if (!Files.exists(recording)) {
        throw new java.nio.file.NoSuchFileException(recording.toString());
      }
      if (readerFor(recording).isEmpty()) {
        throw new FileSystemException(recording.toString(), null,
            "not a recording file (expected *.otlp.jsonl, *.otlp.json, *.otlp.pb or *.kcat.jsonl)");
      }
      return List.of(recording);
    }
    try (Stream<Path> walk = Files.walk(recording)) {
      return walk
          .filter(Files::isRegularFile)
          .filter(file -> readerFor(file).isPresent())
          .sorted(Comparator.comparing(file -> recording.relativize(file).toString()))
          .collect(Collectors.toList());
    }
  }

  /**
   * Reads every recording file into {@code sink}. Malformed input goes to the listener, which is
   * also told the bytes read of each file about every MiB.
   *
   * @throws IOException when the recording or one of its files cannot be read at all
   */
  public Summary read(Path recording, Consumer<Telemetry> sink, ReadListener listener) throws IOException {
    requireNonNull(sink, "sink");
    requireNonNull(listener, "listener");
    long[] counts = new long[3];
    Consumer<Telemetry> counting = telemetry -> {
      counts[telemetry instanceof Telemetry.SpanEvent ? 0 : 1]++;
      sink.accept(telemetry);
    };
    ReadListener counted = new ReadListener() {
      @Override
      public void problem(ReadProblem problem) {
        counts[2]++;
        listener.problem(problem);
      }

      @Override
      public void progress(String source, long bytesRead) {
        listener.progress(source, bytesRead);
      }
    };
    List<Path> files = files(recording);
    long bytes = 0;
    for (Path file : files) {
      readerFor(file).orElseThrow().read(file, counting, counted);
      bytes += Files.size(file);
    }
    return new Summary(files.size(), counts[0], counts[1], counts[2], bytes);
  }

  /** What a recording held: files read, spans and Kafka records emitted, problems, file bytes. */
  public record Summary(int files, long spans, long records, long problems, long bytes) {
    /** Spans plus records. */
    public long telemetry() {
      return spans + records;
    }
  }
}
