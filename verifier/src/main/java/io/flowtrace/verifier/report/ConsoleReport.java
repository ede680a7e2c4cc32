package io.flowtrace.verifier.report;

import io.flowtrace.verifier.check.Unverified;
import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.internal.Texts;
import java.io.PrintStream;

/**
 * The human report: one block per failed (or incomplete) instance with its keys, each violation
 * with stage, field, expected vs actual and where to look, and a compact timeline; passed
 * instances are counted, not listed (unless verbose).
 */
public final class ConsoleReport implements VerdictListener {
  /** Widest a timeline column is padded to; a longer name pushes only its own row on. */
  private static final int MAX_COLUMN = 32;
  /** Start times to the millisecond, whatever the first event's precision (a span's nanos, a record's millis). */

  private final PrintStream out;
  private final boolean verbose;
  private final ReportSummary summary = new ReportSummary();

  public ConsoleReport(PrintStream out, boolean verbose) {
    this.out = out;
    this.verbose = verbose;
  }

  @Override
  public void finalized(Verdict v) {
    summary.add(v);
    if (v.status() == VerdictStatus.PASSED && !verbose) {
      return;
    }
    out.println(format(v));
  }

  /** The text block for one verdict (control characters of the data shown, {@link Texts#printable}). */
  public static String format(Verdict v) {
    return Texts.printable(block(v));
  }

  private static String block(Verdict v) {
    StringBuilder sb = new StringBuilder();
    sb.append(v.status()).append("  ").append(v.flow()).append("  ").append(keys(v))
        .append("  (started ").append(Texts.instant(v.startEpochNanos())).append(')');
    if (v.status() == VerdictStatus.INCOMPLETE && !v.reason().isEmpty()) {
      sb.append("\n    ").append(v.reason()).append(v.reason().startsWith("terminal stage seen")
          ? ": a stage it may still need, or what decides whether it is needed, had not come"
          : ": the deadline had not passed; the terminal stage was not seen");
    }
    for (Violation x : v.violations()) {
      sb.append("\n  ✗ ").append(x.kind()).append(" at ").append(x.stage());
      if (x.field() != null) {
        sb.append(", field ").append(x.field());
      }
      sb.append("\n      ").append(x.message());
      if (x.expected() != null || x.actual() != null) {
        sb.append("\n      expected: ").append(x.expected() == null ? "-" : x.expected())
            .append("\n      actual:   ").append(x.actual() == null ? "-" : x.actual());
      }
      if (!x.evidence().isEmpty()) {
        sb.append("\n      at ").append(x.evidence());
      }
    }
    if (!v.unverified().isEmpty()) {
      sb.append("\n  not verified (").append(v.unverified().size()).append("):");
      for (Unverified u : v.unverified()) {
        sb.append("\n    ~ ").append(u.check()).append(' ').append(u.subject()).append(" at ").append(u.stage())
            .append(": ").append(u.reason());
      }
    }
    for (String note : v.notes()) {
      sb.append("\n  note: ").append(note);
    }
    if (!v.timeline().isEmpty()) {
      sb.append("\n  timeline:");
      int stageWidth = 0;
      int eventWidth = 0;
      for (TimelineEntry t : v.timeline()) {
        stageWidth = Math.max(stageWidth, Math.min(MAX_COLUMN, t.stage().length()));
        eventWidth = Math.max(eventWidth, Math.min(MAX_COLUMN, t.event().length()));
      }
      String row = "%n    %10s  %-" + Math.max(stageWidth, 1) + "s  %-" + Math.max(eventWidth, 1) + "s  %s";
      for (TimelineEntry t : v.timeline()) {
        String retried = t.detail() == null || t.detail().retried() == null ? ""
            : "  (" + t.detail().retried() + ", made again)";
        sb.append(String.format(row, Texts.offset(t.offsetNanos()), t.stage(), t.event(), t.where() + retried));
      }
    }
    return sb.toString();
  }

  private static String keys(Verdict v) {
    StringBuilder sb = new StringBuilder();
    v.keys().forEach((k, val) -> sb.append(sb.length() == 0 ? "" : " ").append(k).append('=').append(val));
    if (v.keys().isEmpty() && !v.traceIds().isEmpty()) {
      sb.append("trace=").append(v.traceIds().get(0));
    }
    return sb.toString();
  }

  public ReportSummary summary() {
    return summary;
  }

  /** The closing summary line. */
  public String summaryLine() {
    return String.format("%s: %d passed, %d failed, %d incomplete%s%s", Texts.count(summary.flows(), "flow"), summary.passed(),
        summary.failed(), summary.incomplete(),
        summary.partlyVerified() == 0 ? "" : "; " + summary.partlyVerified() + " partly verified",
        summary.byKind().isEmpty() ? "" : "  " + kinds());
  }

  /** {@code (violations: MISSING_STAGE 5, ORDER_VIOLATION 1)}: violations by kind, not flows (a flow may have several). */
  private String kinds() {
    StringBuilder sb = new StringBuilder();
    new java.util.TreeMap<>(summary.byKind()).forEach((k, n) -> sb.append(sb.length() == 0 ? "" : ", ")
        .append(k).append(' ').append(n));
    return "(violations: " + sb + ")";
  }
}
