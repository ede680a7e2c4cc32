package io.flowtrace.verifier.assembly;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A page goes out for a critical result: the pager call (a span, conditional on the result) and
 * then its record. A trial paged for a normal result in a trace that was not sampled: the call was
 * unobserved, "may have happened", and the page's record passed, though the result's own record
 * said no page was due.
 */
class UnsampledBranchTest {

  private static final String SPEC = String.join("\n",
      "flow: result",
      "keys: [resultId]",
      "stages:",
      "  - id: verified",
      "    events: [{id: verified_msg, topic: t.verified}]",
      "  - id: page",
      "    after: verified",
      "    when: verified_msg.critical == true",
      "    events:",
      "      - {id: page_call, span: {service: pager, kind: CLIENT, name: POST /pages}}",
      "  - id: paged",
      "    after: page",
      "    events: [{id: paged_msg, topic: t.paged}]",
      "  - id: reported",
      "    after: [verified, paged]",
      "    terminal: true",
      "    events: [{id: report_msg, topic: t.report}]",
      "");

  @TempDir Path dir;
  private long offset;

  private Telemetry record(String topic, long ms, String json) {
    return Telemetry.of(new KafkaRecord(topic, 0, offset++, ShopFlows.T0 + ms, "R-1",
        List.of(RecordHeader.ofString("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")),
        json.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void aStepAfterABranchTheRecordsSayWasNotDueIsWrongEvenWhereTheBranchsSpansWereNotSampled() throws Exception {
    Files.writeString(dir.resolve("result.flow.yaml"), SPEC);
    Finals finals = new Finals();
    FlowEngine engine = FlowEngine.builder(new FlowSpecLoader().load(dir)).listener(finals).build();
    engine.accept(record("t.verified", 0, "{\"resultId\":\"R-1\",\"critical\":false}"));
    engine.accept(record("t.paged", 100, "{\"resultId\":\"R-1\"}"));
    engine.accept(record("t.report", 200, "{\"resultId\":\"R-1\"}"));
    engine.advanceTo(ShopFlows.nanos(60_000));
    engine.finish();

    Verdict v = finals.verdicts.get(0);
    assertThat(v.violations()).singleElement().satisfies(x -> {
      assertThat(x.kind()).hasToString("BAD_TRANSFORMATION");
      assertThat(x.stage()).isEqualTo("paged");
      assertThat(x.message()).contains("page (its condition verified_msg.critical == true is false");
    });
  }
}
