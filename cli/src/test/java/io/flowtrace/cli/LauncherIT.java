package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/flowtrace}, run as a user runs it, on the jar this build packaged: which JVM options
 * each job gets, that {@code FLOWTRACE_JAVA_OPTS} comes last and wins, and what a heap too small
 * for the job says.
 */
class LauncherIT {
  private static final Path LAUNCHER = Path.of("../bin/flowtrace");
  private static final Pattern FLAG = Pattern.compile("^\\s*\\S+\\s+(\\w+)\\s+=\\s+(\\S+)\\s+\\{[^}]*}\\s+\\{([^}]*)}", Pattern.MULTILINE);

  @TempDir Path dir;
  @TempDir Path cache;

  /** The output of the launcher and its exit code. */
  private record Run(int exit, String out, String err) {
    /** A JVM flag's value and where it came from ({@code command line}, {@code ergonomic}, {@code default}). */
    String flag(String name) {
      Matcher m = FLAG.matcher(out);
      while (m.find()) {
        if (m.group(1).equals(name)) {
          return m.group(2) + " {" + m.group(3) + "}";
        }
      }
      throw new AssertionError("no flag " + name + " in the JVM's flags; stdout:\n" + out + "\nstderr:\n" + err);
    }
  }

  private Run launch(String javaOpts, String... args) throws IOException, InterruptedException {
    return launch(javaOpts, Map.of(), args);
  }

  private Run launch(String javaOpts, Map<String, String> env, String... args) throws IOException, InterruptedException {
    Path out = dir.resolve("out.txt");
    Path err = dir.resolve("err.txt");
    ProcessBuilder pb = new ProcessBuilder(concat(List.of("bash", LAUNCHER.toString()), args))
        .redirectOutput(out.toFile()).redirectError(err.toFile());
    pb.environment().remove("JAVA_TOOL_OPTIONS");
    pb.environment().remove("JDK_JAVA_OPTIONS");
    pb.environment().remove("FLOWTRACE_CDS");
    pb.environment().put("FLOWTRACE_CACHE_DIR", cache.toString());
    if (javaOpts == null) {
      pb.environment().remove("FLOWTRACE_JAVA_OPTS");
    } else {
      pb.environment().put("FLOWTRACE_JAVA_OPTS", javaOpts);
    }
    pb.environment().putAll(env);
    Process p = pb.start();
    assertThat(p.waitFor(3, TimeUnit.MINUTES)).as("the launcher ended").isTrue();
    return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
  }

  private static List<String> concat(List<String> head, String... tail) {
    List<String> all = new ArrayList<>(head);
    all.addAll(List.of(tail));
    return all;
  }

