package io.flowtrace.verifier.assembly;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.SpanLink;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.check.ViolationKind;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictListener;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.io.IOException;
import java.lang.ref.WeakReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The streaming engine on a small three-stage flow, fed event by event. */
class FlowEngineTest {

  private static final String SPEC = String.join("\n",
      "flow: mini",
      "keys: [orderId]",
      "deadline: 10s",
      "stages:",
      "  - id: placed",
      "    events:",
      "      - id: placed_msg",
      "        topic: t.placed",
      "  - id: paid",
      "    after: placed",
      "    events:",
      "      - id: webhook",
      "        span: {service: svc, kind: SERVER, name: POST /hook}",
      "        payload: {attribute: http.request.body}",
      "        trace: new",
      "      - id: paid_msg",
      "        topic: t.paid",
      "  - id: done",
      "    after: paid",
      "    terminal: true",
      "    events:",
      "      - id: done_msg",
      "        topic: t.done",
      "idempotency:",
      "  - {trigger: webhook, dedupKey: eventId, effects: [paid_msg, done_msg]}",
      "budgets:",
      "  - {from: paid_msg, to: done_msg, within: 1s}",
      "");

  private static final long T0 = 1_764_000_000_000L; // epoch ms
  private static final long GRACE_MS = FlowEngine.DEFAULT_COMPLETION_GRACE.toMillis();

  @TempDir Path dir;
  private FlowEngine engine;
  private final List<String> events = new ArrayList<>();
  private final Map<String, Verdict> finals = new HashMap<>();
  private Verdict lastDecided;
  private Verdict lastAmended;
  private long offsets;

  @BeforeEach
  void setUp() throws Exception {
    Files.writeString(dir.resolve("mini.flow.yaml"), SPEC);
    List<FlowSpec> flows = new FlowSpecLoader().load(dir);
    engine = listening(FlowEngine.builder(flows));
  }

  private FlowEngine listening(FlowEngine.Builder builder) {
    return builder.listener(new VerdictListener() {
      @Override
      public void decided(Verdict v) {
        events.add("decided " + v.status());
        lastDecided = v;
      }

      @Override
      public void amended(Verdict previous, Verdict current) {
        events.add(previous == null ? "amended elsewhere->" + current.status() + " r" + current.revision()
            : "amended " + previous.status() + "->" + current.status());
        lastAmended = current;
      }

      @Override
      public void finalized(Verdict v) {
        events.add("final " + v.status());
        finals.put(v.keys().get("orderId"), v);
      }
    }).build();
  }

  @Test
  void checksOnOtherThreadsDeliverTheSameVerdictsInDecisionOrder() throws Exception {
    List<String> order = new ArrayList<>();
    Map<String, Verdict> threaded = new HashMap<>();
    FlowEngine pooled = FlowEngine.builder(new FlowSpecLoader().load(dir)).verificationThreads(2)
        .listener(new VerdictListener() {
          @Override
          public void decided(Verdict v) {
            order.add(v.keys().get("orderId"));
          }

          @Override
          public void finalized(Verdict v) {
            threaded.put(v.keys().get("orderId"), v);
          }
        }).build();
    FlowEngine inline = engine;
    for (int i = 0; i < 50; i++) {
      String id = "o-" + i;
      engine = pooled;
      offsets = i * 10L;
      flow(id, i);
      engine = inline;
      offsets = i * 10L;
      flow(id, i);
    }
    pooled.advanceTo(nanos(60_000));
    inline.advanceTo(nanos(60_000));
    pooled.finish();
    inline.finish();

    assertThat(order).hasSize(50);
    assertThat(order).isSortedAccordingTo(java.util.Comparator.comparingInt(k -> Integer.parseInt(k.substring(2))));
    assertThat(threaded).hasSize(50);
    for (String id : threaded.keySet()) {
      assertThat(threaded.get(id).violations()).isEqualTo(finals.get(id).violations());
      assertThat(threaded.get(id).status()).isEqualTo(finals.get(id).status());
    }
  }

  @Test
  void pastTheRetentionCapTheOldestAmendmentWindowsEndAndTheVerdictsStayTheSame() throws Exception {
    List<Verdict> capped = new ArrayList<>();
    List<String> late = new ArrayList<>();
    FlowEngine bounded = FlowEngine.builder(new FlowSpecLoader().load(dir)).maxRetainedEvents(100)
        .listener(new VerdictListener() {
          @Override
          public void finalized(Verdict v) {
            capped.add(v);
          }

          @Override
          public void late(io.flowtrace.verifier.report.LateEvent e) {
            late.add(e.keys().get("orderId") + " " + e.event());
          }
        }).build();
    FlowEngine unbounded = engine;
    long maxHeld = 0;
    long maxHeldUnbounded = 0;
    for (int i = 0; i < 200; i++) {
      engine = bounded;
      offsets = i * 10L;
      flow("o-" + i, i);
      maxHeld = Math.max(maxHeld, bounded.stats().retainedEvents());
      engine = unbounded;
      offsets = i * 10L;
      flow("o-" + i, i);
      maxHeldUnbounded = Math.max(maxHeldUnbounded, unbounded.stats().retainedEvents());
    }

    assertThat(bounded.stats().amendWindowsCut()).isPositive();
    assertThat(maxHeld).isLessThanOrEqualTo(100);
    assertThat(maxHeldUnbounded).as("uncapped, held grows well past the cap").isGreaterThan(150);

    for (FlowEngine e : List.of(bounded, unbounded)) {
      engine = e;
      paid("o-180", "a50", "e50", "evt-again", 199_500);
      advance(200_000);
    }
    assertThat(late).as("cut short: reported late").containsExactly("o-180 webhook", "o-180 paid_msg");
    assertThat(unbounded.stats().lateDropped()).as("within the window: amends").isZero();

    bounded.finish();
    unbounded.finish();
    assertThat(capped).hasSize(200);
    for (Verdict v : capped) {
      Verdict same = finals.get(v.keys().get("orderId"));
      if (v.keys().get("orderId").equals("o-180")) {
        assertThat(single(same).message()).contains("evt-again");
        assertThat(single(v).message()).doesNotContain("evt-again");
        continue;
      }
      assertThat(v.status()).isEqualTo(same.status());
      assertThat(v.violations()).isEqualTo(same.violations());
    }
  }

