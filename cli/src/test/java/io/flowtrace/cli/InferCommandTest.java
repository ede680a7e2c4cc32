package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.cli.synth.Defect;
import io.flowtrace.cli.synth.Manifest;
import io.flowtrace.cli.synth.SyntheticOrderFlows;
import io.flowtrace.verifier.assembly.FlowEngine;
import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.replay.Replay;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictListener;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import io.flowtrace.verifier.spec.SpecProblem;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code flowtrace infer} on generated traffic of the reference flow: the draft lints clean, passes
 * the clean instances it was learned from, and — unedited — passes the clean instances of another
 * recording and catches most of its planted defects.
 */
class InferCommandTest {

  @TempDir static Path work;
  static Path training;
  static Path drafts;
  static Manifest trainingManifest;

  @BeforeAll
  static void learnFromMostlyCleanTraffic() throws Exception {
    training = work.resolve("training");
    // mostly clean, with a little dirt: the draft must not learn it
    trainingManifest = SyntheticOrderFlows.builder().seed(101).flows(300).interArrival(Duration.ofMillis(120))
        .plant(Defect.WRONG_TOTAL, 40).plant(Defect.DUPLICATE_WEBHOOK_NON_IDEMPOTENT, 90)
        .plant(Defect.SLOW_NOTIFICATION, 130).plant(Defect.BAD_JSON_SCHEMA, 170)
        .build().write(training);
    drafts = work.resolve("drafts");
    Inference.Result result = Inference.builder().name("orders").build().infer(training);
    result.write(drafts);
  }

  @Test
  void theDraftLintsCleanAndDeclaresTheFlowsShape() throws Exception {
    List<SpecProblem> problems = new ArrayList<>();
    List<FlowSpec> specs = new FlowSpecLoader().loadAll(drafts, problems);

    assertThat(problems).isEmpty();
    assertThat(specs).singleElement().satisfies(spec -> {
      assertThat(spec.name()).isEqualTo("orders");
      assertThat(spec.keys()).containsExactlyInAnyOrder("requestId", "orderId");
      assertThat(spec.terminalStages()).extracting(s -> s.events().get(0).topic()).containsExactly("notifications.email");
      assertThat(spec.stages()).filteredOn(s -> s.when() != null).extracting(s -> s.when().source())
          .containsExactlyInAnyOrder("payments_response.status == \"authorized\"",
              "payments_response.status == \"declined\"");
      assertThat(spec.idempotency()).hasSize(2).first().satisfies(i -> {
        assertThat(i.trigger()).isEqualTo("webhooks_payment");
        assertThat(i.dedupKey().text()).isEqualTo("eventId");
      });
      // the records no order had two of, once per order; the webhook's effects are counted by it
      assertThat(spec.idempotency().get(1)).satisfies(i -> {
        assertThat(i.trigger()).isEqualTo("api_orders");
        assertThat(i.dedupKey()).isNull();
        assertThat(i.effects()).containsExactly("orders_requested", "inventory_requests", "inventory_replies",
            "orders_created");
      });
      assertThat(spec.events()).filteredOn(e -> e.newTrace()).extracting(e -> e.id()).containsExactly("webhooks_payment");
    });
    String yaml = Files.readString(drafts.resolve("orders/orders.flow.yaml"));
    assertThat(yaml).contains("# held in ", "instances", "money_eq(orders_created.total, orders_created.items.map(");
  }

  @Test
  void replayingTheTrainingTrafficPassesItsCleanInstances() throws Exception {
    Map<String, Verdict> verdicts = replay(drafts, training);

    for (Manifest.Flow flow : trainingManifest.flows()) {
      if (flow.defect() == null) {
        assertThat(verdicts.get(flow.requestId()).status()).as("flow %d", flow.index())
            .isIn(VerdictStatus.PASSED, VerdictStatus.INCOMPLETE);
      }
    }
  }

