package io.flowtrace.verifier.replay;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.assembly.FlowEngine;
import io.flowtrace.verifier.assembly.ShopFlows;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictListener;
import io.flowtrace.verifier.spec.FlowSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replay reads a recording once before verifying it, so it knows when the last event of every key
 * and trace comes; its engine makes a decided verdict final as soon as none can come any more.
 * Verdicts must be exactly those of an engine that holds every instance open to the end — a
 * redelivery minutes later still amends its instance — while memory holds only the instances
 * something can still reach.
 */
class ReplayLookaheadTest {
  private static final int ORDERS = 300;

  @TempDir
  Path dir;
  private List<FlowSpec> flows;
  private final Set<String> redelivered = new TreeSet<>();

  @BeforeEach
  void loadFlows() throws Exception {
    flows = TestRecordings.shopFlows(dir);
  }

  /** Orders two seconds apart: a tenth redelivered one to five minutes later, some declined, unsampled or unfinished. */
  private List<Telemetry> traffic(Random random) {
    ShopFlows shop = new ShopFlows();
    List<Telemetry> out = new ArrayList<>();
    for (int i = 0; i < ORDERS; i++) {
      ShopFlows.Order o = ShopFlows.order("o-" + i, i * 2_000L);
      o.declined = i % 13 == 5;
      if (i % 10 == 3 && !o.declined) {
        o.delivery("evt-o-" + i, true, true);
        o.deliveryGapMs = 60_000 + random.nextInt(240_000);
        redelivered.add(o.orderId);
      }
      o.noDone = i % 17 == 6;
      if (i % 7 == 2) {
        o.unsampled();
      }
      out.addAll(shop.telemetry(o));
    }
    return out;
  }

  @Test
  void verdictsAreThoseOfAnEngineHoldingEveryInstanceToTheEnd() throws Exception {
    List<Telemetry> telemetry = traffic(new Random(7));
    Path recording = TestRecordings.write(Files.createDirectories(dir.resolve("rec")), telemetry, new Random(8), 3, true);

    Map<String, String> replayed = new TreeMap<>();
    FlowEngine engine = FlowEngine.builder(flows).amendUntilEnd().listener(collect(replayed)).build();
    Replay.builder(engine).build().run(recording);

    Map<String, String> heldToTheEnd = new TreeMap<>();
    FlowEngine plain = FlowEngine.builder(flows).amendUntilEnd().listener(collect(heldToTheEnd)).build();
    feedInOrder(plain, telemetry);

    assertThat(replayed).hasSize(ORDERS).isEqualTo(heldToTheEnd);
    assertThat(engine.stats().lateDropped()).isZero();
    assertThat(redelivered).allSatisfy(id -> assertThat(replayed.get(id)).contains("NON_IDEMPOTENT"));
    assertThat(redelivered).filteredOn(id -> !replayed.get(id).contains("revision 0"))
        .as("redelivered orders whose verdict the redelivery amended").hasSizeGreaterThan(redelivered.size() / 2);
  }

  @Test
  void decidedInstancesAreReleasedOnceNoLaterEventCanReachThem() throws Exception {
    List<Telemetry> telemetry = traffic(new Random(11));
    Path recording = TestRecordings.write(Files.createDirectories(dir.resolve("rec")), telemetry, new Random(12), 2, true);

    HeldCount held = new HeldCount();
    FlowEngine engine = held.engine(flows);
    Replay.builder(engine).build().run(recording);

    HeldCount heldWithout = new HeldCount();
    feedInOrder(heldWithout.engine(flows), telemetry);

    assertThat(engine.stats().verdictsFinal()).isEqualTo(ORDERS);
    assertThat(heldWithout.most).as("decided instances held without a lookahead").isGreaterThan(ORDERS - 10);
    // in flight: the few orders of the last seconds, and the redelivered ones until their redelivery
    assertThat(held.most).as("decided instances held with the lookahead").isLessThan(redelivered.size() + 20);
  }

  /** The most decided instances an engine held, open to amendment, when it made a verdict final. */
  private static final class HeldCount implements VerdictListener {
    private FlowEngine engine;
    long most;

    FlowEngine engine(List<FlowSpec> flows) {
      engine = FlowEngine.builder(flows).amendUntilEnd().listener(this).build();
      return engine;
    }

    @Override
    public void finalized(Verdict verdict) {
      most = Math.max(most, engine.stats().decidedInFlight());
    }
  }

  /** Feeds the engine as replay does, in replay's order, without a lookahead. */
  static void feedInOrder(FlowEngine engine, List<Telemetry> telemetry) {
    List<Telemetry> sorted = new ArrayList<>(telemetry);
    sorted.sort(TelemetryOrder.INSTANCE);
    ReplayClock clock = new ReplayClock(engine);
    for (Telemetry t : sorted) {
      clock.beforeFeeding(t.arrivalEpochNanos());
      engine.accept(t);
      clock.fed(t.arrivalEpochNanos());
    }
    if (!sorted.isEmpty()) {
      engine.advanceTo(sorted.get(sorted.size() - 1).arrivalEpochNanos());
    }
    engine.finish();
  }

  static VerdictListener collect(Map<String, String> into) {
    return new VerdictListener() {
      @Override
      public void finalized(Verdict v) {
        into.put(v.keys().get("orderId"), v.status() + " " + v.violations() + " unverified " + v.unverified()
            + " revision " + v.revision() + " " + v.reason());
      }
    };
  }
}
