package io.flowtrace.verifier.assembly;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.check.ViolationKind;
import io.flowtrace.verifier.report.Verdict;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A step that repeats: underwriting asks for a document, the applicant uploads it in a trace of its
 * own (an HTTP call from the browser), and underwriting, consuming the upload, asks for the next one
 * in that upload's trace. Each upload answers the request before it, not the next request its own
 * consumer sent a few milliseconds after it (trial Z: 75 of 300 clean loans failed so).
 */
class RepeatedStepTest {

  private static final String SPEC = String.join("\n",
      "flow: loan",
      "keys: [applicationId]",
      "stages:",
      "  - id: submitted",
      "    events:",
      "      - {id: submitted, topic: loan.submitted}",
      "  - id: requested",
      "    after: submitted",
      "    optional: true",
      "    events:",
      "      - {id: doc_requested, topic: docs.requested}",
      "  - id: uploaded",
      "    after: requested",
      "    events:",
      "      - id: upload",
      "        span: {service: documents, kind: SERVER, name: POST /documents}",
      "        payload: {attribute: http.request.body}",
      "        trace: new",
      "      - {id: doc_uploaded, topic: docs.uploaded}",
      "  - id: decided",
      "    after: [submitted, uploaded]",
      "    terminal: true",
      "    events:",
      "      - {id: decided, topic: loan.decided}",
      "enrichment:",
      "  - {from: doc_requested, to: doc_uploaded, carry: [requestNo, docType]}",
      "");

  private static final String FIRST_UPLOAD_RULE = SPEC + String.join("\n",
      "rules:",
      "  - name: the first upload answers the first request",
      "    stage: uploaded",
      "    field: docType",
      "    expr: upload.docType == doc_requested.docType",
      "");

  private static final String APPLICATION = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String UPLOAD_1 = "5bf92f3577b34da6a3ce929d0e0e4737";
  private static final String UPLOAD_2 = "6bf92f3577b34da6a3ce929d0e0e4738";

  @TempDir Path dir;
  private final List<Telemetry> telemetry = new ArrayList<>();
  private final Map<String, Long> offsets = new HashMap<>();
  private int spanIds;

  @Test
  void anUploadIsComparedWithTheRequestBeforeItNotTheNextOneItsConsumerSent() throws Exception {
    loan(true, true, 12, "PROOF_OF_ADDRESS");

    Verdict v = replay(SPEC);

    assertThat(v.violations()).isEmpty();
    assertThat(v.unverified()).isEmpty();
  }

  @Test
  void withNoSpansAnUploadIsComparedWithTheRequestWhoseFieldsItKeeps() throws Exception {
    // no trace sampled; the next request reads 5 ms before the upload its consumer read (clocks
    // apart), and its producer sent it twice
    loan(false, false, -5, "PROOF_OF_ADDRESS");
    record("docs.requested", UPLOAD_1, false, null, 5_005,
        "{\"applicationId\":\"A-1\",\"requestNo\":2,\"docType\":\"PROOF_OF_ADDRESS\"}");

    Verdict v = replay(SPEC);

    assertThat(v.violations()).isEmpty();
  }

  @Test
  void anUploadThatChangedWhatItWasAskedForIsStillFound() throws Exception {
    loan(false, false, -5, "PAYSLIP"); // the second upload says PAYSLIP where PROOF_OF_ADDRESS was asked for

    Verdict v = replay(SPEC);

    assertThat(v.violations()).singleElement().satisfies(x -> {
      assertThat(x.kind()).isEqualTo(ViolationKind.BAD_TRANSFORMATION);
      assertThat(x.field()).isEqualTo("docType");
      assertThat(x.expected()).isEqualTo("\"PROOF_OF_ADDRESS\"");
      assertThat(x.actual()).isEqualTo("\"PAYSLIP\"");
    });
  }

  @Test
  void aRuleOnTheFirstUploadIsNotJudgedOnTheSecondWhenTheFirstWasNotSampled() throws Exception {
    loan(false, true, 12, "PROOF_OF_ADDRESS"); // the first upload's trace was not sampled

    Verdict v = replay(FIRST_UPLOAD_RULE);

    assertThat(v.violations()).isEmpty();
    assertThat(v.unverified()).anySatisfy(u -> {
      assertThat(u.check()).isEqualTo("rule");
      assertThat(u.reason()).contains("reads the first upload, which may not have been observed")
          .contains("unsampled trace " + UPLOAD_1);
    });
  }

  @Test
  void aRuleOnTheFirstUploadIsJudgedWhenOnlyALaterUploadWasNotSampled() throws Exception {
    loan(true, false, 12, "PROOF_OF_ADDRESS"); // the second upload's trace was not sampled

    Verdict v = replay(FIRST_UPLOAD_RULE);

    assertThat(v.violations()).isEmpty();
    assertThat(v.unverified()).noneSatisfy(u -> assertThat(u.check()).isEqualTo("rule"));
  }