  @Test
  void unEditedItPassesAnotherRecordingsCleanInstancesAndCatchesMostDefects() throws Exception {
    Path other = work.resolve("other");
    SyntheticOrderFlows.Builder b = SyntheticOrderFlows.builder().seed(202).flows(420).interArrival(Duration.ofMillis(120));
    List<Defect> faults = new ArrayList<>(List.of(Defect.values()));
    faults.removeAll(List.of(Defect.TRUNCATED, Defect.DUPLICATE_WEBHOOK_IDEMPOTENT));
    int index = 5;
    for (int round = 0; round < 3; round++) {
      for (Defect d : faults) {
        b.plant(d, index);
        index += 4;
      }
    }
    Manifest manifest = b.build().write(other);
    Map<String, Verdict> verdicts = replay(drafts, other);

    int clean = 0;
    int cleanPassed = 0;
    int planted = 0;
    int caught = 0;
    Map<Defect, String> perKind = new TreeMap<>();
    for (Manifest.Flow flow : manifest.flows()) {
      Verdict v = verdicts.get(flow.requestId());
      if (v == null) {
        continue;
      }
      if (flow.defect() == null) {
        clean++;
        if (v.status() != VerdictStatus.FAILED) {
          cleanPassed++;
        }
      } else if (faults.contains(flow.defect())) {
        planted++;
        boolean found = v.status() == VerdictStatus.FAILED;
        if (found) {
          caught++;
        }
        perKind.merge(flow.defect(), found ? "caught" : "missed", (x, y) -> x.equals(y) ? x : "sometimes");
      }
    }
    System.out.printf("infer, unedited, on another recording: %d/%d clean instances passed (%.1f%%), %d/%d planted "
        + "defects caught (%.1f%%): %s%n", cleanPassed, clean, 100.0 * cleanPassed / clean, caught, planted,
        100.0 * caught / planted, perKind);
    assertThat((double) cleanPassed / clean).isGreaterThanOrEqualTo(0.9);
    assertThat((double) caught / planted).isGreaterThanOrEqualTo(0.7);
  }

  @Test
  void theCommandWritesTheDraftAndSaysWhatItFound() throws Exception {
    Path out = work.resolve("cli-out");
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    PrintStream old = System.out;
    int code;
    try {
      System.setOut(new PrintStream(stdout, true, StandardCharsets.UTF_8));
      code = FlowTraceCli.run("infer", "--out", out.toString(), "--name", "shop", training.toString());
    } finally {
      System.setOut(old);
    }
    // the four defects planted in the traffic fail the draft made from it: written, and exit 1 to review them
    assertThat(code).isEqualTo(FlowTraceCli.EXIT_VIOLATIONS);
    assertThat(stdout.toString(StandardCharsets.UTF_8)).contains("300 flows: 296 passed, 4 failed");
    assertThat(out.resolve("shop/shop.flow.yaml")).exists();
    assertThat(out.resolve("shop/schemas/orders_created.schema.json")).exists();
  }

  @Test
  void headSampledTrafficStillDraftsOneFlowWithItsPathsAndPassesItself() throws Exception {
    Path sampled = work.resolve("sampled");
    SyntheticOrderFlows.builder().seed(77).flows(200).interArrival(Duration.ofMillis(150)).sampleRatio(0.3)
        .build().write(sampled);
    Path out = work.resolve("sampled-drafts");
    Inference.Result result = Inference.builder().name("sampled").build().infer(sampled);
    result.write(out);

    assertThat(result.flows()).containsExactly("sampled");
    FlowSpec spec = new FlowSpecLoader().load(out).get(0);
    assertThat(spec.stages()).filteredOn(s -> s.when() != null).hasSize(2);
    assertThat(spec.terminalStages()).extracting(s -> s.events().get(0).topic()).containsExactly("notifications.email");
    Map<String, Verdict> verdicts = replay(out, sampled);
    assertThat(verdicts.values()).hasSize(200).allSatisfy(v -> assertThat(v.status()).isEqualTo(VerdictStatus.PASSED));
  }

