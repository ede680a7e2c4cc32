package io.flowtrace.cli;

import io.flowtrace.tracer.recording.ReadListener;
import io.flowtrace.tracer.recording.RecordingReader;
import io.flowtrace.verifier.coverage.Coverage;
import io.flowtrace.verifier.coverage.CoverageReport;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import io.flowtrace.verifier.spec.SpecProblem;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code flowtrace lint <dir> [--against RECORDING]}: checks flow specs, every problem as
 * file:line:col; with a recording, also which declared events match nothing in it (and what almost
 * does) and which traffic no flow covers.
 */
@Command(name = "lint",
    header = "Checks flow specs and their schemas (and, with --against, a recording).",
    mixinStandardHelpOptions = true,
    description = {"Checks flow specs (*.flow.yaml) and their schemas; prints every problem as file:line:col (warnings, such",
        "as a redacted field that is also an instance key, are said too but do not fail the specs).",
        "With --against RECORDING, also says which declared events matched nothing in the recording (and what",
        "almost matches them: a name off by case, a character or a route parameter, a topic off by a separator),",
        "and which HTTP spans and topics no flow covers. Exit 0 when the specs are clean and every declared event",
        "matched something, 1 otherwise, 2 when the recording cannot be read."})
final class LintCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "DIR", description = "A directory of flow specs, or one spec file.")
  Path dir;

  @Option(names = "--against", paramLabel = "RECORDING",
      description = "A recording directory (as replay reads) to hold the specs up against.")
  Path against;

  @Mixin SchemaRegistryOption schemaRegistry;

  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (!schemaRegistry.valid(err)) {
      return FlowTraceCli.EXIT_USAGE;
    }
    List<SpecProblem> problems = new ArrayList<>();
    List<FlowSpec> flows = new FlowSpecLoader(schemaRegistry.client()).loadAll(dir, problems);
    for (SpecProblem p : problems) {
      err.println(p);
    }
    long errors = problems.stream().filter(SpecProblem::isError).count();
    if (errors > 0) {
      err.println(Plural.count(errors, "problem")
          + (errors < problems.size() ? ", " + Plural.count(problems.size() - errors, "warning") : ""));
    } else {
      for (FlowSpec f : flows) {
        out.printf("ok  %s  %s (%s, %s, %s)%n", f.source(), f.name(), Plural.count(f.stages().size(), "stage"),
            Plural.count(f.events().size(), "event"), Plural.count(f.rules().size(), "rule"));
      }
    }
    int exit = errors == 0 ? FlowTraceCli.EXIT_PASSED : FlowTraceCli.EXIT_VIOLATIONS;
    if (against == null) {
      return exit;
    }
    if (!Files.isDirectory(against)) {
      err.println("flowtrace: --against " + against + ": not a recording directory");
      return FlowTraceCli.EXIT_USAGE;
    }
    Coverage coverage = new Coverage(flows);
    long[] skipped = {0};
    RecordingReader.Summary read;
    try {
      read = RecordingReader.defaults().read(against, coverage::accept, new ReadListener() {
        @Override
        public void problem(io.flowtrace.tracer.recording.ReadProblem problem) {
          if (skipped[0]++ < 20) {
            err.println("flowtrace: " + problem);
          }
        }
      });
    } catch (IOException e) {
      err.println("flowtrace: cannot read " + against + ": " + e.getMessage());
      return FlowTraceCli.EXIT_USAGE;
    }
    CoverageReport report = coverage.report();
    out.println();
    out.println(against + ": " + Plural.count(read.spans(), "span") + ", " + Plural.count(read.records(), "record")
        + " in " + Plural.count(read.files(), "file")
        + (skipped[0] == 0 ? "" : "; " + Plural.count(skipped[0], "unreadable line") + " skipped"));
    report.lines().forEach(out::println);
    out.flush();
    return report.everyEventMatched() ? exit : FlowTraceCli.EXIT_VIOLATIONS;
  }
}
