package io.flowtrace.tracer.otlp;

import java.util.concurrent.ConcurrentHashMap;

/**
 * One copy of each attribute key and span name the decoders meet, so that spans held for minutes
 * (by the engine's index, by instances open to amendment) share them: a reference-flow span carries
 * ≈ 10 attribute keys, and each decoded anew was its own string. The first {@code maxNames} names of
 * up to {@code maxLength} characters are kept; others are passed through (names are input: an
 * exporter that puts ids in span names must not grow this without bound). Thread-safe.
 *
 * <p>Public for the other decoders of telemetry ({@code TelemetryCodec}, which reads spilled runs
 * and routed items back), so that what they decode shares the same copies.
 */
public final class Names {
  /** What the decoders share: 8,192 names of up to 128 characters. */
  public static final Names SHARED = new Names(8_192, 128);

  private final ConcurrentHashMap<String, String> known = new ConcurrentHashMap<>();
  private final int maxNames;
  private final int maxLength;

  Names(int maxNames, int maxLength) {
    this.maxNames = maxNames;
    this.maxLength = maxLength;
  }

  /** The shared copy of {@code name}, or {@code name} itself when none is kept. */
  public String canonical(String name) {
    if (name == null || name.length() > maxLength) {
      return name;
    }
    String kept = known.get(name);
    if (kept != null) {
      return kept;
    }
    if (known.size() >= maxNames) {
      return name;
    }
    kept = known.putIfAbsent(name, name);
    return kept == null ? name : kept;
  }
}
