package io.flowtrace.verifier.replay;

import static java.util.Objects.requireNonNull;

import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.recording.ReadListener;
import io.flowtrace.tracer.recording.ReadProblem;
import io.flowtrace.tracer.recording.SourceCut;
import io.flowtrace.tracer.recording.RecordingReader;
import io.flowtrace.tracer.spill.TelemetryCodec;
import io.flowtrace.verifier.assembly.FlowEngine;
import io.flowtrace.verifier.assembly.Lookahead;
import io.flowtrace.verifier.assembly.Prepared;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * Verifies a recording offline with the same engine the sidecar runs. Lines may be in any order
 * within and across files, so replay first puts the relevant telemetry in event-time order —
 * in memory while it fits {@code maxBufferedEvents} and {@code maxBufferedBytes}, else as sorted
 * runs spilled to a temp directory and merged — and then streams it through the
 * {@link FlowEngine}. While reading it notes when the last event of every key and trace arrives
 * (a {@link Lookahead}), so that the engine makes each verdict final as soon as no event still to
 * come can reach its instance. Memory is bounded by the buffer and the instances in flight, not by
 * the recording's size.
 */
public final class Replay {

  /** Default number of events held in memory before a sorted run is spilled to disk. */
  public static final int DEFAULT_MAX_BUFFERED_EVENTS = 1_000_000;
  /**
   * Default estimated heap that buffered events may take before a sorted run is spilled: 128 MiB,
   * or a quarter of the maximum heap if that is less. Larger buffers are slower, not faster:
   * sorting a million events and carrying them through collections costs more than spilling runs
   * and merging them (measured on 20,000 and 60,000 reference flows).
   */
  public static final long DEFAULT_MAX_BUFFERED_BYTES = 128L << 20;
  /** Events between progress reports while verifying (a display shows them a few times a second at most). */
  private static final int PROGRESS_EVERY = 4096;
  private static final int CHUNK = 1024;
  /** Problems whose names are kept for the verdicts they may concern: the first this many read. */
  private static final int MAX_NAMING_PROBLEMS = 10_000;
  private static final int PREPARE_BLOCK = 2048;

  private final FlowEngine engine;
  private final RecordingReader reader;
  private final ReadListener problems;
  private final ReplayProgress progress;
  private final int maxBufferedEvents;
  private final long maxBufferedBytes;
  private final Path tempDir;
  private final int threads;

  private Replay(Builder b) {
    this.engine = b.engine;
    this.reader = b.reader;
    this.problems = b.problems;
    this.progress = b.progress;
    this.maxBufferedEvents = b.maxBufferedEvents;
    this.maxBufferedBytes = b.maxBufferedBytes;
    this.tempDir = b.tempDir;
    this.threads = b.threads;
  }

  public static Builder builder(FlowEngine engine) {
    return new Builder(engine);
  }

