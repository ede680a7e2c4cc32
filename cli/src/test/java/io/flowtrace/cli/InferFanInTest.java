package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import io.flowtrace.verifier.spec.StageSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A return fans out one inspection per item and its refund waits for every inspection. Drafted
 * without {@code fanIn}, a refund issued before the last inspection passed. An inspection the
 * warehouse sends again after the refund (the same item, another date) is no further item, and
 * each item's completion after its own request is a fan-out going on, not a fan-in.
 */
class InferFanInTest {

  private static final long T0 = 1_796_993_200_000L;

  @TempDir Path work;

  @Test
  void aStageThatWaitedForEveryItemIsDraftedFanInAndARefundBeforeAnItemFails() throws Exception {
    KcatLines clean = new KcatLines(new Random(3));
    for (int i = 0; i < 60; i++) {
      giveBack(clean, i, false);
    }
    Path recording = clean.write(work.resolve("clean"));
    Path drafts = work.resolve("drafts");

    Inference.builder().build().infer(recording).write(drafts);

    List<FlowSpec> flows = new FlowSpecLoader().load(drafts);
    String yaml = yaml(drafts);
    assertThat(flows).as(yaml).hasSize(1);
    Map<String, Boolean> fanIn = flows.get(0).stages().stream()
        .collect(Collectors.toMap(s -> s.events().get(0).id(), StageSpec::fanIn));
    assertThat(fanIn).as(yaml).containsEntry("refund_issued", true).containsEntry("inspection_completed", false)
        .containsEntry("inspection_requested", false);
    assertThat(yaml).contains("fanIn: true   # came after every inspection_completed of its instance in ");
    assertThat(Replays.finals(flows, recording)).as(yaml).hasSize(60)
        .allSatisfy(v -> assertThat(v.violations()).as(yaml).isEmpty());

    KcatLines later = new KcatLines(new Random(4));
    giveBack(later, 100, false);
    giveBack(later, 101, true);
    List<Verdict> verdicts = Replays.finals(flows, later.write(work.resolve("later")));
    Map<String, List<String>> found = verdicts.stream().collect(Collectors.toMap(v -> v.keys().get("returnId"),
        v -> v.violations().stream().map(x -> x.kind() + " " + x.event()).toList()));
    assertThat(found).as(yaml).containsEntry("RT-00100", List.of()).containsEntry("RT-00101",
        List.of("ORDER_VIOLATION refund_issued"));
  }

  /**
   * One return: a request, one inspection request and completion per item (2–4), the refund 200 ms
   * after the last, and for every fourth return one completion sent again after the refund. Refunded
   * early: before the last item's completion.
   */
  private static void giveBack(KcatLines kcat, int i, boolean early) {
    String id = String.format(Locale.ROOT, "RT-%05d", i);
    String trace = kcat.trace();
    long t = T0 + i * 5_000L;
    int items = 2 + i % 3;
    kcat.record("returns.requested", t, trace, id, Map.of("returnId", id, "items", items));
    for (int k = 0; k < items; k++) {
      kcat.record("inspection.requested", t + 10 + k, trace, id, Map.of("returnId", id, "itemId", id + "-" + k));
    }
    long last = t + 100 + 300L * (items - 1);
    long refund = early ? last - 150 : last + 200;
    for (int k = 0; k < items; k++) {
      long at = t + 100 + 300L * k;
      if (early && k == items - 1) {
        at = last;
      }
      kcat.record("inspection.completed", at, trace, id, Map.of("returnId", id, "itemId", id + "-" + k,
          "inspectedOn", "2026-12-0" + (1 + k % 2), "grade", k % 2 == 0 ? "A" : "B"));
    }
    kcat.record("refund.issued", refund, trace, id, Map.of("returnId", id, "amount", 10 * items));
    if (i % 4 == 1) {
      kcat.record("inspection.completed", refund + 900, trace, id, Map.of("returnId", id, "itemId", id + "-0",
          "inspectedOn", "2026-12-09", "grade", "A"));
    }
  }

  private static String yaml(Path drafts) throws java.io.IOException {
    try (var files = Files.walk(drafts)) {
      return files.filter(f -> f.toString().endsWith(".flow.yaml")).sorted().map(f -> {
        try {
          return Files.readString(f);
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }).collect(Collectors.joining("\n"));
    }
  }
}