  /** One flow per index; every third one with a duplicate delivery (NON_IDEMPOTENT). */
  @Test
  void spansHeldOnlyForJoinsWeighAnEighthOfAnEventAgainstTheRetentionCap() {
    for (int i = 0; i < 10; i++) {
      feed(new Span(trace("x" + i), span("x" + i), "", "send t.placed", SpanKind.PRODUCER, "svc", nanos(i),
          nanos(i + 1), Map.of("messaging.destination.name", "t.placed"), List.of(), false));
    }
    advance(20);

    assertThat(engine.stats().indexedSpans()).isEqualTo(10);
    assertThat(engine.stats().retainedEvents()).isEqualTo(2); // ten spans, no payload: 1.25 events, rounded up
  }

  @Test
  void aFinalVerdictIsNotKeptAliveByTheTimersStillSetForItsInstance() throws Exception {
    List<WeakReference<Verdict>> finalized = new ArrayList<>();
    engine = FlowEngine.builder(new FlowSpecLoader().load(dir)).amendWindow(Duration.ofMillis(500))
        .listener(new VerdictListener() {
          @Override
          public void finalized(Verdict v) {
            finalized.add(new WeakReference<>(v));
          }
        }).build();
    placed("o-1", "a1", 0);
    paid("o-1", "a1", "b1", "evt-1", 100);
    done("o-1", "b1", 200, true);
    advance(200);
    advance(1_000); // final after its 500 ms amendment window; its 10 s deadline's timer is still set

    assertThat(finalized).hasSize(1);
    for (int i = 0; i < 10 && finalized.get(0).get() != null; i++) {
      System.gc();
    }
    assertThat(finalized.get(0).get())
        .as("a final verdict (its timeline holds every payload) unreachable from the engine")
        .isNull();
  }

  private void flow(String id, int i) {
    String n = Integer.toString(i, 36);
    placed(id, "a" + n, i * 1000L);
    paid(id, "a" + n, "b" + n, "evt-" + i, i * 1000L + 100);
    done(id, "b" + n, i * 1000L + 200, true);
    if (i % 3 == 0) {
      paid(id, "a" + n, "d" + n, "evt-" + i, i * 1000L + 300);
    }
    engine.advanceTo(nanos(i * 1000L + 400));
  }

  @Test
  void decidesTheMomentTheTerminalStageArrives() {
    placed("o-1", "a1", 0);
    paid("o-1", "a1", "b1", "evt-1", 100);
    advance(150);
    assertThat(events).isEmpty();

    done("o-1", "b1", 200, true);
    advance(200);

    assertThat(events).containsExactly("decided PASSED");
    assertThat(lastDecided.violations()).isEmpty();
    assertThat(lastDecided.keys()).containsEntry("orderId", "o-1");
  }

  @Test
  void aLateDuplicateDeliveryAmendsTheVerdict() {
    placed("o-1", "a1", 0);
    paid("o-1", "a1", "b1", "evt-1", 100);
    done("o-1", "b1", 200, true);
    advance(200);
    paid("o-1", "a1", "b2", "evt-1", 1200);
    done("o-1", "b2", 1300, true);
    advance(1300);
    engine.finish();

    assertThat(events).containsExactly("decided PASSED", "amended PASSED->FAILED", "final FAILED");
    assertThat(lastAmended.revision()).isEqualTo(1);
    assertThat(lastAmended.reason()).as("what changed it, the first reason quoted")
        .isEqualTo("amended on later events (webhook, paid_msg, done_msg); first decided: " + lastDecided.reason());
    Violation v = single(finals.get("o-1"));
    assertThat(v.kind()).isEqualTo(ViolationKind.NON_IDEMPOTENT);
    assertThat(v.stage()).isEqualTo("paid");
    assertThat(v.field()).isEqualTo("eventId");
    assertThat(v.message()).isEqualTo("webhook was delivered 2 times with 1 distinct eventId [evt-1]; "
        + "paid_msg happened 2 times (t.paid[0]@1, t.paid[0]@3); done_msg happened 2 times (t.done[0]@2, t.done[0]@4); "
        + "each may happen once per eventId");
  }