  @Test
  void replayRunsOnTheFirstTierCompilerAndTheThroughputCollectorWithASmallHeapGoalAndNoFixedCeiling() throws Exception {
    Run run = launch("-XX:+PrintFlagsFinal", "replay", "--help");

    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.flag("TieredStopAtLevel")).isEqualTo("1 {command line}");
    assertThat(run.flag("UseParallelGC")).isEqualTo("true {command line}");
    assertThat(run.flag("GCTimeRatio")).isEqualTo("4 {command line}");
    assertThat(run.flag("MaxHeapSize")).doesNotContain("{command line}");
    assertThat(run.out()).contains("Usage: flowtrace replay");
  }

  @Test
  void inferGetsTheSameCollectorLintTheDefaultOneAndLongRunningJobsTheDefaultCompilerToo() throws Exception {
    Run infer = launch("-XX:+PrintFlagsFinal", "infer", "--help");
    Run lint = launch("-XX:+PrintFlagsFinal", "lint", "--help");
    Run sidecar = launch("-XX:+PrintFlagsFinal", "sidecar", "--help");

    assertThat(infer.flag("UseParallelGC")).isEqualTo("true {command line}");
    assertThat(infer.flag("GCTimeRatio")).isEqualTo("4 {command line}");
    assertThat(lint.flag("TieredStopAtLevel")).isEqualTo("1 {command line}");
    assertThat(lint.flag("UseParallelGC")).doesNotContain("{command line}");
    assertThat(sidecar.flag("TieredStopAtLevel")).doesNotContain("{command line}");
    assertThat(sidecar.flag("UseParallelGC")).doesNotContain("{command line}");
    assertThat(sidecar.out()).contains("Usage: flowtrace sidecar");
  }

  @Test
  void optionsFromTheEnvironmentComeLastAndWin() throws Exception {
    Run run = launch("-XX:GCTimeRatio=12 -XX:TieredStopAtLevel=4 -XX:+PrintFlagsFinal", "replay", "--help");

    assertThat(run.flag("GCTimeRatio")).isEqualTo("12 {command line}");
    assertThat(run.flag("TieredStopAtLevel")).isEqualTo("4 {command line}");
  }

  @Test
  void aReplayOfTheSampleGivesItsVerdictsThroughTheLauncher() throws Exception {
    Run run = launch(null, "replay", "--flows", "../flows", "../samples/order-flow");

    assertThat(run.exit()).as(run.err()).isEqualTo(1);
    assertThat(run.err()).containsPattern("40 flows: 28 passed, 11 failed, 1 incomplete");
  }

  @Test
  void theFirstReplayAfterABuildWritesAClassArchiveThatLaterOnesStartFromWithTheSameReport() throws Exception {
    String[] replay = {"replay", "--flows", "../flows", "--format", "json", "../samples/order-flow"};
    Run first = launch(null, replay);
    List<Path> archives;
    try (var files = Files.list(cache)) {
      archives = files.toList();
    }
    Run second = launch(null, replay);
    Run without = launch(null, Map.of("FLOWTRACE_CDS", "off"), replay);
    Run flags = launch("-XX:+PrintFlagsFinal", replay);

    assertThat(archives).singleElement().satisfies(a -> assertThat(a.getFileName().toString()).startsWith("flowtrace-replay-").endsWith(".jsa"));
    assertThat(flags.flag("SharedArchiveFile")).isEqualTo(archives.get(0) + " {command line}");
    assertThat(List.of(first.exit(), second.exit(), without.exit())).containsOnly(1);
    assertThat(first.out()).startsWith("{").isEqualTo(second.out()).isEqualTo(without.out());
    assertThat(first.err()).isEqualTo(second.err()).isEqualTo(without.err());
  }

  @Test
  void helpWritesNoClassArchiveAndNorDoesARunWithTheArchiveTurnedOff() throws Exception {
    launch(null, "lint", "--help");
    launch(null, Map.of("FLOWTRACE_CDS", "off"), "lint", "../flows");

    try (var files = Files.list(cache)) {
      assertThat(files.toList()).isEmpty();
    }
  }

  @Test
  void anArchiveThatIsNotOneIsPassedOverWithoutAWord() throws Exception {
    String[] lint = {"lint", "../flows"};
    Run clean = launch(null, Map.of("FLOWTRACE_CDS", "off"), lint);
    Run archiving = launch(null, lint);
    try (var files = Files.list(cache)) {
      for (Path archive : files.toList()) {
        archive.toFile().setWritable(true);
        Files.write(archive, new byte[64 * 1024]);
      }
    }
    Run damaged = launch(null, lint);

    assertThat(archiving.out()).as("what the JVM says of classes it cannot archive stays off stdout").isEqualTo(clean.out());
    assertThat(damaged.exit()).isEqualTo(clean.exit());
    assertThat(damaged.out()).isEqualTo(clean.out());
    assertThat(damaged.err()).isEqualTo(clean.err());
  }

  @Test
  void aHeapTooSmallForTheJobEndsWithExitThreeAndSaysHowToGiveMore() throws Exception {
    Run run = launch("-Xmx8m", "replay", "--flows", "../flows", "../samples/order-flow");

    assertThat(run.exit()).as(run.err()).isEqualTo(FlowTraceCli.EXIT_FAILED);
    assertThat(run.err()).contains("out of memory", "FLOWTRACE_JAVA_OPTS=-Xmx4g bin/flowtrace")
        .containsPattern("max heap [0-9.]+ MiB");
  }
}
