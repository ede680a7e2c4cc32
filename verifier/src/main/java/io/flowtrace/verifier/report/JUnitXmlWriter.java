package io.flowtrace.verifier.report;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes JUnit XML, one test case per instance: passed, failed (one failure listing every
 * violation) or skipped (incomplete). Cases stream to a temporary file; the suite header, which
 * needs the totals, is written on {@link #close()}.
 */
public final class JUnitXmlWriter implements VerdictListener, AutoCloseable {
  private final Path target;
  private final Path cases;
  private final BufferedWriter out;
  private final ReportSummary summary = new ReportSummary();
  private boolean closed;

  public JUnitXmlWriter(Path target) throws IOException {
    this.target = target;
    Path dir = target.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    this.cases = Files.createTempFile(dir, ".flowtrace-junit-", ".xml");
    this.out = Files.newBufferedWriter(cases, StandardCharsets.UTF_8);
  }

  @Override
  public void finalized(Verdict v) {
    summary.add(v);
    try {
      StringBuilder name = new StringBuilder();
      v.keys().forEach((k, val) -> name.append(name.length() == 0 ? "" : " ").append(k).append('=').append(val));
      if (name.length() == 0) {
        name.append(v.traceIds().isEmpty() ? "unkeyed" : "trace=" + v.traceIds().get(0));
      }
      out.write("  <testcase classname=\"" + esc(v.flow()) + "\" name=\"" + esc(name.toString()) + "\" time=\"0\">\n");
      if (v.status() == VerdictStatus.FAILED) {
        String first = v.violations().isEmpty() ? "FAILED" : v.violations().get(0).toString();
        out.write("    <failure type=\"" + (v.violations().isEmpty() ? "FAILED" : v.violations().get(0).kind())
            + "\" message=\"" + esc(first) + "\">");
        out.write(esc(ConsoleReport.format(v)));
        out.write("</failure>\n");
      } else if (v.status() == VerdictStatus.INCOMPLETE) {
        out.write("    <skipped message=\"incomplete: the input ended before the flow's deadline\"/>\n");
      }
      out.write("  </testcase>\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    out.close();
    Path tmp = Files.createTempFile(target.toAbsolutePath().getParent(), ".flowtrace-junit-", ".xml");
    try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
      w.write("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
      w.write("<testsuite name=\"flowtrace\" tests=\"" + summary.flows() + "\" failures=\"" + summary.failed()
          + "\" errors=\"0\" skipped=\"" + summary.incomplete() + "\">\n");
      try (var lines = Files.newBufferedReader(cases, StandardCharsets.UTF_8)) {
        lines.transferTo(w);
      }
      w.write("</testsuite>\n");
    }
    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
    Files.deleteIfExists(cases);
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