  @Test
  void aDeadlineWithoutTheTerminalStageFailsAtTheFirstMissingStage() {
    placed("o-1", "a1", 0);
    advance(10_001);

    assertThat(events).containsExactly("decided FAILED");
    Violation v = single(lastDecided);
    assertThat(v.kind()).isEqualTo(ViolationKind.MISSING_STAGE);
    assertThat(v.stage()).isEqualTo("paid");
    assertThat(v.message()).isEqualTo("stage paid did not happen: no webhook (SERVER span 'POST /hook' of svc), "
        + "paid_msg (topic t.paid) within 10 s of the flow's start");
  }

  @Test
  void aTerminalStageAfterTheDeadlineTurnsMissingStageIntoLatency() {
    placed("o-1", "a1", 0);
    advance(10_001);
    paid("o-1", "a1", "b1", "evt-1", 11_000);
    done("o-1", "b1", 11_500, true);
    advance(11_500);
    engine.finish();

    assertThat(events).containsExactly("decided FAILED", "amended FAILED->FAILED", "final FAILED");
    assertThat(lastDecided.reason()).isEqualTo("deadline passed");
    assertThat(finals.get("o-1").reason()).isEqualTo("amended on later events (webhook, paid_msg, done_msg); first decided: deadline passed");
    Violation v = single(finals.get("o-1"));
    assertThat(v.kind()).isEqualTo(ViolationKind.LATENCY_BUDGET_EXCEEDED);
    assertThat(v.stage()).isEqualTo("done");
    assertThat(v.expected()).isEqualTo("≤ 10 s");
    assertThat(v.actual()).isEqualTo("11.5 s");
  }

  @Test
  void aConsumerThatOnlyLinksToTheProducerKeepsTheTrace() {
    placed("o-1", "a1", 0);
    paid("o-1", "a1", "b1", "evt-1", 100);
    done("o-1", "b1", 200, true);
    advance(250);
    engine.finish();

    assertThat(finals.get("o-1").status()).isEqualTo(VerdictStatus.PASSED);
  }

  @Test
  void aConsumerThatDropsTheContextBreaksPropagation() {
    placed("o-1", "a1", 0);
    paid("o-1", "a1", "b1", "evt-1", 100);
    done("o-1", "b1", 200, false);
    advance(250);
    engine.finish();

    Violation v = single(finals.get("o-1"));
    assertThat(v.kind()).isEqualTo(ViolationKind.BROKEN_PROPAGATION);
    assertThat(v.stage()).isEqualTo("done");
    assertThat(v.message()).isEqualTo("t.done[0]@2 is in trace " + trace("c1") + ", which neither continues nor links to "
        + "the flow's trace " + trace("b1") + ": the hop before done_msg lost the trace context");
  }

  @Test
  void aHopWhoseSpansAreStillInTheExportersBatchIsNotCalledBrokenAtTheGrace() {
    placed("o-1", "a1", 0);
    paid("o-1", "a1", "b1", "evt-1", 100);
    doneRecord("o-1", "b1", 200);
    advance(200 + GRACE_MS + 1_000);
    assertThat(events).as("decided while svc2's spans were still on their way").isEmpty();

    doneSpans("b1", 200, true);
    advance(200 + GRACE_MS + 1_001);

    assertThat(events).containsExactly("decided PASSED");
    assertThat(lastDecided.reason()).isEqualTo("complete");
  }

  @Test
  void aHopWhoseTraceSendsNoSpanByAGracePastTheDeadlineIsBrokenPropagationThen() {
    placed("o-1", "a1", 0);
    paid("o-1", "a1", "b1", "evt-1", 100);
    doneRecord("o-1", "b1", 200);
    advance(10_000 + GRACE_MS - 1);
    assertThat(events).as("spans from before the deadline may still be in an exporter's batch").isEmpty();

    advance(10_000 + GRACE_MS);

    assertThat(events).containsExactly("decided FAILED");
    assertThat(single(lastDecided).kind()).isEqualTo(ViolationKind.BROKEN_PROPAGATION);
    assertThat(lastDecided.reason()).isEqualTo("terminal stage seen; waited until " + GRACE_MS
        + " ms past the deadline for the spans of trace " + trace("c1"));
  }

  @Test
  void aHopWhoseProducerSpanCameButNotTheRootSpanThatLinksItWaitsForTheRoot() {
    placed("o-1", "a1", 0);
    paid("o-1", "a1", "b1", "evt-1", 100);
    doneRecord("o-1", "b1", 200);
    doneProducerSpan("b1", 200);
    advance(200 + GRACE_MS + 1_000);
    assertThat(events).as("decided while the consumer span that links the trace was still in another batch").isEmpty();

    doneConsumerSpan("b1", 200, true);
    advance(200 + GRACE_MS + 1_001);

    assertThat(events).containsExactly("decided PASSED");
  }

