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

  @Test
  void everyCommandsDescriptionIsWrappedAsParagraphsNotAsItsSourceLines() {
    for (String command : List.of("replay", "infer", "docs", "lint", "generate", "bench", "bench-sidecar", "sidecar",
        "record")) {
      String help = CliRun.of(command, "--help").stdout();
      List<String> text = help.lines().skip(1)
          .filter(l -> !l.isEmpty() && !Character.isWhitespace(l.charAt(0)) && !l.startsWith("Usage:")).toList();
      for (int i = 0; i + 1 < text.size(); i++) {
        String line = text.get(i);
        String nextWord = text.get(i + 1).split(" ")[0];
        boolean endsSentence = line.matches(".*[.:]\\)?$");
        assertThat(endsSentence || line.length() + 1 + nextWord.length() > 79)
            .as("%s --help: '%s' breaks before '%s' though it fits%n%s", command, line, nextWord, help).isTrue();
      }
    }
  }
}
