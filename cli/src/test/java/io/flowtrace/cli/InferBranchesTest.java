package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ticket purchases as a trial drafted them (0 of 600 of its own purchases passed): seats held for
 * nine purchases in ten and then charged, unavailable for the tenth; a purchase that fails either
 * for its seats or for its payment; a subtotal that only held seats have; a wallet pass where the
 * purchase named a wallet, made from the ticket as the e-mail is, before or after it; a refund for
 * some purchases that no field announces (an optional stage).
 */
class InferBranchesTest {

  @TempDir Path work;
  private Path recording;
  private String spec;
  private FlowSpec flow;

  @BeforeEach
  void draft() throws Exception {
    recording = purchases("tickets", false);
    Path drafts = work.resolve("drafts");
    Inference.builder().name("tickets").build().infer(recording).write(drafts);
    spec = Files.readString(drafts.resolve("tickets/tickets.flow.yaml"));
    flow = new FlowSpecLoader().load(drafts).get(0);
  }

  /** 200 purchases; with {@code sampleSome}, every third trace is not sampled (its spans never exported). */
  private Path purchases(String name, boolean sampleSome) throws Exception {
    Path recording = Files.createDirectories(work.resolve(name));
    try (RecordingWriter writer = RecordingWriter.open(recording)) {
      TracedTraffic out = new TracedTraffic(writer);
      long offset = 0;
      for (int i = 0; i < 200; i++) {
        boolean sampled = !sampleSome || i % 3 != 1;
        String trace = String.format("%032x", 0x7100L + i);
        String purchase = "PUR-" + (10_000 + i);
        long t = 1_798_000_000_000L + i * 900L;
        boolean held = i % 10 != 4;
        boolean declined = held && i % 7 == 2;
        out.span(sampled, trace, "a" + i, "", "POST /purchases", SpanKind.SERVER, "box-office", t, t + 30,
            Map.of("http.route", "/purchases", "http.request.body", "{\"purchaseId\":\"" + purchase + "\",\"seats\":2}"));
        out.record(sampled, trace, "b" + i, "a" + i, "box-office", "seat.hold.requested", offset++, t + 10,
            "{\"purchaseId\":\"" + purchase + "\",\"seats\":2}");
        out.record(sampled, trace, "c" + i, "b" + i, "seating", "seat.hold.result", offset++, t + 40, held
            ? "{\"purchaseId\":\"" + purchase + "\",\"status\":\"HELD\",\"subtotal\":" + (60 + i % 3 * 10)
                + ",\"seats\":[{\"price\":30},{\"price\":" + (30 + i % 3 * 10) + "}]}"
            : "{\"purchaseId\":\"" + purchase + "\",\"status\":\"UNAVAILABLE\"}");
        if (!held) {
          out.record(sampled, trace, "f" + i, "c" + i, "seating", "purchase.failed", offset++, t + 50,
              "{\"purchaseId\":\"" + purchase + "\",\"reason\":\"SEATS\"}");
          continue;
        }
        out.span(sampled, trace, "d" + i, "c" + i, "POST", SpanKind.CLIENT, "payments", t + 60, t + 120,
            Map.of("url.full", "https://psp.example/v1/charges", "http.response.body",
                "{\"charge\":\"ch-" + i + "\"}"));
        out.record(sampled, trace, "e" + i, "d" + i, "payments", "payment.result", offset++, t + 130,
            "{\"purchaseId\":\"" + purchase + "\",\"status\":\"" + (declined ? "DECLINED" : "CAPTURED") + "\"}");
        if (declined) {
          out.record(sampled, trace, "f" + i, "e" + i, "payments", "purchase.failed", offset++, t + 140,
              "{\"purchaseId\":\"" + purchase + "\",\"reason\":\"PAYMENT\"}");
          continue;
        }
        boolean wallet = i % 3 == 0;
        String platform = wallet ? ",\"walletPlatform\":\"" + (i % 2 == 0 ? "APPLE" : "GOOGLE") + "\"" : "";
        out.record(sampled, trace, "g" + i, "e" + i, "tickets", "tickets.issued", offset++, t + 150,
            "{\"purchaseId\":\"" + purchase + "\",\"ticketId\":\"TKT-" + i + "\"" + platform + "}");
        // the mailer and the wallet service each consume the ticket; the mail lags now and then
        long mailAt = t + 170 + (i % 4 == 1 ? 400 : 0);
        out.span(sampled, trace, "m" + i, "g" + i, "tickets.issued process", SpanKind.CONSUMER, "mailer", mailAt - 5,
            mailAt + 2, TracedTraffic.consumed("tickets.issued"));
        out.record(sampled, trace, "n" + i, "m" + i, "mailer", "ticket.mails", offset++, mailAt,
            "{\"purchaseId\":\"" + purchase + "\",\"template\":\"ticket\"}");
        if (wallet) {
          out.span(sampled, trace, "v" + i, "g" + i, "tickets.issued process", SpanKind.CONSUMER, "wallet", t + 195,
              t + 205, TracedTraffic.consumed("tickets.issued"));
          out.record(sampled, trace, "w" + i, "v" + i, "wallet", "wallet.passes", offset++, t + 200,
              "{\"passId\":\"PASS-" + (50_000 + i) + "\",\"ticketId\":\"TKT-" + i + "\"}");
        }
        if (i % 11 == 5) {
          // the customer asks for a refund: nothing earlier tells which purchases will
          out.record(sampled, trace, "h" + i, "g" + i, "box-office", "refund.requested", offset++, t + 400,
              "{\"purchaseId\":\"" + purchase + "\",\"ticketId\":\"TKT-" + i + "\"}");
          out.span(sampled, trace, "r" + i, "h" + i, "refund.requested process", SpanKind.CONSUMER, "payments", t + 410,
              t + 475, TracedTraffic.consumed("refund.requested"));
          out.span(sampled, trace, "j" + i, "r" + i, "POST", SpanKind.CLIENT, "payments", t + 420, t + 470,
              Map.of("url.full", "https://psp.example/v1/refunds", "http.response.body", "{\"refund\":\"rf-" + i + "\"}"));
          out.record(sampled, trace, "k" + i, "j" + i, "payments", "refund.completed", offset++, t + 480,
              "{\"purchaseId\":\"" + purchase + "\",\"ticketId\":\"TKT-" + i + "\"}");
        }
      }
    }
    return recording;
  }

