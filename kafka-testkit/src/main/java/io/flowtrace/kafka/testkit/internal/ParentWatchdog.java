package io.flowtrace.kafka.testkit.internal;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * Internal, not API: the main class of the forked broker JVM. It runs another main class (Kafka's)
 * and exits the JVM, which runs Kafka's own shutdown hook, as soon as its stdin reaches end of
 * file: that happens when the parent JVM that holds the pipe dies, even by SIGKILL, so a crashed
 * test never leaves a broker running.
 *
 * <p>Usage: {@code ParentWatchdog <main class> [args...]}.
 */
public final class ParentWatchdog {
  private ParentWatchdog() {}

  public static void main(String[] args) throws Throwable {
    if (args.length < 1) {
      System.err.println("Usage: ParentWatchdog <main class> [args...]");
      System.exit(2);
    }
    Thread watchdog = new Thread(ParentWatchdog::watchStdin, "parent-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
    Method main = Class.forName(args[0]).getMethod("main", String[].class);
    try {
      main.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  private static void watchStdin() {
    InputStream in = System.in;
    byte[] buf = new byte[256];
    try {
      while (in.read(buf) >= 0) {
        // the parent never writes; anything read is ignored
      }
    } catch (IOException e) {
      // a broken pipe means the parent is gone too
    }
    System.err.println("[flowtrace watchdog] parent process went away; shutting the broker down");
    System.exit(0);
  }
}
