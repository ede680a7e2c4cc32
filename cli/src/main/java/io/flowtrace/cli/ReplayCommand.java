package io.flowtrace.cli;

import io.flowtrace.tracer.files.CannotWriteException;
import io.flowtrace.tracer.files.OutputFile;
import io.flowtrace.tracer.recording.ReadListener;
import io.flowtrace.verifier.assembly.FlowEngine;
import io.flowtrace.verifier.report.ConsoleReport;
import io.flowtrace.verifier.report.JUnitXmlWriter;
import io.flowtrace.verifier.report.JsonReportWriter;
import io.flowtrace.verifier.report.ReportSummary;
import io.flowtrace.verifier.report.VerdictListener;
import io.flowtrace.verifier.report.html.HtmlReportWriter;
import io.flowtrace.verifier.replay.Replay;
import io.flowtrace.verifier.replay.ReplayResult;
import io.flowtrace.verifier.schema.SchemaRegistryClient;
import io.flowtrace.verifier.spec.EventSpec;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecException;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import io.flowtrace.verifier.spec.SpanCompleteness;
import io.flowtrace.verifier.spec.StageSpec;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code flowtrace replay}: verifies a recorded directory of spans and Kafka records. */
@Command(name = "replay",
    header = "Verifies a recording against flow specs.",
    mixinStandardHelpOptions = true,
    description = {"Verifies a recording (*.otlp.jsonl, *.otlp.pb, *.kcat.jsonl files, each optionally .gz) against flow specs.",
        "Exit code: 0 all passed (or incomplete within deadline), 1 violations, 2 bad usage or unreadable input,",
        "3 could not finish (out of memory)."})
final class ReplayCommand implements Callable<Integer> {

  enum Format { text, json }

  @Mixin
  VerificationThreads verificationThreads = new VerificationThreads();

  @Option(names = "--flows", required = true, paramLabel = "DIR", description = "Directory of flow specs (*.flow.yaml).")
  Path flowsDir;

  @Option(names = "--format", defaultValue = "text", description = "Report on stdout: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).")
  Format format;

  @Option(names = "--junit", paramLabel = "FILE", description = "Also write JUnit XML, one test case per instance.")
  Path junit;

  @Option(names = "--html", paramLabel = "FILE",
      description = "Also write a self-contained HTML report: summary, every instance, a sequence diagram per instance.")
  Path html;

  @Option(names = "--output", paramLabel = "FILE", description = "Write the report to FILE instead of stdout.")
  Path output;

  @Option(names = "--verbose", description = "List passed instances too (text format).")
  boolean verbose;

  @Mixin
  InputReporting input = new InputReporting();

  @Option(names = "--buffer-events", defaultValue = "" + Replay.DEFAULT_MAX_BUFFERED_EVENTS, paramLabel = "N",
      description = "Most events held in memory before a sorted run spills to disk (default ${DEFAULT-VALUE}); "
          + "a run also spills once the events held take an estimated 128 MiB (or a quarter of the heap, if less).")
  int bufferEvents;

  @Option(names = "--amend-window", defaultValue = "end", paramLabel = "end|DURATION",
      description = "How long a verdict stays open to late events: 'end' (default: until the recording ends, so a late "
          + "event amends its instance however late it is) or a duration, as the sidecar's window.")
  String amendWindow;

  @Option(names = "--spans", paramLabel = "complete|may-be-missing",
      description = "Overrides every flow's 'spans' setting: may-be-missing when spans of sampled traces can be lost "
          + "(tail sampling, lossy pipelines); missing spans are then not verified instead of failing.")
  String spans;

  @Mixin SchemaRegistryOption schemaRegistry;

