package io.flowtrace.cli.synth;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Clock skew: the same flows generated with every clock right and with {@code inventory-service}
 * 40 ms ahead and {@code order-service} 40 ms behind, compared span by span and record by record.
 */
class SyntheticClockSkewTest {

  private static final long MS = 1_000_000L;
  private static final Map<String, Long> SKEW_NANOS = Map.of("inventory-service", 40 * MS, "order-service", -40 * MS);

  @TempDir
  static Path rightDir;

  @TempDir
  static Path skewedDir;

  static Manifest right;
  static Manifest skewed;
  static LoadedRecording rightRecording;
  static LoadedRecording skewedRecording;

  private static SyntheticOrderFlows.Builder flows() {
    return SyntheticOrderFlows.builder().seed(57).flows(60)
        .plant(Defect.LOST_TRACEPARENT, 5)
        .plant(Defect.DUPLICATE_WEBHOOK_NON_IDEMPOTENT, 9)
        .plant(Defect.SLOW_NOTIFICATION, 12)
        .plant(Defect.EARLY_ORDER_CREATED, 20);
  }

  @BeforeAll
  static void generateWithAndWithoutSkew() throws IOException {
    right = flows().build().write(rightDir);
    skewed = flows()
        .clockSkew("inventory-service", Duration.ofMillis(40))
        .clockSkew("order-service", Duration.ofMillis(-40))
        .build().write(skewedDir);
    rightRecording = LoadedRecording.read(rightDir);
    skewedRecording = LoadedRecording.read(skewedDir);
  }

  @Test
  void aSkewedServicesSpansStartAndEndExactlyItsOffsetOffAndOtherSpansAreUnchanged() {
    assertThat(skewedRecording.spans).hasSameSizeAs(rightRecording.spans);
    Map<String, Integer> shifted = new HashMap<>();
    for (Span span : skewedRecording.spans) {
      Span truth = rightRecording.spanById.get(span.spanId());
      assertThat(truth).as(span.describe()).isNotNull();
      long offset = SKEW_NANOS.getOrDefault(span.service(), 0L);
      assertThat(span.startEpochNanos() - truth.startEpochNanos()).as("start of %s", span.describe()).isEqualTo(offset);
      assertThat(span.endEpochNanos() - truth.endEpochNanos()).as("end of %s", span.describe()).isEqualTo(offset);
      Span unshifted = new Span(span.traceId(), span.spanId(), span.parentSpanId(), span.name(), span.kind(),
          span.service(), truth.startEpochNanos(), truth.endEpochNanos(), span.attributes(), span.links(), span.error(),
          span.host());
      assertThat(unshifted).as("%s apart from its times", span.describe()).isEqualTo(truth);
      shifted.merge(span.service(), 1, Integer::sum);
    }
    assertThat(shifted).containsOnlyKeys("gateway", "order-service", "inventory-service", "notification-service");
  }

  @Test
  void aRecordsTimestampIsOffByItsProducersSkewAndNothingElseAboutItChanges() {
    Map<String, KafkaRecord> truthByCoordinates = new HashMap<>();
    rightRecording.records.forEach(r -> truthByCoordinates.put(r.coordinates(), r));
    assertThat(skewedRecording.records).hasSameSizeAs(rightRecording.records);
    Map<Long, Integer> shifts = new HashMap<>();
    for (KafkaRecord record : skewedRecording.records) {
      KafkaRecord truth = truthByCoordinates.get(record.coordinates());
      assertThat(truth).as(record.coordinates()).isNotNull();
      String producer = rightRecording.producerOf(truth).service();
      long shift = (record.timestampMillis() - truth.timestampMillis()) * MS;
      assertThat(shift).as("ts of %s, produced by %s", record.coordinates(), producer)
          .isEqualTo(SKEW_NANOS.getOrDefault(producer, 0L));
      assertThat(new KafkaRecord(record.topic(), record.partition(), record.offset(), truth.timestampMillis(),
          record.key(), record.headers(), record.value())).as(record.coordinates()).isEqualTo(truth);
      shifts.merge(shift, 1, Integer::sum);
    }
    assertThat(shifts).containsOnlyKeys(0L, 40 * MS, -40 * MS);
  }

  @Test
  void unskewedServicesWriteTheSameSpanFiles() {
    for (String service : List.of("gateway", "notification-service")) {
      assertThat(skewedDir.resolve(service + ".otlp.jsonl")).as(service)
          .hasSameBinaryContentAs(rightDir.resolve(service + ".otlp.jsonl"));
    }
  }

  @Test
  void theSkewMakesAnEffectLookEarlierThanItsCauseOnAnotherHost() {
    // order-service reads 40 ms behind, inventory-service 40 ms ahead: the reply is consumed, by
    // order-service's clock, before inventory-service stamped it -- though offsets and spans'
    // parent/child edges still say which came first.
    int looksEarlier = 0;
    for (Manifest.Flow flow : skewed.flows()) {
      KafkaRecord reply = skewedRecording.records(flow, "inventory.replies").get(0);
      Span consumer = skewedRecording.spans(flow, SpanKind.CONSUMER, "process inventory.replies").get(0);
      assertThat(consumer.parentSpanId()).isEqualTo(reply.traceContext().orElseThrow().spanId());
      if (consumer.startEpochNanos() < reply.timestampNanos()) {
        looksEarlier++;
      }
    }
    assertThat(looksEarlier).isEqualTo(skewed.flows().size());
  }

  @Test
  void theManifestRecordsTheSkewsAndKeepsEveryFlowsVerdict() throws IOException {
    assertThat(skewed.clockSkews()).containsExactly(
        Map.entry("inventory-service", Duration.ofMillis(40)), Map.entry("order-service", Duration.ofMillis(-40)));
    assertThat(skewed.flows()).isEqualTo(right.flows());
    assertThat(skewed.sampleRatio()).isEqualTo(1.0);
    assertThat(Manifest.read(skewedDir)).isEqualTo(skewed);
    JsonNode skews = LoadedRecording.JSON.readTree(skewedDir.resolve(Manifest.FILE_NAME).toFile())
        .get("recording").get("clockSkews");
    assertThat(skews.get("inventory-service").asString()).isEqualTo("PT0.04S");
    assertThat(skews.get("order-service").asString()).isEqualTo("PT-0.04S");
    assertThat(right.clockSkews()).isEmpty();
  }

  @Test
  void theRecordingEndIsTheLatestTimestampAsTheClocksReadIt() {
    long latest = Long.MIN_VALUE;
    for (Span span : skewedRecording.spans) {
      latest = Math.max(latest, span.endEpochNanos());
    }
    for (KafkaRecord record : skewedRecording.records) {
      latest = Math.max(latest, record.timestampNanos());
    }
    assertThat(skewed.recordingEnd()).isEqualTo(java.time.Instant.ofEpochSecond(0, latest));
  }

  @Test
  void aZeroSkewIsNoSkew(@TempDir Path dir) throws IOException {
    Manifest zero = SyntheticOrderFlows.builder().seed(57).flows(5)
        .clockSkew("gateway", Duration.ofMillis(25))
        .clockSkew("gateway", Duration.ZERO)
        .build().write(dir);
    assertThat(zero.clockSkews()).isEmpty();
  }
}
