package io.flowtrace.verifier.assembly;

import static io.flowtrace.verifier.assembly.ShopFlows.nanos;
import static io.flowtrace.verifier.assembly.ShopFlows.order;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictListener;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code atLeastOnce}: each webhook delivery the shop acknowledged must cause its effect. */
class AtLeastOnceTest {

  @TempDir Path dir;
  private final ShopFlows shop = new ShopFlows();
  private final Map<String, Verdict> finals = new LinkedHashMap<>();

  private void replay(boolean atLeastOnce, ShopFlows.Order... orders) throws Exception {
    String spec = atLeastOnce ? ShopFlows.SPEC.replace("effects: [paid_msg, declined_msg, done_msg]}",
        "effects: [paid_msg, declined_msg, done_msg], atLeastOnce: true}") : ShopFlows.SPEC;
    assertThat(spec).contains(atLeastOnce ? "atLeastOnce: true" : "idempotency");
    Files.writeString(dir.resolve("shop.flow.yaml"), spec);
    FlowEngine engine = FlowEngine.builder(new FlowSpecLoader().load(dir)).listener(new VerdictListener() {
      @Override
      public void finalized(Verdict v) {
        finals.put(v.keys().get("orderId"), v);
      }
    }).build();
    List<Telemetry> all = new ArrayList<>();
    for (ShopFlows.Order o : orders) {
      all.addAll(shop.telemetry(o));
    }
    all.sort(java.util.Comparator.comparingLong(Telemetry::arrivalEpochNanos));
    all.forEach(engine::accept);
    engine.advanceTo(nanos(60_000));
    engine.finish();
  }

  private List<String> kinds(String orderId) {
    return finals.get(orderId).violations().stream().map(v -> v.kind() + " at " + v.stage()).toList();
  }

  @Test
  void aDeliveryWithANewEventIdThatCausedNothingIsALostEffect() throws Exception {
    ShopFlows.Order lost = order("o-1", 0).delivery("evt-o-1-b", true, false);
    ShopFlows.Order redelivered = order("o-2", 100).delivery("evt-o-2", true, false); // same eventId: ignored, rightly
    ShopFlows.Order unseen = order("o-3", 200).delivery("evt-o-3-b", false, false); // its trace not sampled
    replay(true, lost, redelivered, unseen);

    assertThat(kinds("o-1")).containsExactly("MISSING_STAGE at captured");
    assertThat(finals.get("o-1").violations().get(0).message())
        .isEqualTo("webhook with eventId evt-o-1-b caused none of paid_msg, declined_msg, done_msg: each eventId of it"
            + " must cause one (atLeastOnce) — an acknowledged delivery whose effect was lost");
    assertThat(kinds("o-2")).isEmpty();
    assertThat(kinds("o-3")).isEmpty();
  }

  @Test
  void withoutAtLeastOnceALostEffectPasses() throws Exception {
    replay(false, order("o-1", 0).delivery("evt-o-1-b", true, false));

    assertThat(kinds("o-1")).isEmpty();
  }
}
