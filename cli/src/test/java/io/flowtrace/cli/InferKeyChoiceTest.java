package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two fields can be equally unique in a sample: the id the flow mints and a reference the caller
 * sent (an order that, in this traffic, was never returned twice). Returns of goods: the caller
 * posts the order's reference, the service answers with a new return id, and both travel on.
 */
class InferKeyChoiceTest {

  @TempDir Path work;

  @Test
  void theIdTheFlowMintsIsTheKeyAndTheCallersEquallyUniqueReferenceIsNamed() throws Exception {
    assertKeyedByTheMintedId(false);
  }

  /**
   * Trial M: with most traces sampled out, most instances begin with a record, and the caller's
   * request was no longer known as the flow's entry: the draft keyed claims by the caller's policy
   * number, merging two claims on one policy.
   */
  @Test
  void theIdTheFlowMintsIsTheKeyWhenMostTracesWereNotSampled() throws Exception {
    assertKeyedByTheMintedId(true);
  }

  /**
   * Trial N: a trip's rider id, sent by the caller and carried by every record, covered more events
   * than either id the flow mints (the request's, then the trip's); in a capture where each rider
   * took one trip the draft keyed trips by rider, and on traffic where riders ride again it merged
   * 300 trips into 94 instances, 49 of them failed.
   */
  @Test
  void theIdsTheFlowMintsAreTheKeysEvenWhereTheCallersReferenceIsCarriedFurther() throws Exception {
    Path recording = Files.createDirectories(work.resolve("trips"));
    long t0 = 1_796_000_000_000L;
    try (RecordingWriter out = RecordingWriter.open(recording)) {
      for (int i = 0; i < 200; i++) {
        String rider = "RDR-" + (50_000 + i * 3);
        String request = "REQ-" + (10_000 + i);
        String trip = "TRP-" + (90_000 + i * 11);
        String trace = String.format("%032x", 0xabc000L + i);
        long t = t0 + i * 250L;
        out.accept(call(trace, i, t, "rider-api", "https://rides.example/api/trips",
            "{\"riderId\":\"" + rider + "\",\"seats\":" + (1 + i % 3) + "}", "{\"requestId\":\"" + request + "\"}"));
        out.accept(record("trips.requested", i, trace, true, t + 5, request,
            "{\"requestId\":\"" + request + "\",\"riderId\":\"" + rider + "\"}"));
        out.accept(record("trips.dispatched", i, trace, true, t + 40, trip,
            "{\"requestId\":\"" + request + "\",\"tripId\":\"" + trip + "\",\"riderId\":\"" + rider + "\"}"));
        out.accept(record("trips.completed", i, trace, true, t + 90, trip,
            "{\"tripId\":\"" + trip + "\",\"riderId\":\"" + rider + "\"}"));
      }
    }
    Path drafts = work.resolve("drafts");
    Inference.builder().name("trips").build().infer(recording).write(drafts);
    String yaml = Files.readString(drafts.resolve("trips/trips.flow.yaml"));

    assertThat(new FlowSpecLoader().load(drafts).get(0).keys()).as(yaml).containsExactly("requestId", "tripId");
    assertThat(yaml).contains("riderId, which the caller sent, was as unique here");
  }