  /** Reads the recording (a directory or one file), verifies it and finishes the engine. */
  public ReplayResult run(Path recording) throws IOException {
    long t0 = System.nanoTime();
    LongAdder problemCount = new LongAdder();
    java.util.Queue<ReadProblem> naming = new java.util.concurrent.ConcurrentLinkedQueue<>();
    List<Path> files = reader.files(recording, problem -> {
      problemCount.increment();
      problems.problem(problem);
    });
    Buffer buffer = new Buffer();
    LongAdder spans = new LongAdder();
    LongAdder records = new LongAdder();
    ReadingProgress listener = new ReadingProgress(problem -> {
      problemCount.increment();
      problems.problem(problem);
      if (!problem.names().isEmpty() && problemCount.sum() <= MAX_NAMING_PROBLEMS) {
        naming.add(problem);
      }
    }, files, progress, spans::sum, records::sum);
    long totalBytes = listener.totalBytes();
    java.util.Queue<Chunk> allChunks = new java.util.concurrent.ConcurrentLinkedQueue<>();
    ThreadLocal<Chunk> chunks = ThreadLocal.withInitial(() -> {
      Chunk c = new Chunk(engine.newLookahead());
      allChunks.add(c);
      return c;
    });
    Consumer<Telemetry> sink = t -> {
      Chunk chunk = chunks.get();
      if (t instanceof Telemetry.SpanEvent e) {
        spans.increment();
        chunk.services.add(e.span().service());
      } else {
        records.increment();
      }
      Telemetry kept = engine.filter(t);
      if (kept == null) {
        return;
      }
      chunk.lookahead.saw(kept);
      chunk.events.add(kept);
      chunk.bytes += TelemetrySize.estimate(kept);
      if (chunk.events.size() >= CHUNK) {
        buffer.addAll(chunk.events, chunk.bytes);
        chunk.events = new ArrayList<>(CHUNK);
        chunk.bytes = 0;
      }
    };
    java.util.Queue<SourceCut> cuts = new java.util.concurrent.ConcurrentLinkedQueue<>();
    ParallelRead.read(reader, files, threads, sink, listener, cuts::add);
    Lookahead lookahead = engine.newLookahead();
    java.util.SortedSet<String> services = new java.util.TreeSet<>();
    for (Chunk chunk : allChunks) {
      buffer.addAll(chunk.events, chunk.bytes);
      lookahead.addAll(chunk.lookahead);
      services.addAll(chunk.services);
    }
    engine.lookahead(lookahead);
    engine.unreadable(naming, cuts);
    long t1 = System.nanoTime();
    long fed = buffer.drain(engine, progress);
    long t2 = System.nanoTime();
    return new ReplayResult(files.size(), totalBytes, spans.sum(), records.sum(), problemCount.sum(), fed,
        buffer.runs.size(), Duration.ofNanos(t1 - t0), Duration.ofNanos(buffer.sortNanos),
        Duration.ofNanos(t2 - t1 - buffer.sortNanos), engine.stats(), java.util.Collections.unmodifiableSortedSet(services));
  }

  /** Configures a {@link Replay}. */
  public static final class Builder {
    private final FlowEngine engine;
    private RecordingReader reader = RecordingReader.defaults();
    private ReadListener problems = ReadListener.ignoring();
    private ReplayProgress progress = ReplayProgress.NONE;
    private int maxBufferedEvents = DEFAULT_MAX_BUFFERED_EVENTS;
    private long maxBufferedBytes = Math.min(DEFAULT_MAX_BUFFERED_BYTES, Runtime.getRuntime().maxMemory() / 4);
    private Path tempDir;
    private int threads = Math.min(4, Runtime.getRuntime().availableProcessors());

    private Builder(FlowEngine engine) {
      this.engine = requireNonNull(engine, "engine");
    }

    public Builder reader(RecordingReader reader) {
      this.reader = requireNonNull(reader, "reader");
      return this;
    }

    /** Told about every malformed line or record (which is skipped). Defaults to ignoring them. */
    public Builder problems(ReadListener problems) {
      this.problems = requireNonNull(problems, "problems");
      return this;
    }

    public Builder progress(ReplayProgress progress) {
      this.progress = requireNonNull(progress, "progress");
      return this;
    }

    /** Events held in memory before spilling a sorted run. Defaults to 1,000,000. */
    public Builder maxBufferedEvents(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxBufferedEvents must be positive: " + max);
      }
      this.maxBufferedEvents = max;
      return this;
    }

