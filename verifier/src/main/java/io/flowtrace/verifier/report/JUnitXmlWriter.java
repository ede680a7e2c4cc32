package io.flowtrace.verifier.report;

import io.flowtrace.tracer.files.CannotWriteException;
import io.flowtrace.tracer.files.OutputFile;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes JUnit XML, one test case per instance: passed, failed (one failure listing every
 * violation) or skipped (incomplete); what could not be verified (a partly verified instance) and
 * notes go to the case's {@code system-out}. Cases stream to a scratch file beside the report; the suite
 * header, which needs the totals, is written on {@link #close()}, and the report appears whole then
 * ({@link OutputFile}: readable by others as any new file is, under the umask; a failure names the
 * path and why, as a {@link CannotWriteException}).
 *
 * <p><b>Times.</b> A test case's {@code time} is the instance's duration: from its first to its
 * last observed event (the earliest and latest {@link TimelineEntry#offsetNanos()} of its {@link
 * Verdict#timeline()}), in seconds with millisecond precision ({@code 1.234}; rounded half up; 0
 * for an instance of one event). Not the time verifying it took, which is microseconds and says
 * nothing, nor until its verdict, which includes waiting for the deadline. The suite's {@code
 * time} is the sum of its cases' times as written, as JUnit runners report a suite (so it adds up
 * in any tool that sums or compares them); instances overlap in a recording, so it is longer than
 * the recording.
 */
public final class JUnitXmlWriter implements VerdictListener, AutoCloseable {
  private final OutputFile report;
  private final Path cases;
  private final BufferedWriter out;
  private final ReportSummary summary = new ReportSummary();
  private long totalMillis;
  private boolean closed;

  /**
   * Opens the report (nothing appears at {@code target} before {@link #close()}).
   *
   * @throws CannotWriteException when {@code target} cannot be written, naming it and why
   */
  public JUnitXmlWriter(Path target) throws IOException {
    this.report = OutputFile.create(target);
    try {
      // Scratch for the cases, owner-only and removed on close; beside the report, where there is room for it.
      this.cases = Files.createTempFile(target.toAbsolutePath().getParent(), ".flowtrace-junit-", ".cases");
      this.out = Files.newBufferedWriter(cases, StandardCharsets.UTF_8);
    } catch (IOException e) {
      report.close();
      throw CannotWriteException.of(target, e);
    }
  }

  @Override
  public void finalized(Verdict v) {
    summary.add(v);
    long millis = durationMillis(v);
    totalMillis += millis;
    try {
      StringBuilder name = new StringBuilder();
      v.keys().forEach((k, val) -> name.append(name.length() == 0 ? "" : " ").append(k).append('=').append(val));
      if (name.length() == 0) {
        name.append(v.traceIds().isEmpty() ? "unkeyed" : "trace=" + v.traceIds().get(0));
      }
      out.write("  <testcase classname=\"" + esc(v.flow()) + "\" name=\"" + esc(name.toString()) + "\" time=\""
          + seconds(millis) + "\">\n");
      if (v.status() == VerdictStatus.FAILED) {
        String first = v.violations().isEmpty() ? "FAILED" : v.violations().get(0).toString();
        out.write("    <failure type=\"" + (v.violations().isEmpty() ? "FAILED" : v.violations().get(0).kind())
            + "\" message=\"" + esc(first) + "\">");
        out.write(esc(ConsoleReport.format(v)));
        out.write("</failure>\n");
      } else if (v.status() == VerdictStatus.INCOMPLETE) {
        out.write("    <skipped message=\"incomplete: the input ended before the flow's deadline\"/>\n");
      }
      if (!v.unverified().isEmpty() || !v.notes().isEmpty()) {
        StringBuilder text = new StringBuilder();
        if (!v.unverified().isEmpty()) {
          text.append("partly verified: not verified (").append(v.unverified().size()).append("):\n");
          for (io.flowtrace.verifier.check.Unverified u : v.unverified()) {
            text.append("  ").append(u.check()).append(' ').append(u.subject()).append(" at ").append(u.stage())
                .append(": ").append(u.reason()).append('\n');
          }
        }
        v.notes().forEach(n -> text.append("note: ").append(n).append('\n'));
        out.write("    <system-out>" + esc(text.toString()) + "</system-out>\n");
      }
      out.write("  </testcase>\n");
    } catch (IOException e) {
      throw new UncheckedIOException(CannotWriteException.of(report.path(), e));
    }
  }

  /** An instance's duration: first to last observed event, in whole milliseconds (rounded half up). */
  static long durationMillis(Verdict v) {
    if (v.timeline().isEmpty()) {
      return 0;
    }
    long first = Long.MAX_VALUE;
    long last = Long.MIN_VALUE;
    for (TimelineEntry e : v.timeline()) {
      first = Math.min(first, e.offsetNanos());
      last = Math.max(last, e.offsetNanos());
    }
    return (last - first + 500_000) / 1_000_000;
  }

  /** {@code 1234} ms as {@code 1.234}. */
  static String seconds(long millis) {
    return BigDecimal.valueOf(millis, 3).toPlainString();
  }

  /**
   * Writes the report and puts it in place.
   *
   * @throws CannotWriteException naming the path and why; nothing is left at the path then
   */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      out.close();
      Writer w = new BufferedWriter(new OutputStreamWriter(report.stream(), StandardCharsets.UTF_8));
      w.write("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
      w.write("<testsuite name=\"flowtrace\" tests=\"" + summary.flows() + "\" failures=\"" + summary.failed()
          + "\" errors=\"0\" skipped=\"" + summary.incomplete() + "\" time=\"" + seconds(totalMillis) + "\">\n");
      try (var lines = Files.newBufferedReader(cases, StandardCharsets.UTF_8)) {
        lines.transferTo(w);
      }
      w.write("</testsuite>\n");
      w.flush();
      report.commit();
    } catch (IOException e) {
      throw CannotWriteException.of(report.path(), e);
    } finally {
      report.close();
      Files.deleteIfExists(cases);
    }
  }

  /** Leaves the report unwritten (a run that failed): removes what was written so far. Idempotent. */
  public void abandon() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      out.close();
    } catch (IOException ignored) {
      // the scratch is removed next
    }
    report.close();
    try {
      Files.deleteIfExists(cases);
    } catch (IOException ignored) {
      // a hidden leftover
    }
  }

  static String esc(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '<' -> sb.append("&lt;");
        case '>' -> sb.append("&gt;");
        case '&' -> sb.append("&amp;");
        case '"' -> sb.append("&quot;");
        default -> {
          if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') {
            sb.append(' ');
          } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
            sb.append(c).append(s.charAt(++i));
          } else if (Character.isSurrogate(c) || c == '\uFFFE' || c == '\uFFFF') {
            sb.append('\uFFFD'); // not allowed in XML (a lone surrogate cannot even be encoded)
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.toString();
  }

}
