package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two flows whose last records share one topic: bookings and reviews both send an e-mail through
 * {@code notifications.outbox}, each record keyed by its own flow's id. Drafted with that record
 * key as the instance key, each flow took the other's e-mails for instances of its own (1,038
 * instances for 520 flows in the trial that found it, half of them failing); and an e-mail that
 * one flow placed was still reported as placed in no instance, because the other did not.
 */
class InferSharedTopicTest {

  private static final long T0 = 1_796_893_200_000L;

  @TempDir Path work;

  private final Random random = new Random(5);
  private final KcatLines kcat = new KcatLines(random);

  @Test
  void aTopicTwoFlowsShareIsNotKeyedByItsRecordKeyAndEachRecordIsPlacedOnce() throws Exception {
    for (int i = 0; i < 240; i++) {
      long start = T0 + i * 700L;
      if (i % 3 == 2) {
        String id = String.format(Locale.ROOT, "RV-%05d", i);
        flow(start, "reviews.submitted", "reviews.published", "reviewId", id, "REVIEW_THANKS");
      } else {
        String id = String.format(Locale.ROOT, "BK-%05d", i);
        flow(start, "bookings.requested", "bookings.confirmed", "bookingId", id, "BOOKING_CONFIRMED");
      }
    }
    Path recording = kcat.write(work.resolve("rec"));
    Path drafts = work.resolve("drafts");

    Inference.builder().build().infer(recording).write(drafts);
    String yaml;
    try (var files = Files.walk(drafts)) {
      yaml = files.filter(f -> f.toString().endsWith(".flow.yaml")).sorted().map(f -> {
        try {
          return Files.readString(f);
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }).collect(Collectors.joining("\n"));
    }
    List<FlowSpec> flows = new FlowSpecLoader().load(drafts);
    Replays.Run run = Replays.run(flows, recording);
    List<Verdict> verdicts = run.finals();

    assertThat(flows).as(yaml).hasSize(2);
    assertThat(yaml).contains("topic notifications.outbox also carries records that are not this flow's");
    assertThat(verdicts).as(yaml).hasSize(240).allSatisfy(v -> assertThat(v.violations()).as(yaml).isEmpty());
    assertThat(run.stats().eventsUnplaced()).as("each e-mail was placed by its own flow").isZero();
  }

  /**
   * Payouts and refunds both book on {@code ledger.events}, and a refund's entry names the order it
   * refunds under the payout flow's key, {@code orderId}. Joined by that key, each refund's entry opened a payout
   * instance or polluted one (860 instances for 750 flows in the trial that found it). Wallet
   * payouts end at their ledger entry; only bank payouts wait for the bank's settlement.
   */
  @Test
  void anotherFlowsRecordsOnASharedTopicThatCarryThisFlowsKeyJoinNothingAndABranchEndsWhereItStops()
      throws Exception {
    int flows = 0;
    for (int i = 0; i < 240; i++) {
      long start = T0 + i * 700L;
      // a refund is for an order of another marketplace: its id is no payout's order
      String order = String.format(Locale.ROOT, i % 3 == 2 ? "ORD-9%04d" : "ORD-%05d", i);
      String trace = kcat.trace();
      if (i % 3 == 2) {
        String refund = String.format(Locale.ROOT, "RF-%05d", i);
        kcat.record("refunds.requested", start, trace, refund, Map.of("refundId", refund, "orderId", order,
            "amount", 10 + i % 7));
        kcat.record("ledger.events", start + 30, trace, refund, Map.of("refundId", refund, "orderId", order,
            "type", "REFUND_BOOKED"));
      } else {
        String payout = String.format(Locale.ROOT, "PO-%05d", i);
        String method = i % 4 == 0 ? "WALLET" : "BANK";
        kcat.record("orders.delivered", start, trace, order, Map.of("orderId", order, "seller", "S-" + i % 9));
        kcat.record("payouts.executed", start + 25, trace, payout, Map.of("orderId", order, "payoutId", payout,
            "method", method));
        kcat.record("ledger.events", start + 45, trace, payout, Map.of("orderId", order, "payoutId", payout,
            "type", "PAYOUT_BOOKED"));
        if (method.equals("BANK")) {
          kcat.record("payouts.settled", start + 300, kcat.trace(), payout, Map.of("payoutId", payout,
              "bank", "B-" + i % 5));
        }
      }
      flows++;
    }
    Path recording = kcat.write(work.resolve("rec"));
    Path drafts = work.resolve("drafts");

    Inference.builder().build().infer(recording).write(drafts);
    String yaml = Files.readString(drafts.resolve("orders-delivered/orders-delivered.flow.yaml"));
    Replays.Run run = Replays.run(new FlowSpecLoader().load(drafts), recording);

    assertThat(yaml).contains("keys: {}   # joins through its trace");
    assertThat(yaml).containsPattern("- id: ledger-events   # seen in 160\\/160 instances\\n    after: payouts-executed\\n    terminal: true");
    assertThat(run.finals()).as(yaml).hasSize(flows)
        .allSatisfy(v -> assertThat(v.violations()).as(yaml + v).isEmpty());
  }

  /**
   * A trial's returns and exchanges both have their items inspected on {@code inspection.completed},
   * each record naming its own flow's id. Drafted to join by trace alone, a return's inspection that
   * lost its trace context joined nothing: the return passed on its other items' inspections, or
   * failed as if never inspected. The exchanges carry no {@code returnId}, so the return's key can
   * stay, and the inspection that lost its context is placed in its return (where spans come too, a
   * broken hop there).
   */
  @Test
  void aSharedTopicWhoseOtherRecordsCarryNoneOfThisFlowsKeysKeepsThePayloadKey() throws Exception {
    KcatLines traffic = new KcatLines(new Random(9));
    for (int i = 0; i < 120; i++) {
      inspected(traffic, i, false);
    }
    Path recording = traffic.write(work.resolve("inspections"));
    Path drafts = work.resolve("inspection-drafts");

    Inference.builder().build().infer(recording).write(drafts);
    String yaml = Files.readString(drafts.resolve("returns-requested/returns-requested.flow.yaml"));
    List<FlowSpec> flows = new FlowSpecLoader().load(drafts);
    KcatLines later = new KcatLines(new Random(10));
    inspected(later, 500, false);
    inspected(later, 503, true);
    Replays.Run run = Replays.run(flows, later.write(work.resolve("later")));

    assertThat(yaml).contains("topic inspection.completed also carries records that are not this flow's")
        .doesNotContain("keys: {}");
    assertThat(run.finals()).as(yaml).hasSize(2).allSatisfy(v -> assertThat(v.violations()).as(yaml).isEmpty());
    assertThat(run.stats().eventsUnplaced()).as("the inspection that lost its trace context, placed in its return")
        .isZero();
  }

  /** A return (two of three) or an exchange, its item inspected; {@code lost}: the inspection without trace context. */
  private static void inspected(KcatLines kcat, int i, boolean lost) {
    long start = T0 + i * 900L;
    String trace = kcat.trace();
    boolean exchange = i % 3 == 1;
    String idField = exchange ? "exchangeId" : "returnId";
    String id = String.format(Locale.ROOT, exchange ? "EX-%05d" : "RT-%05d", i);
    kcat.record(exchange ? "exchanges.requested" : "returns.requested", start, trace, id,
        Map.of(idField, id, "sku", "SKU-" + i % 11));
    Map<String, Object> done = Map.of(idField, id, "grade", i % 2 == 0 ? "A" : "B");
    if (lost) {
      kcat.untraced("inspection.completed", start + 200, id, done);
    } else {
      kcat.record("inspection.completed", start + 200, trace, id, done);
    }
    kcat.record(exchange ? "exchanges.closed" : "returns.refunded", start + 400, trace, id, Map.of(idField, id));
  }

  private void flow(long start, String first, String second, String idField, String id, String template) {
    String trace = kcat.trace();
    long t = start;
    Map<String, Object> payload = new java.util.LinkedHashMap<>();
    payload.put(idField, id);
    payload.put("guest", "guest-" + random.nextInt(1000));
    kcat.record(first, t, trace, id, payload);
    t += 20 + random.nextInt(40);
    payload.put("status", "OK");
    kcat.record(second, t, trace, id, payload);
    t += 20 + random.nextInt(40);
    Map<String, Object> mail = new java.util.LinkedHashMap<>();
    mail.put("notificationId", kcat.hex(16));
    mail.put(idField, id);
    mail.put("template", template);
    mail.put("to", "guest" + random.nextInt(1000) + "@example.org");
    kcat.record("notifications.outbox", t, trace, id, mail);
  }
}
