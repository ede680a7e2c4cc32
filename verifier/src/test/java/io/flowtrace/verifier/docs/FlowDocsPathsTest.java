package io.flowtrace.verifier.docs;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.verifier.report.TimelineEntry;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The paths a flow's page lists count, for each conditional stage, the instances that reached the
 * stage before it and then took it: an upsell reached by 3 of 10 bookings was said to lead to a
 * confirmation "taken by 8 of the 3" — the confirmations of every booking.
 */
class FlowDocsPathsTest {

  @TempDir Path dir;

  @Test
  void aConditionalStageIsCountedOverTheInstancesThatReachedEachStageBeforeIt() throws Exception {
    Files.writeString(dir.resolve("b.flow.yaml"), String.join("\n",
        "flow: b",
        "keys: [id]",
        "stages:",
        "  - id: held",
        "    events: [{id: held_msg, topic: t.held}]",
        "  - id: upsold",
        "    after: held",
        "    when: held_msg.tier == \"gold\"",
        "    events: [{id: upsold_msg, topic: t.upsold}]",
        "  - id: confirmed",
        "    after: [held, upsold]",
        "    when: held_msg.ok == true",
        "    terminal: true",
        "    events: [{id: confirmed_msg, topic: t.confirmed}]",
        ""));
    FlowSpec spec = new FlowSpecLoader().load(dir).get(0);
    FlowDocs docs = new FlowDocs(List.of(spec));
    for (int i = 0; i < 10; i++) {
      List<TimelineEntry> timeline = new ArrayList<>();
      timeline.add(new TimelineEntry("held", "held_msg", "t.held[0]@" + i, 0, null));
      if (i < 3) {
        timeline.add(new TimelineEntry("upsold", "upsold_msg", "t.upsold[0]@" + i, 1_000_000, null));
      }
      if (i < 8) {
        timeline.add(new TimelineEntry("confirmed", "confirmed_msg", "t.confirmed[0]@" + i, 2_000_000, null));
      }
      docs.finalized(new Verdict("b", Map.of("id", "b-" + i), VerdictStatus.PASSED, List.of(), List.of(), 0, 1, 0,
          "", timeline, List.of(), List.of()));
    }

    assertThat(docs.flow(spec))
        .contains("- **confirmed** when `held_msg.ok == true` — taken by 8 of the 10 observed instances that reached held")
        .contains("- **confirmed** when `held_msg.ok == true` — taken by 3 of the 3 observed instances that reached upsold");
  }
}
