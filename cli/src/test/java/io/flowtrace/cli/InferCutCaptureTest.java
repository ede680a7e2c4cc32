package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import io.flowtrace.verifier.spec.StageSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Boxes shipped and, half an hour later, e-mailed about, recorded for two hours: the boxes of the
 * last half hour were shipped but the capture stopped before their e-mails. A trial's draft made
 * the shipment an end of the flow and the e-mail optional, from the renewals the capture cut.
 */
class InferCutCaptureTest {

  @TempDir Path work;

  @Test
  void instancesTheRecordingsEndCutAreNoEndOfTheFlow() throws Exception {
    Path recording = Files.createDirectories(work.resolve("boxes"));
    long t0 = 1_796_000_000_000L;
    long end = t0 + 120 * 60_000L;
    try (RecordingWriter out = RecordingWriter.open(recording)) {
      for (int i = 0; i < 120; i++) {
        String id = "BX-" + (10_000 + i);
        String body = "{\"boxId\":\"" + id + "\"}";
        long t = t0 + i * 60_000L;
        out.accept(TracedTraffic.untraced("boxes.packed", i, t, id, body));
        out.accept(TracedTraffic.untraced("boxes.shipped", i, t + 5 * 60_000L + i * 100L, id, body));
        if (t + 30 * 60_000L <= end) {
          out.accept(TracedTraffic.untraced("boxes.emailed", i, t + 30 * 60_000L + i * 100L, id, body));
        }
      }
    }
    Path drafts = work.resolve("drafts");
    Inference.builder().name("boxes").build().infer(recording).write(drafts);
    String yaml = Files.readString(drafts.resolve("boxes/boxes.flow.yaml"));
    FlowSpec boxes = new FlowSpecLoader().load(drafts).get(0);

    assertThat(boxes.terminalStages()).as(yaml).extracting(StageSpec::id).containsExactly("boxes-emailed");
    assertThat(boxes.stage("boxes-emailed").optional()).as(yaml).isFalse();
    assertThat(yaml).contains("were left out of the draft: the recording ended before they did");
  }
}