  @Test
  void aStageLackingOnlyASpanEventPastTheGraceWaitsForItUpToTheDeadline() {
    placed("o-1", "a1", 0);
    paidWithoutTheWebhookSpan("o-1", "b1", 101);
    done("o-1", "b1", 200, true);
    advance(200 + GRACE_MS + 1_000);
    assertThat(events).as("decided while the webhook's span was still in its exporter's batch").isEmpty();

    feed(new Span(trace("b1"), span("b1w"), "", "POST /hook", SpanKind.SERVER, "svc", nanos(100), nanos(105),
        Map.of("http.request.body", "{\"orderId\":\"o-1\",\"eventId\":\"evt-1\"}"), List.of(), false));
    advance(200 + GRACE_MS + 1_001);

    assertThat(events).containsExactly("decided PASSED");
  }

  @Test
  void aStageLackingOnlyASpanEventWhoseDataChoosesALaterPathWaitsForItUpToTheDeadline() throws Exception {
    Path branchy = Files.createDirectories(dir.resolve("branchy"));
    Files.writeString(branchy.resolve("mini.flow.yaml"), SPEC.replace("  - id: done\n", String.join("\n",
        "  - id: refunded",
        "    after: paid",
        "    when: webhook.status == \"refund\"",
        "    events:",
        "      - id: refund_msg",
        "        topic: t.refund",
        "  - id: done",
        "")));
    engine = listening(FlowEngine.builder(new FlowSpecLoader().load(branchy)));
    placed("o-1", "a1", 0);
    feed(new Span(trace("b1"), span("b1r"), "", "POST /provider", SpanKind.SERVER, "edge", nanos(99), nanos(106),
        Map.of(), List.of(), false)); // the webhook's trace has its root: only the webhook's own span is late
    paidWithoutTheWebhookSpan("o-1", "b1", 101);
    done("o-1", "b1", 200, true);
    advance(200 + GRACE_MS + 1_000);
    assertThat(events).as("decided while the webhook's span, whose data says whether a refund follows, was in its"
        + " exporter's batch").isEmpty();

    feed(new Span(trace("b1"), span("b1w"), span("b1r"), "POST /hook", SpanKind.SERVER, "svc", nanos(100), nanos(105),
        Map.of("http.request.body", "{\"orderId\":\"o-1\",\"eventId\":\"evt-1\",\"status\":\"ok\"}"), List.of(), false));
    advance(200 + GRACE_MS + 1_001);

    assertThat(events).containsExactly("decided PASSED");
  }

  @Test
  void aStageStillLackingASpanEventAGracePastTheDeadlineIsMissingThen() {
    placed("o-1", "a1", 0);
    feed(record("t.paid", 101, "{\"orderId\":\"o-1\"}", null));
    doneRecord("o-1", "b1", 200);
    doneSpans("b1", 200, false);
    advance(10_000 + GRACE_MS - 1);
    assertThat(events).isEmpty();

    advance(10_000 + GRACE_MS);
    assertThat(events).containsExactly("decided FAILED");
    assertThat(lastDecided.violations()).extracting(Violation::kind).contains(ViolationKind.MISSING_STAGE);
    assertThat(lastDecided.reason()).isEqualTo("terminal stage seen; waited until " + GRACE_MS
        + " ms past the deadline for the span event webhook");
  }

  @Test
  void spansWaitedForPastTheGraceThatComeWithoutTheLinkAreBrokenPropagationAtOnce() {
    placed("o-1", "a1", 0);
    paid("o-1", "a1", "b1", "evt-1", 100);
    doneRecord("o-1", "b1", 200);
    advance(200 + GRACE_MS + 1_000);

    doneSpans("b1", 200, false);
    advance(200 + GRACE_MS + 1_001);

    assertThat(events).containsExactly("decided FAILED");
    assertThat(single(lastDecided).kind()).isEqualTo(ViolationKind.BROKEN_PROPAGATION);
  }

  @Test
  void aHopWhoseSpansArriveWithoutTheLinkIsBrokenAtTheGraceWithoutWaitingForTheDeadline() {
    placed("o-1", "a1", 0);
    paid("o-1", "a1", "b1", "evt-1", 100);
    done("o-1", "b1", 200, false);
    advance(200 + GRACE_MS);

    assertThat(events).containsExactly("decided FAILED");
    assertThat(single(lastDecided).kind()).isEqualTo(ViolationKind.BROKEN_PROPAGATION);
  }

  @Test
  void aRecordWithoutTraceparentIsBrokenPropagation() {
    placed("o-1", "a1", 0);
    paid("o-1", "a1", "b1", "evt-1", 100);
    feed(record("t.done", 200, "{\"orderId\":\"o-1\"}", null));
    advance(3000);
    engine.finish();

    Violation v = single(finals.get("o-1"));
    assertThat(v.kind()).isEqualTo(ViolationKind.BROKEN_PROPAGATION);
    assertThat(v.message()).isEqualTo("t.done[0]@2 has no traceparent header: its producer did not propagate the trace context");
  }

  @Test
  void aRecordWithATraceparentThatIsNotTraceContextSaysWhatItCarried() {
    placed("o-1", "a1", 0);
    paid("o-1", "a1", "b1", "evt-1", 100);
    feed(record("t.done", 200, "{\"orderId\":\"o-1\"}", "garbage\u0007<b>"));
    advance(3000);
    engine.finish();

    Violation v = single(finals.get("o-1"));
    assertThat(v.kind()).isEqualTo(ViolationKind.BROKEN_PROPAGATION);
    assertThat(v.message()).isEqualTo("t.done[0]@2 has a traceparent header that is not W3C trace context "
        + "(\"garbage\\u0007<b>\"): its producer did not propagate the trace context");
    assertThat(v.actual()).isEqualTo("\"garbage\\u0007<b>\"");
  }