  @Test
  void aHostWhoseClockIsAheadDoesNotReorderTheDraftsStagesAndTheDraftPassesItself() throws Exception {
    // inventory-service reads 40 ms ahead: on raw clocks its reply seems to come after the order
    // was created and paid for, which the order service does only once the reply is in
    Path skewed = work.resolve("skewed");
    SyntheticOrderFlows.builder().seed(55).flows(200).interArrival(Duration.ofMillis(150)).sampleRatio(0.8)
        .clockSkew("inventory-service", Duration.ofMillis(40)).build().write(skewed);
    Path out = work.resolve("skewed-drafts");
    Inference.builder().name("skewed").build().infer(skewed).write(out);

    FlowSpec spec = new FlowSpecLoader().load(out).get(0);
    List<String> topics = spec.stages().stream().flatMap(st -> st.events().stream())
        .filter(e -> e.topic() != null).map(e -> e.topic()).toList();
    assertThat(topics.indexOf("inventory.replies")).as(topics.toString())
        .isLessThan(topics.indexOf("orders.created"));
    Map<String, Verdict> verdicts = replay(out, skewed);
    assertThat(verdicts.values()).hasSize(200).allSatisfy(v -> assertThat(v.violations()).as(v.toString()).isEmpty());
  }

  @Test
  void anEntrySpanMissingFromUnsampledTracesStillStartsAnInstancePerOrder() throws Exception {
    Path sampled = work.resolve("entry-sampled");
    SyntheticOrderFlows.builder().seed(91).flows(200).interArrival(Duration.ofMillis(150)).sampleRatio(0.5)
        .build().write(sampled);
    Path out = work.resolve("entry-drafts");
    Inference.Result result = Inference.builder().name("orders").entry("span:gateway").build().infer(sampled);
    result.write(out);

    assertThat(result.instances()).isEqualTo(200);
    FlowSpec spec = new FlowSpecLoader().load(out).get(0);
    assertThat(spec.keys()).contains("orderId").doesNotContain("orderId2");
    Map<String, Verdict> verdicts = replay(out, sampled);
    assertThat(verdicts.values()).hasSize(200).allSatisfy(v -> assertThat(v.violations()).as(v.toString()).isEmpty());
  }

  @Test
  void webhooksThatRepeatATrackingNumberJoinTheShipmentItNamesAndTheDraftPassesEveryCleanShipment() throws Exception {
    // each shipment gets two carrier webhooks, each in a trace of its own, known by the tracking
    // number alone: a field repeated per shipment, never unique per webhook
    Path out = work.resolve("shipment-drafts");
    Inference.Result result = Inference.builder().name("shipments").build().infer(Path.of("../samples/shipment-tracking"));
    result.write(out);

    String yaml = Files.readString(out.resolve("shipments/shipments.flow.yaml"));
    assertThat(yaml).contains("schema: schemas/webhooks_carrier.schema.json   # from 21 payloads");
    Map<String, Verdict> verdicts = new HashMap<>();
    Replays.finals(new FlowSpecLoader().load(out), Path.of("../samples/shipment-tracking"))
        .forEach(v -> verdicts.put(v.keys().get("trackingNumber"), v));
    assertThat(verdicts).hasSize(10);
    assertThat(verdicts.get("1ZHBT6KFG8LLDVKUEY").violations()).as(yaml) // the planted duplicate webhook
        .extracting(v -> v.kind().name()).containsExactly("NON_IDEMPOTENT");
    verdicts.remove("1ZHBT6KFG8LLDVKUEY");
    assertThat(verdicts.values()).allSatisfy(v -> assertThat(v.violations()).as(yaml + v).isEmpty());
  }

