package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Arithmetic between fields, drafted from parcel traffic: a parcel is quoted (weight, rate per
 * kilo), then charged (price = weight × rate, discount, due = price − discount) and invoiced
 * (the due amount copied, a constant currency and a count of 1 parcel). One parcel is charged
 * a wrong due amount.
 */
class InferArithmeticTest {

  @TempDir static Path work;
  static Path recording;
  static String yaml;
  static Map<String, Verdict> verdicts = new HashMap<>();

  @BeforeAll
  static void draftFromParcels() throws Exception {
    recording = Files.createDirectories(work.resolve("parcels"));
    Random random = new Random(5);
    long t0 = 1_797_000_000_000L;
    long[] offsets = new long[3];
    try (RecordingWriter out = RecordingWriter.open(recording)) {
      for (int i = 0; i < 200; i++) {
        String id = "PCL-" + (70_000 + i);
        int weight = 1 + random.nextInt(30);
        double rate = (150 + random.nextInt(300)) / 100.0;
        double price = Math.round(weight * rate * 100) / 100.0;
        double discount = random.nextInt(4) * 2.5;
        double due = Math.round((price - discount) * 100) / 100.0 + (i == 123 ? 10 : 0);
        long t = t0 + i * 200L;
        out.accept(record("parcels.quoted", offsets, 0, id, t, String.format(Locale.ROOT,
            "{\"parcelId\":\"%s\",\"weightKg\":%d,\"ratePerKg\":%.2f}", id, weight, rate)));
        out.accept(record("parcels.charged", offsets, 1, id, t + 30, String.format(Locale.ROOT,
            "{\"parcelId\":\"%s\",\"weightKg\":%d,\"price\":%.2f,\"discount\":%.2f,\"due\":%.2f}",
            id, weight, price, discount, due)));
        out.accept(record("parcels.invoiced", offsets, 2, id, t + 60, String.format(Locale.ROOT,
            "{\"parcelId\":\"%s\",\"amount\":%.2f,\"currency\":\"EUR\",\"parcels\":1}", id, due)));
      }
    }
    Path drafts = work.resolve("drafts");
    Inference.builder().name("parcels").build().infer(recording).write(drafts);
    yaml = Files.readString(drafts.resolve("parcels/parcels.flow.yaml"));
    Replays.finals(new FlowSpecLoader().load(drafts), recording)
        .forEach(v -> verdicts.put(v.keys().values().iterator().next(), v));
  }

  @Test
  void aProductAndADifferenceOfEarlierFieldsAreDraftedAsRules() {
    assertThat(yaml).contains("expr: 'money_eq(parcels_charged.price, parcels_charged.weightKg * parcels_quoted.ratePerKg)'",
        "expr: 'money_eq(parcels_charged.due, parcels_charged.price - parcels_charged.discount)'");
  }

  @Test
  void aFieldThatEqualsAnotherIsAnEqualityAndConstantsTakePartInNoArithmetic() {
    assertThat(yaml).contains("expr: 'money_eq(parcels_invoiced.amount, parcels_charged.due)'")
        .doesNotContain("amount of parcels_invoiced is", "* parcels_invoiced.parcels", "parcels_invoiced.parcels *");
  }

  @Test
  void theDraftNamesTheOneExceptionAndPassesEveryOtherParcel() {
    assertThat(yaml).contains("# held in 199/200 instances; exceptions: parcelId=PCL-70123");
    assertThat(verdicts).hasSize(200);
    assertThat(verdicts.get("PCL-70123").violations()).isNotEmpty()
        .allSatisfy(v -> assertThat(v.message()).contains("due"));
    List<Verdict> others = new ArrayList<>(verdicts.values());
    others.remove(verdicts.get("PCL-70123"));
    assertThat(others).allSatisfy(v -> assertThat(v.violations()).as(yaml + v).isEmpty());
  }

  /**
   * Trial O: a delivered order's total is its subtotal, delivery fee and tip; the capture charges
   * the total. Only the equality with the capture was drafted, which a wrong total charged as
   * such passes.
   */
  @Test
  void aTotalOfThreeFieldsOfItsPayloadIsDraftedBesideItsEquality() throws Exception {
    Path orders = Files.createDirectories(work.resolve("meals"));
    Random random = new Random(9);
    long[] offsets = new long[2];
    try (RecordingWriter out = RecordingWriter.open(orders)) {
      for (int i = 0; i < 120; i++) {
        String id = "MEAL-" + (10_000 + i);
        double subtotal = (800 + random.nextInt(4_000)) / 100.0;
        double fee = new double[] {0, 1.99, 2.99, 3.49}[random.nextInt(4)];
        double tip = random.nextInt(6);
        double total = Math.round((subtotal + fee + tip) * 100) / 100.0;
        long t = 1_797_400_000_000L + i * 1_000L;
        out.accept(record("meals.delivered", offsets, 0, id, t, String.format(Locale.ROOT,
            "{\"mealId\":\"%s\",\"subtotal\":%.2f,\"deliveryFee\":%.2f,\"tip\":%.2f,\"total\":%.2f}",
            id, subtotal, fee, tip, total)));
        out.accept(record("meals.charged", offsets, 1, id, t + 300, String.format(Locale.ROOT,
            "{\"mealId\":\"%s\",\"amount\":%.2f}", id, total)));
      }
    }
    Path drafts = work.resolve("meal-drafts");
    Inference.builder().name("meals").build().infer(orders).write(drafts);
    String meals = Files.readString(drafts.resolve("meals/meals.flow.yaml"));

    assertThat(meals).contains("expr: 'money_eq(meals_delivered.total, meals_delivered.subtotal"
        + " + meals_delivered.deliveryFee + meals_delivered.tip)'",
        "name: 'total of meals_delivered is subtotal + deliveryFee + tip'",
        "expr: 'money_eq(meals_charged.amount, meals_delivered.total)'");
    assertThat(Replays.finals(new FlowSpecLoader().load(drafts), orders)).hasSize(120)
        .allSatisfy(v -> assertThat(v.violations()).as(meals + v).isEmpty());
  }

  private static Telemetry record(String topic, long[] offsets, int slot, String id, long ms, String json) {
    return Telemetry.of(new KafkaRecord(topic, 0, offsets[slot]++, ms, id, List.of(),
        json.getBytes(StandardCharsets.UTF_8)));
  }
}