  /**
   * Trial N: a trip's id is also the payment provider's {@code merchantReference}, in the charge's
   * request and its answer; the outside party's name, found twice as often as the flow's own in
   * some captures, named the key. The flow's records name it.
   */
  @Test
  void aKeyIsNamedAsTheFlowsRecordsNameItNotAsAnOutsidePartysCallDoes() throws Exception {
    Path recording = Files.createDirectories(work.resolve("charged"));
    long t0 = 1_796_000_000_000L;
    try (RecordingWriter out = RecordingWriter.open(recording)) {
      for (int i = 0; i < 200; i++) {
        String trip = "TRP-" + (90_000 + i * 11);
        String trace = String.format("%032x", 0xfed000L + i);
        long t = t0 + i * 250L;
        out.accept(record("trips.completed", i, trace, true, t, trip,
            "{\"tripId\":\"" + trip + "\",\"fare\":" + (10 + i % 7) + "}"));
        out.accept(Telemetry.of(Span.builder().traceId(trace).spanId(String.format("%016x", 0x5000L + i))
            .parentSpanId(String.format("%016x", 0x9000L + i * 2 + "trips.completed".length() % 2))
            .name("POST /v1/charges").kind(SpanKind.CLIENT).service("billing")
            .startEpochNanos((t + 20) * 1_000_000L).endEpochNanos((t + 80) * 1_000_000L)
            .attributes(Map.of("http.request.method", "POST", "url.full", "https://psp.example/v1/charges",
                "http.request.body", "{\"merchantReference\":\"" + trip + "\",\"amount\":" + (10 + i % 7) + "}",
                "http.response.body", "{\"merchantReference\":\"" + trip + "\",\"chargeId\":\"ch_" + (4_000 + i)
                    + "\"}"))
            .build()));
        out.accept(record("trips.paid", i, trace, true, t + 120, trip,
            "{\"tripId\":\"" + trip + "\",\"chargeId\":\"ch_" + (4_000 + i) + "\"}"));
      }
    }
    Path drafts = work.resolve("drafts");
    Inference.builder().name("charged").build().infer(recording).write(drafts);
    String yaml = Files.readString(drafts.resolve("charged/charged.flow.yaml"));

    assertThat(new FlowSpecLoader().load(drafts).get(0).keys()).as(yaml).containsExactly("tripId");
  }

  private void assertKeyedByTheMintedId(boolean mostUnsampled) throws Exception {
    Path recording = Files.createDirectories(work.resolve("returns"));
    long t0 = 1_796_000_000_000L;
    try (RecordingWriter out = RecordingWriter.open(recording)) {
      for (int i = 0; i < 200; i++) {
        String order = "ORD-" + (70_000 + i * 7);
        String id = "RET-" + (10_000 + i);
        String trace = String.format("%032x", 0xdef000L + i);
        long t = t0 + i * 250L;
        boolean sampled = !mostUnsampled || i % 5 >= 3;
        if (sampled) {
          out.accept(call(trace, i, t, "returns-api", "https://shop.example/api/returns",
              "{\"orderRef\":\"" + order + "\",\"items\":" + (1 + i % 4) + "}",
              "{\"returnId\":\"" + id + "\",\"orderRef\":\"" + order + "\"}"));
        }
        String json = "{\"returnId\":\"" + id + "\",\"orderRef\":\"" + order + "\"}";
        out.accept(record("returns.requested", i, trace, sampled, t + 5, id, json));
        out.accept(record("returns.received", i, trace, sampled, t + 60, id, json));
      }
    }
    Path drafts = work.resolve("drafts");
    Inference.builder().name("returns").build().infer(recording).write(drafts);
    String yaml = Files.readString(drafts.resolve("returns/returns.flow.yaml"));

    assertThat(new FlowSpecLoader().load(drafts).get(0).keys()).as(yaml).containsExactly("returnId");
    assertThat(yaml).contains("orderRef (sent by the caller) was as unique in this traffic");
  }

  /** The caller's POST to {@code url} that starts the flow: a server span of {@code service} with both bodies. */
  private static Telemetry call(String trace, int i, long ms, String service, String url, String request,
      String response) {
    return Telemetry.of(Span.builder().traceId(trace).spanId(String.format("%016x", 0x7000L + i))
        .name("POST " + java.net.URI.create(url).getPath()).kind(SpanKind.SERVER).service(service)
        .startEpochNanos(ms * 1_000_000L).endEpochNanos((ms + 9) * 1_000_000L)
        .attributes(Map.of("http.request.method", "POST", "url.full", url, "http.request.body", request,
            "http.response.body", response))
        .build());
  }

  private static Telemetry record(String topic, int offset, String trace, boolean sampled, long ms, String key,
      String json) {
    String traceparent = "00-" + trace + "-" + String.format("%016x", 0x9000L + offset * 2 + topic.length() % 2)
        + (sampled ? "-01" : "-00");
    return Telemetry.of(new KafkaRecord(topic, 0, offset, ms, key,
        List.of(RecordHeader.ofString("traceparent", traceparent)), json.getBytes(StandardCharsets.UTF_8)));
  }
}
