package io.flowtrace.sidecar.output;

import static java.util.Objects.requireNonNull;

import io.flowtrace.verifier.report.LateEvent;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import java.io.PrintStream;

/** Prints one line per failed or incomplete verdict (and per amendment that changes one). */
public final class ConsoleVerdictSink implements VerdictSink {

  private final PrintStream out;

  public ConsoleVerdictSink(PrintStream out) {
    this.out = requireNonNull(out, "out");
  }

  @Override
  public void write(Verdict verdict) {
    if (verdict.status() != VerdictStatus.PASSED || verdict.revision() > 0) {
      out.println(VerdictText.line(verdict));
    }
  }

  @Override
  public void late(LateEvent event) {
    out.println(VerdictText.line(event));
  }

  @Override
  public void flush() {
    out.flush();
  }

  @Override
  public void close() {
    out.flush();
  }
}
