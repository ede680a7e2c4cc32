package io.flowtrace.junit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The README's JUnit test class is the one the outside project ({@code src/it}) runs, character for
 * character, so what the README promises is what was run.
 */
class ReadmeSnippetTest {

  @Test
  void theReadmesTestClassIsTheOneTheOutsideProjectRuns() throws Exception {
    String readme = Files.readString(Path.of("../README.md"));
    int section = readme.indexOf("## Asserting flows in JUnit 5");
    int start = readme.indexOf("```java\n", section) + "```java\n".length();
    String snippet = readme.substring(start, readme.indexOf("```", start));

    assertThat(Files.readString(Path.of("src/it/outside/src/test/java/OrderFlowTest.java"))).isEqualTo(snippet);
  }
}
