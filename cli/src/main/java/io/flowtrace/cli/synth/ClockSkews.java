package io.flowtrace.cli.synth;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * How far each service's hosts' clocks are off true time. The plan keeps true times (what happened
 * when, and so the order of events and offsets); a skew only changes what that service's hosts
 * write down: its span start and end times and the create time of the records it produces.
 */
final class ClockSkews {

  /** Every clock right. */
  static final ClockSkews NONE = new ClockSkews(Map.of());

  private final Map<String, Long> nanos = new HashMap<>();

  ClockSkews(Map<String, Duration> skews) {
    skews.forEach((service, offset) -> nanos.put(service, offset.toNanos()));
  }

  /** What a host of {@code service} reads at true time {@code trueNanos} (epoch ns). */
  long read(String service, long trueNanos) {
    return trueNanos + nanos.getOrDefault(service, 0L);
  }
}
