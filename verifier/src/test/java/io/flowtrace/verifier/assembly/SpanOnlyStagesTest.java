package io.flowtrace.verifier.assembly;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.check.Unverified;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A flow that begins with two stages of spans alone — the booking request, then the card
 * authorization — before its first record. In a trace that was not sampled, the first record
 * two stages on is what says so: neither span is missing.
 */
class SpanOnlyStagesTest {
  private static final String SPEC = String.join("\n",
      "flow: rental",
      "keys: [bookingId]",
      "deadline: 30s",
      "stages:",
      "  - id: requested",
      "    events:",
      "      - id: request",
      "        span: {service: bookings, kind: SERVER, name: POST /bookings}",
      "        payload: {attribute: http.request.body}",
      "  - id: authorized",
      "    after: requested",
      "    events:",
      "      - id: authorization",
      "        span: {service: bookings, kind: CLIENT, name: POST}",
      "        payload: {attribute: http.response.body}",
      "  - id: confirmed",
      "    after: authorized",
      "    terminal: true",
      "    events:",
      "      - {id: confirmed_msg, topic: bookings.confirmed}",
      "");
  private static final long T0 = 1_790_000_000_000L;

  @TempDir Path dir;

  @Test
  void spansOfStagesBeforeTheFirstRecordOfAnUnsampledTraceAreNotMissing() throws Exception {
    Files.writeString(dir.resolve("rental.flow.yaml"), SPEC);
    Finals finals = new Finals();
    FlowEngine engine = FlowEngine.builder(new FlowSpecLoader().load(dir)).listener(finals).build();
    String trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    engine.accept(Telemetry.of(new KafkaRecord("bookings.confirmed", 0, 0, T0 + 80, "BK-1",
        List.of(RecordHeader.ofString("traceparent", "00-" + trace + "-00f067aa0ba902b7-00")),
        "{\"bookingId\":\"BK-1\"}".getBytes(StandardCharsets.UTF_8))));
    engine.advanceTo((T0 + 120_000) * 1_000_000L);
    engine.finish();

    assertThat(finals.verdicts).hasSize(1);
    Verdict v = finals.verdicts.get(0);
    assertThat(v.status()).as(v.toString()).isEqualTo(VerdictStatus.PASSED);
    assertThat(v.unverified()).extracting(Unverified::subject).contains("request", "authorization");
  }
}
