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
  private long lastSpanEnd = NONE;

  Lookahead(FlowEngine engine) {
    this.engine = requireNonNull(engine, "engine");
  }

  /** Where the tokens of a span or record go: its instance keys and its traces. */
  interface Tokens {
    /** An instance key: the token {@code flow|name=value}. */
    void key(String flow, String name, String value);

    void trace(String traceId);
  }

  /**
   * Notes the keys and traces a span or record the engine will be fed carries, at its arrival time
   * (payloads are parsed for their keys, not validated).
   */
  public void saw(Telemetry telemetry) {
    long arrival = telemetry.arrivalEpochNanos();
    if (telemetry instanceof Telemetry.SpanEvent s) {
      lastSpanEnd = Math.max(lastSpanEnd, s.span().endEpochNanos());
    }
    engine.tokens(telemetry, new Tokens() {
      @Override
      public void key(String flow, String name, String value) {
        put(hash(flow, name, value), arrival);
      }

      @Override
      public void trace(String traceId) {
        put(hash(traceId), arrival);
      }
    });
  }

  /** Notes one token at an arrival time. */
  void note(String token, long arrival) {
    put(hash(token), arrival);
  }

  /** Takes in what another reader saw. */
  public void addAll(Lookahead other) {
    lastSpanEnd = Math.max(lastSpanEnd, other.lastSpanEnd);
    for (int i = 0; i < other.tokens.length; i++) {
      if (other.tokens[i] != 0) {
        put(other.tokens[i], other.arrivals[i]);
      }
    }
  }

  /** When the last span seen ended, or {@link #NONE} when no span was seen. */
  long lastSpanEndNanos() {
    return lastSpanEnd;
  }

  /** Distinct tokens seen. */
  public int size() {
    return size;
  }

  /** Arrival time of the last event carrying the instance key {@code flow|name=value}, or {@link #NONE}. */
  long lastArrival(String flow, String name, String value) {
    return lastArrival(hash(flow, name, value));
  }

  /** Arrival time of the last event carrying {@code token}, or {@link #NONE}. */
  long lastArrival(String token) {
    return lastArrival(hash(token));
  }

  private long lastArrival(long h) {
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
    return nonZero(fnv(FNV_OFFSET, token));
  }

  /** {@link #hash(String)} of {@code flow|name=value}, without making that string. */
  static long hash(String flow, String name, String value) {
    long h = fnv(FNV_OFFSET, flow);
    h = (h ^ '|') * FNV_PRIME;
    h = fnv(h, name);
    h = (h ^ '=') * FNV_PRIME;
    return nonZero(fnv(h, value));
  }

  private static final long FNV_OFFSET = 0xcbf29ce484222325L;
  private static final long FNV_PRIME = 0x100000001b3L;

  private static long fnv(long h, String s) {
    for (int i = 0; i < s.length(); i++) {
      h ^= s.charAt(i);
      h *= FNV_PRIME;
    }
    return h;
  }

  private static long nonZero(long h) {
    return h == 0 ? 1 : h;
  }

  private static int mix(long h) {
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    return (int) h;
  }
}
