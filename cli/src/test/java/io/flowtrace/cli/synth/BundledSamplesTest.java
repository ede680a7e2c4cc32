package io.flowtrace.cli.synth;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The samples committed under {@code samples/} are what the generator writes today; when this
 * fails, regenerate them with {@code SyntheticOrderFlows.main} (see samples/order-flow/README.md).
 */
class BundledSamplesTest {

  private static final Path SAMPLES = Path.of("..", "samples");

  @Test
  void orderFlowSampleIsUpToDate(@TempDir Path regenerated) throws IOException {
    assertUpToDate(SyntheticOrderFlows.SAMPLE_DIR, regenerated);
  }

  @Test
  void cleanSampleIsUpToDate(@TempDir Path regenerated) throws IOException {
    assertUpToDate(SyntheticOrderFlows.CLEAN_SAMPLE_DIR, regenerated);
  }

  @Test
  void readmeListsEveryPlantedDefectByItsKeys() throws IOException {
    Path dir = SAMPLES.resolve(SyntheticOrderFlows.SAMPLE_DIR);
    Manifest manifest = Manifest.read(dir);
    String readme = Files.readString(dir.resolve("README.md"));
    for (Manifest.Flow flow : manifest.flows()) {
      if (flow.defect() != null) {
        assertThat(readme).contains("| " + flow.index() + " | `" + flow.defect() + "` | `" + flow.requestId()
            + "` | `" + flow.orderId() + "` |");
      }
    }
  }

  private static void assertUpToDate(String name, Path regenerated) throws IOException {
    Path committed = SAMPLES.resolve(name);
    assertThat(committed).as("committed sample " + committed.toAbsolutePath()).isDirectory();
    SyntheticOrderFlows.main(new String[] {regenerated.toString()});
    Path fresh = regenerated.resolve(name);
    List<String> files = names(fresh);
    assertThat(names(committed)).isEqualTo(files);
    for (String file : files) {
      assertThat(committed.resolve(file))
          .as("samples/%s/%s is stale: regenerate with SyntheticOrderFlows.main", name, file)
          .hasSameTextualContentAs(fresh.resolve(file));
    }
  }

  private static List<String> names(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }
}
