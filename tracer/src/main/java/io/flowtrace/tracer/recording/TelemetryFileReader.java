package io.flowtrace.tracer.recording;

import io.flowtrace.tracer.model.Telemetry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Reads one recording file format. Implementations stream: memory does not grow with the file.
 * A malformed line/record goes to {@link ReadListener#problem} with its file and line (or byte
 * offset) and reading continues. The built-in readers also report a file that cannot be opened,
 * or that is cut off or corrupt, and never throw for bad input; a reader that throws {@link
 * IOException} instead has it reported for the file by {@link RecordingReader#readFile}.
 */
public interface TelemetryFileReader {

  /** Whether this reader handles the file, judged by its name (e.g. {@code *.kcat.jsonl}). */
  boolean accepts(Path file);

  /** Reads every span/record of the file into {@code sink}; returns how many were emitted. */
  long read(Path file, Consumer<Telemetry> sink, ReadListener listener) throws IOException;
}
