package io.flowtrace.verifier.assembly;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.check.Unverified;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A courier calls back once per event (picked up, delivered), each call its own trace; the status
 * records carry no event id. When one call's trace was not sampled, its record's key is unknown:
 * a repeat of the same record is a redelivery, a record that says something else is another event.
 */
class UnobservedDeliveriesTest {

  private static final String SPEC = String.join("\n",
      "flow: loan",
      "keys: [loanId]",
      "stages:",
      "  - id: requested",
      "    events:",
      "      - {id: loan_requested, topic: loans.requested}",
      "  - id: courier",
      "    after: requested",
      "    events:",
      "      - id: webhook",
      "        span: {service: dispatch, kind: SERVER, name: POST /webhooks/courier}",
      "        payload: {attribute: http.request.body}",
      "        trace: new",
      "      - {id: status, topic: courier.status}",
      "  - id: active",
      "    after: courier",
      "    terminal: true",
      "    events:",
      "      - {id: loan_active, topic: loans.active}",
      "idempotency:",
      "  - {trigger: webhook, dedupKey: eventId, effects: [status]}",
      "");

  /** Every courier call names the loan's branch, as the request gave it. */
  private static final String BRANCH_CARRIED = "enrichment:\n  - {from: loan_requested, to: webhook, carry: [branch]}\n";

  /**
   * Each courier call looks the parcel up with the courier before it writes its status record,
   * which carries the status the lookup answered.
   */
  private static final String LOOKED_UP = SPEC.replace(
      "      - {id: status, topic: courier.status}\n",
      "      - id: lookup\n"
          + "        span: {service: dispatch, kind: CLIENT, name: GET /parcels}\n"
          + "        payload: {attribute: http.response.body}\n"
          + "      - {id: status, topic: courier.status}\n")
      + "enrichment:\n  - {from: lookup, to: status, carry: [status]}\n";

  @TempDir Path dir;
  private final List<Telemetry> telemetry = new ArrayList<>();
  private long offset;

  private Verdict replay() throws Exception {
    return replay(SPEC);
  }

  private Verdict replay(String spec) throws Exception {
    List<Verdict> finals = ShopFlows.finals(dir, spec, telemetry, 120_000);
    assertThat(finals).hasSize(1);
    return finals.get(0);
  }

  /** The status whose record the courier's handler sends without its trace context ({@code null}: none). */
  private String contextLostFor;

  private void record(String topic, String trace, boolean sampled, long ms, String json) {
    boolean lost = contextLostFor != null && json.contains("\"status\":\"" + contextLostFor + "\"");
    telemetry.add(Telemetry.of(new KafkaRecord(topic, 0, offset++, ShopFlows.T0 + ms, "L-1", lost ? List.of()
        : List.of(RecordHeader.ofString("traceparent", "00-" + trace + "-" + "00f067aa0ba902b7" + (sampled ? "-01" : "-00"))),
        json.getBytes(StandardCharsets.UTF_8))));
  }

  private void callback(String trace, boolean sampled, long ms, String eventId, String status) {
    if (sampled) {
      telemetry.add(Telemetry.of(Span.builder().traceId(trace).spanId("b7ad6b7169203331").name("POST /webhooks/courier")
          .kind(SpanKind.SERVER).service("dispatch").startEpochNanos(ShopFlows.nanos(ms)).endEpochNanos(ShopFlows.nanos(ms + 5))
          .attributes(Map.of("http.request.body", "{\"eventId\":\"" + eventId + "\",\"loanId\":\"L-1\",\"status\":\"" + status
              + "\",\"branch\":\"" + (status.equals("RETURNED") ? "B-9" : "B-1") + "\"}",
              "http.response.body", "{\"received\":true}")).build()));
    }
    // made when handled: a redelivery's record differs from the first one's by that alone
    record("courier.status", trace, sampled, ms + 2, "{\"loanId\":\"L-1\",\"status\":\"" + status + "\",\"updatedAt\":\""
        + java.time.Instant.ofEpochMilli(ShopFlows.T0 + ms + 2) + "\",\"handledAt\":" + (ShopFlows.T0 + ms) + "}");
  }

