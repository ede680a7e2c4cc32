package io.flowtrace.verifier.assembly;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.report.TimelineEntry;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictListener;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A locker compartment is a second key, and a later parcel uses the same compartment: the
 * reservation call of the later parcel, which names only the compartment, happened in that
 * parcel's trace. It belongs there, not to the earlier parcel the value named first.
 */
class ReusedKeyTest {
  private static final String SPEC = String.join("\n",
      "flow: lockers",
      "keys: [parcelId, slotId]",
      "deadline: 30s",
      "stages:",
      "  - id: registered",
      "    events:",
      "      - {id: registered_msg, topic: t.registered}",
      "  - id: reserved",
      "    after: registered",
      "    events:",
      "      - id: reserve_call",
      "        span: {service: courier, kind: CLIENT, name: POST}",
      "        payload: {attribute: http.response.body}",
      "  - id: deposited",
      "    after: reserved",
      "    terminal: true",
      "    events:",
      "      - {id: deposited_msg, topic: t.deposited}",
      "");
  private static final long T0 = 1_790_000_000_000L;

  @TempDir Path dir;
  private final List<Telemetry> all = new ArrayList<>();
  private long offset;

  @Test
  void aKeyValueALaterInstanceReusesJoinsTheEventsOfItsTraceToThatInstance() throws Exception {
    Files.writeString(dir.resolve("lockers.flow.yaml"), SPEC);
    parcel("p-1", "slot-37", 0);
    parcel("p-2", "slot-37", 15_000);
    Map<String, Verdict> finals = new LinkedHashMap<>();
    FlowEngine engine = FlowEngine.builder(new FlowSpecLoader().load(dir)).listener(new VerdictListener() {
      @Override
      public void finalized(Verdict v) {
        finals.put(v.keys().get("parcelId"), v);
      }
    }).build();
    all.sort(java.util.Comparator.comparingLong(Telemetry::arrivalEpochNanos));
    all.forEach(engine::accept);
    engine.advanceTo((T0 + 300_000) * 1_000_000L);
    engine.finish();

    assertThat(finals).containsOnlyKeys("p-1", "p-2");
    assertThat(finals.values()).allSatisfy(v -> {
      assertThat(v.violations()).as(v.toString()).isEmpty();
      assertThat(v.timeline()).extracting(TimelineEntry::event).as(v.toString())
          .containsExactly("registered_msg", "reserve_call", "deposited_msg");
    });
    assertThat(engine.stats().keyReuses()).isEqualTo(1);
    assertThat(engine.stats().keyReuseExample())
        .isEqualTo("lockers: slotId=slot-37 named two instances (parcelId p-1 and p-2)");
  }

  private void parcel(String parcelId, String slotId, long ms) {
    String trace = String.format("%032x", (long) parcelId.hashCode() & 0xffffffffL);
    String send = spanId(parcelId + "send");
    all.add(Telemetry.of(new Span(trace, send, "", "send t.registered", SpanKind.PRODUCER, "api", nanos(ms),
        nanos(ms + 1), producerAttributes("t.registered"), List.of(), false)));
    record("t.registered", ms, trace, send, parcelId, "{\"parcelId\":\"" + parcelId + "\"}");
    String process = spanId(parcelId + "process");
    all.add(Telemetry.of(new Span(trace, process, send, "process t.registered", SpanKind.CONSUMER, "courier",
        nanos(ms + 2), nanos(ms + 40), Map.of("messaging.system", "kafka", "messaging.destination.name",
            "t.registered", "messaging.operation.type", "process"), List.of(), false)));
    all.add(Telemetry.of(new Span(trace, spanId(parcelId + "reserve"), process, "POST", SpanKind.CLIENT, "courier",
        nanos(ms + 5), nanos(ms + 20), Map.of("url.full", "http://lockers/reservations", "http.response.body",
            "{\"slotId\":\"" + slotId + "\",\"status\":\"RESERVED\"}"), List.of(), false)));
    String deposit = spanId(parcelId + "deposit");
    all.add(Telemetry.of(new Span(trace, deposit, process, "send t.deposited", SpanKind.PRODUCER, "courier",
        nanos(ms + 30), nanos(ms + 31), producerAttributes("t.deposited"), List.of(), false)));
    record("t.deposited", ms + 30, trace, deposit, parcelId,
        "{\"parcelId\":\"" + parcelId + "\",\"slotId\":\"" + slotId + "\"}");
  }

  private void record(String topic, long ms, String trace, String parent, String key, String json) {
    all.add(Telemetry.of(new KafkaRecord(topic, 0, offset++, T0 + ms, key,
        List.of(RecordHeader.ofString("traceparent", "00-" + trace + "-" + parent + "-01")),
        json.getBytes(StandardCharsets.UTF_8))));
  }

  /** A producer span naming the partition and offset of the record it sends (the next). */
  private Map<String, Object> producerAttributes(String topic) {
    return Map.of("messaging.system", "kafka", "messaging.destination.name", topic, "messaging.operation.type",
        "send", "messaging.destination.partition.id", "0", "messaging.kafka.offset", offset);
  }

  private static long nanos(long ms) {
    return (T0 + ms) * 1_000_000L;
  }

  private static String spanId(String id) {
    return String.format("%016x", (long) id.hashCode() & 0xffffffffL);
  }
}
