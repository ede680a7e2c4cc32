package io.flowtrace.verifier.assembly;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
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
 * One topic carries every step of an order (an event-sourced aggregate's topic): each event takes
 * only the records its {@code where} or {@code headers} select.
 */
class SharedTopicTest {

  private static final String SPEC = String.join("\n",
      "flow: order",
      "keys: [orderId]",
      "stages:",
      "  - id: created",
      "    events:",
      "      - {id: order_created, topic: orders, where: {type: OrderCreated}}",
      "  - id: paid",
      "    after: created",
      "    events:",
      "      - {id: order_paid, topic: orders, where: {type: OrderPaid, 'payment.method': {regex: '^(CARD|WALLET)$'}}}",
      "  - id: shipped",
      "    after: paid",
      "    terminal: true",
      "    events:",
      "      - {id: order_shipped, topic: orders, headers: {ce_type: com.shop.OrderShipped}}",
      "rules:",
      "  - {name: ships what was paid for, field: total, expr: order_shipped.total == order_paid.total}",
      "");

  @TempDir Path dir;
  private String spec = SPEC;
  private final List<Telemetry> telemetry = new ArrayList<>();
  private long offset;

  @Test
  void eachStepTakesOnlyTheRecordsItsEventSelects() throws Exception {
    order("O-1", true);

    Verdict v = replay();

    assertThat(v.status()).isEqualTo(VerdictStatus.PASSED);
    assertThat(v.violations()).isEmpty();
  }

  @Test
  void aStepWhoseRecordIsMissingIsMissingThoughTheTopicCarriedOthers() throws Exception {
    order("O-1", false);

    Verdict v = replay();

    assertThat(v.violations()).extracting(x -> x.kind(), x -> x.stage())
        .contains(org.assertj.core.groups.Tuple.tuple(ViolationKind.MISSING_STAGE, "paid"));
  }

  @Test
  void aRecordNoEventSelectsIsNotTheFlows() throws Exception {
    record("O-2", "{\"orderId\":\"O-2\",\"type\":\"OrderNoteAdded\"}", List.of());

    assertThat(replayAll()).isEmpty();
  }

  @Test
  void aFieldThatBreaksItsSchemaIsReportedOnceNotAlsoByTheRuleOrTheCarryThatReadIt() throws Exception {
    Verdict v = paidCarryingTotal("", "\"total\":\"10\"");

    assertThat(v.violations()).singleElement().satisfies(x -> {
      assertThat(x.kind()).isEqualTo(ViolationKind.SCHEMA_VIOLATION);
      assertThat(x.message()).contains("total");
    });
  }

  /** Trial M: a carried field the schema also requires, dropped, was reported as the schema's "required", not as the carry it lost. */
  @Test
  void aRequiredCarriedFieldDroppedIsTheMissingEnrichmentOnceNotTheSchemasRequiredProperty() throws Exception {
    Verdict v = paidCarryingTotal("\"required\": [\"orderId\", \"total\"], ", null);

    assertThat(v.violations()).singleElement().satisfies(x -> {
      assertThat(x.kind()).isEqualTo(ViolationKind.MISSING_ENRICHMENT);
      assertThat(x.message()).contains("dropped 'total' that order_created carried (10)");
    });
  }

  /**
   * O-1 with a schema on the paid step ({@code required} its required list, or empty) and the
   * total carried to it; its card payment says {@code total} ({@code "total":…}), or none when
   * {@code null}. The one final verdict.
   */
  private Verdict paidCarryingTotal(String required, String total) throws Exception {
    Files.createDirectories(dir.resolve("schemas"));
    Files.writeString(dir.resolve("schemas/paid.schema.json"),
        "{\"type\": \"object\", " + required + "\"properties\": {\"orderId\": {\"type\": \"string\"},"
            + " \"type\": {\"type\": \"string\"}, \"payment\": {\"type\": \"object\", \"properties\": {\"method\": {\"type\": \"string\"}}},"
            + " \"total\": {\"type\": \"number\"}}}");
    spec = SPEC.replace("'payment.method': {regex: '^(CARD|WALLET)$'}}}",
        "'payment.method': {regex: '^(CARD|WALLET)$'}}, schema: schemas/paid.schema.json}")
        + "enrichment:\n  - {from: order_created, to: order_paid, carry: [total]}\n";
    order("O-1", true);
    String paid = "{\"orderId\":\"O-1\",\"type\":\"OrderPaid\",\"payment\":{\"method\":\"CARD\"}"
        + (total == null ? "" : "," + total) + "}";
    telemetry.replaceAll(t -> t instanceof Telemetry.RecordEvent r && new String(r.record().value(), StandardCharsets.UTF_8)
        .contains("\"CARD\"") ? Telemetry.of(new KafkaRecord("orders", 0, r.record().offset(), r.record().timestampMillis(),
        "O-1", List.of(), paid.getBytes(StandardCharsets.UTF_8))) : t);
    return replay();
  }

  private void order(String id, boolean paid) {
    record(id, "{\"orderId\":\"" + id + "\",\"type\":\"OrderCreated\",\"total\":10}", List.of());
    record(id, "{\"orderId\":\"" + id + "\",\"type\":\"OrderNoteAdded\",\"note\":\"leave at the door\"}", List.of());
    record(id, "{\"orderId\":\"" + id + "\",\"type\":\"OrderPaid\",\"payment\":{\"method\":\"VOUCHER\"},\"total\":10}",
        List.of()); // a voucher payment is not this flow's paid step
    if (paid) {
      record(id, "{\"orderId\":\"" + id + "\",\"type\":\"OrderPaid\",\"payment\":{\"method\":\"CARD\"},\"total\":10}",
          List.of());
    }
    record(id, "{\"orderId\":\"" + id + "\",\"type\":\"OrderShipped\",\"total\":10}",
        List.of(RecordHeader.ofString("ce_type", "com.shop.OrderShipped")));
  }

  private void record(String key, String json, List<RecordHeader> headers) {
    long ms = 100 * offset;
    telemetry.add(Telemetry.of(new KafkaRecord("orders", 0, offset++, ShopFlows.T0 + ms, key, headers,
        json.getBytes(StandardCharsets.UTF_8))));
  }

  private Verdict replay() throws Exception {
    List<Verdict> finals = replayAll();
    assertThat(finals).hasSize(1);
    return finals.get(0);
  }

  private List<Verdict> replayAll() throws Exception {
    return ShopFlows.finals(dir, spec, telemetry, 3_600_000);
  }
}
