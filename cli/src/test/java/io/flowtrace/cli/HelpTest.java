package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code flowtrace --help}: what a newcomer reads first. */
class HelpTest {

  @Test
  void everyCommandIsSummedUpInAWholeSentence() {
    CliRun run = CliRun.of("--help");
    String commands = run.stdout().substring(run.stdout().indexOf("Commands:") + "Commands:".length());
    List<String> summaries = new ArrayList<>();
    for (String line : commands.split("\n")) {
      if (line.startsWith("  ") && !line.startsWith("    ")) {
        summaries.add(line.strip());
      } else if (!summaries.isEmpty() && !line.isBlank()) {
        summaries.set(summaries.size() - 1, summaries.get(summaries.size() - 1) + " " + line.strip());
      }
    }

    assertThat(summaries).hasSizeGreaterThanOrEqualTo(9)
        .allSatisfy(s -> assertThat(s).as(run.stdout()).matches("[a-z-]+ +[A-Z].*[.]"));
  }
}
