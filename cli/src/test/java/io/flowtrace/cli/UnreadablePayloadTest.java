package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.verifier.check.ViolationKind;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A trial's record whose payload was an HTML error page, on an event without a schema, was said to "break no schema". */
class UnreadablePayloadTest {

  @TempDir Path work;

  @Test
  void aPayloadThatIsNotJsonWhereNoSchemaIsDeclaredIsSaidToBeUnreadable() throws Exception {
    Path flows = Files.createDirectories(work.resolve("flows"));
    Files.writeString(flows.resolve("k.flow.yaml"), String.join("\n",
        "flow: k",
        "keys: [orderId]",
        "spans: may-be-missing",
        "stages:",
        "  - id: accepted",
        "    terminal: true",
        "    events: [{id: accepted, topic: kitchen.accepted, recordKey: orderId}]",
        ""));
    Path recording = Files.createDirectories(work.resolve("recording"));
    try (RecordingWriter out = RecordingWriter.open(recording)) {
      out.accept(TracedTraffic.untraced("kitchen.accepted", 0, 1_796_300_000_000L, "ORD-1", "<html>502 Bad Gateway</html>"));
    }
    FlowSpec flow = new FlowSpecLoader().load(flows).get(0);

    List<Verdict> verdicts = Replays.finals(List.of(flow), recording);

    assertThat(verdicts).singleElement().satisfies(v -> assertThat(v.violations())
        .filteredOn(x -> x.kind() == ViolationKind.SCHEMA_VIOLATION).singleElement()
        .satisfies(x -> assertThat(x.message())
            .startsWith("kitchen.accepted[0]@0 cannot be read as JSON (no schema declared): $: not valid JSON")
            .doesNotContain("breaks")));
  }
}
