package io.flowtrace.verifier.spec;

import java.util.List;
import java.util.stream.Collectors;

/** A flow spec that cannot be used; carries every problem found, not only the first. */
public final class FlowSpecException extends Exception {
  private static final long serialVersionUID = 1L;
  private final transient List<SpecProblem> problems;

  public FlowSpecException(List<SpecProblem> problems) {
    super(problems.stream().map(SpecProblem::toString).collect(Collectors.joining("\n")));
    this.problems = List.copyOf(problems);
  }

  public List<SpecProblem> problems() {
    return problems;
  }
}