  @Test
  void theDraftPassesEveryPurchaseItWasDraftedFrom() throws Exception {
    List<Verdict> verdicts = Replays.finals(List.of(flow), recording);

    assertThat(verdicts).hasSize(200)
        .allSatisfy(v -> assertThat(v.status()).as(v + "\n" + spec).isEqualTo(VerdictStatus.PASSED));
  }

  @Test
  void aStageOfNineInstancesInTenThatAFieldLeavesOutOfTheTenthIsABranch() {
    assertThat(flow.stage("v1-charges").when()).as(spec).isNotNull();
    assertThat(flow.stage("v1-charges").when().source()).isEqualTo("seat_hold_result.status == \"HELD\"");
  }

  @Test
  void aStageThatAlsoHappensWhereItsParentsBranchWasNotTakenFollowsWhereTheBranchLeftFrom() {
    var failed = flow.stage("purchase-failed");

    assertThat(failed.after()).as(spec).containsExactly("payment-result", "seat-hold-result");
    assertThat(failed.when().source())
        .isEqualTo("!(seat_hold_result.status == \"HELD\") || payment_result.status == \"DECLINED\"");
    assertThat(spec).contains("and in each of the 20 instances where v1-charges's condition did not hold");
  }

  @Test
  void aSumOnlySomePayloadsHaveIsCheckedWhereTheyHaveIt() {
    assertThat(spec).contains("expr: '!has(seat_hold_result.subtotal) || !has(seat_hold_result.seats) || money_eq(");
  }

