package io.flowtrace.cli;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * How long-running commands ({@code record}, {@code sidecar}) live: until SIGTERM/Ctrl-C or a time
 * limit, running their stop action exactly once — from the shutdown hook (which the JVM waits
 * for), or on the command's thread. The stop action gets a hard limit: a process that has not
 * stopped by then (wedged input, a heap too full to make progress) says so and halts, so a
 * SIGTERM always ends it.
 */
final class UntilStopped {

  /** Default time the stop action may take before the process halts: 2 min. */
  static final Duration DEFAULT_HARD_LIMIT = Duration.ofMinutes(2);
  private static final long FAILURE_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

  private final Runnable stop;
  private final Duration hardLimit;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final Thread hook;

  private UntilStopped(Runnable stop, Duration hardLimit) {
    this.stop = stop;
    this.hardLimit = hardLimit;
    this.hook = new Thread(() -> {
      runBounded();
      stopped.countDown();
    }, "flowtrace-shutdown");
  }

  /** Installs the shutdown hook now, before the command says it is ready. */
  static UntilStopped install(Runnable stop) {
    return install(stop, DEFAULT_HARD_LIMIT);
  }

  /** As {@link #install(Runnable)}, halting when stopping takes longer than {@code hardLimit}. */
  static UntilStopped install(Runnable stop, Duration hardLimit) {
    UntilStopped u = new UntilStopped(stop, hardLimit);
    Runtime.getRuntime().addShutdownHook(u.hook);
    return u;
  }

  /** Blocks until the JVM is asked to stop or {@code limit} (if not null) passes; the stop action has run on return. */
  void await(Duration limit) throws InterruptedException {
    await(limit, () -> false);
  }

  /**
   * As {@link #await(Duration)}, also ending when {@code failed} turns true (asked every 200 ms): a
   * process whose work has died must not stay up looking alive. Returns whether it ended for that.
   */
  boolean await(Duration limit, BooleanSupplier failed) throws InterruptedException {
    long end = limit == null ? Long.MAX_VALUE : System.nanoTime() + limit.toNanos();
    boolean failure = false;
    while (stopped.getCount() > 0) {
      long left = end - System.nanoTime();
      if (left <= 0) {
        break;
      }
      if (failed.getAsBoolean()) {
        failure = true;
        break;
      }
      stopped.await(Math.min(left, FAILURE_CHECK_NANOS), TimeUnit.NANOSECONDS);
    }
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      stopped.await(); // the hook is stopping; let it finish
      return failure;
    }
    runBounded();
    return failure;
  }

  /** Runs the stop action on its own thread; past the hard limit, says so and halts the JVM. */
  private void runBounded() {
    Thread worker = new Thread(stop, "flowtrace-stop");
    worker.setDaemon(true);
    worker.start();
    try {
      worker.join(hardLimit.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (worker.isAlive()) {
      System.err.println("flowtrace: did not stop within " + hardLimit.toSeconds()
          + " s (inputs or outputs stuck, or the heap too full to make progress); halting now. Offsets not committed "
          + "are read again by the next run.");
      System.err.flush();
      Runtime.getRuntime().halt(3);
    }
  }
}
