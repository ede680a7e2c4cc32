package io.flowtrace.verifier.replay;

import io.flowtrace.tracer.recording.ReadListener;
import io.flowtrace.tracer.recording.ReadProblem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Reading a recording's files, as {@link ReplayProgress} shows it: passes each problem on and
 * turns the bytes read of each file into the bytes read of them all. Any thread.
 */
public final class ReadingProgress implements ReadListener {
  private final ReadListener problems;
  private final long totalBytes;
  private final ReplayProgress progress;
  private final LongSupplier spans;
  private final LongSupplier records;
  private final Map<String, Long> bytesByFile = new ConcurrentHashMap<>();

  /**
   * @param files the files to be read ({@link #totalBytes} of them is the whole)
   * @param spans, records how many have been read so far
   */
  public ReadingProgress(ReadListener problems, List<Path> files, ReplayProgress progress, LongSupplier spans,
      LongSupplier records) {
    this.problems = problems;
    this.totalBytes = totalBytes(files);
    this.progress = progress;
    this.spans = spans;
    this.records = records;
  }

  /** The files' sizes on disk; a file gone or unreadable counts 0 (reading it reports that). */
  public static long totalBytes(List<Path> files) {
    long total = 0;
    for (Path f : files) {
      try {
        total += Files.size(f);
      } catch (IOException e) {
        // reading it reports that
      }
    }
    return total;
  }

  /** What the files take on disk. */
  public long totalBytes() {
    return totalBytes;
  }

  @Override
  public void problem(ReadProblem problem) {
    problems.problem(problem);
  }

  @Override
  public void progress(String source, long bytesRead) {
    bytesByFile.put(source, bytesRead);
    long sum = 0;
    for (long b : bytesByFile.values()) {
      sum += b;
    }
    progress.reading(source, sum, totalBytes, spans.getAsLong(), records.getAsLong());
  }
}
