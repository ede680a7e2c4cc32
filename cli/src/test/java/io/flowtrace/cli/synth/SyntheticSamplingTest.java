package io.flowtrace.cli.synth;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.TraceContext;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.opentelemetry.sdk.trace.samplers.SamplingDecision;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Head sampling as the Java agent's {@code parentbased_traceidratio} does it: the same flows
 * generated at full sampling and at 0.3, compared trace by trace and record by record.
 */
class SyntheticSamplingTest {

  private static final double RATIO = 0.3;
  private static final int FLOWS = 300;

  @TempDir
  static Path fullDir;

  @TempDir
  static Path sampledDir;

  static Manifest full;
  static Manifest sampled;
  static LoadedRecording fullRecording;
  static LoadedRecording sampledRecording;

  private static SyntheticOrderFlows.Builder flows() {
    SyntheticOrderFlows.Builder builder = SyntheticOrderFlows.builder().seed(31).flows(FLOWS)
        .plant(Defect.LOST_TRACEPARENT, 40)
        .plant(Defect.WRONG_TOTAL, 41);
    for (int i = 10; i < FLOWS; i += 25) {
      builder.plant(Defect.DUPLICATE_WEBHOOK_IDEMPOTENT, i);
    }
    return builder;
  }

  @BeforeAll
  static void generateAtFullAndPartialSampling() throws IOException {
    full = flows().build().write(fullDir);
    sampled = flows().sampleRatio(RATIO).build().write(sampledDir);
    fullRecording = LoadedRecording.read(fullDir);
    sampledRecording = LoadedRecording.read(sampledDir);
  }

  @Test
  void aboutTheRatioOfOrdersHaveTheirTraceSampled() {
    long mainSampled = sampled.flows().stream().filter(Manifest.Flow::mainSampled).count();
    assertThat((double) mainSampled / FLOWS).as("share of sampled order traces").isBetween(0.23, 0.37);
    assertThat(sampled.sampleRatio()).isEqualTo(RATIO);
    assertThat(sampled.flows()).allSatisfy(flow -> assertThat(flow.sampled()).isNotNull());
  }

  @Test
  void exactlyTheTracesWhoseRootTheRatioSamplerKeepsAreWrittenWhole() {
    Sampler ratio = Sampler.traceIdRatioBased(RATIO);
    int kept = 0;
    int dropped = 0;
    for (Map.Entry<String, List<Span>> trace : fullRecording.spansByTrace.entrySet()) {
      Span root = trace.getValue().stream().filter(Span::isRoot).findFirst().orElseThrow();
      boolean keep = ratio.shouldSample(Context.root(), root.traceId(), root.name(),
          io.opentelemetry.api.trace.SpanKind.SERVER, Attributes.empty(), List.of()).getDecision()
          == SamplingDecision.RECORD_AND_SAMPLE;
      List<Span> written = sampledRecording.spansByTrace.getOrDefault(trace.getKey(), List.of());
      if (keep) {
        assertThat(written).as("trace %s (sampled)", trace.getKey()).containsExactlyInAnyOrderElementsOf(trace.getValue());
        kept++;
      } else {
        assertThat(written).as("trace %s (not sampled)", trace.getKey()).isEmpty();
        dropped++;
      }
    }
    assertThat(kept).isPositive();
    assertThat(dropped).isGreaterThan(kept);
    assertThat(fullRecording.spansByTrace).containsKeys(sampledRecording.spansByTrace.keySet().toArray(String[]::new));
    assertThat(sampledRecording.spans).hasSize((int) sampled.spans());
    assertThat(sampled.flows().stream().mapToLong(Manifest.Flow::spans).sum()).isEqualTo(sampled.spans());
  }

  @Test
  void noSpanOfAnUnsampledTraceIsWritten() {
    Set<String> unsampled = new HashSet<>();
    for (KafkaRecord record : sampledRecording.records) {
      TraceContext context = record.traceContext().orElseThrow();
      if ((context.flags() & 0x01) == 0) {
        unsampled.add(context.traceId());
      }
    }
    sampled.flows().stream().filter(f -> !f.mainSampled()).forEach(f -> unsampled.add(f.traceId()));
    assertThat(unsampled).hasSizeGreaterThan(FLOWS / 2);
    assertThat(sampledRecording.spans).filteredOn(s -> unsampled.contains(s.traceId())).isEmpty();
  }

