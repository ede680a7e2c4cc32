package io.flowtrace.verifier.assembly;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * The sightings the open instances hold are counted as instances open, take events, merge, are
 * decided, evicted for a cap or discarded with a lost source — and the count always equals a walk
 * over the open set (which the retention cap read on every advance before it was counted).
 */
class OpenInstancesProperties {

  private final List<FlowSpec> flows;

  OpenInstancesProperties() throws Exception {
    Path dir = Files.createTempDirectory("flowtrace-open");
    Files.writeString(dir.resolve("shop.flow.yaml"), ShopFlows.SPEC);
    flows = new FlowSpecLoader().load(dir);
    Files.delete(dir.resolve("shop.flow.yaml"));
    Files.delete(dir);
  }

  @Property(tries = 60)
  void theCountedSightingsOfOpenInstancesAreThoseAWalkFinds(@ForAll long seed) {
    Random random = new Random(seed);
    FlowEngine engine = FlowEngine.builder(flows)
        .maxOpenInstances(2 + random.nextInt(30))
        .maxEventsPerInstance(3 + random.nextInt(20))
        .maxRetainedEvents(10 + random.nextInt(400))
        .completionGrace(java.time.Duration.ofMillis(random.nextInt(3000)))
        .build();
    List<Telemetry> all = traffic(random);
    long maxOpen = 0;
    for (int i = 0; i < all.size(); i++) {
      Telemetry t = all.get(i);
      if (random.nextInt(40) == 0) {
        engine.live().source(random.nextInt(3));
      }
      engine.accept(t);
      if (random.nextInt(7) == 0) {
        engine.advanceTo(t.arrivalEpochNanos() - random.nextInt(2_000) * 1_000_000L);
      }
      if (random.nextInt(150) == 0) {
        int gone = random.nextInt(3);
        engine.live().discardOpen(tag -> tag == gone);
      }
      maxOpen = Math.max(maxOpen, engine.openInstances().size());
      assertThat(engine.openInstances().sightings()).as("after %d of %d", i + 1, all.size()).isEqualTo(walked(engine));
    }
    engine.finish();

    assertThat(maxOpen).as("instances were open at all").isPositive();
    assertThat(engine.openInstances().sightings()).isZero().isEqualTo(walked(engine));
  }

  private static long walked(FlowEngine engine) {
    long held = 0;
    for (InstanceState inst : engine.openInstances()) {
      held += inst.sightings.size();
    }
    return held;
  }

  /** Orders of every shape, their telemetry interleaved roughly by time with local disorder and repeats. */
  private static List<Telemetry> traffic(Random random) {
    ShopFlows shop = new ShopFlows();
    List<Telemetry> all = new ArrayList<>();
    int orders = 5 + random.nextInt(40);
    for (int i = 0; i < orders; i++) {
      ShopFlows.Order o = ShopFlows.order("o-" + (random.nextInt(4) == 0 ? random.nextInt(i + 1) : i),
          random.nextInt(60_000));
      if (random.nextInt(4) == 0) {
        o.delivery("evt-again-" + i, random.nextBoolean(), random.nextBoolean());
      }
      if (random.nextInt(5) == 0) {
        o.unsampled();
      }
      o.declined = random.nextInt(5) == 0;
      o.noDone = random.nextInt(6) == 0;
      o.chargeBeforeAccepted = random.nextInt(8) == 0;
      if (random.nextInt(5) == 0) {
        o.skew("ord", random.nextInt(80) - 40);
      }
      all.addAll(shop.telemetry(o));
    }
    all.sort(Comparator.comparingLong(Telemetry::arrivalEpochNanos));
    for (int i = 0; i + 1 < all.size(); i++) {
      if (random.nextInt(4) == 0) {
        Collections.swap(all, i, Math.min(all.size() - 1, i + 1 + random.nextInt(8)));
      }
    }
    for (int i = random.nextInt(5); i > 0; i--) {
      all.add(random.nextInt(all.size()), all.get(random.nextInt(all.size())));
    }
    return all;
  }
}