  @Test
  void inputEndingBeforeTheDeadlineLeavesTheInstanceIncomplete() {
    placed("o-1", "a1", 0);
    paid("o-1", "a1", "b1", "evt-1", 100);
    advance(5000);
    engine.finish();

    assertThat(finals.get("o-1").status()).isEqualTo(VerdictStatus.INCOMPLETE);
    assertThat(finals.get("o-1").violations()).isEmpty();
  }

  /**
   * Live, partitions deliver out of order (after a broker outage, a later stage's topic may be read
   * first): the gateway's span (no keys, trace a) opens an instance by trace, the keyed record of a
   * later stage (another trace) opens one by key, and then the first stage's record — trace a and
   * the key — shows they are one instance. They are merged, not decided apart.
   */
  @Test
  void aRecordThatJoinsAKeyedInstanceMergesTheInstanceItsTraceOpened() throws Exception {
    Path keyless = dir.resolve("keyless");
    Files.createDirectories(keyless);
    Files.writeString(keyless.resolve("gate.flow.yaml"), String.join("\n",
        "flow: gate",
        "keys: [orderId]",
        "deadline: 10s",
        "stages:",
        "  - id: requested",
        "    events:",
        "      - id: request",
        "        span: {service: gw, kind: SERVER, name: POST /orders}",
        "      - id: requested_msg",
        "        topic: t.requested",
        "  - id: done",
        "    after: requested",
        "    terminal: true",
        "    events:",
        "      - id: done_msg",
        "        topic: t.done",
        ""));
    List<Verdict> decided = new ArrayList<>();
    FlowEngine gate = FlowEngine.builder(new FlowSpecLoader().load(keyless)).listener(new VerdictListener() {
      @Override
      public void decided(Verdict v) {
        decided.add(v);
      }
    }).build();
    String request = span("ar");
    gate.accept(Telemetry.of(new Span(trace("a"), request, "", "POST /orders", SpanKind.SERVER, "gw", nanos(0),
        nanos(5), Map.of(), List.of(), false)));
    gate.accept(Telemetry.of(record("t.done", 300, "{\"orderId\":\"o-1\"}", traceparent(trace("b"), span("bp")))));
    gate.accept(Telemetry.of(record("t.requested", 3, "{\"orderId\":\"o-1\"}", traceparent(trace("a"), request))));
    gate.advanceTo(nanos(20_000));

    assertThat(decided).singleElement().satisfies(v -> {
      assertThat(v.keys()).containsEntry("orderId", "o-1");
      assertThat(v.violations()).noneMatch(x -> x.kind() == io.flowtrace.verifier.check.ViolationKind.MISSING_STAGE);
    });
  }

  @Test
  void instancesAreStitchedAcrossTracesByBusinessKey() {
    placed("o-1", "a1", 0);
    placed("o-2", "a2", 10);
    paid("o-2", "a2", "b2", "evt-2", 100);
    paid("o-1", "a1", "b1", "evt-1", 110);
    done("o-2", "b2", 200, true);
    done("o-1", "b1", 210, true);
    advance(300);
    engine.finish();

    assertThat(finals).containsOnlyKeys("o-1", "o-2");
    assertThat(finals.get("o-1").traceIds()).containsExactly(trace("a1"), trace("b1"), trace("c1"));
    assertThat(finals.values()).allSatisfy(v -> assertThat(v.status()).isEqualTo(VerdictStatus.PASSED));
  }

  @Test
  void pastTheInFlightCapTheOldestInstanceIsDecidedIncompleteWithTheReason() throws Exception {
    engine = capped(FlowEngine.builder(new FlowSpecLoader().load(dir)).maxOpenInstances(2));
    placed("o-1", "a1", 0);
    placed("o-2", "a2", 10);
    advance(20);
    assertThat(events).isEmpty();

    placed("o-3", "a3", 30);
    advance(40);

    assertThat(events).containsExactly("decided INCOMPLETE");
    assertThat(lastDecided.keys()).containsEntry("orderId", "o-1");
    assertThat(lastDecided.reason()).contains("2 instances in flight", "maxOpenInstances");
    assertThat(engine.stats().instancesEvicted()).isEqualTo(1);
    assertThat(engine.stats().openInstances()).isEqualTo(2);
  }

  @Test
  void anInstanceWithMoreEventsThanTheCapIsDecidedIncompleteAndStopsGrowing() throws Exception {
    engine = capped(FlowEngine.builder(new FlowSpecLoader().load(dir)).maxEventsPerInstance(2));
    placed("o-1", "a1", 0);
    paid("o-1", "a1", "b1", "evt-1", 100);
    paid("o-1", "a1", "d1", "evt-2", 150);
    advance(200);

    assertThat(events).containsExactly("decided INCOMPLETE");
    assertThat(lastDecided.reason()).contains("more than 2 events", "maxEventsPerInstance");
    assertThat(engine.stats().eventsDropped()).isEqualTo(3); // the first paid_msg, then the second webhook and paid_msg

    done("o-1", "b1", 300, true);
    advance(500);
    assertThat(events).containsExactly("decided INCOMPLETE");
  }