    /**
     * Estimated bytes of heap the buffered events may take before a sorted run is spilled, whatever
     * their count: memory then follows the heap given, not the recording's size. Defaults to
     * {@link #DEFAULT_MAX_BUFFERED_BYTES} or a quarter of the maximum heap, whichever is less.
     */
    public Builder maxBufferedBytes(long max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxBufferedBytes must be positive: " + max);
      }
      this.maxBufferedBytes = max;
      return this;
    }

    /** Where spilled runs go. Defaults to the system temp directory. */
    public Builder tempDir(Path dir) {
      this.tempDir = requireNonNull(dir, "dir");
      return this;
    }

    /**
     * Threads that read and decode files in parallel (each file read by one, its lines decoded by any
     * idle one: {@link io.flowtrace.tracer.recording.ReadingPool}). Defaults to the cores, at most 4.
     */
    public Builder readThreads(int threads) {
      if (threads < 1) {
        throw new IllegalArgumentException("readThreads must be positive: " + threads);
      }
      this.threads = threads;
      return this;
    }

    public Replay build() {
      return new Replay(this);
    }
  }

  /** What one reading thread gathers: the events it kept, a chunk at a time, and the tokens they carry. */
  private static final class Chunk {
    final Lookahead lookahead;
    final java.util.Set<String> services = new java.util.HashSet<>();
    List<Object> events = new ArrayList<>(CHUNK);
    long bytes;

    Chunk(Lookahead lookahead) {
      this.lookahead = lookahead;
    }
  }

  /** Buffered items are {@link Prepared} (decoded in the reader threads) or, read back from a spilled run, raw {@link Telemetry}. */
  private static Telemetry telemetryOf(Object item) {
    return item instanceof Prepared p ? p.telemetry() : (Telemetry) item;
  }

  private static final java.util.Comparator<Object> ITEM_ORDER =
      (a, b) -> TelemetryOrder.INSTANCE.compare(telemetryOf(a), telemetryOf(b));

  private final class Buffer {
    private ReplayClock clock;
    private List<Object> events = new ArrayList<>();
    private final List<Path> runs = new ArrayList<>();
    private long spilled;
    private long sortNanos;
    private long bytes;

    /** Adds a reader's chunk; a reader that fills the buffer sorts and spills it while the others go on reading. */
    void addAll(List<Object> chunk, long chunkBytes) {
      List<Object> full;
      synchronized (this) {
        events.addAll(chunk);
        bytes += chunkBytes;
        if (events.size() < maxBufferedEvents && bytes < maxBufferedBytes) {
          return;
        }
        full = events;
        events = new ArrayList<>();
        bytes = 0;
      }
      spill(full);
    }

    private void spill(List<Object> items) {
      items.sort(ITEM_ORDER);
      try {
        Path run = tempDir == null ? Files.createTempFile("flowtrace-run-", ".bin")
            : Files.createTempFile(tempDir, "flowtrace-run-", ".bin");
        run.toFile().deleteOnExit();
        try (DataOutputStream out = TelemetryCodec.output(Files.newOutputStream(run))) {
          for (Object item : items) {
            TelemetryCodec.write(telemetryOf(item), out);
          }
        }
        synchronized (this) {
          runs.add(run);
          spilled += items.size();
        }
      } catch (IOException e) {
        throw new java.io.UncheckedIOException("cannot spill a sorted run to disk", e);
      }
    }

    long drain(FlowEngine engine, ReplayProgress progress) throws IOException {
      clock = new ReplayClock(engine);
      long total = spilled + events.size();
      long fed = 0;
      progress.verifying(0, total, 0); // reading is over: sorting and merging come first
      List<DataInputStream> inputs = new ArrayList<>();
      try {
        java.util.Iterator<Object> sorted;
        if (runs.isEmpty()) {
          long s0 = System.nanoTime();
          Object[] all = events.toArray();
          events.clear();
          java.util.Arrays.parallelSort(all, ITEM_ORDER);
          sortNanos = System.nanoTime() - s0;
          sorted = new java.util.Iterator<>() {
            int i;

            @Override
            public boolean hasNext() {
              return i < all.length;
            }

            @Override
            public Object next() {
              Object item = all[i];
              all[i++] = null;
              return item;
            }
          };
        } else {
          if (!events.isEmpty()) {
            List<Object> rest = events;
            events = new ArrayList<>();
            spill(rest);
          }
          sorted = merge(inputs);
        }
        fed = pipeline(engine, sorted, total, progress);
      } finally {
        for (DataInputStream in : inputs) {
          in.close();
        }
        for (Path run : runs) {
          Files.deleteIfExists(run);
        }
      }
      engine.finish();
      progress.verifying(fed, total, engine.stats().verdictsFinal());
      return fed;
    }

    /** A k-way merge of the spilled runs, in {@link TelemetryOrder}. */
    private java.util.Iterator<Object> merge(List<DataInputStream> inputs) throws IOException {
      PriorityQueue<Object[]> heap = new PriorityQueue<>((x, y) ->
          TelemetryOrder.INSTANCE.compare((Telemetry) x[0], (Telemetry) y[0]));
      for (Path run : runs) {
        DataInputStream in = TelemetryCodec.input(Files.newInputStream(run));
        inputs.add(in);
        Telemetry first = next(in);
        if (first != null) {
          heap.add(new Object[] {first, in});
        }
      }
      return new java.util.Iterator<>() {
        @Override
        public boolean hasNext() {
          return !heap.isEmpty();
        }

        @Override
        public Object next() {
          Object[] top = heap.poll();
          try {
            Telemetry n = Replay.Buffer.this.next((DataInputStream) top[1]);
            if (n != null) {
              heap.add(new Object[] {n, top[1]});
            }
          } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot read a spilled run", e);
          }
          return (Telemetry) top[0];
        }
      };
    }

    /**
     * Feeds the engine in order while a worker prepares (matches, decodes, validates) the next
     * block ahead, so decoding overlaps assembly without holding decoded payloads for the whole
     * recording.
     */
    private long pipeline(FlowEngine engine, java.util.Iterator<Object> sorted, long total, ReplayProgress progress) {
      java.util.concurrent.ExecutorService worker = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "flowtrace-prepare");
        t.setDaemon(true);
        return t;
      });
      long fed = 0;
      try {
        java.util.concurrent.Future<Object[]> ahead = worker.submit(() -> prepareBlock(engine, sorted));
        while (true) {
          Object[] block = ahead.get();
          if (block.length == 0) {
            break;
          }
          ahead = worker.submit(() -> prepareBlock(engine, sorted));
          for (Object item : block) {
            fed = feed(engine, item, fed, total, progress);
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while verifying", e);
      } catch (java.util.concurrent.ExecutionException e) {
        if (e.getCause() instanceof RuntimeException r) {
          throw r;
        }
        throw new IllegalStateException(e.getCause());
      } finally {
        worker.shutdownNow();
      }
      return fed;
    }

    /** Takes the next block off the sorted stream, preparing what a spilled run gave back raw; empty at the end. Worker thread only. */
    private Object[] prepareBlock(FlowEngine engine, java.util.Iterator<Object> sorted) {
      List<Object> block = new ArrayList<>(PREPARE_BLOCK);
      while (block.size() < PREPARE_BLOCK && sorted.hasNext()) {
        Object item = sorted.next();
        if (item instanceof Telemetry t) {
          Prepared p = engine.prepare(t);
          block.add(p != null ? p : t);
        } else {
          block.add(item);
        }
      }
      return block.toArray();
    }

    private Telemetry next(DataInputStream in) throws IOException {
      try {
        return TelemetryCodec.read(in);
      } catch (EOFException e) {
        return null;
      }
    }

    private long feed(FlowEngine engine, Object item, long fed, long total, ReplayProgress progress) {
      Telemetry t = telemetryOf(item);
      long at = t.arrivalEpochNanos();
      clock.beforeFeeding(at);
      if (item instanceof Prepared p) {
        engine.accept(p);
      } else {
        engine.accept(t);
      }
      fed++;
      clock.fed(at);
      if (fed % PROGRESS_EVERY == 0) {
        progress.verifying(fed, total, engine.stats().verdictsDecided());
      }
      if (fed == total) {
        engine.advanceTo(t.arrivalEpochNanos());
      }
      return fed;
    }
  }
}
