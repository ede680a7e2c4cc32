package io.flowtrace.junit;

import io.flowtrace.junit.internal.TestWindow;
import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.internal.Texts;
import java.time.Duration;
import java.util.List;
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

  static String duration(Duration d) {
    return Texts.duration(d);
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

  /** One line per violation: {@code BAD_TRANSFORMATION at order-created field total: ...}. */
  static String list(List<Violation> violations) {
    StringBuilder sb = new StringBuilder();
    for (Violation v : violations) {
      sb.append("\n  - ").append(v);
    }
    return sb.toString();
  }

  /** What the test did see, for a "no such flow" message. */
  static String seen(List<TestWindow.Entry> entries, int telemetry) {
    if (entries.isEmpty()) {
      return "no flow started during this test (" + telemetry + " spans and records of declared events arrived)";
    }
    StringBuilder sb = new StringBuilder("flows that started during this test:");
    for (TestWindow.Entry e : entries) {
      sb.append("\n  - ").append(subject(e.flow(), e.keys()));
      if (e.decided()) {
        sb.append(" (").append(e.verdict().status()).append(')');
      }
    }
    return sb.toString();
  }
}
