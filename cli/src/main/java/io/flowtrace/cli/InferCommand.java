package io.flowtrace.cli;

import io.flowtrace.verifier.assembly.FlowEngine;
import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.replay.Replay;
import io.flowtrace.verifier.report.ReportSummary;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictListener;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import io.flowtrace.verifier.spec.SpecProblem;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code flowtrace infer}: drafts flow specs from a recording of traffic. */
@Command(name = "infer",
    header = "Drafts flow specs from a recording.",
    mixinStandardHelpOptions = true,
    description = {"Drafts one flow spec per flow found in a recording (spec YAML + JSON Schemas, the layout of flows/):",
        "stages, alternative paths, keys, schemas, enrichment, rules, idempotency, budgets and deadline,",
        "each with a comment saying what it rests on. The draft is checked like 'lint' before it is kept,",
        "then the recording is replayed against it: what of its own traffic fails is named, to review."})
final class InferCommand implements Callable<Integer> {

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where to write NAME/NAME.flow.yaml and NAME/schemas/.")
  Path out;

  @Mixin SchemaRegistryOption schemaRegistry;

  @Option(names = "--name", paramLabel = "NAME", description = "The flow's name (further flows get -2, -3, …). Default: from the entry event.")
  String name;

  @Option(names = "--entry", paramLabel = "SELECTOR",
      description = "Where instances start: topic:NAME or span:SERVICE[:SPAN NAME]. Default: learned (the event whose identifiers are new).")
  String entry;

  @Parameters(index = "0", paramLabel = "RECORDING", description = "Recording directory (or a single file).")
  Path recording;

