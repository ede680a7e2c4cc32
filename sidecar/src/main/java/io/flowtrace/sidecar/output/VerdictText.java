package io.flowtrace.sidecar.output;

import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.report.LateEvent;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictJson;
import java.io.StringWriter;
import java.time.Instant;
import tools.jackson.core.JsonGenerator;
import tools.jackson.databind.json.JsonMapper;

/** The texts a verdict is written as: one JSON object per line, and one console line. */
public final class VerdictText {

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private VerdictText() {}

  /**
   * The verdict as the contract's report flow object, plus {@code instanceKey} (what a consumer
   * de-duplicates by), {@code revision} and {@code decided} (when it was decided, ISO-8601).
   */
  public static String json(Verdict v) {
    StringWriter out = new StringWriter(512);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringProperty("instanceKey", v.instanceKey());
      g.writeNumberProperty("revision", v.revision());
      g.writeStringProperty("decided", Instant.ofEpochSecond(0, v.decidedEpochNanos()).toString());
      g.writeName("verdict");
      VerdictJson.write(v, g);
      g.writeEndObject();
    }
    return out.toString();
  }

  /**
   * A late event as one JSON object: {@code {"instanceKey", "late": {"flow", "keys", "event",
   * "where", "eventTime", "finalizedAt"}}} — a note beside the instance's verdicts (same key), not
   * a verdict: readers of verdicts tell them apart by the {@code late} field.
   */
  public static String json(LateEvent e) {
    StringWriter out = new StringWriter(256);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringProperty("instanceKey", e.instanceKey());
      g.writeName("late");
      VerdictJson.write(e, g);
      g.writeEndObject();
    }
    return out.toString();
  }

  /** One line for a late event: {@code LATE flow keys: event at where, after the verdict was final}. */
  public static String line(LateEvent e) {
    StringBuilder sb = new StringBuilder(160).append("LATE ").append(e.flow());
    new java.util.TreeMap<>(e.keys()).forEach((k, v) -> sb.append(' ').append(k).append('=').append(v));
    return sb.append(": ").append(e.event()).append(" at ").append(e.where())
        .append(" came after the verdict was final; it was not verified").toString();
  }

  /**
   * One line: status, flow, keys (without keys, the trace or the first record that names the
   * instance), and each violation as {@code KIND at stage (field)}.
   */
  public static String line(Verdict v) {
    StringBuilder sb = new StringBuilder(160);
    sb.append(v.status()).append(' ').append(v.flow());
    v.keys().forEach((k, val) -> sb.append(' ').append(k).append('=').append(val));
    String key = v.instanceKey();
    if (v.keys().isEmpty() && key.length() > v.flow().length()) {
      sb.append(' ').append(key.substring(v.flow().length() + 1)); // its trace, or its first record
    }
    if (v.revision() > 0) {
      sb.append(" (amended, revision ").append(v.revision()).append(')');
    }
    String sep = ": ";
    for (Violation x : v.violations()) {
      sb.append(sep).append(x.kind()).append(" at ").append(x.stage());
      if (x.field() != null) {
        sb.append(" (").append(x.field()).append(')');
      }
      sep = "; ";
    }
    if (v.violations().isEmpty() && !v.reason().isEmpty()) {
      sb.append(": ").append(v.reason());
    }
    return sb.toString();
  }
}
