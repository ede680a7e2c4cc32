package io.flowtrace.cli;

import io.flowtrace.cli.synth.Defect;
import io.flowtrace.cli.synth.Manifest;
import io.flowtrace.cli.synth.SyntheticOrderFlows;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code flowtrace generate}: writes a synthetic recording of the reference order flow. */
@Command(name = "generate", mixinStandardHelpOptions = true,
    description = {"Writes a synthetic recording of the reference order flow (spans from the OpenTelemetry SDK,",
        "kcat -J messages) with an expected.json manifest. --sample writes the bundled samples."})
final class GenerateCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "DIR", description = "Output directory.")
  Path dir;

  @Option(names = "--count", defaultValue = "100", description = "Number of flows (default ${DEFAULT-VALUE}).")
  int count;

  @Option(names = "--seed", defaultValue = "1", description = "Random seed; the same seed writes the same files.")
  long seed;

  @Option(names = "--interval-ms", defaultValue = "50", description = "Time between flow starts (default ${DEFAULT-VALUE} ms).")
  long intervalMs;

  @Option(names = "--defect", paramLabel = "DEFECT=INDEX", description = "Plant a defect on flow INDEX (repeatable): ${COMPLETION-CANDIDATES}")
  List<String> defects = List.of();

  @Option(names = "--sample", description = "Write the bundled sample recordings (order-flow, order-flow-clean) under DIR.")
  boolean sample;

  @Override
  public Integer call() throws Exception {
    try {
      return generate();
    } catch (java.io.IOException e) {
      io.flowtrace.tracer.files.CannotWriteException c = io.flowtrace.tracer.files.CannotWriteException.of(dir, e);
      System.err.println("flowtrace: cannot write generate output " + c.path() + ": " + c.reason());
      return FlowTraceCli.EXIT_USAGE;
    }
  }

  private int generate() throws java.io.IOException {
    if (sample) {
      SyntheticOrderFlows.sample().write(dir.resolve(SyntheticOrderFlows.SAMPLE_DIR));
      SyntheticOrderFlows.cleanSample().write(dir.resolve(SyntheticOrderFlows.CLEAN_SAMPLE_DIR));
      System.out.println("wrote " + dir.resolve(SyntheticOrderFlows.SAMPLE_DIR) + " and "
          + dir.resolve(SyntheticOrderFlows.CLEAN_SAMPLE_DIR));
      return 0;
    }
    var builder = SyntheticOrderFlows.builder().flows(count).seed(seed).interArrival(Duration.ofMillis(intervalMs));
    for (String d : defects) {
      String[] parts = d.split("=", 2);
      if (parts.length != 2) {
        System.err.println("flowtrace: --defect wants DEFECT=INDEX, got " + d);
        return FlowTraceCli.EXIT_USAGE;
      }
      builder.plant(Defect.valueOf(parts[0]), Integer.parseInt(parts[1]));
    }
    Manifest m = builder.build().write(dir);
    System.out.println("wrote " + m.flows().size() + " flows to " + dir);
    return 0;
  }
}
