package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.verifier.docs.FlowDocs;
import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A trial read two medians for one hop: infer's comment took the upper middle, the docs' table the lower. */
class InferBudgetFiguresTest {

  @TempDir Path work;

  @Test
  void theDraftsMedianIsTheDocsMedian() throws Exception {
    Path recording = Files.createDirectories(work.resolve("shipments"));
    long t0 = 1_796_000_000_000L;
    try (RecordingWriter out = RecordingWriter.open(recording)) {
      for (int i = 0; i < 10; i++) {
        String id = "SH-" + (50_000 + i);
        String body = "{\"shipmentId\":\"" + id + "\"}";
        long t = t0 + i * 60_000L;
        out.accept(TracedTraffic.untraced("shipments.created", i, t, id, body));
        out.accept(TracedTraffic.untraced("shipments.labeled", i, t + 100 + i * 10L, id, body));
      }
    }
    Path drafts = work.resolve("drafts");
    Inference.builder().name("shipments").build().infer(recording).write(drafts);
    String yaml = Files.readString(drafts.resolve("shipments/shipments.flow.yaml"));
    List<FlowSpec> flows = new FlowSpecLoader().load(drafts);
    FlowDocs docs = new FlowDocs(flows);
    for (Verdict v : Replays.finals(flows, recording)) {
      docs.finalized(v);
    }

    assertThat(yaml).contains("p50 140 ms");
    assertThat(docs.flow(flows.get(0))).contains("| `shipments_created` → `shipments_labeled` | 5.000 s | 140.0 ms |");
  }
}
