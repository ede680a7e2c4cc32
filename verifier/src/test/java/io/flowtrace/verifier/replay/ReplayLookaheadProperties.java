package io.flowtrace.verifier.replay;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.assembly.FlowEngine;
import io.flowtrace.verifier.assembly.ShopFlows;
import io.flowtrace.verifier.spec.FlowSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AfterProperty;

/**
 * Whatever the traffic — orders overlapping or far apart, redelivered seconds or minutes later,
 * delivered twice with two event ids, declined, unsampled, unfinished, on clocks apart — replay's
 * verdicts, made final as soon as its lookahead says nothing more can come, are exactly those of an
 * engine that holds every instance to the end.
 */
class ReplayLookaheadProperties {

  private final Path root;
  private final List<FlowSpec> flows;

  ReplayLookaheadProperties() throws Exception {
    root = Files.createTempDirectory("flowtrace-lookahead");
    flows = TestRecordings.shopFlows(root);
  }

  @AfterProperty
  void cleanUp() throws IOException {
    TestRecordings.delete(root);
  }

  @Property(tries = 12)
  void finalAsSoonAsNothingMoreCanComeIsFinalAsAtTheEnd(@ForAll long seed) throws IOException {
    Random random = new Random(seed);
    List<Telemetry> telemetry = traffic(random);
    Path recording = TestRecordings.write(Files.createDirectories(root.resolve("rec-" + System.nanoTime())),
        telemetry, random, 1 + random.nextInt(4), true);

    Map<String, String> replayed = new TreeMap<>();
    FlowEngine engine = FlowEngine.builder(flows).amendUntilEnd().listener(ReplayLookaheadTest.collect(replayed)).build();
    int buffer = List.of(50, 500, 1_000_000).get(random.nextInt(3));
    Replay.builder(engine).maxBufferedEvents(buffer).tempDir(root).build().run(recording);

    Map<String, String> heldToTheEnd = new TreeMap<>();
    ReplayLookaheadTest.feedInOrder(
        FlowEngine.builder(flows).amendUntilEnd().listener(ReplayLookaheadTest.collect(heldToTheEnd)).build(), telemetry);

    assertThat(replayed).as("seed %d, buffer %d", seed, buffer).isEqualTo(heldToTheEnd);
    assertThat(engine.stats().lateDropped()).isZero();
  }

  private static List<Telemetry> traffic(Random random) {
    ShopFlows shop = new ShopFlows();
    List<Telemetry> out = new ArrayList<>();
    long start = 0;
    int orders = 40 + random.nextInt(120);
    for (int i = 0; i < orders; i++) {
      start += random.nextInt(4) == 0 ? random.nextInt(60_000) : random.nextInt(2_000);
      ShopFlows.Order o = ShopFlows.order("o-" + i, start);
      switch (random.nextInt(8)) {
        case 0 -> o.delivery("evt-o-" + i, random.nextBoolean(), true);
        case 1 -> o.delivery("evt-again-" + i, true, random.nextBoolean());
        case 2 -> o.declined = true;
        case 3 -> o.noDone = true;
        case 4 -> o.wrongAcceptedTotal = true;
        case 5 -> o.chargeBeforeAccepted = true;
        default -> { }
      }
      o.deliveryGapMs = random.nextInt(3) == 0 ? random.nextInt(400_000) : random.nextInt(3_000);
      if (random.nextInt(5) == 0) {
        o.unsampled();
      }
      if (random.nextInt(4) == 0) {
        o.skew(List.of("gw", "ord", "not").get(random.nextInt(3)), random.nextInt(101) - 50);
      }
      out.addAll(shop.telemetry(o));
    }
    return out;
  }
}
