package io.flowtrace.tracer.recording;

import static java.util.Objects.requireNonNull;

import io.flowtrace.tracer.model.SourcePosition;
import io.flowtrace.tracer.model.Telemetry;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

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

  /**
   * Whether a source of this name holds spans ({@code *.otlp.jsonl}, {@code *.otlp.json}, {@code
   * *.otlp.pb}, gzipped or not), as the {@link #defaults()} tell their files apart: a problem
   * ({@link ReadProblem#position()}) in such a source lost spans, not records.
   */
  public static boolean holdsSpans(String source) {
    return source != null && RecordingFiles.hasSuffix(source, ".otlp.jsonl", ".otlp.json", ".otlp.pb");
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
   * @throws FileSystemException when the path is a file no reader accepts, a directory holding no
   *     file a reader accepts, or a directory in it that cannot be listed
   */
  public List<Path> files(Path recording) throws IOException {
    return list(recording, null);
  }

  /**
   * Like {@link #files(Path)}, but a subdirectory that cannot be listed (or a file whose type
   * cannot be read) is reported to the listener, naming it, and the rest is listed.
   *
   * @throws java.nio.file.NoSuchFileException when the path does not exist
   * @throws FileSystemException when the path is a file no reader accepts, a directory holding no
   *     file a reader accepts, or a directory that cannot be listed
   */
  public List<Path> files(Path recording, ReadListener listener) throws IOException {
    return list(recording, requireNonNull(listener, "listener"));
  }

  /** Lists the recording; an unlistable subdirectory is reported to the listener, or thrown when it is null. */
  private List<Path> list(Path recording, ReadListener listener) throws IOException {
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
    List<Path> files = new ArrayList<>();
    List<String> ignored = new ArrayList<>();
    Files.walkFileTree(recording, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
        if (attributes.isRegularFile() || attributes.isSymbolicLink() && Files.isRegularFile(file)) {
          if (readerFor(file).isPresent()) {
            files.add(file);
          } else {
            ignored.add(recording.relativize(file).toString());
          }
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
        if (file.equals(recording)) {
          throw e;
        }
        unlisted(file, e);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
        if (e != null) {
          if (dir.equals(recording)) {
            throw e;
          }
          unlisted(dir, e);
        }
        return FileVisitResult.CONTINUE;
      }

      private void unlisted(Path path, IOException e) throws IOException {
        if (listener == null) {
          throw e;
        }
        listener.problem(new ReadProblem(new SourcePosition(path.toString(), -1, -1),
            (Files.isDirectory(path) ? "cannot list the directory: " : "cannot be read: ")
                + RecordingFiles.describe(e) + "; skipped"));
      }
    });
    if (files.isEmpty()) {
      ignored.sort(null);
      throw new FileSystemException(recording.toString(), null, "no recording file in the directory (expected "
          + "*.otlp.jsonl, *.otlp.json, *.otlp.pb or *.kcat.jsonl, each optionally .gz)" + (ignored.isEmpty() ? ""
          : "; not read: " + String.join(", ", ignored.subList(0, Math.min(5, ignored.size())))
              + (ignored.size() > 5 ? " and " + (ignored.size() - 5) + " more" : "")));
    }
    files.sort(Comparator.comparing(file -> recording.relativize(file).toString()));
    return files;
  }

  /**
   * Reads one file with the reader that accepts it; returns the spans and records emitted (0 for a
   * file no reader accepts). Nothing is thrown for bad input: a reader's {@link IOException} is
   * reported for the file.
   */
  public long readFile(Path file, Consumer<Telemetry> sink, ReadListener listener) {
    Optional<TelemetryFileReader> reader = readerFor(file);
    if (reader.isEmpty()) {
      return 0;
    }
    try {
      return reader.get().read(file, sink, listener);
    } catch (IOException e) {
      listener.problem(new ReadProblem(new SourcePosition(file.toString(), -1, -1),
          "cannot read the file: " + RecordingFiles.describe(e) + "; the file is skipped"));
      return 0;
    }
  }

  /**
   * Reads every recording file into {@code sink}. Malformed input, files that cannot be read and
   * subdirectories that cannot be listed go to the listener, which is also told the bytes read of
   * each file about every MiB.
   *
   * @throws IOException when the recording does not exist or cannot be listed at all
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
    List<Path> files = files(recording, counted);
    long bytes = 0;
    for (Path file : files) {
      readFile(file, counting, counted);
      try {
        bytes += Files.size(file);
      } catch (IOException e) {
        // gone or unreadable: the reader has reported it
      }
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
