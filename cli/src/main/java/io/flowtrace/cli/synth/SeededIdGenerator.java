package io.flowtrace.cli.synth;

import io.opentelemetry.api.trace.SpanId;
import io.opentelemetry.api.trace.TraceId;
import io.opentelemetry.sdk.trace.IdGenerator;
import java.util.SplittableRandom;

/**
 * Random, valid trace and span ids from a seeded generator, so that the same seed gives the same
 * ids. Not thread-safe: the synthetic recorder starts spans from one thread.
 */
final class SeededIdGenerator implements IdGenerator {
  private final SplittableRandom random;

  SeededIdGenerator(long seed) {
    this.random = new SplittableRandom(seed);
  }

  @Override
  public String generateSpanId() {
    long id;
    do {
      id = random.nextLong();
    } while (id == 0);
    return SpanId.fromLong(id);
  }

  @Override
  public String generateTraceId() {
    long high;
    long low;
    do {
      high = random.nextLong();
      low = random.nextLong();
    } while (high == 0 && low == 0);
    return TraceId.fromLongs(high, low);
  }
}
