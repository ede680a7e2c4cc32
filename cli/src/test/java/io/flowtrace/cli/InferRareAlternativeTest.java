package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.cli.synth.SyntheticOrderFlows;
import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import io.flowtrace.verifier.spec.StageSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * A flow that goes one of two ways, the common way in over 90 % of its instances: orders whose
 * payment is declined in 1.5–8 % of them. The common way is as much a branch as the rare one; drafted
 * as required of every instance, it failed each declined order when the draft was replayed over the
 * very traffic it came from (and below 5 % the rare way was not even a branch, below 3 % not declared).
 */
class InferRareAlternativeTest {

  @TempDir Path work;

  @ParameterizedTest
  @ValueSource(doubles = {0.015, 0.04, 0.06, 0.08})
  void theCommonWayOfTwoIsDraftedAsABranchWithItsConditionAndTheTrafficPasses(double declines) throws Exception {
    Path recording = work.resolve("orders");
    SyntheticOrderFlows.correct(300).seed(21).declineRate(declines).build().write(recording);
    Path drafts = work.resolve("drafts");

    Inference.builder().build().infer(recording).write(drafts);
    List<Path> written;
    try (var files = Files.walk(drafts)) {
      written = files.filter(f -> f.toString().endsWith(".flow.yaml")).toList();
    }
    String yaml = Files.readString(written.get(0));
    FlowSpec flow = new FlowSpecLoader().load(drafts).get(0);
    List<Verdict> verdicts = Replays.finals(List.of(flow), recording);

    List<StageSpec> conditional = flow.stages().stream().filter(s -> s.when() != null).toList();
    assertThat(conditional).as(yaml).extracting(s -> s.when().source())
        .anySatisfy(w -> assertThat(w).contains("\"authorized\""))
        .anySatisfy(w -> assertThat(w).contains("\"declined\""));
    assertThat(verdicts).hasSize(300).allSatisfy(v -> assertThat(v.violations()).as(yaml).isEmpty());
  }
}
