package io.flowtrace.cli;

import io.flowtrace.verifier.assembly.FlowEngine;
import io.flowtrace.verifier.docs.FlowDocs;
import io.flowtrace.verifier.replay.Replay;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecException;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code flowtrace docs}: integration documentation of the flows, from their specs and a recording. */
@Command(name = "docs",
    header = "Writes integration documentation from flow specs (and what a recording shows).",
    mixinStandardHelpOptions = true,
    description = {"Writes integration documentation: one Markdown file per flow and index.md, from the flow specs and,",
        "when a recording is given, what was observed in it (services, latencies, example payloads).",
        "The output is deterministic: commit it and review its diff."})
final class DocsCommand implements Callable<Integer> {

  @Option(names = "--flows", required = true, paramLabel = "DIR", description = "Directory of flow specs (*.flow.yaml).")
  Path flowsDir;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where to write index.md and <flow>.md.")
  Path out;

  @Option(names = "--html", description = "Also write each page as HTML (index.html, <flow>.html), with the report's stylesheet.")
  boolean html;

  @Parameters(index = "0", arity = "0..1", paramLabel = "RECORDING", description = "Recording directory (optional).")
  Path recording;

  @picocli.CommandLine.Mixin
  InputReporting input = new InputReporting();

  @picocli.CommandLine.Mixin
  SchemaRegistryOption schemaRegistry;

  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    PrintWriter err = spec.commandLine().getErr();
    if (!schemaRegistry.valid(err)) {
      return FlowTraceCli.EXIT_USAGE;
    }
    List<FlowSpec> flows;
    try {
      flows = new FlowSpecLoader(schemaRegistry.client()).load(flowsDir);
    } catch (FlowSpecException e) {
      err.println("flowtrace: the flow specs in " + flowsDir + " have problems:");
      e.problems().forEach(p -> err.println("  " + p));
      return FlowTraceCli.EXIT_USAGE;
    }
    FlowDocs docs = new FlowDocs(flows);
    long problems = 0;
    if (recording != null) {
      if (!Files.exists(recording)) {
        err.println("flowtrace: recording " + recording + " does not exist");
        return FlowTraceCli.EXIT_USAGE;
      }
      docs.source("the recording " + recording.toAbsolutePath().normalize().getFileName());
      FlowEngine engine = FlowEngine.builder(flows).listener(docs).amendUntilEnd().inputMayBeginMidFlow().build();
      ProgressLine progress = input.progressLine();
      try {
        problems = Replay.builder(engine).problems(input.problems(err)).progress(progress).build().run(recording)
            .readProblems();
      } finally {
        progress.done();
      }
    }
    docs.write(out);
    if (html) {
      for (String page : docs.pages()) {
        String md = Files.readString(out.resolve(page + ".md"));
        Files.writeString(out.resolve(page + ".html"),
            io.flowtrace.verifier.report.html.MarkdownPage.render(page.equals("index") ? "flows" : page, md));
      }
    }
    err.println("flowtrace: wrote " + out.resolve("index.md") + " and " + flows.size() + " flow page"
        + (flows.size() == 1 ? "" : "s") + (html ? ", each also as .html (open " + out.resolve("index.html") + ")" : "")
        + (problems > 0 ? " (" + problems + " input problems skipped)" : ""));
    err.flush();
    return problems > 0 ? FlowTraceCli.EXIT_USAGE : FlowTraceCli.EXIT_PASSED;
  }
}