  @Parameters(index = "0", paramLabel = "RECORDING", description = "Recording directory (or a single file).")
  Path recording;

  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    PrintWriter err = spec.commandLine().getErr();
    if (!Files.exists(recording)) {
      err.println("flowtrace: recording " + recording + " does not exist");
      return FlowTraceCli.EXIT_USAGE;
    }
    if (!schemaRegistry.valid(err)) {
      return FlowTraceCli.EXIT_USAGE;
    }
    SchemaRegistryClient registry = schemaRegistry.client();
    List<FlowSpec> flows;
    try {
      flows = new FlowSpecLoader(registry).load(flowsDir);
    } catch (FlowSpecException e) {
      err.println("flowtrace: the flow specs in " + flowsDir + " have problems:");
      e.problems().forEach(p -> err.println("  " + p));
      return FlowTraceCli.EXIT_USAGE;
    }
    Duration amend = null;
    if (!"end".equalsIgnoreCase(amendWindow.strip())) {
      try {
        amend = FlowSpecLoader.parseDuration(amendWindow);
      } catch (IllegalArgumentException e) {
        err.println("flowtrace: --amend-window: " + e.getMessage() + " (or 'end')");
        return FlowTraceCli.EXIT_USAGE;
      }
    }
    SpanCompleteness spanCompleteness = null;
    if (spans != null) {
      spanCompleteness = SpanCompleteness.parse(spans);
      if (spanCompleteness == null) {
        err.println("flowtrace: --spans must be complete or may-be-missing, not '" + spans + "'");
        return FlowTraceCli.EXIT_USAGE;
      }
    }

