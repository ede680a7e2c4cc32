package io.flowtrace.junit;

import io.flowtrace.verifier.check.Violation;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The text of failure messages; the verdict block itself is the console report's. */
final class Messages {

  private Messages() {}

  /** {@code flow order-creation [requestId=r1 orderId=o1]}, or without brackets when no keys. */
  static String subject(String flow, Map<String, String> keys) {
    return "flow " + flow + (keys.isEmpty() ? "" : " [" + keys(keys) + "]");
  }

  static String subject(FlowOutcome o) {
    return subject(o.flow(), o.keys());
  }

  static String keys(Map<String, String> keys) {
    StringBuilder sb = new StringBuilder();
    keys.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : " ").append(k).append('=').append(v));
    return sb.toString();
  }

  /** {@code 2 s}, {@code 1.5 s}, {@code 300 ms}, {@code 0.8 ms}. */
  static String duration(Duration d) {
    long nanos = d.toNanos();
    if (Math.abs(nanos) >= 1_000_000_000L) {
      return BigDecimal.valueOf(nanos, 9).setScale(3, RoundingMode.HALF_UP).stripTrailingZeros().toPlainString() + " s";
    }
    BigDecimal ms = BigDecimal.valueOf(nanos, 6);
    return ms.setScale(Math.abs(nanos) >= 10_000_000L ? 0 : 1, RoundingMode.HALF_UP).stripTrailingZeros()
        .toPlainString() + " ms";
  }

  /**
   * {@code " (did you mean 'paymentId'?)"} when a known name is the wrong one written another way
   * (case, {@code _}, {@code -}, {@code .}), else empty.
   */
  static String didYouMean(String wrong, Collection<String> known) {
    String w = loose(wrong);
    for (String k : known) {
      if (loose(k).equals(w)) {
        return " (did you mean '" + k + "'?)";
      }
    }
    return "";
  }

  private static String loose(String name) {
    return name.toLowerCase(Locale.ROOT).replaceAll("[-_.\\s]", "");
  }

  /**
   * How the verdict came about, for a message: nothing for a decided one; for a provisional one,
   * that the wait ended first and the verdict is as of then.
   */
  static String how(FlowOutcome o, Duration waited) {
    if (o.decided()) {
      return "";
    }
    return " (it was not decided within " + duration(waited)
        + "; judged as of then, as if its deadline had passed)";
  }

  /** The verdict block with its violations and timeline, as the console report prints it. */
  static String block(FlowOutcome o) {
    return o.report();
  }

  /** One line per item: {@code BAD_TRANSFORMATION at order-created field total: ...}. */
  static String list(List<?> violations) {
    StringBuilder sb = new StringBuilder();
    for (Object v : violations) {
      sb.append("\n  - ").append(v);
    }
    return sb.toString();
  }

  /** What the test did see, for a "no such flow" message: the flows, or when none, what arrived. */
  static String seen(Received received) {
    if (received.flows().isEmpty()) {
      return "no flow started during this test.\n" + received.summary();
    }
    StringBuilder sb = new StringBuilder("flows that started during this test:");
    for (Received.Flow f : received.flows()) {
      sb.append("\n  - ").append(f);
    }
    return sb.toString();
  }
}