  @Test
  void aDraftFromPartlyUnreadableInputIsWrittenButTheRunIsNotGreen() throws Exception {
    Path dirty = work.resolve("dirty");
    Files.createDirectories(dirty);
    try (var files = Files.list(training)) {
      for (Path f : files.toList()) {
        Files.copy(f, dirty.resolve(f.getFileName()));
      }
    }
    Files.writeString(dirty.resolve("messages.kcat.jsonl"), "{\"topic\":\"orders.created\",\"partition\":0,\n"
        + "not json\n" + "[1, 2]\n", java.nio.file.StandardOpenOption.APPEND);
    Path out = work.resolve("dirty-drafts");

    // as replay's, its reading options: how many problems are printed in full, and no progress line
    CliRun run = CliRun.of("infer", "--out", out.toString(), "--name", "shop", "--max-problems", "1", "--no-progress",
        dirty.toString());

    assertThat(run.exit()).isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(out.resolve("shop/shop.flow.yaml")).exists();
    assertThat(run.stderr()).contains("messages.kcat.jsonl:", "not a kcat JSON record",
        "flowtrace: more input problems; they are counted in the summary",
        "flowtrace: exit 2: the input had 3 problems (above); the draft rests on what could be read");
    assertThat(run.stderr().lines().filter(l -> l.startsWith("flowtrace: skipped"))).hasSize(1);
    assertThat(run.stderr()).doesNotContain("reading ");
  }

  @Test
  void askedForProgressItShowsHowReadingGoes() throws Exception {
    CliRun run = CliRun.of("infer", "--out", work.resolve("with-progress").toString(), "--progress", training.toString());

    assertThat(run.stderr()).containsPattern("reading [0-9.]+ [KM]iB/[0-9.]+ MiB \\(\\d+%\\)  [0-9,]+ spans");
  }

  @Test
  void aBadEntrySelectorIsAClearUsageError() {
    assertThat(FlowTraceCli.run("infer", "--out", work.resolve("x").toString(), "--entry", "queue:x",
        training.toString())).isEqualTo(FlowTraceCli.EXIT_USAGE);
  }

  /**
   * A trial chose a topic part-way through its flow as the entry: the request before it became a
   * step after it, and the draft failed every instance it was drafted from for the order.
   */
  @Test
  void eventsBeforeAnEntryChosenPartWayThroughAreLeftOutAndNamed() throws Exception {
    Inference.Result result = Inference.builder().entry("topic:orders.created").name("created").build().infer(training);
    Path out = work.resolve("from-created");
    result.write(out);
    String spec = result.specs().get("created");

    assertThat(result.summary()).anySatisfy(line -> assertThat(line).contains("came before the entry in every instance"));
    assertThat(spec).contains("not declared: topic orders.requested, which came before the entry (topic orders.created)");
    assertThat(Replays.finals(new FlowSpecLoader().load(out), training))
        .filteredOn(v -> v.status() == VerdictStatus.FAILED)
        .as(spec).hasSizeLessThanOrEqualTo(4)
        .allSatisfy(v -> assertThat(v.violations()).noneMatch(x -> x.kind().name().equals("ORDER_VIOLATION")));
  }

  /** A trial mistyped its selector and read "found no flow", with nothing to say the selector matched nothing. */
  @Test
  void anEntrySelectorThatMatchesNoEventNamesTheSelectorsThatWould() {
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    PrintStream old = System.err;
    int code;
    try {
      System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
      code = FlowTraceCli.run("infer", "--out", work.resolve("y").toString(), "--entry", "topic:orders.create",
          training.toString());
    } finally {
      System.setErr(old);
    }

    assertThat(code).isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(stderr.toString(StandardCharsets.UTF_8)).contains("--entry topic:orders.create matches no event in")
        .contains("topic:orders.created").contains("span:gateway:");
  }

  private static Map<String, Verdict> replay(Path flows, Path recording) throws Exception {
    Map<String, Verdict> out = new HashMap<>();
    FlowEngine engine = FlowEngine.builder(new FlowSpecLoader().load(flows)).amendUntilEnd()
        .listener(new VerdictListener() {
          @Override
          public void finalized(Verdict v) {
            String id = v.keys().get("requestId");
            if (id != null) {
              out.put(id, v);
            }
          }
        }).build();
    Replay.builder(engine).build().run(recording);
    return out;
  }
}
