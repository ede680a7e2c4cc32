package io.flowtrace.cli;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * How long-running commands ({@code record}, {@code sidecar}) live: until SIGTERM/Ctrl-C or a time
 * limit, running their stop action exactly once — from the shutdown hook (which the JVM waits
 * for), or on the command's thread.
 */
final class UntilStopped {

  private final Runnable stop;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final Thread hook;

  private UntilStopped(Runnable stop) {
    this.stop = stop;
    this.hook = new Thread(() -> {
      stop.run();
      stopped.countDown();
    }, "flowtrace-shutdown");
  }

  /** Installs the shutdown hook now, before the command says it is ready. */
  static UntilStopped install(Runnable stop) {
    UntilStopped u = new UntilStopped(stop);
    Runtime.getRuntime().addShutdownHook(u.hook);
    return u;
  }

  /** Blocks until the JVM is asked to stop or {@code limit} (if not null) passes; the stop action has run on return. */
  void await(Duration limit) throws InterruptedException {
    if (limit == null) {
      stopped.await();
    } else {
      stopped.await(limit.toMillis(), TimeUnit.MILLISECONDS);
    }
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      stopped.await(); // the hook is stopping; let it finish
      return;
    }
    stop.run();
  }
}