  @Test
  void aStepThatAFieldBeingThereDecidesFollowsWhatCausedItNotWhatCameBeforeByChance() {
    var pass = flow.stage("wallet-passes");

    assertThat(pass).as(spec).isNotNull();
    assertThat(pass.when().source()).isEqualTo("has(tickets_issued.walletPlatform)");
    assertThat(pass.after()).containsExactly("tickets-issued");
    assertThat(flow.keys()).as("an id only the pass has joins nothing").containsExactly("purchaseId", "ticketId");
  }

  /**
   * Where a third of the traces are not sampled, their charge calls (spans alone) are never seen:
   * the held seats of those purchases did not end there, so the hold is no end of the flow.
   */
  @Test
  void aStageIsNoEndForInstancesWhoseNextStepCouldNotBeSeen() throws Exception {
    Path sampled = purchases("sampled", true);
    Path drafts = work.resolve("sampled-drafts");
    Inference.builder().name("tickets").build().infer(sampled).write(drafts);
    FlowSpec draft = new FlowSpecLoader().load(drafts).get(0);

    assertThat(draft.stage("seat-hold-result").terminal())
        .as(Files.readString(drafts.resolve("tickets/tickets.flow.yaml"))).isFalse();
    assertThat(Replays.finals(List.of(draft), sampled))
        .allSatisfy(v -> assertThat(v.status()).as(v.toString()).isEqualTo(VerdictStatus.PASSED));
  }

  @Test
  void aStepThatNoFieldAnnouncesIsOptionalAndItsOwnStepsFollowIt() {
    var refund = flow.stage("refund-requested");

    assertThat(refund).as(spec).isNotNull();
    assertThat(refund.optional()).isTrue();
    assertThat(refund.when()).isNull();
    assertThat(flow.stage("v1-refunds").after()).as(spec).containsExactly("refund-requested");
    assertThat(flow.stage("v1-refunds").optional()).isFalse();
    assertThat(flow.stage("refund-completed").after()).containsExactly("v1-refunds");
    assertThat(spec).containsPattern("optional: true   # happens in only \\d+/200 instances and no field of an earlier"
        + " event tells which; \\d+ instances went on without it");
  }

  @Test
  void alternativesThatNothingTellsApartAreNotOptionalForEveryInstanceTookOne() throws Exception {
    Path recording = Files.createDirectories(work.resolve("reviews"));
    try (RecordingWriter writer = RecordingWriter.open(recording)) {
      TracedTraffic out = new TracedTraffic(writer);
      long offset = 0;
      for (int i = 0; i < 60; i++) {
        String trace = String.format("%032x", 0x9100L + i);
        String id = "REV-" + (10_000 + i);
        long t = 1_798_000_000_000L + i * 900L;
        out.record(true, trace, "a" + i, "", "intake", "review.requested", offset++, t, "{\"reviewId\":\"" + id + "\"}");
        // a reviewer decides; nothing before says how
        String topic = (i * 7919) % 5 < 2 ? "review.rejected" : "review.approved";
        out.record(true, trace, "b" + i, "a" + i, "reviewer", topic, offset++, t + 50, "{\"reviewId\":\"" + id + "\"}");
      }
    }
    Path drafts = work.resolve("review-drafts");
    Inference.builder().name("reviews").build().infer(recording).write(drafts);
    String draft = Files.readString(drafts.resolve("reviews/reviews.flow.yaml"));
    FlowSpec reviews = new FlowSpecLoader().load(drafts).get(0);

    assertThat(reviews.stages()).as(draft).noneMatch(s -> s.optional());
    assertThat(reviews.stages()).anyMatch(s -> s.terminal());
    assertThat(Replays.finals(List.of(reviews), recording))
        .allSatisfy(v -> assertThat(v.status()).as(v.toString()).isEqualTo(VerdictStatus.PASSED));
  }
}
