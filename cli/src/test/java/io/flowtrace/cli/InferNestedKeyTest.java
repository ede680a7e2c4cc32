package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A receipt that names its order inside an object ({@code data.orderId}) is keyed by that field
 * alone: the other fields of {@code data} are still drafted from. The key once stood for the whole
 * object, and the receipt's amount and name went unchecked (the reference flow's Avro e-mail).
 */
class InferNestedKeyTest {

  @TempDir Path work;

  @Test
  void aNestedKeyLeavesTheOtherFieldsOfItsObjectToRules() throws Exception {
    Path recording = Files.createDirectories(work.resolve("orders"));
    long t0 = 1_796_000_000_000L;
    try (RecordingWriter out = RecordingWriter.open(recording)) {
      for (int i = 0; i < 40; i++) {
        String order = "ord-" + (7_000 + i);
        String total = String.format(Locale.ROOT, "%.2f", 10 + i * 1.37);
        String customer = "customer " + (char) ('A' + i % 26) + i;
        long t = t0 + i * 60_000L;
        out.accept(TracedTraffic.untraced("orders.created", i, t, order,
            "{\"orderId\":\"" + order + "\",\"total\":" + total + ",\"customer\":\"" + customer + "\"}"));
        out.accept(TracedTraffic.untraced("receipts.sent", i, t + 2_000, order,
            "{\"template\":\"receipt\",\"data\":{\"orderId\":\"" + order + "\",\"amount\":" + total
                + ",\"customerName\":\"" + customer + "\"}}"));
      }
    }
    Path drafts = work.resolve("drafts");
    Inference.builder().name("orders").build().infer(recording).write(drafts);
    String yaml = Files.readString(drafts.resolve("orders/orders.flow.yaml"));

    assertThat(new FlowSpecLoader().load(drafts)).as(yaml).hasSize(1);
    assertThat(yaml).contains("keys: {orderId: data.orderId}")
        .contains("expr: 'money_eq(receipts_sent.data.amount, orders_created.total)'")
        .contains("expr: 'receipts_sent.data.customerName == orders_created.customer'");
  }
}