  @Mixin
  InputReporting input = new InputReporting();

  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter err = spec.commandLine().getErr();
    PrintWriter stdout = spec.commandLine().getOut();
    if (!Files.exists(recording)) {
      err.println("flowtrace: recording " + recording + " does not exist");
      return FlowTraceCli.EXIT_USAGE;
    }
    Inference.Builder b = Inference.builder();
    if (!schemaRegistry.valid(err)) {
      return FlowTraceCli.EXIT_USAGE;
    }
    if (schemaRegistry.client() != null) {
      b.schemaRegistry(schemaRegistry.client());
    }
    try {
      if (name != null) {
        b.name(name);
      }
      if (entry != null) {
        b.entry(entry);
      }
    } catch (IllegalArgumentException e) {
      err.println("flowtrace: " + e.getMessage());
      return FlowTraceCli.EXIT_USAGE;
    }
    ProgressLine progress = input.progressLine();
    b.problems(input.problems(err)).progress(progress);
    long t0 = System.nanoTime();
    Inference.Result result;
    try {
      result = b.build().infer(recording);
    } finally {
      progress.done();
    }
    if (!result.entriesInstead().isEmpty()) {
      List<String> some = result.entriesInstead();
      err.printf("flowtrace: --entry %s matches no event in %s; its topics and server spans: %s%n", entry, recording,
          String.join(", ", some.subList(0, Math.min(12, some.size())))
              + (some.size() > 12 ? " and " + (some.size() - 12) + " more" : ""));
      return FlowTraceCli.EXIT_USAGE;
    }
    if (result.flows().isEmpty()) {
      err.printf("flowtrace: found no flow in %s (%s, %s, %s): a flow needs at least %s of two or more events%n",
          recording, Plural.count(result.spans(), "span"), Plural.count(result.records(), "record"),
          Plural.count(result.instances(), "instance"), Plural.count(Inference.MIN_INSTANCES, "instance"));
      return FlowTraceCli.EXIT_VIOLATIONS;
    }
    List<Path> written = result.write(out);
    List<SpecProblem> lint = new ArrayList<>();
    new FlowSpecLoader(schemaRegistry.client()).loadAll(out, lint);
    for (Path p : written) {
      stdout.println("wrote " + p);
    }
    result.summary().forEach(s -> stdout.println("  " + s));
    stdout.printf("read %s, %s (%s skipped); %s, %d of kinds too rare to draft; %.1f s%n",
        Plural.count(result.spans(), "span"), Plural.count(result.records(), "record"),
        Plural.count(result.problems(), "problem"), Plural.count(result.instances(), "instance"), result.skipped(),
        (System.nanoTime() - t0) / 1e9);
    if (!lint.isEmpty()) {
      lint.forEach(p -> err.println(p));
      err.println("flowtrace: the draft does not lint clean (" + Plural.count(lint.size(), "problem") + "): please report this");
      return FlowTraceCli.EXIT_VIOLATIONS;
    }
    stdout.println("lint: ok.");
    ReportSummary own = selfCheck(out, stdout);
    stdout.println("Next: flowtrace replay --flows " + out
        + (schemaRegistry.url == null ? "" : " --schema-registry " + schemaRegistry.url.strip()) + " " + recording);
    if (result.registryUnavailable() > 0) {
      // asked to read Avro through a registry that did not answer: the draft lacks what those payloads hold
      err.printf("flowtrace: exit %d: the schema registry did not answer for %s (above): the draft leaves their"
          + " fields unread%n", FlowTraceCli.EXIT_USAGE, Plural.count(result.registryUnavailable(), "payload"));
      return FlowTraceCli.EXIT_USAGE;
    }
    if (result.problems() > 0) {
      // as replay: not a green run, what could not be read is not in the draft
      err.printf("flowtrace: exit %d: the input had %s (above); the draft rests on what could be read%n",
          FlowTraceCli.EXIT_USAGE, Plural.count(result.problems(), "problem"));
      return FlowTraceCli.EXIT_USAGE;
    }
    if (own.failed() > 0) {
      // a draft that fails what it was drafted from is not one to take as it is
      err.printf("flowtrace: exit %d: the draft fails %,d of the %s it was drafted from (above): review each item"
          + " before you rely on it%n", FlowTraceCli.EXIT_VIOLATIONS, own.failed(), Plural.grouped(own.flows(), "flow"));
      return FlowTraceCli.EXIT_VIOLATIONS;
    }
    return FlowTraceCli.EXIT_PASSED;
  }

  /**
   * Replays the recording against the draft and says how its own traffic fares: a draft must pass
   * what it was drafted from, but for a defect in the traffic or an item that held by coincidence.
   * Where it does not, the items that failed are named with their counts, most first, to review.
   */
  private ReportSummary selfCheck(Path drafts, PrintWriter stdout) throws Exception {
    List<FlowSpec> flows = new FlowSpecLoader(schemaRegistry.client()).load(drafts);
    ReportSummary summary = new ReportSummary();
    Map<String, Long> items = new HashMap<>();
    VerdictListener byItem = new VerdictListener() {
      @Override
      public void finalized(Verdict verdict) {
        verdict.violations().stream()
            .map(v -> verdict.flow() + ": " + v.kind() + " at " + v.stage() + (v.event() == null ? "" : " (" + v.event() + ")"))
            .distinct()
            .forEach(item -> items.merge(item, 1L, Long::sum));
      }
    };
    FlowEngine engine = FlowEngine.builder(flows).listener(VerdictListener.composite(summary, byItem))
        .amendUntilEnd().inputMayBeginMidFlow().build();
    ProgressLine progress = input.progressLine();
    try { // its input problems were said while drafting
      Replay.builder(engine).progress(progress).build().run(recording);
    } finally {
      progress.done();
    }
    stdout.printf("replayed against the draft: %s: %,d passed, %,d failed, %,d incomplete%n",
        Plural.count(summary.flows(), "flow"), summary.passed(), summary.failed(), summary.incomplete());
    if (items.isEmpty()) {
      return summary;
    }
    List<Map.Entry<String, Long>> most = items.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
        .toList();
    stdout.println("  review what failed (a defect in the traffic, or an item that does not hold; replay shows each):");
    most.stream().limit(MAX_ITEMS_SHOWN).forEach(e -> stdout.printf("  %,8d × %s%n", e.getValue(), e.getKey()));
    if (most.size() > MAX_ITEMS_SHOWN) {
      stdout.printf("  and %s more%n", Plural.count(most.size() - MAX_ITEMS_SHOWN, "item"));
    }
    return summary;
  }

  private static final int MAX_ITEMS_SHOWN = 10;
}
