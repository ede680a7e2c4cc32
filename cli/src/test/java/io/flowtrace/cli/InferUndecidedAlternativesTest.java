package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import io.flowtrace.verifier.spec.StageSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A trial's food orders: the kitchen accepts an order (then a courier is assigned and the food
 * delivered) or rejects it (then it is refunded), and nothing in the order tells which; either way
 * the customer is notified. The draft had left both ways out as alternatives no field tells apart,
 * and with them every step after them (7 of 9 stages), and pointed the notification at a stage it
 * had not declared, so the draft did not load.
 */
class InferUndecidedAlternativesTest {

  private static final int ORDERS = 300;

  @TempDir Path work;

  @Test
  void alternativesNoFieldTellsApartAreTheWaysOfAChoiceAndTheirStepsAreKept() throws Exception {
    Path recording = writeOrders(Files.createDirectories(work.resolve("orders")));
    Path drafts = work.resolve("drafts");
    Inference.builder().name("orders").build().infer(recording).write(drafts);
    String yaml = Files.readString(drafts.resolve("orders/orders.flow.yaml"));
    FlowSpec flow = new FlowSpecLoader().load(drafts).get(0);

    assertThat(flow.stages()).as(yaml).extracting(StageSpec::id)
        .contains("kitchen-accepted", "kitchen-rejected", "courier-assigned", "orders-delivered", "refunds-issued",
            "notifications-sent");
    assertThat(flow.stages()).as(yaml).filteredOn(s -> s.id().startsWith("kitchen-"))
        .allSatisfy(s -> assertThat(s.choice()).isEqualTo("orders-placed-outcome"));
    List<Verdict> verdicts = Replays.finals(List.of(flow), recording);
    assertThat(verdicts).hasSize(ORDERS)
        .allSatisfy(v -> assertThat(v.status()).as("%s\n%s", v, yaml).isEqualTo(VerdictStatus.PASSED));
  }

  /**
   * A trial's bookings: a room is held (or is unavailable), then the payment is captured in 93 % of
   * held rooms or declined in the rest (the room then released). Captured followed the hold nearly
   * always, so the draft required it, and each declined booking failed.
   */
  @Test
  void aWayTakenNearlyAlwaysAfterItsStageIsAWayOfAChoiceWhereAnotherHappensExactlyWhereItDoesNot() throws Exception {
    Path recording = writeBookings(Files.createDirectories(work.resolve("bookings")));
    Path drafts = work.resolve("booking-drafts");
    Inference.builder().name("bookings").build().infer(recording).write(drafts);
    String yaml = Files.readString(drafts.resolve("bookings/bookings.flow.yaml"));
    FlowSpec flow = new FlowSpecLoader().load(drafts).get(0);

    assertThat(flow.stages()).as(yaml).filteredOn(s -> s.id().startsWith("payments-"))
        .extracting(StageSpec::id).containsExactlyInAnyOrder("payments-captured", "payments-declined");
    assertThat(flow.stages()).as(yaml).filteredOn(s -> s.id().startsWith("payments-"))
        .allSatisfy(s -> assertThat(s.choice()).isEqualTo("rooms-held-outcome"));
    List<Verdict> verdicts = Replays.finals(List.of(flow), recording);
    assertThat(verdicts).hasSize(ORDERS)
        .allSatisfy(v -> assertThat(v.status()).as("%s\n%s", v, yaml).isEqualTo(VerdictStatus.PASSED));
  }

  private static Path writeBookings(Path dir) throws Exception {
    Random random = new Random(11);
    long t0 = 1_796_100_000_000L;
    Map<String, Long> offsets = new HashMap<>();
    try (RecordingWriter out = RecordingWriter.open(dir)) {
      for (int i = 0; i < ORDERS; i++) {
        String id = "BK-" + (70_000 + i);
        String trace = String.format("%032x", 0xb00c000L + i);
        long t = t0 + i * 3_000L;
        String body = "{\"bookingRef\":\"" + id + "\",\"amountMinor\":" + (10_000 + 13 * i) + "}";
        out.accept(record("bookings.requested", offsets, id, trace, t, body));
        long last = t + 300 + random.nextInt(100);
        String type = "FAILED";
        if (i % 14 == 3) {
          out.accept(record("rooms.unavailable", offsets, id, trace, last, body));
        } else {
          out.accept(record("rooms.held", offsets, id, trace, last, body));
          if (i % 13 == 5) {
            out.accept(record("payments.declined", offsets, id, trace, last += 400 + random.nextInt(100), body));
            out.accept(record("rooms.released", offsets, id, trace, last += 200 + random.nextInt(100), body));
          } else {
            out.accept(record("payments.captured", offsets, id, trace, last += 400 + random.nextInt(100), body));
            type = "CONFIRMED";
          }
        }
        out.accept(record("notifications.sent", offsets, id, trace, last + 100 + random.nextInt(50),
            "{\"bookingRef\":\"" + id + "\",\"type\":\"" + type + "\"}"));
      }
    }
    return dir;
  }

  private static Path writeOrders(Path dir) throws Exception {
    Random random = new Random(5);
    long t0 = 1_796_100_000_000L;
    Map<String, Long> offsets = new HashMap<>();
    try (RecordingWriter out = RecordingWriter.open(dir)) {
      for (int i = 0; i < ORDERS; i++) {
        String id = "ORD-" + (50_000 + i);
        String trace = String.format("%032x", 0xf00d000L + i);
        boolean accepted = random.nextInt(100) < 90;
        long t = t0 + i * 3_000L;
        String body = "{\"orderId\":\"" + id + "\",\"subtotalCents\":" + (1_000 + 7 * i) + "}";
        out.accept(record("orders.placed", offsets, id, trace, t, body));
        long last;
        if (accepted) {
          out.accept(record("kitchen.accepted", offsets, id, trace, t + 200 + random.nextInt(100), body));
          out.accept(record("courier.assigned", offsets, id, trace, t + 900 + random.nextInt(100),
              "{\"orderId\":\"" + id + "\",\"courierId\":\"C-" + random.nextInt(40) + "\"}"));
          last = t + 1_500 + random.nextInt(200);
          out.accept(record("orders.delivered", offsets, id, trace, last, body));
        } else {
          out.accept(record("kitchen.rejected", offsets, id, trace, t + 200 + random.nextInt(100), body));
          last = t + 600 + random.nextInt(100);
          out.accept(record("refunds.issued", offsets, id, trace, last, body));
        }
        out.accept(record("notifications.sent", offsets, id, trace, last + 100 + random.nextInt(50),
            "{\"orderId\":\"" + id + "\",\"type\":\"" + (accepted ? "DELIVERED" : "REFUNDED") + "\"}"));
      }
    }
    return dir;
  }

  private static Telemetry record(String topic, Map<String, Long> offsets, String id, String trace, long ms, String json) {
    long offset = offsets.merge(topic, 1L, Long::sum) - 1;
    return TracedTraffic.published(topic, offset, ms, id, trace,
        String.format("%016x", 0x2000L + offset * 16 + topic.length()), false, json);
  }
}
