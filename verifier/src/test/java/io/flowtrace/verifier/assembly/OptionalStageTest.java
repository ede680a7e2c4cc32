package io.flowtrace.verifier.assembly;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.check.ViolationKind;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import io.flowtrace.verifier.spec.FlowSpecException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stage some instances take and others do not, with nothing in the data to say which: a rating
 * the customer may leave after the delivery. It is never missing, it is checked like any other
 * stage when it happens, and what comes after it is then due.
 */
class OptionalStageTest {
  private static final String SPEC = String.join("\n",
      "flow: delivery",
      "keys: [orderId]",
      "deadline: 60s",
      "stages:",
      "  - id: placed",
      "    events: [{id: placed_msg, topic: orders.placed}]",
      "  - id: delivered",
      "    after: placed",
      "    terminal: true",
      "    events: [{id: delivered_msg, topic: orders.delivered}]",
      "  - id: rated",
      "    after: delivered",
      "    optional: true",
      "    events: [{id: rating, topic: ratings.received, schema: schemas/rating.schema.json}]",
      "  - id: rating-published",
      "    after: rated",
      "    events: [{id: published, topic: ratings.published}]",
      "idempotency:",
      "  - {trigger: rating, dedupKey: ratingId, effects: [published]}",
      "");
  private static final String RATING_SCHEMA = "{\"type\":\"object\",\"required\":[\"orderId\",\"ratingId\",\"stars\"],"
      + "\"properties\":{\"orderId\":{\"type\":\"string\"},\"ratingId\":{\"type\":\"string\"},"
      + "\"stars\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":5}}}";
  private static final long T0 = 1_790_000_000_000L;

  @TempDir Path dir;
  private final List<KafkaRecord> records = new ArrayList<>();

  @BeforeEach
  void spec() throws Exception {
    Files.writeString(dir.resolve("delivery.flow.yaml"), SPEC);
    Files.createDirectories(dir.resolve("schemas"));
    Files.writeString(dir.resolve("schemas/rating.schema.json"), RATING_SCHEMA);
  }

  @Test
  void anInstanceThatLeftTheOptionalStageOutPasses() throws Exception {
    placedAndDelivered("o-1");

    Verdict v = only(run());

    assertThat(v.status()).isEqualTo(VerdictStatus.PASSED);
    assertThat(v.violations()).isEmpty();
  }

  /** The rating comes 30 s after the delivery, long after the verdict: the final verdict shows it. */
  @Test
  void anInstanceThatTookItPassesWithWhatFollowsIt() throws Exception {
    placedAndDelivered("o-1");
    record("ratings.received", 30_000, "{\"orderId\":\"o-1\",\"ratingId\":\"r-1\",\"stars\":5}");
    record("ratings.published", 30_100, "{\"orderId\":\"o-1\",\"ratingId\":\"r-1\"}");

    Verdict v = only(run());

    assertThat(v.status()).isEqualTo(VerdictStatus.PASSED);
    assertThat(v.timeline()).extracting(io.flowtrace.verifier.report.TimelineEntry::event)
        .containsExactly("placed_msg", "delivered_msg", "rating", "published");
  }

  @Test
  void anOptionalStageThatHappenedIsCheckedLikeAnyOther() throws Exception {
    placedAndDelivered("o-1");
    record("ratings.received", 3_000, "{\"orderId\":\"o-1\",\"ratingId\":\"r-1\",\"stars\":9}");
    record("ratings.published", 3_100, "{\"orderId\":\"o-1\",\"ratingId\":\"r-1\"}");
    record("ratings.published", 3_200, "{\"orderId\":\"o-1\",\"ratingId\":\"r-1\"}");

    Verdict v = only(run());

    assertThat(v.violations()).extracting(Violation::kind)
        .containsExactlyInAnyOrder(ViolationKind.SCHEMA_VIOLATION, ViolationKind.NON_IDEMPOTENT);
  }

  @Test
  void whatFollowsAnOptionalStageThatHappenedIsDue() throws Exception {
    placedAndDelivered("o-1");
    record("ratings.received", 3_000, "{\"orderId\":\"o-1\",\"ratingId\":\"r-1\",\"stars\":4}");

    Verdict v = only(run());

    assertThat(v.violations()).extracting(Violation::kind, Violation::stage)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(ViolationKind.MISSING_STAGE, "rating-published"));
  }

  @Test
  void aStageThatFollowsOnlyTheOptionalOneShowsItHappenedAndIsMissing() throws Exception {
    placedAndDelivered("o-1");
    record("ratings.published", 3_100, "{\"orderId\":\"o-1\",\"ratingId\":\"r-1\"}");

    Verdict v = only(run());

    assertThat(v.violations()).extracting(Violation::kind, Violation::stage)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(ViolationKind.MISSING_STAGE, "rated"));
  }

  @Test
  void anOptionalStageCannotEndTheFlowNorBeginIt() throws Exception {
    Files.writeString(dir.resolve("delivery.flow.yaml"), SPEC
        .replace("    after: placed\n    terminal: true", "    after: placed")
        .replace("    optional: true", "    optional: true\n    terminal: true")
        .replace("  - id: placed\n", "  - id: placed\n    optional: true\n"));

    assertThatThrownBy(() -> new FlowSpecLoader().load(dir)).isInstanceOf(FlowSpecException.class)
        .hasMessageContaining("stage 'rated' is both 'optional' and 'terminal'")
        .hasMessageContaining("stage 'placed' is an entry stage (no 'after') and 'optional'");
  }

  @Test
  void optionalIsTrueOrFalse() throws Exception {
    Files.writeString(dir.resolve("delivery.flow.yaml"), SPEC.replace("optional: true", "optional: sometimes"));

    assertThatThrownBy(() -> new FlowSpecLoader().load(dir)).isInstanceOf(FlowSpecException.class)
        .hasMessageContaining("delivery.flow.yaml:13:").hasMessageContaining("'optional' must be true or false, not \"sometimes\"");
  }

  private void placedAndDelivered(String orderId) {
    record("orders.placed", 0, "{\"orderId\":\"" + orderId + "\"}");
    record("orders.delivered", 1_000, "{\"orderId\":\"" + orderId + "\"}");
  }

  private void record(String topic, long ms, String value) {
    records.add(new KafkaRecord(topic, 0, records.size(), T0 + ms, null, List.of(),
        value.getBytes(StandardCharsets.UTF_8)));
  }

  private List<Verdict> run() throws Exception {
    Finals finals = new Finals();
    FlowEngine engine = FlowEngine.builder(new FlowSpecLoader().load(dir)).listener(finals).amendUntilEnd().build();
    for (KafkaRecord r : records) {
      engine.accept(Telemetry.of(r));
      engine.advanceTo(r.timestampMillis() * 1_000_000L);
    }
    engine.advanceTo((T0 + 120_000) * 1_000_000L);
    engine.finish();
    return finals.verdicts;
  }

  private static Verdict only(List<Verdict> verdicts) {
    assertThat(verdicts).hasSize(1);
    return verdicts.get(0);
  }
}
