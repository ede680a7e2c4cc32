package io.flowtrace.cli;

import io.flowtrace.verifier.replay.ReplayProgress;
import java.io.PrintStream;

/** A one-line progress display on a terminal: files, spans, records, rate; then flows verified. */
final class ProgressLine implements ReplayProgress {
  private static final long MIN_INTERVAL_NANOS = 250_000_000L;
  private final PrintStream err;
  private final boolean enabled;
  private final long start = System.nanoTime();
  private long last;
  private boolean printed;

  ProgressLine(PrintStream err, boolean enabled) {
    this.err = err;
    this.enabled = enabled;
  }

  @Override
  public void reading(String file, long bytesRead, long totalBytes, long spans, long records) {
    if (!due()) {
      return;
    }
    double secs = Math.max(1e-3, (System.nanoTime() - start) / 1e9);
    show(String.format("reading %s/%s (%d%%)  %s  %s  %,.0f items/s",
        bytes(bytesRead), bytes(totalBytes), totalBytes == 0 ? 100 : bytesRead * 100 / totalBytes,
        Plural.grouped(spans, "span"), Plural.grouped(records, "record"), (spans + records) / secs));
  }

  @Override
  public void verifying(long eventsFed, long totalEvents, long verdicts) {
    if (!due()) {
      return;
    }
    show(String.format("verifying %,d/%s  %s decided", eventsFed, Plural.grouped(totalEvents, "event"),
        Plural.grouped(verdicts, "flow")));
  }

  private boolean due() {
    if (!enabled) {
      return false;
    }
    long now = System.nanoTime();
    if (now - last < MIN_INTERVAL_NANOS) {
      return false;
    }
    last = now;
    return true;
  }

  private void show(String line) {
    err.print("\r\033[K" + line);
    err.flush();
    printed = true;
  }

  void done() {
    if (printed) {
      err.print("\r\033[K");
      err.flush();
    }
  }

  static String bytes(long n) {
    if (n < 1024) return n + " B";
    if (n < 1024 * 1024) return String.format("%.1f KiB", n / 1024.0);
    if (n < 1024L * 1024 * 1024) return String.format("%.1f MiB", n / 1048576.0);
    return String.format("%.2f GiB", n / 1073741824.0);
  }
}
