package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Utility billing, drafted from traffic of a shape that misled the drafter: a meter reading (an
 * API call, then a record whose {@code previousReading} is the meter's last {@code currentReading})
 * is rated into an invoice with a minted number; card invoices are collected, and the payment
 * provider then calls back one to three times, each call a trace of its own naming only the
 * invoice number and an event id; manual invoices are mailed. A customer has several readings.
 * 30 % of traces are not sampled, among them the one manual invoice collected by card instead.
 */
class InferBillingTest {

  /** A manual invoice collected by card: a wrong branch, in a trace that is not sampled. */
  static final int STRAY = 99;

  @TempDir static Path work;
  static Path recording;
  static Inference.Result result;
  static FlowSpec flow;
  static String yaml;
  static int callbacks;

  @BeforeAll
  static void draft() throws Exception {
    recording = Files.createDirectories(work.resolve("billing"));
    callbacks = write(recording, -1);
    Path drafts = work.resolve("drafts");
    result = Inference.builder().name("billing").build().infer(recording);
    result.write(drafts);
    yaml = Files.readString(drafts.resolve("billing/billing.flow.yaml"));
    flow = new FlowSpecLoader().load(drafts).get(0);
  }

  @Test
  void aReadingThatContinuesTheMetersLastOneStillStartsAnInstanceOfItsOwn() {
    assertThat(result.flows()).as(yaml).containsExactly("billing");
    assertThat(result.instances()).isEqualTo(240);
  }

  @Test
  void callbacksNamingTheInvoiceAloneJoinIt() {
    assertThat(yaml).contains("topic: payments.updated").contains("# from " + callbacks + " payloads");
  }

  @Test
  void whatACallbackCarriesIntoItsRecordIsDraftedFromTheCallbackInTheSameTrace() {
    // the first callback's trace is often not sampled: compared with the first callback observed,
    // a PENDING record would seem to carry a COLLECTED status
    assertThat(yaml).contains("  - from: webhooks_pay\n    to: payments_updated\n    carry: all");
  }

  @Test
  void aBranchIsDecidedByTheRecordEveryInstanceHasNotTheCallOnlySampledTracesShow() {
    assertThat(flow.stages()).filteredOn(s -> s.when() != null).extracting(s -> s.when().source())
        .isNotEmpty().allSatisfy(w -> assertThat(w).startsWith("invoices_rated.paymentMethod"));
  }

  @Test
  void anAmountIsComparedWithTheRecordEveryInstanceHasNotOnlyWithTheCallSampledTracesShow() {
    assertThat(yaml).contains("expr: 'money_eq(payments_requested.amount, invoices_rated.totalAmount)'");
  }

  @Test
  void theDraftPassesTheTrafficItWasDraftedFromButTheWrongBranch() throws Exception {
    List<Verdict> verdicts = Replays.finals(List.of(flow), recording);
    assertThat(verdicts).hasSize(240);
    assertThat(verdicts).as("a record of a callback whose trace was not sampled is compared with nothing, and says so")
        .anySatisfy(v -> assertThat(v.unverified()).anySatisfy(u -> assertThat(u.reason())
            .matches("what 1 of [23] payments_updated carry over from webhooks_pay: no webhooks_pay observed in their"
                + " trace")));
    assertThat(verdicts).filteredOn(v -> !v.violations().isEmpty()).singleElement()
        .satisfies(v -> assertThat(v.keys()).containsEntry("billingRunId", String.format("BR-%06x", 0xa000 + STRAY)));
  }

  @Test
  void everyCallbackCausedItsPaymentRecordSoTheDraftAsksForItAtLeastOnceAndALostOneFails() throws Exception {
    assertThat(yaml).contains("atLeastOnce: true")
        .containsPattern("each of the \\d+ distinct eventId delivered caused one \\(at least once\\)");
    Path lossy = Files.createDirectories(work.resolve("billing-lossy"));
    write(lossy, 10); // the first callback of invoice 10 acknowledged, its payments.updated never published

    List<Verdict> verdicts = Replays.finals(List.of(flow), lossy);
    Verdict lost = verdicts.stream().filter(v -> String.format("BR-%06x", 0xa000 + 10).equals(v.keys().get("billingRunId")))
        .findFirst().orElseThrow();
    assertThat(lost.violations()).anySatisfy(v -> assertThat(v.message()).startsWith("webhooks_pay with eventId evt-")
        .contains("caused none of payments_updated"));
  }

  /** Writes the traffic, returning how many callbacks it has; {@code losing}: the instance whose first callback's record is lost (-1: none). */
  private static int write(Path dir, int losing) throws Exception {
    int callbacks = 0;
    Random random = new Random(3);
    long t0 = 1_798_000_000_000L;
    Map<String, Double> meters = new HashMap<>();
    try (RecordingWriter out = RecordingWriter.open(dir)) {
      Traffic traffic = new Traffic(out);
      for (int i = 0; i < 240; i++) {
        String customer = "CUST-" + (7000 + i / 3);
        String meter = "MTR-" + (5000 + i / 3);
        double previous = meters.getOrDefault(meter, 10_000.0 + i * 37);
        double current = Math.round((previous + 50 + random.nextInt(400) + random.nextInt(10) / 10.0) * 10) / 10.0;
        meters.put(meter, current);
        String run = String.format("BR-%06x", 0xa000 + i);
        String invoice = "INV-" + (880_000 + i);
        String method = i % 3 == 0 ? "MANUAL" : "CARD";
        String trace = String.format("%032x", 0x5100L + i);
        boolean sampled = random.nextInt(10) < 7 && i != STRAY;
        long t = t0 + i * 400L;
        String request = String.format(Locale.ROOT,
            "{\"customerId\":\"%s\",\"meterId\":\"%s\",\"previousReading\":%.1f,\"currentReading\":%.1f,"
                + "\"paymentMethod\":\"%s\"}", customer, meter, previous, current, method);
        String api = traffic.span(sampled, trace, "", "POST /api/readings", SpanKind.SERVER, "billing-api", t, t + 8,
            Map.of("http.route", "/api/readings", "http.request.body", request));
        String reading = traffic.produce(sampled, trace, api, "billing-api", "meter.readings", meter, t + 2,
            request.replace("}", ",\"billingRunId\":\"" + run + "\"}"));
        String rating = traffic.consume(sampled, trace, reading, "rating-service", "meter.readings", t + 10);
        double usage = Math.round((current - previous) * 10) / 10.0;
        double total = Math.round(usage * 0.2841 * 100) / 100.0;
        String rated = traffic.produce(sampled, trace, rating, "rating-service", "invoices.rated", invoice, t + 30,
            String.format(Locale.ROOT, "{\"invoiceNumber\":\"%s\",\"billingRunId\":\"%s\",\"customerId\":\"%s\","
                + "\"usageKwh\":%.1f,\"totalAmount\":%.2f,\"paymentMethod\":\"%s\"}", invoice, run, customer, usage,
                total, method));
        String paying = traffic.consume(sampled, trace, rated, "payment-service", "invoices.rated", t + 40);
        if (method.equals("MANUAL") && i != STRAY) {
          traffic.produce(sampled, trace, paying, "payment-service", "invoices.mailed", invoice, t + 60,
              "{\"invoiceNumber\":\"" + invoice + "\",\"billingRunId\":\"" + run + "\"}");
          continue;
        }
        String charge = String.format(Locale.ROOT, "{\"reference\":\"%s\",\"amount\":%.2f}", invoice, total);
        String collect = traffic.span(sampled, trace, paying, "POST", SpanKind.CLIENT, "payment-service", t + 45, t + 90,
            Map.of("url.full", "https://pay.example/v1/collections", "http.request.body", charge));
        traffic.produce(sampled, trace, collect, "payment-service", "payments.requested", invoice, t + 95,
            String.format(Locale.ROOT, "{\"invoiceNumber\":\"%s\",\"amount\":%.2f}", invoice, total));
        int calls = 1 + random.nextInt(3);
        for (int c = 0; c < calls; c++) {
          callbacks++;
          String hookTrace = String.format("%032x", 0x9900000L + i * 4 + c);
          boolean hookSampled = random.nextInt(10) < 7 || i == losing && c == 0;
          String body = String.format("{\"eventId\":\"evt-%08x\",\"invoiceNumber\":\"%s\",\"status\":\"%s\"}",
              0x3300000 + i * 4 + c, invoice, c == calls - 1 ? "COLLECTED" : "PENDING");
          long at = t + 200 + c * 50L;
          String hook = traffic.span(hookSampled, hookTrace, "", "POST /webhooks/pay", SpanKind.SERVER, "payment-service",
              at, at + 6, Map.of("http.route", "/webhooks/pay", "http.request.body", body));
          if (i != losing || c != 0) {
            traffic.produce(hookSampled, hookTrace, hook, "payment-service", "payments.updated", invoice, at + 2, body);
          }
        }
      }
    }
    return callbacks;
  }

  /** Spans as an agent exports them (of sampled traces only) and records with their traceparent. */
  private static final class Traffic {
    private final RecordingWriter out;
    private final Map<String, Long> offsets = new HashMap<>();
    private long spans;

    Traffic(RecordingWriter out) {
      this.out = out;
    }

    String span(boolean sampled, String trace, String parent, String name, SpanKind kind, String service, long startMs,
        long endMs, Map<String, Object> attributes) {
      String id = String.format("%016x", 0x40000L + spans++);
      if (sampled) {
        out.accept(Telemetry.of(Span.builder().traceId(trace).spanId(id).parentSpanId(parent).name(name).kind(kind)
            .service(service).startEpochNanos(startMs * 1_000_000L).endEpochNanos(endMs * 1_000_000L)
            .attributes(attributes).build()));
      }
      return id;
    }

    String produce(boolean sampled, String trace, String parent, String service, String topic, String key, long ms,
        String json) {
      long offset = offsets.merge(topic, 1L, Long::sum) - 1;
      String send = span(sampled, trace, parent, topic + " publish", SpanKind.PRODUCER, service, ms, ms + 1,
          Map.of("messaging.system", "kafka", "messaging.destination.name", topic, "messaging.operation.type", "send",
              "messaging.destination.partition.id", "0", "messaging.kafka.offset", offset));
      out.accept(Telemetry.of(new KafkaRecord(topic, 0, offset, ms, key, List.of(RecordHeader.ofString("traceparent",
          "00-" + trace + "-" + send + (sampled ? "-01" : "-00"))), json.getBytes(StandardCharsets.UTF_8))));
      return send;
    }

    String consume(boolean sampled, String trace, String producer, String service, String topic, long ms) {
      return span(sampled, trace, producer, topic + " process", SpanKind.CONSUMER, service, ms, ms + 5,
          Map.of("messaging.system", "kafka", "messaging.destination.name", topic, "messaging.operation.type", "process"));
    }
  }
}
