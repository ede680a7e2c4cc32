package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.verifier.infer.Inference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A budget drafted from traffic whose second service's clock runs 42 ms ahead, with a third of
 * the traces unsampled: the records of those traces have no producer span, only their own stamp,
 * on the producer's clock — which the draft must correct as it corrects the sampled ones.
 */
class InferSkewedBudgetTest {

  private static final long SKEW_MS = 42;
  private static final long GAP_MS = 30;

  @TempDir Path work;

  @Test
  void anUnsampledRecordsStampIsTakenOnItsProducersCorrectedClock() throws Exception {
    Path recording = Files.createDirectories(work.resolve("orders"));
    try (RecordingWriter writer = RecordingWriter.open(recording)) {
      TracedTraffic out = new TracedTraffic(writer);
      long t0 = 1_798_000_000_000L;
      for (int i = 0; i < 90; i++) {
        boolean sampled = i % 3 != 0;
        String trace = String.format("%032x", 0x7100L + i);
        String order = "ORD-" + (40_000 + i);
        long t = t0 + i * 500L;
        // order-service serves the request and publishes orders.placed; billing-service (42 ms ahead)
        // is called by it, consumes orders.placed and publishes invoices.created 30 ms after the order
        out.span(sampled, trace, "a" + i, "", "POST /orders", SpanKind.SERVER, "order-service", t, t + 80,
            Map.of("http.route", "/orders", "http.request.body", "{\"customer\":\"C-" + i % 7 + "\"}"));
        out.span(sampled, trace, "b" + i, "a" + i, "POST", SpanKind.CLIENT, "order-service", t + 5, t + 60,
            Map.of("url.full", "http://billing/quotes"));
        out.span(sampled, trace, "c" + i, "b" + i, "POST /quotes", SpanKind.SERVER, "billing-service",
            t + 8 + SKEW_MS, t + 55 + SKEW_MS, Map.of("http.route", "/quotes"));
        out.record(sampled, trace, "d" + i, "a" + i, "order-service", "orders.placed", i, t + 62,
            "{\"orderId\":\"" + order + "\",\"customer\":\"C-" + i % 7 + "\"}");
        out.span(sampled, trace, "e" + i, "d" + i, "orders.placed process", SpanKind.CONSUMER, "billing-service",
            t + 70 + SKEW_MS, t + 75 + SKEW_MS, Map.of("messaging.system", "kafka",
                "messaging.destination.name", "orders.placed", "messaging.operation.type", "process"));
        out.record(sampled, trace, "f" + i, "e" + i, "billing-service", "invoices.created", i, t + 62 + GAP_MS + SKEW_MS,
            "{\"orderId\":\"" + order + "\",\"invoice\":\"INV-" + i + "\"}");
      }
    }
    Path drafts = work.resolve("drafts");
    Inference.builder().name("orders").build().infer(recording).write(drafts);
    String yaml = Files.readString(drafts.resolve("orders/orders.flow.yaml"));

    Matcher budget = Pattern.compile("# p50 (\\d+) ms, p95 (\\d+) ms, max (\\d+) ms over (\\d+) instances[^\\n]*\\n"
        + "\\s*- \\{from: orders_placed, to: invoices_created").matcher(yaml);
    assertThat(budget.find()).as(yaml).isTrue();
    assertThat(Integer.parseInt(budget.group(4))).as("every instance, sampled or not").isEqualTo(90);
    assertThat(Long.parseLong(budget.group(3)))
        .as("the unsampled instances' gap on corrected clocks, as the sampled ones': not %d + %d ms", GAP_MS, SKEW_MS)
        .isLessThan(GAP_MS + SKEW_MS)
        .isEqualTo(Long.parseLong(budget.group(1)));
  }
}
