package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.cli.synth.SyntheticOrderFlows;
import io.flowtrace.verifier.infer.Inference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A draft is a function of the traffic, not of the order its lines were recorded in: records at
 * one millisecond, equal spans and the clock corrections were taken in reading order, and a
 * recording's Kafka lines shuffled drafted another order of stages, other rules and budgets.
 */
class InferLineOrderTest {

  @TempDir Path work;

  @Test
  void theSameTrafficInAnotherLineOrderDraftsTheSameSpec() throws Exception {
    Path recording = work.resolve("orders");
    SyntheticOrderFlows.correct(200).seed(3).declineRate(0.1).clockSkew("inventory-service", Duration.ofMillis(40))
        .clockSkew("notification-service", Duration.ofMillis(-35)).sampleRatio(0.6).build().write(recording);
    assertThat(draft(shuffled(recording), "b")).isEqualTo(draft(recording, "a"));
  }

  /** Records of one topic at one millisecond (a retry and its answer) are the case reading order decided. */
  @Test
  void recordsAtOneMillisecondDraftTheSameSpecInEitherOrder() throws Exception {
    Random random = new Random(4);
    KcatLines kcat = new KcatLines(random);
    for (int i = 0; i < 300; i++) {
      String id = "T-" + i;
      String trace = kcat.trace();
      long t = 1_796_893_200_000L + i * 500L;
      java.util.Map<String, Object> p = new java.util.LinkedHashMap<>();
      p.put("taskId", id);
      p.put("size", 1 + random.nextInt(9));
      kcat.record("tasks.created", t, trace, id, p);
      boolean retried = i % 3 == 0;
      java.util.Map<String, Object> a = new java.util.LinkedHashMap<>(p);
      a.put("state", retried ? "RETRY" : "DONE");
      a.put("worker", "w" + random.nextInt(4));
      kcat.record("tasks.attempted", t + 30, trace, id, a);
      if (retried) {
        java.util.Map<String, Object> b = new java.util.LinkedHashMap<>(p);
        b.put("state", "DONE");
        b.put("worker", "w" + random.nextInt(4));
        b.put("attempt", 2);
        kcat.record("tasks.attempted", t + 30, trace, id, b);
      }
      kcat.record(retried ? "tasks.flagged" : "tasks.finished", t + 60, trace, id, p);
    }
    Path recording = kcat.write(work.resolve("tasks"));

    assertThat(draft(shuffled(recording), "d")).isEqualTo(draft(recording, "c"));
  }

  private Path shuffled(Path recording) throws Exception {
    Path shuffled = Files.createDirectories(work.resolve(recording.getFileName() + "-shuffled"));
    Random random = new Random(8);
    try (Stream<Path> files = Files.list(recording)) {
      for (Path f : files.sorted().toList()) {
        List<String> lines = new ArrayList<>(Files.readAllLines(f));
        Collections.shuffle(lines, random);
        Files.write(shuffled.resolve(f.getFileName()), lines);
      }
    }
    return shuffled;
  }

  private String draft(Path recording, String out) throws Exception {
    Path drafts = work.resolve(out);
    Inference.builder().name("orders").build().infer(recording).write(drafts);
    StringBuilder all = new StringBuilder();
    try (Stream<Path> files = Files.walk(drafts)) {
      for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
        List<String> lines = Files.readAllLines(f);
        all.append(drafts.relativize(f)).append('\n');
        // the first line names the recording drafted from
        lines.stream().skip(f.toString().endsWith(".flow.yaml") ? 1 : 0).forEach(l -> all.append(l).append('\n'));
      }
    }
    return all.toString();
  }
}
