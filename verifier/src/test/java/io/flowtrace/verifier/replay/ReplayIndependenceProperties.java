package io.flowtrace.verifier.replay;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.otlp.OtlpEncoder;
import io.flowtrace.tracer.recording.KcatJsonLinesWriter;
import io.flowtrace.tracer.recording.OtlpJsonLinesWriter;
import io.flowtrace.verifier.assembly.FlowEngine;
import io.flowtrace.verifier.assembly.ShopFlows;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictListener;
import io.flowtrace.verifier.spec.FlowSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AfterProperty;

/**
 * Replay verdicts are a function of the recording's events alone: padding a recording with
 * unrelated flows (so event time moves on in different steps), cutting it into other files,
 * shuffling its lines and spilling sorted runs to disk change no verdict of the original flows —
 * including a duplicate delivered 100 s after the first, which must amend its instance however
 * late it comes.
 */
class ReplayIndependenceProperties {

  private final Path root;
  private final List<FlowSpec> flows;

  ReplayIndependenceProperties() throws Exception {
    root = Files.createTempDirectory("flowtrace-independence");
    flows = TestRecordings.shopFlows(root);
  }

  @AfterProperty
  void cleanUp() throws IOException {
    TestRecordings.delete(root);
  }

  @Property(tries = 15)
  void paddingSplittingAndShufflingChangeNoVerdict(@ForAll long seed) throws IOException {
    Random random = new Random(seed);
    ShopFlows shop = new ShopFlows();
    List<Telemetry> base = base(shop);
    Map<String, String> expected = verdicts(write(base, new Random(1), 1, false, "base"), 1_000_000);

    List<Telemetry> padded = new ArrayList<>(base);
    int padding = random.nextInt(150);
    for (int i = 0; i < padding; i++) {
      ShopFlows.Order o = ShopFlows.order("pad-" + i, random.nextInt(250_000) - 50_000);
      if (random.nextInt(4) == 0) {
        o.unsampled();
      }
      o.declined = random.nextInt(5) == 0;
      o.noDone = random.nextInt(10) == 0;
      padded.addAll(shop.telemetry(o));
    }
    Path dir = write(padded, random, 1 + random.nextInt(6), true, "run");
    int buffer = List.of(64, 1000, 1_000_000).get(random.nextInt(3));
    Map<String, String> actual = verdicts(dir, buffer);

    assertThat(actual).as("padding %d flows, buffer %d", padding, buffer).containsAllEntriesOf(expected);
  }

  /** The flows under test: clean, defective, sampled out, and one redelivered 100 s late. */
  private static List<Telemetry> base(ShopFlows shop) {
    List<Telemetry> out = new ArrayList<>();
    out.addAll(shop.telemetry(ShopFlows.order("clean", 0)));
    ShopFlows.Order late = ShopFlows.order("late-duplicate", 2_000).delivery("evt-late-duplicate", true, true);
    late.deliveryGapMs = 100_000;
    out.addAll(shop.telemetry(late));
    ShopFlows.Order total = ShopFlows.order("wrong-total", 4_000).unsampled();
    total.wrongAcceptedTotal = true;
    out.addAll(shop.telemetry(total));
    ShopFlows.Order none = ShopFlows.order("no-done", 6_000);
    none.noDone = true;
    out.addAll(shop.telemetry(none));
    ShopFlows.Order early = ShopFlows.order("charge-early", 8_000).skew("ord", -30);
    early.chargeBeforeAccepted = true;
    out.addAll(shop.telemetry(early));
    out.addAll(shop.telemetry(ShopFlows.order("skewed", 10_000).skew("gw", 40).skew("not", -40)));
    return out;
  }

  private Map<String, String> verdicts(Path recording, int buffer) throws IOException {
    Map<String, String> out = new TreeMap<>();
    FlowEngine engine = FlowEngine.builder(flows).amendUntilEnd().listener(new VerdictListener() {
      @Override
      public void finalized(Verdict v) {
        out.put(v.keys().get("orderId"), v.status() + " " + v.violations() + " unverified " + v.unverified());
      }
    }).build();
    Replay.builder(engine).maxBufferedEvents(buffer).tempDir(root).build().run(recording);
    return out;
  }

  private Path write(List<Telemetry> telemetry, Random random, int files, boolean shuffle, String name)
      throws IOException {
    return TestRecordings.write(Files.createDirectories(root.resolve(name + "-" + System.nanoTime())), telemetry,
        random, files, shuffle);
  }
}
