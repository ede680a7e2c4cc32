package io.flowtrace.tracer.recording;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A work-stealing pool for reading recordings. A reader running in it hands the decoding of a
 * file out in chunks that idle workers take, so that one large file is decoded on every core, not
 * only on the thread reading it; with as many files as workers, each worker decodes its own chunks
 * and the pool behaves as one thread per file. Sinks and listeners of reads that run in it must be
 * thread-safe, and a sink gets a file's items in no particular order (problems still come in the
 * file's order).
 */
public final class ReadingPool extends ForkJoinPool {

  /** A pool of {@code threads} daemon workers named {@code flowtrace-read-N}. */
  public ReadingPool(int threads) {
    super(threads, new Workers(), null, false);
  }

  /** Whether the current thread is a worker of a reading pool: its reads may decode in chunks. */
  static boolean current() {
    return ForkJoinTask.getPool() instanceof ReadingPool;
  }

  private static final class Workers implements ForkJoinWorkerThreadFactory {
    private final AtomicInteger count = new AtomicInteger();

    @Override
    public ForkJoinWorkerThread newThread(ForkJoinPool pool) {
      ForkJoinWorkerThread t = new ForkJoinWorkerThread(pool) {};
      t.setName("flowtrace-read-" + count.incrementAndGet());
      t.setDaemon(true);
      return t;
    }
  }
}
