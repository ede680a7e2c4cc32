package io.flowtrace.cli;

import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import io.flowtrace.verifier.spec.SpecProblem;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code flowtrace lint <dir>}: checks flow specs, every problem as file:line:col. */
@Command(name = "lint", mixinStandardHelpOptions = true,
    description = "Checks flow specs (*.flow.yaml) and their schemas; prints every problem as file:line:col.")
final class LintCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "DIR", description = "A directory of flow specs, or one spec file.")
  Path dir;

  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    List<SpecProblem> problems = new ArrayList<>();
    List<FlowSpec> flows = new FlowSpecLoader().loadAll(dir, problems);
    var out = spec.commandLine().getOut();
    var err = spec.commandLine().getErr();
    for (SpecProblem p : problems) {
      err.println(p);
    }
    if (!problems.isEmpty()) {
      err.println(problems.size() + (problems.size() == 1 ? " problem" : " problems"));
      return FlowTraceCli.EXIT_VIOLATIONS;
    }
    for (FlowSpec f : flows) {
      out.printf("ok  %s  %s (%d stages, %d events, %d rules)%n", f.source(), f.name(), f.stages().size(),
          f.events().size(), f.rules().size());
    }
    return FlowTraceCli.EXIT_PASSED;
  }
}