  private void lookup(String trace, long ms, String status) {
    telemetry.add(Telemetry.of(Span.builder().traceId(trace).spanId("c7ad6b7169203332").parentSpanId("b7ad6b7169203331")
        .name("GET /parcels").kind(SpanKind.CLIENT).service("dispatch")
        .startEpochNanos(ShopFlows.nanos(ms)).endEpochNanos(ShopFlows.nanos(ms + 1))
        .attributes(Map.of("http.response.body", "{\"loanId\":\"L-1\",\"status\":\"" + status + "\"}")).build()));
  }

  private void loan(String pickedUpTrace, boolean pickedUpSampled, String pickedUpStatusOfRedelivery) {
    record("loans.requested", "4bf92f3577b34da6a3ce929d0e0e4736", true, 0, "{\"loanId\":\"L-1\",\"branch\":\"B-1\"}");
    callback(pickedUpTrace, pickedUpSampled, 1_000, "evt-1", "PICKED_UP");
    callback("5bf92f3577b34da6a3ce929d0e0e4737", true, 5_000, "evt-2", "DELIVERED");
    if (pickedUpStatusOfRedelivery != null) {
      callback("6bf92f3577b34da6a3ce929d0e0e4738", false, 6_000, "evt-2", pickedUpStatusOfRedelivery);
    }
    record("loans.active", "5bf92f3577b34da6a3ce929d0e0e4737", true, 5_010, "{\"loanId\":\"L-1\"}");
  }

  @Test
  void anEffectOfAnUnobservedDeliveryThatSaysSomethingElseIsAnotherEventNotARepeat() throws Exception {
    loan("7bf92f3577b34da6a3ce929d0e0e4739", false, null); // picked up: its trace not sampled

    Verdict v = replay();
    assertThat(v.violations()).isEmpty();
    assertThat(v.unverified()).anySatisfy(u -> assertThat(u.reason())
        .contains("came from deliveries that were not observed").contains("another event, or a redelivery"));
  }

  @Test
  void anEffectOfAnUnobservedDeliveryThatRepeatsOneIsARedelivery() throws Exception {
    loan("7bf92f3577b34da6a3ce929d0e0e4739", false, "DELIVERED"); // delivered again, unsampled, and handled again

    Verdict v = replay();
    assertThat(v.violations()).extracting(x -> x.kind() + " at " + x.stage()).containsExactly("NON_IDEMPOTENT at courier");
  }

  @Test
  void whatEveryCallbackCarriesFromTheOneRequestIsComparedWithItWhateverTheCallbacksTrace() throws Exception {
    loan("7bf92f3577b34da6a3ce929d0e0e4739", true, null);
    callback("8bf92f3577b34da6a3ce929d0e0e4730", true, 7_000, "evt-3", "RETURNED"); // names another branch

    Verdict v = replay(SPEC + BRANCH_CARRIED);
    assertThat(v.violations()).singleElement().satisfies(x -> {
      assertThat(x.kind()).hasToString("BAD_TRANSFORMATION"); // carried, but changed
      assertThat(x.field()).isEqualTo("branch");
    });
    assertThat(v.unverified()).noneMatch(u -> u.check().equals("enrichment"));
  }

  @Test
  void whatACallbacksRecordCarriesFromItsOwnLookupIsNotComparedWithAnotherCallbacksLookup() throws Exception {
    String pickedUp = "7bf92f3577b34da6a3ce929d0e0e4739";
    loan(pickedUp, false, null); // picked up: its trace, and so its lookup, not sampled
    lookup("5bf92f3577b34da6a3ce929d0e0e4737", 5_001, "DELIVERED");

    Verdict v = replay(LOOKED_UP);
    assertThat(v.violations()).isEmpty();
    assertThat(v.unverified()).anySatisfy(u -> assertThat(u.reason())
        .contains("what 1 of 2 status carry over from lookup").contains("no lookup observed in their trace"));
  }

  @Test
  void aCallbacksRecordThatChangedWhatItsOwnLookupAnsweredIsABadTransformation() throws Exception {
    loan("7bf92f3577b34da6a3ce929d0e0e4739", true, null);
    lookup("7bf92f3577b34da6a3ce929d0e0e4739", 1_001, "PICKED_UP");
    lookup("5bf92f3577b34da6a3ce929d0e0e4737", 5_001, "OUT_FOR_DELIVERY"); // the record says DELIVERED

    Verdict v = replay(LOOKED_UP);
    assertThat(v.violations()).singleElement().satisfies(x -> {
      assertThat(x.kind()).hasToString("BAD_TRANSFORMATION");
      assertThat(x.field()).isEqualTo("status");
      assertThat(x.message()).contains("OUT_FOR_DELIVERY").contains("DELIVERED");
    });
  }

