package io.flowtrace.verifier.replay;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.otlp.OtlpEncoder;
import io.flowtrace.tracer.recording.KcatJsonLinesWriter;
import io.flowtrace.tracer.recording.OtlpJsonLinesWriter;
import io.flowtrace.verifier.assembly.ShopFlows;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Writes telemetry as a recording replay reads (kcat and OTLP/JSON files, spans in export batches),
 * in a temporary root that also holds the shop flow's spec.
 */
final class TestRecordings {
  private TestRecordings() {}

  /** Writes {@link ShopFlows#SPEC} under {@code root/flows} and loads it. */
  static List<FlowSpec> shopFlows(Path root) throws Exception {
    Path specs = Files.createDirectories(root.resolve("flows"));
    Files.writeString(specs.resolve("shop.flow.yaml"), ShopFlows.SPEC);
    return new FlowSpecLoader().load(specs);
  }

  /** Deletes {@code root} and everything under it. */
  static void delete(Path root) throws IOException {
    try (var walk = Files.walk(root)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  /** Writes records and spans over {@code files} files each (lines shuffled when asked) into {@code dir}. */
  static Path write(Path dir, List<Telemetry> telemetry, Random random, int files, boolean shuffle)
      throws IOException {
    List<List<KafkaRecord>> records = new ArrayList<>();
    List<List<Span>> spans = new ArrayList<>();
    for (int i = 0; i < files; i++) {
      records.add(new ArrayList<>());
      spans.add(new ArrayList<>());
    }
    for (Telemetry t : telemetry) {
      if (t instanceof Telemetry.RecordEvent r) {
        records.get(random.nextInt(files)).add(r.record());
      } else {
        spans.get(random.nextInt(files)).add(((Telemetry.SpanEvent) t).span());
      }
    }
    for (int i = 0; i < files; i++) {
      if (shuffle) {
        Collections.shuffle(records.get(i), random);
        Collections.shuffle(spans.get(i), random);
      }
      try (KcatJsonLinesWriter w = KcatJsonLinesWriter.open(dir.resolve("part-" + i + ".kcat.jsonl"))) {
        for (KafkaRecord r : records.get(i)) {
          w.write(r);
        }
      }
      try (OtlpJsonLinesWriter w = OtlpJsonLinesWriter.open(dir.resolve("part-" + i + ".otlp.jsonl"))) {
        List<Span> list = spans.get(i);
        for (int from = 0; from < list.size(); ) {
          int to = Math.min(list.size(), from + 1 + random.nextInt(20));
          w.write(OtlpEncoder.request(list.subList(from, to)));
          from = to;
        }
      }
    }
    return dir;
  }
}