  @Test
  void everyRecordIsWrittenWithItsTraceparentFlagsSayingWhetherItsProducerSpanWasSampled() {
    Map<String, KafkaRecord> fullByCoordinates = new HashMap<>();
    fullRecording.records.forEach(r -> fullByCoordinates.put(r.coordinates(), r));
    assertThat(sampledRecording.records).hasSameSizeAs(fullRecording.records);
    Map<Integer, Integer> flags = new HashMap<>();
    for (KafkaRecord record : sampledRecording.records) {
      KafkaRecord atFull = fullByCoordinates.get(record.coordinates());
      assertThat(atFull).as(record.coordinates()).isNotNull();
      assertThat(record.value()).isEqualTo(atFull.value());
      assertThat(record.key()).isEqualTo(atFull.key());
      assertThat(record.timestampMillis()).isEqualTo(atFull.timestampMillis());
      TraceContext context = record.traceContext().orElseThrow();
      TraceContext fullContext = atFull.traceContext().orElseThrow();
      assertThat(context.traceId()).isEqualTo(fullContext.traceId());
      assertThat(context.spanId()).isEqualTo(fullContext.spanId());
      Span producer = sampledRecording.spanById.get(context.spanId());
      if (producer != null) {
        assertThat(producer.traceId()).isEqualTo(context.traceId());
        assertThat(context.flags()).as("flags of %s, produced under a sampled span", record.coordinates())
            .isEqualTo(fullContext.flags());
      } else {
        assertThat(context.flags()).as("flags of %s, produced under an unsampled span", record.coordinates())
            .isEqualTo(fullContext.flags() & ~0x01);
      }
      flags.merge(context.flags(), 1, Integer::sum);
    }
    assertThat(flags).as("traceparent flags seen").containsOnlyKeys(0x00, 0x01, 0x02, 0x03);
  }

  @Test
  void webhookAndConsumerStartedTracesSampleOnTheirOwn() {
    int webhookDiffersFromMain = 0;
    int consumerDiffersFromMain = 0;
    int partly = 0;
    int twoWebhooks = 0;
    for (Manifest.Flow flow : sampled.flows()) {
      Manifest.Sampling s = flow.sampled();
      for (boolean webhook : s.webhooks()) {
        webhookDiffersFromMain += webhook != s.main() ? 1 : 0;
      }
      for (boolean consumer : s.notification()) {
        consumerDiffersFromMain += consumer != s.main() ? 1 : 0;
      }
      partly += !s.all() && !s.none() ? 1 : 0;
      twoWebhooks += s.webhooks().size() == 2 ? 1 : 0;
    }
    assertThat(webhookDiffersFromMain).as("webhook traces sampled unlike their order's").isGreaterThan(20);
    assertThat(consumerDiffersFromMain).as("consumer-started traces sampled unlike their order's").isGreaterThan(5);
    assertThat(partly).as("partly sampled flows").isGreaterThan(30);
    assertThat(twoWebhooks).as("flows with a duplicate webhook delivery").isEqualTo(12);
  }

  @Test
  void theManifestsSamplingFactsMatchWhatTheRecordingHolds() {
    for (Manifest.Flow flow : sampled.flows()) {
      Manifest.Sampling s = flow.sampled();
      List<Span> spans = sampledRecording.spans(flow);
      assertThat(spans).as("spans of flow %d", flow.index()).hasSize(flow.spans());
      assertThat(sampledRecording.spansByTrace.containsKey(flow.traceId())).as("order trace of flow %d", flow.index())
          .isEqualTo(s.main());
      List<Span> webhooks = sampledRecording.spans(flow, SpanKind.SERVER, "POST /webhooks/payment");
      assertThat(webhooks).hasSize((int) s.webhooks().stream().filter(b -> b).count());
      List<Span> newConsumerTraces = spans.stream().filter(x -> x.kind() == SpanKind.CONSUMER && x.isRoot()).toList();
      assertThat(newConsumerTraces).as("consumer-started traces of flow %d", flow.index())
          .hasSize((int) s.notification().stream().filter(b -> b).count());
      Manifest.Flow atFull = full.flows().get(flow.index());
      List<Boolean> expectedWebhooks = atFull.payment() == Manifest.Payment.DECLINED ? List.of()
          : flow.defect() == Defect.DUPLICATE_WEBHOOK_IDEMPOTENT ? List.of(true, true) : List.of(true);
      assertThat(s.webhooks()).as("webhook deliveries of flow %d", flow.index()).hasSameSizeAs(expectedWebhooks);
    }
    Manifest.Flow lost = sampled.flowsWith(Defect.LOST_TRACEPARENT).get(0);
    assertThat(lost.sampled().notification()).hasSize(1);
  }