  @Test
  void aRuleOverACallbacksRecordAndItsLookupReadsOneDelivery() throws Exception {
    loan("7bf92f3577b34da6a3ce929d0e0e4739", false, null); // picked up: its lookup not sampled
    lookup("5bf92f3577b34da6a3ce929d0e0e4737", 5_001, "DELIVERED");
    String rule = "rules:\n  - {name: the record says what the lookup answered, expr: status.status == lookup.status}\n";

    Verdict v = replay(LOOKED_UP.substring(0, LOOKED_UP.indexOf("enrichment:")) + rule);
    assertThat(v.violations()).isEmpty();
  }

  @Test
  void aRuleOverACallbacksRecordAndItsLookupFailsOnTheDeliveryThatBrokeIt() throws Exception {
    loan("7bf92f3577b34da6a3ce929d0e0e4739", false, null);
    lookup("5bf92f3577b34da6a3ce929d0e0e4737", 5_001, "OUT_FOR_DELIVERY"); // the record says DELIVERED
    String rule = "rules:\n  - {name: the record says what the lookup answered, expr: status.status == lookup.status}\n";

    Verdict v = replay(LOOKED_UP.substring(0, LOOKED_UP.indexOf("enrichment:")) + rule);
    assertThat(v.violations()).singleElement().satisfies(x -> {
      assertThat(x.kind()).hasToString("BAD_TRANSFORMATION");
      assertThat(x.message()).contains("DELIVERED").contains("OUT_FOR_DELIVERY");
    });
  }

  /** A trial's provider sent one eventId twice, the second with another amount: it read as a plain redelivery. */
  @Test
  void aRedeliveryThatSaysSomethingElseIsSaidToDiffer() throws Exception {
    loan("7bf92f3577b34da6a3ce929d0e0e4739", true, null);
    callback("8bf92f3577b34da6a3ce929d0e0e4730", true, 6_000, "evt-2", "RETURNED"); // evt-2 said DELIVERED

    Verdict v = replay();
    assertThat(v.violations()).singleElement().satisfies(x -> {
      assertThat(x.kind()).hasToString("NON_IDEMPOTENT");
      assertThat(x.message()).contains("The deliveries of eventId evt-2 say different things (status \"DELIVERED\","
          + " then \"RETURNED\"; branch \"B-1\", then \"B-9\"): not a plain redelivery");
    });
  }

  /**
   * A trial's correspondent bank called back twice (accepted, settled); the accepted record went
   * without its trace context, in a trace that was not sampled. It was compared with the settled
   * call's lookup: four false accusations beside the one true finding.
   */
  @Test
  void aCallbacksRecordThatLostItsContextIsComparedWithNoOtherDeliverysLookup() throws Exception {
    contextLostFor = "PICKED_UP";
    loan("7bf92f3577b34da6a3ce929d0e0e4739", false, null); // picked up: unsampled, its record without context
    lookup("5bf92f3577b34da6a3ce929d0e0e4737", 5_001, "DELIVERED");
    String rule = "rules:\n  - {name: the record says what the lookup answered, expr: status.status == lookup.status}\n";

    Verdict v = replay(LOOKED_UP + rule);
    assertThat(v.violations()).extracting(x -> x.kind() + " at " + x.stage()).containsExactly("BROKEN_PROPAGATION at courier");
    assertThat(v.unverified()).anySatisfy(u -> assertThat(u.reason()).contains("carries no trace context"));
  }

  /** The same at full sampling: the loan made active by the delivery is compared with that delivery's status. */
  @Test
  void aRuleOverWhatADeliveryCausedReadsThatDeliveryNotOneWhoseRecordLostItsContext() throws Exception {
    contextLostFor = "PICKED_UP";
    record("loans.requested", "4bf92f3577b34da6a3ce929d0e0e4736", true, 0, "{\"loanId\":\"L-1\",\"branch\":\"B-1\"}");
    callback("7bf92f3577b34da6a3ce929d0e0e4739", true, 1_000, "evt-1", "PICKED_UP");
    callback("5bf92f3577b34da6a3ce929d0e0e4737", true, 5_000, "evt-2", "DELIVERED");
    record("loans.active", "5bf92f3577b34da6a3ce929d0e0e4737", true, 5_010, "{\"loanId\":\"L-1\",\"status\":\"DELIVERED\"}");
    String rule = "rules:\n  - {name: active on the status that made it so, expr: loan_active.status == status.status}\n";

    Verdict v = replay(SPEC + rule);
    assertThat(v.violations()).extracting(x -> x.kind() + " at " + x.stage()).containsExactly("BROKEN_PROPAGATION at courier");
  }

