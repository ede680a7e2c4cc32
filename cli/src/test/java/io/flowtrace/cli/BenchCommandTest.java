package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.cli.synth.Manifest;
import io.flowtrace.cli.synth.SyntheticOrderFlows;
import io.flowtrace.tracer.recording.RecordingReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchCommandTest {

  private static final String FLOWS = "../flows/order-creation";

  @TempDir Path dir;

  @Test
  void benchOfAnExistingRecordingPrintsRawParseReplayAndBothRatiosForTheFlowsItHolds() throws IOException {
    Manifest manifest = SyntheticOrderFlows.builder().seed(11).flows(200).build().write(dir);

    CliRun run = CliRun.of("bench", "--flows", FLOWS, "--recording", dir.toString(), "--iterations", "1");

    assertThat(run.exit()).as(run.stderr()).isZero();
    assertThat(run.stdout())
        .contains("recording " + dir + ": 5 files (4 OTLP/JSON, 1 kcat)")
        .contains("raw parse (best):", "parse+validate (best):", "replay (best):")
        .contains("replay / raw parse = ", "replay / parse+validate = ")
        .contains("round 1  raw parse")
        .contains("process peak RSS ")
        .containsPattern("goals: replay \\d+\\.\\d\\d× a raw parse by CPU \\(≤ 1\\.5×: (not )?met\\), [\\d,]+ spans/s \\(≥ 150,000: (not )?met\\), peak RSS ")
        .containsPattern("CPU time \\(least of the rounds\\): raw parse \\d+\\.\\d\\d s, replay \\d+\\.\\d\\d s = ")
        .contains(String.format("| %,d flows (", manifest.flows().size()))
        .contains(String.format("records: %,d   spans: %,d", manifest.records(), manifest.spans()))
        .doesNotContain("generated", "unreadable", "not JSON", "warning");
  }

  @Test
  void aRecordingWithJunkLinesStillBenchesAndSaysHowManyWereSkipped() throws IOException {
    Manifest manifest = SyntheticOrderFlows.builder().seed(12).flows(40).build().write(dir);
    Files.writeString(dir.resolve("gateway.otlp.jsonl"), "not json\n{\"resourceSpans\": oops}\n[1, 2\n",
        StandardCharsets.UTF_8, StandardOpenOption.APPEND);

    CliRun run = CliRun.of("bench", "--flows", FLOWS, "--recording", dir.toString(), "--iterations", "1");

    assertThat(run.exit()).as(run.stderr()).isZero();
    assertThat(run.stdout())
        .contains(String.format("| %,d flows (", manifest.flows().size()))
        .contains("3 lines not JSON")
        .contains("3 unreadable lines skipped");
  }

  @Test
  void theGoalsLineSaysOfEachFigureWhetherItMeetsItsGoal() {
    assertThat(BenchCommand.goals(5.61, true, 73_345, 913L << 20)).isEqualTo(
        "goals: replay 5.61× a raw parse by CPU (≤ 1.5×: not met), 73,345 spans/s (≥ 150,000: not met), peak RSS 913.0 MiB (≤ 1.00 GiB: met)");
    assertThat(BenchCommand.goals(1.5, false, 150_000, 0)).isEqualTo(
        "goals: replay 1.50× a raw parse (≤ 1.5×: met), 150,000 spans/s (≥ 150,000: met)");
    assertThat(BenchCommand.goals(1.2, true, 200_000, (1L << 30) + 1)).endsWith("(≤ 1.00 GiB: not met)");
  }

  @Test
  void aMissingRecordingIsABadUsageNamingThePath() {
    Path missing = dir.resolve("no-such-recording");

    CliRun run = CliRun.of("bench", "--flows", FLOWS, "--recording", missing.toString());

    assertThat(run.exit()).isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(run.stderr()).contains("flowtrace: --recording: " + missing + " does not exist")
        .doesNotContain("Exception", "\tat ");
    assertThat(run.stdout()).isEmpty();
  }

  @Test
  void withoutFlowsOutsideTheRepositoryItSaysWhereItLookedForTheDefault() {
    CliRun run = CliRun.of("bench", "--recording", dir.toString());

    assertThat(run.exit()).isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(run.stderr()).contains("flowtrace: --flows: " + Path.of("flows").toAbsolutePath()
        + " is not a directory of flow specs (the default, 'flows', is read from the current directory");
  }

  @Test
  void anEmptyRecordingIsABadUsageNamingThePath() {
    CliRun run = CliRun.of("bench", "--flows", FLOWS, "--recording", dir.toString());

    assertThat(run.exit()).isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(run.stderr()).contains("flowtrace: --recording: " + dir + ": no recording file in the directory")
        .doesNotContain("Exception", "\tat ");
  }

  @Test
  void rawParseParsesJsonHeldInStringsAndPrettyPrintedDocumentsAndCountsWhatIsNotJson() throws IOException {
    Files.writeString(dir.resolve("a.kcat.jsonl"), """
        {"topic":"t","payload":"{\\"id\\":\\"x\\",\\"items\\":[1,2]}","key":"[not json"}
        {"topic":"t","payload":" [\\"{\\\\\\"nested\\\\\\":1}\\"]"}

        junk
        """);
    Files.writeString(dir.resolve("b.otlp.json"), """
        {
          "resourceSpans": [
            {"scopeSpans": []}
          ]
        }
        """);
    Files.write(dir.resolve("c.otlp.pb"), new byte[] {1, 2, 3, '\n', 4});
    RecordingReader reader = RecordingReader.defaults();
    List<Path> files = reader.files(dir);

    RawParse.Counts counts = RawParse.parse(reader, files, 2);

    assertThat(counts).isEqualTo(new RawParse.Counts(3, size(files), 4 + 5, 3, 1));
  }

  @Test
  void rawParseOfOneLargeFileCountsEveryLineOnceWhicheverThreadParsedIt() throws IOException {
    StringBuilder text = new StringBuilder();
    long lines = 0;
    long embedded = 0;
    long junk = 0;
    for (int i = 1; i <= 60_000; i++) {
      lines++;
      if (i % 1_000 == 0) {
        text.append("junk ").append(i).append('\n');
        junk++;
      } else if (i % 3 == 0) {
        text.append("{\"topic\":\"t\",\"offset\":").append(i).append(",\"payload\":\"{\\\"id\\\":").append(i)
            .append("}\"}\n");
        embedded++;
      } else {
        text.append("{\"topic\":\"t\",\"offset\":").append(i).append(",\"payload\":\"plain ").append(i).append("\"}\n");
      }
    }
    Path file = dir.resolve("one.kcat.jsonl");
    Files.writeString(file, text);

    RawParse.Counts counts = RawParse.parse(RecordingReader.defaults(), List.of(file), 2);

    assertThat(counts).isEqualTo(new RawParse.Counts(1, Files.size(file), lines, embedded, junk));
  }

  private static long size(List<Path> files) throws IOException {
    long sum = 0;
    for (Path file : files) {
      sum += Files.size(file);
    }
    return sum;
  }
}
