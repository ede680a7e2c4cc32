package io.flowtrace.verifier.replay;

import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.recording.ReadListener;
import io.flowtrace.tracer.recording.ReadProblem;
import io.flowtrace.tracer.recording.ReadingPool;
import io.flowtrace.tracer.recording.RecordingReader;
import io.flowtrace.tracer.recording.SourceCut;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.function.Consumer;

/**
 * Reads the files of a recording on several threads (largest first) of a {@link ReadingPool}:
 * each file is read by one thread, and its decoding is shared out in chunks to threads with no
 * file of their own (one large file is decoded on every core). The sink and listener are called
 * from those threads, so they must be thread-safe; problems are delivered under a lock, in each
 * file's order. A file that cannot be read, or is cut
 * off or corrupt, is a problem of that file: the other files are read all the same, and the cut is
 * told with the end of the last span it held ({@link SourceCut}).
 */
public final class ParallelRead {
  private ParallelRead() {}

  /**
   * Reads every file; returns after all are read. {@code threads} ≥ 1.
   *
   * @throws IOException only when interrupted
   */
  public static void read(RecordingReader reader, List<Path> files, int threads, Consumer<Telemetry> sink,
      ReadListener listener) throws IOException {
    read(reader, files, threads, sink, listener, cut -> {});
  }

  /**
   * Reads every file as {@link #read(RecordingReader, List, int, Consumer, ReadListener)} does, and
   * tells {@code cuts} of each file whose reading stopped part-way, once it is read.
   *
   * @throws IOException only when interrupted
   */
  public static void read(RecordingReader reader, List<Path> files, int threads, Consumer<Telemetry> sink,
      ReadListener listener, Consumer<SourceCut> cuts) throws IOException {
    List<Path> ordered = new ArrayList<>(files);
    ordered.sort(Comparator.comparingLong((Path p) -> p.toFile().length()).reversed());
    Object lock = new Object();
    ReadListener synced = new ReadListener() {
      @Override
      public void problem(ReadProblem problem) {
        synchronized (lock) {
          listener.problem(problem);
        }
      }

      @Override
      public void progress(String source, long bytesRead) {
        synchronized (lock) {
          listener.progress(source, bytesRead);
        }
      }
    };
    if (threads == 1 || ordered.isEmpty()) {
      for (Path f : ordered) {
        readOne(reader, f, sink, synced, cuts);
      }
      return;
    }
    ReadingPool pool = new ReadingPool(threads);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (Path f : ordered) {
        futures.add(pool.submit(() -> readOne(reader, f, sink, synced, cuts)));
      }
      for (Future<?> f : futures) {
        try {
          f.get();
        } catch (ExecutionException e) {
          Throwable cause = e.getCause();
          if (cause instanceof RuntimeException r) {
            throw r;
          }
          if (cause instanceof Error error) {
            throw error;
          }
          throw new IOException(cause);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while reading", e);
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static void readOne(RecordingReader reader, Path file, Consumer<Telemetry> sink, ReadListener listener,
      Consumer<SourceCut> cuts) {
    // a file's decoding may be shared out to several threads
    LongAccumulator lastSpanEnd = new LongAccumulator(Math::max, Long.MIN_VALUE);
    AtomicReference<ReadProblem> cut = new AtomicReference<>();
    reader.readFile(file, t -> {
      if (t instanceof Telemetry.SpanEvent e) {
        lastSpanEnd.accumulate(e.span().endEpochNanos());
      }
      sink.accept(t);
    }, new ReadListener() {
      @Override
      public void problem(ReadProblem problem) {
        if (problem.restSkipped()) {
          cut.compareAndSet(null, problem);
        } else if (problem.spansLostAfterNanos() != ReadProblem.NO_TIME) {
          cuts.accept(SourceCut.request(problem));
        }
        listener.problem(problem);
      }

      @Override
      public void progress(String source, long bytesRead) {
        listener.progress(source, bytesRead);
      }
    });
    if (cut.get() != null) {
      cuts.accept(new SourceCut(cut.get(), lastSpanEnd.get()));
    }
  }
}
