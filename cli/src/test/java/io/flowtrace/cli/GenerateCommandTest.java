package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.cli.synth.Manifest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerateCommandTest {

  @TempDir Path dir;

  @Test
  void sampleRatioAndClockSkewsReachTheRecordingAndItsManifest() throws IOException {
    String[] out = new String[1];
    int exit = runOut(out, "generate", dir.toString(), "--count", "40", "--seed", "3", "--sample-ratio", "0.3",
        "--clock-skew", "inventory-service=+40ms", "--clock-skew", "order-service=-0.04s");
    assertThat(exit).isEqualTo(FlowTraceCli.EXIT_PASSED);
    Manifest manifest = Manifest.read(dir);
    assertThat(manifest.sampleRatio()).isEqualTo(0.3);
    assertThat(manifest.clockSkews()).isEqualTo(Map.of(
        "inventory-service", Duration.ofMillis(40), "order-service", Duration.ofMillis(-40)));
    long sampled = manifest.flows().stream().filter(Manifest.Flow::mainSampled).count();
    assertThat(out[0]).isEqualTo("wrote 40 flows to " + dir + " (sample ratio 0.3: " + sampled
        + " orders' traces sampled)" + System.lineSeparator());
  }

  @Test
  void aBadSampleRatioOrClockSkewIsABadUsageNamingTheOptionAndTheValue() {
    String[] err = new String[1];
    assertThat(run(err, "generate", dir.toString(), "--sample-ratio", "1.5")).isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(err[0]).isEqualTo("flowtrace: --sample-ratio: '1.5' is not a number within [0, 1], such as 0.25"
        + System.lineSeparator());
    assertThat(run(err, "generate", dir.toString(), "--sample-ratio", "most")).isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(err[0]).contains("flowtrace: --sample-ratio: 'most' is not a number within [0, 1]");
    assertThat(run(err, "generate", dir.toString(), "--clock-skew", "inventory-service=40")).isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(err[0]).contains("flowtrace: --clock-skew: 'inventory-service=40' is not SERVICE=[+|-]DURATION in ms"
        + " or s, such as inventory-service=+40ms");
    assertThat(run(err, "generate", dir.toString(), "--clock-skew", "+40ms")).isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(err[0]).contains("flowtrace: --clock-skew: '+40ms' is not SERVICE=[+|-]DURATION");
    assertThat(run(err, "generate", dir.toString(), "--clock-skew", "payments=+40ms")).isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(err[0]).contains("flowtrace: --clock-skew: 'payments=+40ms': unknown service 'payments'; known: gateway,"
        + " order-service, inventory-service, notification-service");
    assertThat(run(err, "generate", dir.toString(), "--clock-skew", "gateway=+12s")).isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(err[0]).contains("flowtrace: --clock-skew: 'gateway=+12s': clock skew of gateway must be within 10 s"
        + " either way: PT12S");
    assertThat(run(err, "generate", dir.toString(), "--clock-skew", "gateway=+1ms", "--clock-skew", "gateway=-1ms"))
        .isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(err[0]).contains("flowtrace: --clock-skew: gateway is given twice; one offset per service");
  }

  @Test
  void theRecordingStartsWhenToldAndABadStartIsABadUsage() throws IOException {
    String[] out = new String[1];
    assertThat(runOut(out, "generate", dir.toString(), "--count", "5", "--start", "2031-02-03T04:05:06Z"))
        .isEqualTo(FlowTraceCli.EXIT_PASSED);
    Manifest manifest = Manifest.read(dir);
    assertThat(manifest.recordingStart()).isEqualTo(java.time.Instant.parse("2031-02-03T04:05:06Z"));
    assertThat(manifest.flows().get(0).start()).isAfterOrEqualTo(java.time.Instant.parse("2031-02-03T04:05:06Z"))
        .isBefore(java.time.Instant.parse("2031-02-03T04:05:07Z"));
    long startMillis = java.time.Instant.parse("2031-02-03T04:05:06Z").toEpochMilli();
    assertThat(java.nio.file.Files.readAllLines(dir.resolve("messages.kcat.jsonl"))).allSatisfy(line -> {
      java.util.regex.Matcher ts = java.util.regex.Pattern.compile("\"ts\":(\\d+)").matcher(line);
      assertThat(ts.find()).as(line).isTrue();
      assertThat(Long.parseLong(ts.group(1))).isBetween(startMillis, startMillis + 60_000);
    });

    java.time.Instant before = java.time.Instant.now();
    assertThat(runOut(out, "generate", dir.resolve("now").toString(), "--count", "2", "--start", "now"))
        .isEqualTo(FlowTraceCli.EXIT_PASSED);
    assertThat(Manifest.read(dir.resolve("now")).recordingStart()).isBetween(before, java.time.Instant.now());

    String[] err = new String[1];
    assertThat(run(err, "generate", dir.resolve("bad").toString(), "--start", "yesterday"))
        .isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(err[0]).isEqualTo("flowtrace: --start: 'yesterday' is not an ISO-8601 instant such as"
        + " 2026-12-05T10:00:00Z, nor 'now'" + System.lineSeparator());
  }

  @Test
  void anUnknownDefectIsABadUsageListingTheDefectsThereAre() {
    String[] err = new String[1];
    assertThat(run(err, "generate", dir.toString(), "--defect", "BOGUS=3")).isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(err[0]).startsWith("flowtrace: --defect BOGUS=3: wants DEFECT=INDEX with DEFECT one of [DROP_ENRICHMENT,")
        .contains("LOST_TRACEPARENT", "TRUNCATED]").doesNotContain("Exception", "io.flowtrace");
    assertThat(run(err, "generate", dir.toString(), "--defect", "WRONG_TOTAL=third")).isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(err[0]).contains("--defect WRONG_TOTAL=third: wants DEFECT=INDEX");
    String[] out = new String[1];
    runOut(out, "generate", "--help");
    assertThat(out[0]).contains("DUPLICATE_WEBHOOK_NON_IDEMPOTENT", "EARLY_ORDER_CREATED");
  }

  @Test
  void usageSaysWhatSampleRatioAndClockSkewDo() {
    String[] out = new String[1];
    assertThat(runOut(out, "generate", "--help")).isEqualTo(FlowTraceCli.EXIT_PASSED);
    assertThat(out[0]).contains("--sample-ratio=R", "Head sampling", "parentbased_traceidratio",
        "--clock-skew=SERVICE=[+|-]DURATION", "inventory-service=+40ms", "order-service=-40ms");
  }

  private static synchronized int run(String[] err, String... args) {
    PrintStream old = System.err;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try {
      System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
      return FlowTraceCli.run(args);
    } finally {
      System.setErr(old);
      err[0] = bytes.toString(StandardCharsets.UTF_8);
    }
  }

  private static synchronized int runOut(String[] out, String... args) {
    PrintStream old = System.out;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
      return FlowTraceCli.run(args);
    } finally {
      System.setOut(old);
      out[0] = bytes.toString(StandardCharsets.UTF_8);
    }
  }
}
