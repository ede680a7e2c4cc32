package io.flowtrace.cli.synth;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeterminismTest {

  private static SyntheticOrderFlows.Builder generator() {
    return SyntheticOrderFlows.builder()
        .seed(99)
        .flows(60)
        .interArrival(Duration.ofMillis(20))
        .plant(Defect.WRONG_TOTAL, 4)
        .plant(Defect.DUPLICATE_WEBHOOK_NON_IDEMPOTENT, 7)
        .plant(Defect.LOST_TRACEPARENT, 9)
        .plant(Defect.BAD_AVRO_EMAIL, 11)
        .plant(Defect.TRUNCATED, 59);
  }

  @Test
  void theSameSeedWritesByteIdenticalFiles(@TempDir Path first, @TempDir Path second) throws IOException {
    Manifest a = generator().build().write(first);
    Manifest b = generator().build().write(second);
    assertThat(a).isEqualTo(b);
    List<String> files = names(first);
    assertThat(files).isEqualTo(names(second)).hasSize(6);
    for (String file : files) {
      assertThat(first.resolve(file)).as(file).hasSameBinaryContentAs(second.resolve(file));
    }
  }

  @Test
  void anotherSeedWritesOtherFlows(@TempDir Path first, @TempDir Path second) throws IOException {
    Manifest a = generator().build().write(first);
    Manifest b = generator().seed(100).build().write(second);
    assertThat(a.flows().get(0).requestId()).isNotEqualTo(b.flows().get(0).requestId());
    assertThat(Files.readString(first.resolve("messages.kcat.jsonl")))
        .isNotEqualTo(Files.readString(second.resolve("messages.kcat.jsonl")));
  }

  @Test
  void regeneratingIntoTheSameDirectoryReplacesItsFiles(@TempDir Path dir) throws IOException {
    SyntheticOrderFlows.builder().seed(98).flows(80).plant(Defect.SLOW_NOTIFICATION, 20).build().write(dir);
    Manifest again = generator().build().write(dir);
    assertThat(names(dir)).hasSize(6);
    assertThat(LoadedRecording.read(dir).records).hasSize((int) again.records());
  }

  @Test
  void aFlowsDataDependsOnlyOnTheSeedAndItsIndex(@TempDir Path few, @TempDir Path many) throws IOException {
    Manifest a = SyntheticOrderFlows.builder().seed(5).flows(10).build().write(few);
    Manifest b = SyntheticOrderFlows.builder().seed(5).flows(50).plant(Defect.WRONG_TOTAL, 30).build().write(many);
    assertThat(b.flows().subList(0, 10)).extracting(Manifest.Flow::orderId)
        .containsExactlyElementsOf(a.flows().stream().map(Manifest.Flow::orderId).toList());
  }

  private static List<String> names(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }
}