    // Both reports appear whole when the run ends, readable as any new file (OutputFile); a path
    // that cannot be written is said now, with why, before the recording is read.
    OutputFile outputFile;
    JUnitXmlWriter junitWriter;
    try {
      outputFile = output == null ? null : OutputFile.create(output);
    } catch (CannotWriteException e) {
      return cannotWrite(err, "--output report", e);
    }
    try {
      junitWriter = junit == null ? null : new JUnitXmlWriter(junit);
    } catch (CannotWriteException e) {
      if (outputFile != null) {
        outputFile.close();
      }
      return cannotWrite(err, "--junit report", e);
    }
    HtmlReportWriter htmlWriter;
    try {
      htmlWriter = html == null ? null : new HtmlReportWriter(html, flows)
          .title("flowtrace replay of " + recording.toAbsolutePath().normalize().getFileName());
    } catch (CannotWriteException e) {
      if (junitWriter != null) {
        junitWriter.abandon();
      }
      if (outputFile != null) {
        outputFile.close();
      }
      return cannotWrite(err, "--html report", e);
    }
    OutputStream rawOut = outputFile == null ? System.out : outputFile.stream();
    PrintStream out = output == null ? System.out : new PrintStream(rawOut, true, java.nio.charset.StandardCharsets.UTF_8);
    ReportSummary summary = new ReportSummary();
    List<VerdictListener> listeners = new ArrayList<>();
    listeners.add(summary);
    long[] lateCount = {0};
    io.flowtrace.verifier.report.LateEvent[] firstLate = {null};
    long[] spanless = {0};
    listeners.add(new VerdictListener() {
      @Override
      public void late(io.flowtrace.verifier.report.LateEvent e) {
        if (lateCount[0]++ == 0) {
          firstLate[0] = e;
        }
      }

      @Override
      public void finalized(io.flowtrace.verifier.report.Verdict v) {
        if (v.status() == io.flowtrace.verifier.report.VerdictStatus.FAILED && sampledButSpanless(v)) {
          spanless[0]++;
        }
      }
    });
    ConsoleReport console = null;
    JsonReportWriter json = null;
    if (format == Format.json) {
      json = new JsonReportWriter(rawOut);
      listeners.add(json);
    } else {
      console = new ConsoleReport(out, verbose);
      listeners.add(console);
    }
    if (junitWriter != null) {
      listeners.add(junitWriter);
    }
    if (htmlWriter != null) {
      listeners.add(htmlWriter);
    }
    FlowEngine.Builder builder = FlowEngine.builder(flows).inputMayBeginMidFlow()
        .verificationThreads(verificationThreads.threads())
        .listener(VerdictListener.composite(listeners.toArray(VerdictListener[]::new)));
    if (amend == null) {
      builder.amendUntilEnd();
    } else {
      builder.amendWindow(amend);
    }
    if (spanCompleteness != null) {
      builder.spans(spanCompleteness);
    }
    FlowEngine engine = builder.build();
    ReadListener problems = input.problems(err);
    ProgressLine progressLine = input.progressLine();
    ReplayResult result;
    boolean ran = false;
    try {
      result = Replay.builder(engine).problems(problems).progress(progressLine)
          .maxBufferedEvents(bufferEvents).build().run(recording);
      ran = true;
    } catch (RuntimeException e) {
      CannotWriteException failure = cannotWriteIn(e);
      if (failure == null) {
        throw e;
      }
      return cannotWrite(err, failure.path().equals(junit) ? "--junit report"
          : failure.path().equals(html) ? "--html report" : "--output report", failure);
    } finally {
      progressLine.done();
      if (!ran) { // a run that failed leaves no half report (nor replaces an earlier one)
        if (junitWriter != null) {
          junitWriter.abandon();
        }
        if (htmlWriter != null) {
          htmlWriter.abandon();
        }
        if (outputFile != null) {
          outputFile.close();
        }
      }
    }
    if (json != null) {
      json.inputProblems(result.readProblems());
      json.close();
    }
    if (console != null) {
      out.println(console.summaryLine());
    }
    out.flush();
    boolean written = true;
    if (junitWriter != null) {
      try {
        junitWriter.close();
      } catch (CannotWriteException e) {
        cannotWrite(err, "--junit report", e);
        written = false;
      }
    }
    if (htmlWriter != null) {
      htmlWriter.inputProblems(result.readProblems());
      try {
        htmlWriter.close();
        err.println("flowtrace: wrote " + html);
      } catch (CannotWriteException e) {
        cannotWrite(err, "--html report", e);
        written = false;
      }
    }
    if (outputFile != null) {
      try {
        outputFile.commit();
      } catch (CannotWriteException e) {
        cannotWrite(err, "--output report", e);
        written = false;
      }
    }
    err.printf("flowtrace: read %s (%s), %s, %s, %s skipped; %s: %d passed, %d failed, %d incomplete%n",
        Plural.count(result.files(), "file"), ProgressLine.bytes(result.bytes()), Plural.count(result.spans(), "span"),
        Plural.count(result.records(), "record"), Plural.count(result.readProblems(), "problem"),
        Plural.count(summary.flows(), "flow"), summary.passed(), summary.failed(), summary.incomplete());
    err.flush();
    long unplaced = result.engine().eventsUnplaced();
    if (unplaced > 0) {
      err.println("flowtrace: " + Plural.count(unplaced, "event") + " of the flows could be placed in no instance"
          + " (no key value to place them by and no trace context, or a trace no instance had): not verified");
      err.flush();
    }
    if (lateCount[0] > 0) {
      io.flowtrace.verifier.report.LateEvent e = firstLate[0];
      String after = e.finalizedEpochNanos() == Long.MIN_VALUE ? ""
          : String.format(java.util.Locale.ROOT, ", %.1f s after its verdict became final",
              (e.eventEpochNanos() - e.finalizedEpochNanos()) / 1e9);
      err.println("flowtrace: " + Plural.count(lateCount[0], "event") + " came after the amendment window (--amend-window "
          + amendWindow.strip() + ") of their instance had closed: in no verdict (the first: " + e.event() + " " + e.where()
          + " of " + e.keys() + after + ")");
      err.flush();
    }
    long unchecked = summary.schemasUnchecked();
    if (unchecked > 0) {
      err.println("flowtrace: " + Plural.count(unchecked, "payload") + " could not be checked: the schema registry"
          + " did not answer for their schema (a verdict names it under not verified); nothing is known wrong with them");
      err.flush();
    }
    silentServices(err, flows, summary, result);
    unmatchedEvents(err, flows, summary, result);
    long reused = result.engine().keyReuses();
    if (reused > 0) {
      err.println("flowtrace: " + Plural.count(reused, "event") + " carried a key value that another instance of other"
          + " traces had (" + result.engine().keyReuseExample() + "): each joined the instance of its own trace. A"
          + " key must name one instance while it runs; a value reused later (a compartment, a table) is better"
          + " left out of keys, its events joined by their traces");
      err.flush();
    }
    // only where a flow reads spans: for flows of records alone the flag changes nothing
    if (result.spans() == 0 && result.records() > 0 && summary.failed() > 0
        && spanCompleteness != SpanCompleteness.MAY_BE_MISSING
        && flows.stream().anyMatch(f -> f.events().stream().anyMatch(e -> !e.isTopic()))) {
      err.println("flowtrace: the recording held no spans at all: if it was made without them (records only), "
          + "replay it with --spans may-be-missing, so that what only spans show is not verified instead of "
          + "failing");
      err.flush();
    }
    if (spanless[0] > 0 && result.spans() > 0 && spanCompleteness != SpanCompleteness.MAY_BE_MISSING) {
      err.println("flowtrace: " + Plural.count(spanless[0], "failed flow") + " had records but not one span of"
          + " their traces, though the records say the traces were sampled, while other flows' spans came: spans"
          + " kept or dropped after the fact (a tail sampler, a collector that dropped them) — if so, replay with"
          + " --spans may-be-missing, so that what only spans show is not verified instead of failing");
      err.flush();
    }
    if (result.readProblems() > 0 && summary.failed() > 0) {
      err.printf("flowtrace: exit %d: the input also had %s (above): only what could be read was verified, and %s"
              + " may have failed only because %s in what could not be read (a verdict whose keys or trace"
              + " an unreadable line names says so in a note)%n",
          FlowTraceCli.EXIT_VIOLATIONS, Plural.count(result.readProblems(), "problem"),
          summary.failed() == 1 ? "the failed flow" : "some of the " + Plural.count(summary.failed(), "failed flow"),
          summary.failed() == 1 ? "its events were" : "their events were");
      err.flush();
    }
    if (summary.failed() > 0) {
      return FlowTraceCli.EXIT_VIOLATIONS;
    }
    if (!written) {
      return FlowTraceCli.EXIT_USAGE;
    }
    if (result.readProblems() > 0) {
      // Not a green run: what could not be read was not verified.
      err.printf("flowtrace: exit %d: the input had %s (above); only what could be read was verified%n",
          FlowTraceCli.EXIT_USAGE, Plural.count(result.readProblems(), "problem"));
      err.flush();
      return FlowTraceCli.EXIT_USAGE;
    }
    if (unchecked > 0) {
      // Not a green run either: the schemas of those payloads were not checked.
      err.printf("flowtrace: exit %d: the schemas of %s were not checked (above)%n", FlowTraceCli.EXIT_USAGE,
          Plural.count(unchecked, "payload"));
      err.flush();
      return FlowTraceCli.EXIT_USAGE;
    }
    return FlowTraceCli.EXIT_PASSED;
  }

  /** Whether every event of the verdict is a record of a sampled trace, with neither its producer's nor a consumer's span. */
  private static boolean sampledButSpanless(io.flowtrace.verifier.report.Verdict v) {
    if (v.timeline().isEmpty()) {
      return false;
    }
    for (io.flowtrace.verifier.report.TimelineEntry t : v.timeline()) {
      io.flowtrace.verifier.report.TimelineEntry.Detail d = t.detail();
      if (d == null || d.topic() == null || d.spanId() != null || !d.consumers().isEmpty() || !d.sampled()) {
        return false;
      }
    }
    return true;
  }

  /**
   * Names each service a flow declares spans of that sent none at all, where flows failed
   * {@code MISSING_STAGE} at stages waiting for them: not a defect of each flow, but a service that
   * is not traced or whose spans did not reach the recording.
   */
  private void silentServices(PrintWriter err, List<FlowSpec> flows, ReportSummary summary, ReplayResult result) {
    if (result.spans() == 0) {
      return; // said below, for the whole recording
    }
    Map<String, Map<String, Long>> silent = new java.util.TreeMap<>();
    eventsOfMissingStages(flows, summary, (f, stage, e, n) -> {
      String service = e.span() == null ? null : e.span().service();
      if (service != null && !result.spanServices().contains(service)) {
        silent.computeIfAbsent(service, k -> new java.util.LinkedHashMap<>()).merge(f.name() + " at " + stage.id(), n,
            Math::max);
      }
    });
    silent.forEach((service, stages) -> {
      List<String> where = new ArrayList<>();
      stages.forEach((stage, n) -> where.add(Plural.count(n, "flow") + " of " + stage));
      err.println("flowtrace: no span of " + service + " was in the recording, and MISSING_STAGE failed "
          + String.join(", ", where) + ", waiting for its spans: is " + service + " traced, and do its spans reach"
          + " where the recording was made? If its spans may be lost, replay with --spans may-be-missing");
    });
    err.flush();
  }

  /**
   * Names each declared event that matched nothing in the whole recording where flows failed {@code
   * MISSING_STAGE} at its stage, though its service's spans (or its topic's records) were there: a
   * matcher that names an attribute, span name or field the traffic spells otherwise (an agent's
   * older {@code http.url} for {@code url.full}), which {@code lint --against} shows.
   */
  private void unmatchedEvents(PrintWriter err, List<FlowSpec> flows, ReportSummary summary, ReplayResult result) {
    if (result.spans() + result.records() == 0) {
      return;
    }
    eventsOfMissingStages(flows, summary, (f, stage, e, n) -> {
      String service = e.span() == null ? null : e.span().service();
      if (result.engine().eventsSeen().contains(f.name() + "|" + e.id())
          || service != null && !result.spanServices().contains(service)) {
        return; // matched, or its service sent nothing (said above)
      }
      err.println("flowtrace: " + e.id() + " (" + e.describeSource() + ") matched nothing in the recording, and"
          + " MISSING_STAGE failed " + Plural.count(n, "flow") + " of " + f.name() + " at " + stage.id()
          + ": `flowtrace lint " + flowsDir + " --against " + recording + "` shows what almost matched it"
          + " (an attribute, span name or field the traffic spells otherwise)");
    });
    err.flush();
  }

  /** An event of a stage at which {@code failed} flows failed {@code MISSING_STAGE}. */
  private interface MissingStageEvent {
    void accept(FlowSpec flow, StageSpec stage, EventSpec event, long failed);
  }

  private static void eventsOfMissingStages(List<FlowSpec> flows, ReportSummary summary, MissingStageEvent each) {
    for (FlowSpec f : flows) {
      Map<String, Long> missing = summary.missingStages(f.name());
      for (StageSpec stage : f.stages()) {
        Long n = missing.get(stage.id());
        if (n != null) {
          stage.events().forEach(e -> each.accept(f, stage, e, n));
        }
      }
    }
  }

  /** Says which output cannot be written, the path as given, and why; returns the exit code. */
  private static int cannotWrite(PrintWriter err, String what, CannotWriteException e) {
    err.println("flowtrace: cannot write " + what + " " + e.path() + ": " + e.reason());
    err.flush();
    return FlowTraceCli.EXIT_USAGE;
  }

  /** The write failure behind a failed run (a report writer's), or {@code null}. */
  private static CannotWriteException cannotWriteIn(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof CannotWriteException c) {
        return c;
      }
    }
    return null;
  }
}