  @Test
  void aPayloadOverTheCapIsNotDecodedAndItsInstanceEndsIncomplete() throws Exception {
    engine = capped(FlowEngine.builder(new FlowSpecLoader().load(dir)).maxPayloadBytes(64));
    placed("o-1", "a1", 0);
    String big = "{\"orderId\":\"o-1\",\"pad\":\"" + "x".repeat(100) + "\"}";
    feed(new KafkaRecord("t.paid", 0, offsets++, T0 + 100, "o-1", List.of(), big.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    advance(200);

    assertThat(engine.stats().payloadsTooLarge()).isEqualTo(1);
    assertThat(events).isEmpty(); // without a key from the payload the record cannot join o-1
  }

  @Test
  void eventsOfAnInstanceDecidedByAnEarlierRunAreDroppedAsLate() throws Exception {
    engine.live().markDecided("mini", Map.of("orderId", "o-1"), List.of(trace("a1")));
    placed("o-1", "a1", 0);
    paid("o-1", "a1", "b1", "evt-1", 100);
    done("o-1", "b1", 200, true);
    engine.advanceTo(nanos(60_000));
    engine.finish();

    assertThat(events).isEmpty();
    assertThat(engine.stats().lateDropped()).isGreaterThanOrEqualTo(2);
    assertThat(engine.stats().instancesOpened()).isZero();
  }

  @Test
  void anInstanceDecidedByAnEarlierOwnerReadAgainFromItsFirstEventIsVerifiedAgainSilentlyWhenItsVerdictStands() {
    engine.live().markDecided("mini", Map.of("orderId", "o-1"), List.of(trace("a1"), trace("b1")), 0, "PASSED", List.of());
    placed("o-1", "a1", 0);
    paid("o-1", "a1", "b1", "evt-1", 100);
    done("o-1", "b1", 200, true);
    engine.advanceTo(nanos(60_000));
    engine.finish();

    assertThat(events).as("nothing published again").noneMatch(e -> e.startsWith("decided") || e.startsWith("amended"));
    assertThat(engine.stats().instancesReverified()).isEqualTo(1);
    assertThat(engine.stats().lateDropped()).isZero();
  }

  @Test
  void anInstanceDecidedByAnEarlierOwnerIsAmendedAfterItsRevisionByWhatThatOwnerNeverSaw() {
    engine.live().markDecided("mini", Map.of("orderId", "o-1"), List.of(trace("a1"), trace("b1")), 2,
        "FAILED", List.of("MISSING_STAGE@done"));
    placed("o-1", "a1", 0);
    paid("o-1", "a1", "b1", "evt-1", 100);
    done("o-1", "b1", 200, true);
    engine.advanceTo(nanos(60_000));

    assertThat(events).containsExactly("amended elsewhere->PASSED r3");
  }

  @Test
  void anInstanceDecidedByAnEarlierOwnerWhoseLaterEventsAreReadAgainBeforeItsFirstIsVerifiedWithThem() {
    // partitions read again after a restart come in any order: t.done's before t.placed's
    engine.live().markDecided("mini", Map.of("orderId", "o-1"), List.of(trace("a1"), trace("b1")), 2,
        "FAILED", List.of("MISSING_STAGE@done"));
    done("o-1", "b1", 200, true);
    paid("o-1", "a1", "b1", "evt-1", 100);
    placed("o-1", "a1", 0);
    engine.advanceTo(nanos(60_000));

    assertThat(events).containsExactly("amended elsewhere->PASSED r3");
    assertThat(engine.stats().lateDropped()).isZero();
  }

  @Test
  void anInstanceDecidedByAnEarlierOwnerReadAgainOnlyInPartStaysAsThatOwnerDecidedIt() {
    engine.live().markDecided("mini", Map.of("orderId", "o-1"), List.of(trace("a1"), trace("b1")), 0, "PASSED", List.of());
    placed("o-1", "a1", 0); // paid's events were committed before the handover: not read again
    engine.advanceTo(nanos(12_000));
    done("o-1", "b1", 200, true);
    engine.advanceTo(nanos(20_000));
    engine.finish();

    assertThat(events).as("a verdict from part of the instance would be wrong")
        .noneMatch(e -> e.startsWith("decided") || e.startsWith("amended"));
    assertThat(engine.stats().instancesReverified()).isEqualTo(1);
  }

  @Test
  void anEventReadAgainWithOnlyAnotherKeyOfAReverifiedInstanceJoinsItInsteadOfOpeningOne() throws Exception {
    Path twoKeys = Files.createDirectories(dir.resolve("two-keys"));
    Files.writeString(twoKeys.resolve("mini.flow.yaml"), SPEC.replace("keys: [orderId]", "keys: [requestId, orderId]"));
    engine = listening(FlowEngine.builder(new FlowSpecLoader().load(twoKeys)));
    engine.live().markDecided("mini", Map.of("requestId", "r-1", "orderId", "o-1"), List.of(trace("a1"), trace("c1")), 0,
        "PASSED", List.of());
    feed(record("t.placed", 0, "{\"requestId\":\"r-1\"}", null)); // the entry, read again
    feed(record("t.done", 200, "{\"orderId\":\"o-1\"}", null)); // t.paid, which joins the two keys, was not
    engine.advanceTo(nanos(20_000));
    engine.finish();

    assertThat(events).as("no second instance for o-1").noneMatch(e -> e.startsWith("decided") || e.startsWith("amended"));
    assertThat(engine.stats().instancesOpened()).isEqualTo(1);
  }

  @Test
  void anInstanceDecidedByAnEarlierOwnerReadAgainWithoutItsFirstEventIsLate() {
    engine.live().markDecided("mini", Map.of("orderId", "o-1"), List.of(trace("a1"), trace("b1")), 0,
        "FAILED", List.of("MISSING_STAGE@done"));
    paid("o-1", "a1", "b1", "evt-1", 100);
    done("o-1", "b1", 200, true);
    engine.advanceTo(nanos(60_000));
    engine.finish();

    assertThat(events).as("a verdict from part of the instance would be wrong").isEmpty();
    assertThat(engine.stats().instancesOpened()).isZero();
    assertThat(engine.stats().lateDropped()).isPositive();
  }

  @Test
  void aDataDrivenDecisionReportsItsLatencyAfterTheLastArrival() throws Exception {
    List<Long> latencies = new ArrayList<>();
    engine = capped(FlowEngine.builder(new FlowSpecLoader().load(dir)).decisionLatency(latencies::add));
    long before = System.nanoTime();
    engine.live().arrival(before);
    placed("o-1", "a1", 0);
    paid("o-1", "a1", "b1", "evt-1", 100);
    done("o-1", "b1", 200, true);
    advance(200);
    long bound = System.nanoTime() - before;

    assertThat(events).containsExactly("decided PASSED");
    assertThat(latencies).singleElement().satisfies(l -> assertThat(l).isBetween(0L, bound));
  }

  @Test
  void withChecksOnAnotherThreadTheLatencyRunsUntilTheVerdictIsDelivered() throws Exception {
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    io.flowtrace.verifier.check.Check held = instance -> {
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return List.of();
    };
    List<Long> latencies = new ArrayList<>();
    engine = capped(FlowEngine.builder(new FlowSpecLoader().load(dir))
        .verifier(new io.flowtrace.verifier.report.FlowVerifier(List.of(held))).verificationThreads(1)
        .decisionLatency(latencies::add));
    long before = System.nanoTime();
    engine.live().arrival(before);
    placed("o-1", "a1", 0);
    paid("o-1", "a1", "b1", "evt-1", 100);
    done("o-1", "b1", 200, true);
    advance(200);

    assertThat(latencies).as("its checks are still running").isEmpty();
    assertThat(engine.live().verifying()).isTrue();
    long released = System.nanoTime();
    release.countDown();
    engine.finish();
    assertThat(engine.live().verifying()).isFalse();

    assertThat(events).containsExactly("decided PASSED");
    assertThat(latencies).singleElement().satisfies(l -> assertThat(l).isGreaterThanOrEqualTo(released - before));
  }

  @Test
  void anInstanceFromASourceStillBeingCaughtUpWithIsNotDecidedAtItsDeadlineUntilTheSourceHasBeenRead() {
    java.util.Set<Integer> catchingUp = new java.util.HashSet<>(Set.of(3));
    engine.live().holdDecisions(catchingUp::contains);
    engine.live().source(3);
    placed("o-1", "a1", 0);
    engine.live().source(4);
    placed("o-2", "a2", 10);
    engine.advanceTo(nanos(60_000));

    assertThat(lastDecided.keys()).as("past both deadlines; o-1's source is still being read").containsEntry("orderId", "o-2");
    assertThat(engine.stats().openInstances()).isEqualTo(1);

    catchingUp.clear();
    engine.advanceTo(nanos(60_001));
    assertThat(lastDecided.keys()).containsEntry("orderId", "o-1");
    assertThat(engine.stats().openInstances()).isZero();
  }

  @Test
  void openInstancesFromASourceThatMovedAwayAreDroppedWithoutAVerdict() {
    engine.live().source(3);
    placed("o-1", "a1", 0);
    engine.live().source(4);
    placed("o-2", "a2", 10);
    advance(20);

    assertThat(engine.live().discardOpen(tag -> tag == 3)).isEqualTo(1);
    engine.advanceTo(nanos(60_000));
    engine.finish();

    assertThat(finals).containsOnlyKeys("o-2");
    assertThat(engine.stats().instancesDiscarded()).isEqualTo(1);
  }

  private FlowEngine capped(FlowEngine.Builder builder) {
    return builder.listener(new VerdictListener() {
      @Override
      public void decided(Verdict v) {
        events.add("decided " + v.status());
        lastDecided = v;
      }
    }).build();
  }

  // ---- fixture: the producer span, record and consumer span of each hop ----

  private void placed(String orderId, String trace, long ms) {
    String producer = span(trace + "p");
    feed(new Span(trace(trace), producer, "", "send t.placed", SpanKind.PRODUCER, "svc", nanos(ms), nanos(ms) + 500_000,
        Map.of("messaging.destination.name", "t.placed"), List.of(), false));
    feed(record("t.placed", ms, "{\"orderId\":\"" + orderId + "\"}", traceparent(trace(trace), producer)));
  }

  private void paid(String orderId, String placedTrace, String webhookTrace, String eventId, long ms) {
    feed(new Span(trace(webhookTrace), span(webhookTrace + "w"), "", "POST /hook", SpanKind.SERVER, "svc", nanos(ms),
        nanos(ms + 5), Map.of("http.request.body", "{\"orderId\":\"" + orderId + "\",\"eventId\":\"" + eventId + "\"}"),
        List.of(), false));
    String producer = span(webhookTrace + "p");
    feed(new Span(trace(webhookTrace), producer, span(webhookTrace + "w"), "send t.paid", SpanKind.PRODUCER, "svc",
        nanos(ms + 1), nanos(ms + 2), Map.of("messaging.destination.name", "t.paid"), List.of(), false));
    feed(record("t.paid", ms + 1, "{\"orderId\":\"" + orderId + "\"}", traceparent(trace(webhookTrace), producer)));
  }

  /** The t.paid record and its producer span, a child of the webhook's span, which is not fed. */
  private void paidWithoutTheWebhookSpan(String orderId, String webhookTrace, long ms) {
    String producer = span(webhookTrace + "p");
    feed(new Span(trace(webhookTrace), producer, span(webhookTrace + "w"), "send t.paid", SpanKind.PRODUCER, "svc",
        nanos(ms), nanos(ms + 1), Map.of("messaging.destination.name", "t.paid"), List.of(), false));
    feed(record("t.paid", ms, "{\"orderId\":\"" + orderId + "\"}", traceparent(trace(webhookTrace), producer)));
  }

  /** The consumer of t.paid starts a new trace (c…) and, when {@code linked}, links to the producer. */
  private void done(String orderId, String webhookTrace, long ms, boolean linked) {
    doneRecord(orderId, webhookTrace, ms);
    doneSpans(webhookTrace, ms, linked);
  }

  private void doneRecord(String orderId, String webhookTrace, long ms) {
    String consumerTrace = "c" + webhookTrace.substring(1);
    feed(record("t.done", ms, "{\"orderId\":\"" + orderId + "\"}",
        traceparent(trace(consumerTrace), span(consumerTrace + "p"))));
  }

  /** svc2's spans of the hop, as its exporter sends them: the producer span and the consumer span. */
  private void doneSpans(String webhookTrace, long ms, boolean linked) {
    doneProducerSpan(webhookTrace, ms);
    doneConsumerSpan(webhookTrace, ms, linked);
  }

  /** svc2's producer span of t.done: a child of its consumer span, in the consumer's (new) trace. */
  private void doneProducerSpan(String webhookTrace, long ms) {
    String consumerTrace = "c" + webhookTrace.substring(1);
    feed(new Span(trace(consumerTrace), span(consumerTrace + "p"), span(consumerTrace + "c"), "t.done publish",
        SpanKind.PRODUCER, "svc2", nanos(ms), nanos(ms + 1),
        Map.of("messaging.destination.name", "t.done", "messaging.operation", "publish"), List.of(), false));
  }

  /** svc2's consumer span of t.paid: the root of a new trace, linked to the webhook's when {@code linked}. */
  private void doneConsumerSpan(String webhookTrace, long ms, boolean linked) {
    String consumerTrace = "c" + webhookTrace.substring(1);
    List<SpanLink> links = linked ? List.of(new SpanLink(trace(webhookTrace), span(webhookTrace + "p"), Map.of())) : List.of();
    feed(new Span(trace(consumerTrace), span(consumerTrace + "c"), "", "t.paid process", SpanKind.CONSUMER, "svc2",
        nanos(ms - 1), nanos(ms + 2), Map.of("messaging.destination.name", "t.paid", "messaging.operation", "process"),
        links, false));
  }

  private KafkaRecord record(String topic, long ms, String json, String traceparent) {
    List<RecordHeader> headers = traceparent == null ? List.of() : List.of(RecordHeader.ofString("traceparent", traceparent));
    return new KafkaRecord(topic, 0, offsets++, T0 + ms, null, headers, json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  private void feed(Span span) {
    engine.accept(Telemetry.of(span));
  }

  private void feed(KafkaRecord record) {
    engine.accept(Telemetry.of(record));
  }

  private void advance(long ms) {
    engine.advanceTo(nanos(ms));
  }

  private static long nanos(long ms) {
    return (T0 + ms) * 1_000_000L;
  }

  private static String trace(String name) {
    return hex(name, 32);
  }

  private static String span(String name) {
    return hex(name, 16);
  }

  private static String hex(String name, int length) {
    StringBuilder sb = new StringBuilder();
    for (char c : name.toCharArray()) {
      sb.append(String.format("%02x", (int) c));
    }
    while (sb.length() < length) {
      sb.insert(0, '0');
    }
    return sb.substring(sb.length() - length);
  }

  private static String traceparent(String trace, String span) {
    return "00-" + trace + "-" + span + "-01";
  }

  private static Violation single(Verdict v) {
    assertThat(v.violations()).as(v.toString()).hasSize(1);
    return v.violations().get(0);
  }
}
