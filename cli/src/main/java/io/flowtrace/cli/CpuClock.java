package io.flowtrace.cli;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time spent since a start: by this process (every thread, JIT compilers and GC included) and,
 * where Linux's {@code /proc/stat} tells, by the whole machine, so that a bench can say what the
 * processes beside it (a broker) took.
 */
final class CpuClock {
  /** {@code /proc/stat} counts in USER_HZ ticks, 100 a second on every Linux architecture flowtrace runs on. */
  private static final double TICKS_PER_SECOND = 100;
  private static final Path PROC_STAT = Path.of("/proc/stat");

  private final long process0;
  private final long machine0;

  private CpuClock(long process0, long machine0) {
    this.process0 = process0;
    this.machine0 = machine0;
  }

  /** CPU seconds used since {@link #start()}; {@code machineSeconds} is negative when unknown. */
  record Used(double processSeconds, double machineSeconds) {}

  static CpuClock start() {
    return new CpuClock(processNanos(), machineTicks());
  }

  Used used() {
    long machine = machineTicks();
    return new Used((processNanos() - process0) / 1e9,
        machine < 0 || machine0 < 0 ? -1 : (machine - machine0) / TICKS_PER_SECOND);
  }

  /** CPU time of this process so far, or -1 when the JVM cannot tell. */
  static long processNanos() {
    return ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os ? os.getProcessCpuTime() : -1;
  }

  /** Busy ticks of all CPUs (user, nice, system, irq, softirq, steal), or -1 without {@code /proc/stat}. */
  private static long machineTicks() {
    try {
      for (String line : Files.readAllLines(PROC_STAT)) {
        if (line.startsWith("cpu ")) {
          String[] f = line.trim().split("\\s+");
          long busy = 0;
          for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
            busy += i < f.length ? Long.parseLong(f[i]) : 0;
          }
          return busy;
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or a /proc we cannot read: the machine's share stays unknown
    }
    return -1;
  }
}
