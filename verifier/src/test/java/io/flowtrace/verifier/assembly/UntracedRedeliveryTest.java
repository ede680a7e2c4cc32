package io.flowtrace.verifier.assembly;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.check.ViolationKind;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Claims paid out by a bank that calls back, in a team that does not trace its Kafka traffic: no
 * record carries a {@code traceparent}. A trial's payout settled twice, the second time for half as
 * much again, and passed: the second settlement could not be tied to a callback by trace, so it was
 * taken for the effect of a callback not observed, as if the traffic had been head-sampled.
 */
class UntracedRedeliveryTest {

  private static final String SPEC = String.join("\n",
      "flow: payouts",
      "keys: [payoutId]",
      "deadline: 1h",
      "stages:",
      "  - id: requested",
      "    events: [{id: requested_msg, topic: payouts.requested}]",
      "  - id: called-back",
      "    after: requested",
      "    events: [{id: callback_msg, topic: bank.callbacks}]",
      "  - id: settled",
      "    after: called-back",
      "    terminal: true",
      "    events: [{id: settled_msg, topic: payouts.settled}]",
      "idempotency:",
      "  - {trigger: callback_msg, dedupKey: callbackId, effects: [settled_msg]}",
      "");
  private static final long T0 = 1_795_161_600_000L;

  @TempDir Path dir;
  private final List<Telemetry> telemetry = new ArrayList<>();
  private String spec = SPEC;
  private long offset;

  @Test
  void aPayoutSettledTwiceForDifferentAmountsAfterOneCallbackIsNotIdempotent() throws Exception {
    record("payouts.requested", 0, "{\"payoutId\":\"PO-1\",\"amount\":5553.24}");
    record("bank.callbacks", 60_000, "{\"payoutId\":\"PO-1\",\"callbackId\":\"cb-1\",\"status\":\"SETTLED\"}");
    record("payouts.settled", 61_000, "{\"payoutId\":\"PO-1\",\"settledAmount\":5553.24}");
    record("payouts.settled", 300_000, "{\"payoutId\":\"PO-1\",\"settledAmount\":8329.86}");

    Verdict v = replay();

    assertThat(v.status()).as(v.toString()).isEqualTo(VerdictStatus.FAILED);
    assertThat(v.violations()).extracting(x -> x.kind()).containsExactly(ViolationKind.NON_IDEMPOTENT);
  }

  @Test
  void aPayoutSettledOnceAfterARejectedCallbackAndARetriedOneIsFine() throws Exception {
    record("payouts.requested", 0, "{\"payoutId\":\"PO-1\",\"amount\":5553.24}");
    record("bank.callbacks", 60_000, "{\"payoutId\":\"PO-1\",\"callbackId\":\"cb-1\",\"status\":\"REJECTED\"}");
    record("bank.callbacks", 90_000, "{\"payoutId\":\"PO-1\",\"callbackId\":\"cb-2\",\"status\":\"SETTLED\"}");
    record("bank.callbacks", 95_000, "{\"payoutId\":\"PO-1\",\"callbackId\":\"cb-2\",\"status\":\"SETTLED\"}");
    record("payouts.settled", 91_000, "{\"payoutId\":\"PO-1\",\"settledAmount\":5553.24}");

    Verdict v = replay();

    assertThat(v.status()).as(v.toString()).isEqualTo(VerdictStatus.PASSED);
  }

  /** A trial's draft budgeted 6 h for a 3 s hop: measured from a callback rejected hours before the one that settled. */
  @Test
  void aBudgetFromARepeatedEventRunsFromItsLastOccurrenceBeforeTheEnd() throws Exception {
    spec = SPEC.replace("deadline: 1h", "deadline: 6h") + "budgets:\n  - {from: callback_msg, to: settled_msg, within: 5s}\n";
    record("payouts.requested", 0, "{\"payoutId\":\"PO-1\",\"amount\":5553.24}");
    record("bank.callbacks", 60_000, "{\"payoutId\":\"PO-1\",\"callbackId\":\"cb-1\",\"status\":\"REJECTED\"}");
    record("bank.callbacks", 3 * 3_600_000, "{\"payoutId\":\"PO-1\",\"callbackId\":\"cb-2\",\"status\":\"SETTLED\"}");
    record("payouts.settled", 3 * 3_600_000 + 1_500, "{\"payoutId\":\"PO-1\",\"settledAmount\":5553.24}");

    assertThat(replay().violations()).isEmpty();

    telemetry.clear();
    record("payouts.requested", 0, "{\"payoutId\":\"PO-1\",\"amount\":5553.24}");
    record("bank.callbacks", 60_000, "{\"payoutId\":\"PO-1\",\"callbackId\":\"cb-1\",\"status\":\"SETTLED\"}");
    record("payouts.settled", 60_000 + 8_000, "{\"payoutId\":\"PO-1\",\"settledAmount\":5553.24}");

    assertThat(replay().violations()).extracting(x -> x.kind()).containsExactly(ViolationKind.LATENCY_BUDGET_EXCEEDED);
  }

  private void record(String topic, long ms, String json) {
    telemetry.add(Telemetry.of(new KafkaRecord(topic, 0, offset++, T0 + ms, "PO-1", List.of(),
        json.getBytes(StandardCharsets.UTF_8))));
  }

  private Verdict replay() throws Exception {
    Files.writeString(dir.resolve("payouts.flow.yaml"), spec);
    List<Verdict> finals = EngineRun.finals(dir, telemetry, T0 + 8 * 3_600_000L);
    assertThat(finals).hasSize(1);
    return finals.get(0);
  }
}
