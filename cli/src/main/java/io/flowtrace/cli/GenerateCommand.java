package io.flowtrace.cli;

import io.flowtrace.cli.synth.Defect;
import io.flowtrace.cli.synth.Manifest;
import io.flowtrace.cli.synth.SyntheticOrderFlows;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code flowtrace generate}: writes a synthetic recording of the reference order flow. */
@Command(name = "generate",
    header = "Writes a synthetic recording of the reference order flow.",
    mixinStandardHelpOptions = true,
    description = {"Writes a synthetic recording of the reference order flow (spans from the OpenTelemetry SDK,",
        "kcat -J messages) with an expected.json manifest. --sample writes the bundled samples.",
        "--sample-ratio and --clock-skew add field conditions: traces sampled out, hosts' clocks off."})
final class GenerateCommand implements Callable<Integer> {

  /** {@code [+|-]NUMBER(ms|s)}, e.g. {@code +40ms}, {@code -0.04s}, {@code 40ms}. */
  private static final Pattern SKEW = Pattern.compile("([+-]?)(\\d+(?:\\.\\d+)?)(ms|s)");

  @Parameters(index = "0", paramLabel = "DIR", description = "Output directory.")
  Path dir;

  @Option(names = "--count", defaultValue = "100", description = "Number of flows (default ${DEFAULT-VALUE}).")
  int count;

  @Option(names = "--seed", defaultValue = "1", description = "Random seed; the same seed writes the same files.")
  long seed;

  @Option(names = "--interval-ms", defaultValue = "50", description = "Time between flow starts (default ${DEFAULT-VALUE} ms).")
  long intervalMs;

  @Option(names = "--defect", paramLabel = "DEFECT=INDEX", description = "Plant a defect on flow INDEX (repeatable). Defects: DROP_ENRICHMENT, WRONG_TOTAL, "
      + "PAYMENT_AMOUNT_MISMATCH, DECLINED_BUT_CONFIRMED, DUPLICATE_WEBHOOK_NON_IDEMPOTENT, DUPLICATE_WEBHOOK_IDEMPOTENT, "
      + "LOST_TRACEPARENT, SLOW_NOTIFICATION, NO_NOTIFICATION, BAD_AVRO_EMAIL, BAD_JSON_SCHEMA, EARLY_ORDER_CREATED, "
      + "TRUNCATED (the last flow only).")
  List<String> defects = List.of();

  @Option(names = "--sample", description = "Write the bundled sample recordings (order-flow, order-flow-clean) under DIR.")
  boolean sample;

  @Option(names = "--sample-ratio", paramLabel = "R", description = {
      "Head sampling: the share of traces whose spans are written, within [0, 1] (default 1: all).",
      "Decided per trace from its trace id, as the Java agent's parentbased_traceidratio sampler does;",
      "records of an unsampled trace are all written, their traceparent with the sampled flag clear (00/02).",
      "Each webhook delivery and each trace a consumer starts samples on its own; flow data does not change."})
  String sampleRatio;

  @Option(names = "--clock-skew", paramLabel = "SERVICE=[+|-]DURATION", description = {
      "Set a service's clock off (repeatable), e.g. inventory-service=+40ms or order-service=-40ms (ms or s,",
      "at most 10 s): its spans' start and end and the timestamp of each record it produces are shifted;",
      "the true order of events and offsets are not. Services: gateway, order-service, inventory-service,",
      "notification-service."})
  List<String> clockSkews = List.of();

  @Option(names = "--start", paramLabel = "INSTANT", description = {
      "When the first flow starts: an ISO-8601 instant such as 2026-12-05T10:00:00Z, or 'now'",
      "(default 2026-11-25T09:00:00Z). A recording starting now can be played into a live system."})
  String start;

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
    PrintStream err = System.err;
    var builder = SyntheticOrderFlows.builder().flows(count).seed(seed).interArrival(Duration.ofMillis(intervalMs));
    if (start != null) {
      try {
        builder.start(start.trim().equals("now") ? java.time.Instant.now() : java.time.Instant.parse(start.trim()));
      } catch (java.time.format.DateTimeParseException e) {
        err.println("flowtrace: --start: '" + start + "' is not an ISO-8601 instant such as 2026-12-05T10:00:00Z,"
            + " nor 'now'");
        return FlowTraceCli.EXIT_USAGE;
      }
    }
    if (sampleRatio != null) {
      double ratio;
      try {
        ratio = Double.parseDouble(sampleRatio.trim());
      } catch (NumberFormatException e) {
        ratio = Double.NaN;
      }
      if (!(ratio >= 0 && ratio <= 1)) {
        err.println("flowtrace: --sample-ratio: '" + sampleRatio + "' is not a number within [0, 1], such as 0.25");
        return FlowTraceCli.EXIT_USAGE;
      }
      builder.sampleRatio(ratio);
    }
    Set<String> skewed = new HashSet<>();
    for (String skew : clockSkews) {
      String[] parts = skew.split("=", 2);
      Matcher m = parts.length == 2 ? SKEW.matcher(parts[1].trim()) : null;
      if (m == null || !m.matches()) {
        err.println("flowtrace: --clock-skew: '" + skew + "' is not SERVICE=[+|-]DURATION in ms or s,"
            + " such as inventory-service=+40ms");
        return FlowTraceCli.EXIT_USAGE;
      }
      String service = parts[0].trim();
      if (!skewed.add(service)) {
        err.println("flowtrace: --clock-skew: " + service + " is given twice; one offset per service");
        return FlowTraceCli.EXIT_USAGE;
      }
      double amount = Double.parseDouble(m.group(2)) * (m.group(1).equals("-") ? -1 : 1);
      Duration offset = Duration.ofNanos(Math.round(amount * (m.group(3).equals("ms") ? 1e6 : 1e9)));
      try {
        builder.clockSkew(service, offset);
      } catch (IllegalArgumentException e) {
        err.println("flowtrace: --clock-skew: '" + skew + "': " + e.getMessage());
        return FlowTraceCli.EXIT_USAGE;
      }
    }
    for (String d : defects) {
      String[] parts = d.split("=", 2);
      if (parts.length != 2) {
        System.err.println("flowtrace: --defect wants DEFECT=INDEX, got " + d);
        return FlowTraceCli.EXIT_USAGE;
      }
      Defect defect;
      int index;
      try {
        defect = Defect.valueOf(parts[0]);
        index = Integer.parseInt(parts[1]);
      } catch (IllegalArgumentException e) {
        System.err.println("flowtrace: --defect " + d + ": wants DEFECT=INDEX with DEFECT one of "
            + java.util.Arrays.toString(Defect.values()) + " and INDEX a flow number");
        return FlowTraceCli.EXIT_USAGE;
      }
      builder.plant(defect, index);
    }
    Manifest m = builder.build().write(dir);
    System.out.print("wrote " + Plural.count(m.flows().size(), "flow") + " to " + dir);
    if (m.sampleRatio() < 1) {
      long sampled = m.flows().stream().filter(Manifest.Flow::mainSampled).count();
      System.out.print(" (sample ratio " + m.sampleRatio() + ": " + sampled + (sampled == 1 ? " order's" : " orders'")
          + " traces sampled)");
    }
    System.out.println();
    return 0;
  }
}
