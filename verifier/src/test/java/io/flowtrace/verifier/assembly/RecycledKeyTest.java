package io.flowtrace.verifier.assembly;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.check.ViolationKind;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A phone number is a second key, and numbers are given out again. An activation whose SMS went
 * to a wrong number leaves a part of itself under that number (a key changed on the way); when the
 * number is given to a later activation minutes afterwards, the later one is an instance of its
 * own, not merged into what the earlier left behind.
 */
class RecycledKeyTest {
  private static final String SPEC = String.join("\n",
      "flow: activation",
      "keys: [orderId, msisdn]",
      "deadline: 20m",
      "stages:",
      "  - id: requested",
      "    events:",
      "      - {id: requested_msg, topic: orders.requested}",
      "  - id: assigned",
      "    after: requested",
      "    events:",
      "      - {id: assigned_msg, topic: numbers.assigned}",
      "  - id: welcomed",
      "    after: assigned",
      "    terminal: true",
      "    events:",
      "      - {id: sms, topic: notifications.sms}",
      "");
  private static final long T0 = 1_790_000_000_000L;
  private static final long MINUTE = 60_000;

  @TempDir Path dir;
  private final List<KafkaRecord> records = new ArrayList<>();
  private FlowEngine engine;

  @Test
  void aNumberGivenOutAgainMinutesLaterStartsAnInstanceOfItsOwn() throws Exception {
    activation("o-1", "+31600000001", "+31600000002", 0);
    activation("o-2", "+31600000002", "+31600000002", 7 * MINUTE);

    List<Verdict> finals = replay();

    Verdict later = finals.stream().filter(v -> "o-2".equals(v.keys().get("orderId"))).findFirst().orElseThrow();
    assertThat(later.status()).as(later.toString()).isEqualTo(VerdictStatus.PASSED);
    Verdict earlier = finals.stream().filter(v -> "o-1".equals(v.keys().get("orderId"))).findFirst().orElseThrow();
    assertThat(earlier.violations()).extracting(Violation::kind).containsExactly(ViolationKind.MISSING_STAGE);
    assertThat(finals).as("what the earlier left under the number is decided too").hasSize(3);
    assertThat(engine.stats().keyReuseExample())
        .isEqualTo("activation: msisdn=+31600000002 named an instance that was over (what orderId o-1, msisdn +31600000001"
            + " left under it where a key changed on the way); given out again to orderId o-2");
  }

  /** Its number assigned as {@code msisdn}, its SMS sent to {@code smsTo}, all in one trace. */
  private void activation(String orderId, String msisdn, String smsTo, long ms) {
    String trace = String.format("%032x", (long) orderId.hashCode() & 0xffffffffL);
    record("orders.requested", ms, trace, "{\"orderId\":\"" + orderId + "\"}");
    record("numbers.assigned", ms + 100, trace, "{\"orderId\":\"" + orderId + "\",\"msisdn\":\"" + msisdn + "\"}");
    record("notifications.sms", ms + 200, trace, "{\"msisdn\":\"" + smsTo + "\"}");
  }

  private void record(String topic, long ms, String trace, String json) {
    records.add(new KafkaRecord(topic, 0, records.size(), T0 + ms, null,
        List.of(RecordHeader.ofString("traceparent", "00-" + trace + "-" + String.format("%016x", records.size() + 1) + "-01")),
        json.getBytes(StandardCharsets.UTF_8)));
  }

  private List<Verdict> replay() throws Exception {
    Files.writeString(dir.resolve("activation.flow.yaml"), SPEC);
    Finals finals = new Finals();
    engine = FlowEngine.builder(new FlowSpecLoader().load(dir)).listener(finals).amendUntilEnd().build();
    for (KafkaRecord r : records) {
      engine.accept(Telemetry.of(r));
      engine.advanceTo(r.timestampMillis() * 1_000_000L);
    }
    engine.advanceTo((T0 + 60 * MINUTE) * 1_000_000L);
    engine.finish();
    return finals.verdicts;
  }
}