  @Test
  void aFirstUploadThatBreaksTheRuleFailsIt() throws Exception {
    loan(true, true, 12, "PROOF_OF_ADDRESS");
    telemetry.replaceAll(t -> t instanceof Telemetry.SpanEvent s && s.span().traceId().equals(UPLOAD_1)
        && s.span().kind() == SpanKind.SERVER ? Telemetry.of(upload(UPLOAD_1, 5_000, 1, "PROOF_OF_ID")) : t);

    Verdict v = replay(FIRST_UPLOAD_RULE);

    assertThat(v.violations()).extracting(x -> x.kind()).contains(ViolationKind.BAD_TRANSFORMATION);
    assertThat(v.violations()).anySatisfy(x -> assertThat(x.message()).contains("the first upload answers the first request"));
  }

  /**
   * A loan with two document rounds: request 1 in the application's trace, upload 1 in its own,
   * request 2 sent by upload 1's consumer in upload 1's trace {@code nextRequestAfterMs} after the
   * upload's record, upload 2 (saying {@code secondDocType}) in its own trace, then the decision.
   */
  private void loan(boolean firstUploadSampled, boolean secondUploadSampled, long nextRequestAfterMs,
      String secondDocType) {
    record("loan.submitted", APPLICATION, true, null, 0, "{\"applicationId\":\"A-1\"}");
    record("docs.requested", APPLICATION, true, null, 100, "{\"applicationId\":\"A-1\",\"requestNo\":1,\"docType\":\"PAYSLIP\"}");
    if (firstUploadSampled) {
      telemetry.add(Telemetry.of(upload(UPLOAD_1, 5_000, 1, "PAYSLIP")));
    }
    long uploaded = record("docs.uploaded", UPLOAD_1, firstUploadSampled, null, 5_010,
        "{\"applicationId\":\"A-1\",\"requestNo\":1,\"docType\":\"PAYSLIP\"}");
    String sentBy = null;
    if (firstUploadSampled) {
      Span consumer = messaging(UPLOAD_1, null, SpanKind.CONSUMER, "docs.uploaded", uploaded, 5_015);
      Span producer = messaging(UPLOAD_1, consumer.spanId(), SpanKind.PRODUCER, "docs.requested", null, 5_020);
      telemetry.add(Telemetry.of(consumer));
      telemetry.add(Telemetry.of(producer));
      sentBy = producer.spanId();
    }
    record("docs.requested", UPLOAD_1, firstUploadSampled, sentBy, 5_010 + nextRequestAfterMs,
        "{\"applicationId\":\"A-1\",\"requestNo\":2,\"docType\":\"PROOF_OF_ADDRESS\"}");
    if (secondUploadSampled) {
      telemetry.add(Telemetry.of(upload(UPLOAD_2, 9_000, 2, secondDocType)));
    }
    record("docs.uploaded", UPLOAD_2, secondUploadSampled, null, 9_010,
        "{\"applicationId\":\"A-1\",\"requestNo\":2,\"docType\":\"" + secondDocType + "\"}");
    record("loan.decided", UPLOAD_2, secondUploadSampled, null, 9_100, "{\"applicationId\":\"A-1\"}");
  }

  private Span upload(String trace, long ms, int requestNo, String docType) {
    return Span.builder().traceId(trace).spanId("b7ad6b71692033" + String.format("%02d", requestNo)).name("POST /documents")
        .kind(SpanKind.SERVER).service("documents").startEpochNanos(ShopFlows.nanos(ms)).endEpochNanos(ShopFlows.nanos(ms + 8))
        .attributes(Map.of("http.request.body", "{\"applicationId\":\"A-1\",\"requestNo\":" + requestNo
            + ",\"docType\":\"" + docType + "\"}"))
        .build();
  }

  private Span messaging(String trace, String parent, SpanKind kind, String topic, Long offset, long ms) {
    Map<String, Object> attributes = new HashMap<>(Map.of("messaging.destination.name", topic,
        "messaging.destination.partition.id", "0"));
    if (offset != null) {
      attributes.put("messaging.kafka.offset", offset);
    }
    return Span.builder().traceId(trace).spanId(String.format("c7ad6b71692033%02d", ++spanIds))
        .parentSpanId(parent).name((kind == SpanKind.CONSUMER ? "process " : "send ") + topic).kind(kind)
        .service("underwriting").startEpochNanos(ShopFlows.nanos(ms)).endEpochNanos(ShopFlows.nanos(ms + 2))
        .attributes(attributes).build();
  }

  /** Adds a record (its traceparent naming {@code sentBy}, else a span of its own) and returns its offset. */
  private long record(String topic, String trace, boolean sampled, String sentBy, long ms, String json) {
    long offset = offsets.merge(topic, 1L, Long::sum) - 1;
    String parent = sentBy != null ? sentBy : String.format("00f067aa0ba902%02d", ++spanIds);
    telemetry.add(Telemetry.of(new KafkaRecord(topic, 0, offset, ShopFlows.T0 + ms, "A-1",
        List.of(RecordHeader.ofString("traceparent", "00-" + trace + "-" + parent + (sampled ? "-01" : "-00"))),
        json.getBytes(StandardCharsets.UTF_8))));
    return offset;
  }

  private Verdict replay(String spec) throws Exception {
    List<Verdict> finals = ShopFlows.finals(dir, spec, telemetry, 120_000);
    assertThat(finals).hasSize(1);
    return finals.get(0);
  }
}
