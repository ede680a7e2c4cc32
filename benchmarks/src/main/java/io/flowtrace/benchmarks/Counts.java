package io.flowtrace.benchmarks;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** What one benchmark call handled, which JMH reports as rates beside the calls a second. */
public final class Counts {

  private Counts() {}

  /** Spans decoded: {@code :spans} is spans a second. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Spans {
    public long spans;

    @Setup(Level.Iteration)
    public void reset() {
      spans = 0;
    }
  }

  /** Spans and records handled: {@code :items} is items a second. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Items {
    public long items;

    @Setup(Level.Iteration)
    public void reset() {
      items = 0;
    }
  }

  /** Flow instances verified: {@code :flows} is flows a second. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Flows {
    public long flows;

    @Setup(Level.Iteration)
    public void reset() {
      flows = 0;
    }
  }
}