  @Test
  void aFlowsDataAndVerdictDoNotChangeWithTheRatio() {
    for (int i = 0; i < FLOWS; i++) {
      Manifest.Flow a = full.flows().get(i);
      Manifest.Flow b = sampled.flows().get(i);
      assertThat(new Manifest.Flow(b.index(), b.requestId(), b.orderId(), b.defect(), b.payment(), b.status(),
          b.violations(), b.start(), b.traceId(), a.spans(), b.records(), null))
          .as("flow %d apart from its spans and sampling", i).isEqualTo(a);
    }
    assertThat(full.flows()).allSatisfy(flow -> assertThat(flow.sampled()).isNull());
    assertThat(sampled.records()).isEqualTo(full.records());
  }

  @Test
  void theManifestWritesTheRatioAndEachFlowsSamplingAndReadsThemBack() throws IOException {
    assertThat(Manifest.read(sampledDir)).isEqualTo(sampled);
    JsonNode json = LoadedRecording.JSON.readTree(sampledDir.resolve(Manifest.FILE_NAME).toFile());
    assertThat(json.get("recording").get("sampleRatio").asDouble()).isEqualTo(RATIO);
    assertThat(json.get("recording").has("clockSkews")).isFalse();
    Manifest.Flow duplicate = sampled.flowsWith(Defect.DUPLICATE_WEBHOOK_IDEMPOTENT).get(0);
    JsonNode node = json.get("flows").get(duplicate.index()).get("sampled");
    assertThat(node.get("main").asBoolean()).isEqualTo(duplicate.sampled().main());
    assertThat(node.get("webhooks")).hasSize(2);
    assertThat(node.get("notification").isArray()).isTrue();
    JsonNode fullJson = LoadedRecording.JSON.readTree(fullDir.resolve(Manifest.FILE_NAME).toFile());
    assertThat(fullJson.get("recording").has("sampleRatio")).isFalse();
    assertThat(fullJson.get("flows").get(0).has("sampled")).isFalse();
  }

  @Test
  void atRatioZeroNoSpanIsWrittenAndEveryRecordIsStillThere(@TempDir Path dir) throws IOException {
    Manifest none = SyntheticOrderFlows.builder().seed(31).flows(20).sampleRatio(0).build().write(dir);
    LoadedRecording recording = LoadedRecording.read(dir);
    assertThat(recording.problems).isEmpty();
    assertThat(recording.spans).isEmpty();
    assertThat(none.spans()).isZero();
    assertThat(recording.records).hasSize((int) none.records()).isNotEmpty()
        .allSatisfy(r -> assertThat(r.lastHeader("traceparent").orElseThrow().valueAsString())
            .matches("00-[0-9a-f]{32}-[0-9a-f]{16}-0[02]"));
    assertThat(none.flows()).allSatisfy(f -> assertThat(f.sampled().none()).isTrue());
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(f -> f.getFileName().toString()))
          .containsExactlyInAnyOrder("messages.kcat.jsonl", "expected.json");
    }
  }

  @Test
  void atRatioOneTheOutputIsByteIdenticalToTheBundledSample(@TempDir Path dir) throws IOException {
    Path committed = Path.of("..", "samples", SyntheticOrderFlows.SAMPLE_DIR);
    SyntheticOrderFlows.sample().toBuilder().sampleRatio(1.0).build().write(dir);
    List<String> files = new ArrayList<>();
    try (Stream<Path> written = Files.list(dir)) {
      written.forEach(f -> files.add(f.getFileName().toString()));
    }
    assertThat(files).hasSize(6);
    for (String file : files) {
      assertThat(dir.resolve(file)).as(file).hasSameBinaryContentAs(committed.resolve(file));
    }
  }

  @Test
  void theSameSeedAndRatioWriteByteIdenticalFiles(@TempDir Path again) throws IOException {
    flows().sampleRatio(RATIO).build().write(again);
    try (Stream<Path> files = Files.list(sampledDir)) {
      for (Path file : files.toList()) {
        assertThat(again.resolve(file.getFileName())).as(file.getFileName().toString()).hasSameBinaryContentAs(file);
      }
    }
  }
}