  /** Where every record of a callback lost its context and the instance's traces are head-sampled, its span is not known missing. */
  @Test
  void aCallbackWhoseRecordsAllLostTheirContextIsNotMissingWhereTracesAreSampled() throws Exception {
    contextLostFor = "PICKED_UP";
    record("loans.requested", "4bf92f3577b34da6a3ce929d0e0e4736", false, 0, "{\"loanId\":\"L-1\",\"branch\":\"B-1\"}");
    callback("7bf92f3577b34da6a3ce929d0e0e4739", false, 1_000, "evt-1", "PICKED_UP");
    record("loans.active", "4bf92f3577b34da6a3ce929d0e0e4736", false, 1_010, "{\"loanId\":\"L-1\"}");

    Verdict v = replay();
    assertThat(v.violations()).isEmpty(); // no span came at all: propagation is not judged
    assertThat(v.unverified()).anySatisfy(u -> assertThat(u.reason()).contains("webhook").contains("its trace is not known"));
  }

  /**
   * A capture whose span file stops a few seconds before its record dump: the last callback's
   * spans were still in the exporter's batch. Decided when the input ended, they are not missing.
   */
  @Test
  void spansOfRecordsStampedAtTheEndOfTheSpanInputAreNotMissingWhenTheInputEnds() throws Exception {
    record("loans.requested", "4bf92f3577b34da6a3ce929d0e0e4736", true, 0, "{\"loanId\":\"L-1\",\"branch\":\"B-1\"}");
    callback("7bf92f3577b34da6a3ce929d0e0e4739", true, 1_000, "evt-1", "PICKED_UP");
    // delivered: its record came, its span was still in a batch when the capture stopped
    record("courier.status", "5bf92f3577b34da6a3ce929d0e0e4737", true, 5_002, "{\"loanId\":\"L-1\",\"status\":\"DELIVERED\"}");
    record("loans.active", "5bf92f3577b34da6a3ce929d0e0e4737", true, 5_010, "{\"loanId\":\"L-1\"}");

    Files.writeString(dir.resolve("loan.flow.yaml"), SPEC);
    Finals finals = new Finals();
    FlowEngine engine = FlowEngine.builder(new FlowSpecLoader().load(dir)).listener(finals).build();
    telemetry.forEach(engine::accept);
    engine.advanceTo(ShopFlows.nanos(5_010));
    engine.finish();

    assertThat(finals.verdicts).singleElement().satisfies(v -> {
      assertThat(v.violations()).isEmpty();
      assertThat(v.unverified()).anySatisfy(u -> assertThat(u.reason()).contains("did not reach this run"));
    });
  }

  /**
   * A trial's draft read a webhook's request body and its response body off one span, each
   * declared {@code trace: new}: where the call's trace was not sampled, the response was excused
   * and the request was missing (346 of 400 clean orders failed).
   */
  @Test
  void aWebhooksRequestAndResponseReadOffOneSpanAreBothUnobservedInAnUnsampledTrace() throws Exception {
    String twoSides = SPEC.replace("      - {id: status, topic: courier.status}\n",
        "      - id: webhook_response\n"
            + "        span: {service: dispatch, kind: SERVER, name: POST /webhooks/courier}\n"
            + "        payload: {attribute: http.response.body}\n"
            + "        trace: new\n"
            + "      - {id: status, topic: courier.status}\n");
    record("loans.requested", "4bf92f3577b34da6a3ce929d0e0e4736", true, 0, "{\"loanId\":\"L-1\",\"branch\":\"B-1\"}");
    callback("7bf92f3577b34da6a3ce929d0e0e4739", false, 1_000, "evt-1", "DELIVERED"); // its trace not sampled
    record("loans.active", "7bf92f3577b34da6a3ce929d0e0e4739", false, 1_010, "{\"loanId\":\"L-1\"}");

    Verdict v = replay(twoSides);
    assertThat(v.violations()).isEmpty();
    assertThat(v.unverified()).filteredOn(u -> u.check().equals("stage")).extracting(Unverified::subject)
        .containsExactlyInAnyOrder("webhook", "webhook_response");
  }
}
