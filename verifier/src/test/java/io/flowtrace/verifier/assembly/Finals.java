package io.flowtrace.verifier.assembly;

import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictListener;
import java.util.ArrayList;
import java.util.List;

/** A listener that keeps the final verdicts, in the order they were made final. */
final class Finals implements VerdictListener {
  final List<Verdict> verdicts = new ArrayList<>();

  @Override
  public void finalized(Verdict verdict) {
    verdicts.add(verdict);
  }
}
