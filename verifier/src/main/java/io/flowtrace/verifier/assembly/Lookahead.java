package io.flowtrace.verifier.assembly;

import static java.util.Objects.requireNonNull;

import io.flowtrace.tracer.model.Telemetry;

/**
 * What a replay knows before its engine does: for every instance key ({@code flow|key=value}) and
 * trace in a recording, the arrival time of the last span or record that carries it. An engine
 * given one ({@link FlowEngine#lookahead(Lookahead)}) makes a decided verdict final as soon as the
 * watermark has passed the last event that could still reach its instance — every later event
 * joins an instance through a key or a trace it carries — instead of holding it open to the end.
 * Verdicts stay exactly what they would be at the end; memory holds the instances in flight
 * rather than every instance of the recording.
 *
 * <p>Tokens are kept as 64-bit hashes (16 bytes each, however long the key); two tokens sharing a
 * hash would only make an instance wait longer. Not thread-safe: one per reading thread, each
 * {@link #addAll added} into one before the engine starts.
 */
public final class Lookahead {
  /** {@link #lastArrival} of a token no event carried. */
  static final long NONE = Long.MIN_VALUE;

  private final FlowEngine engine;
  private long[] tokens = new long[1 << 10];
  private long[] arrivals = new long[1 << 10];
  private int size;

  Lookahead(FlowEngine engine) {
    this.engine = requireNonNull(engine, "engine");
  }

  /**
   * Notes the keys and traces a span or record the engine will be fed carries, at its arrival time
   * (payloads are parsed for their keys, not validated).
   */
  public void saw(Telemetry telemetry) {
    long arrival = telemetry.arrivalEpochNanos();
    engine.tokens(telemetry, token -> note(token, arrival));
  }

  /** Notes one token at an arrival time. */
  void note(String token, long arrival) {
    put(hash(token), arrival);
  }

  /** Takes in what another reader saw. */
  public void addAll(Lookahead other) {
    for (int i = 0; i < other.tokens.length; i++) {
      if (other.tokens[i] != 0) {
        put(other.tokens[i], other.arrivals[i]);
      }
    }
  }

  /** Distinct tokens seen. */
  public int size() {
    return size;
  }

  /** Arrival time of the last event carrying {@code token}, or {@link #NONE}. */
  long lastArrival(String token) {
    long h = hash(token);
    int mask = tokens.length - 1;
    for (int i = mix(h) & mask; ; i = (i + 1) & mask) {
      if (tokens[i] == h) {
        return arrivals[i];
      }
      if (tokens[i] == 0) {
        return NONE;
      }
    }
  }

  private void put(long h, long arrival) {
    if ((size + 1) * 2 > tokens.length) {
      grow();
    }
    int mask = tokens.length - 1;
    for (int i = mix(h) & mask; ; i = (i + 1) & mask) {
      if (tokens[i] == h) {
        arrivals[i] = Math.max(arrivals[i], arrival);
        return;
      }
      if (tokens[i] == 0) {
        tokens[i] = h;
        arrivals[i] = arrival;
        size++;
        return;
      }
    }
  }

  private void grow() {
    long[] oldTokens = tokens;
    long[] oldArrivals = arrivals;
    tokens = new long[oldTokens.length * 2];
    arrivals = new long[oldTokens.length * 2];
    size = 0;
    for (int i = 0; i < oldTokens.length; i++) {
      if (oldTokens[i] != 0) {
        put(oldTokens[i], oldArrivals[i]);
      }
    }
  }

  /** A 64-bit FNV-1a hash of the token, never 0 (the empty slot). */
  static long hash(String token) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < token.length(); i++) {
      h ^= token.charAt(i);
      h *= 0x100000001b3L;
    }
    return h == 0 ? 1 : h;
  }

  private static int mix(long h) {
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    return (int) h;
  }
}
