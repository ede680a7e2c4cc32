package io.flowtrace.example.order;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.cli.FlowTraceCli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Replaying the committed recordings of the real, agent-instrumented system gives their expected
 * verdicts: the clean one passes, and each defect switch's recording fails exactly its orders with
 * exactly that defect's violation on its stage.
 */
class RecordedSampleTest {

  private static final Path FLOWS = Path.of("../../flows");
  private static final Path RECORDINGS = Path.of("recordings");
  private static final JsonMapper JSON = JsonMapper.builder().build();

  @TempDir Path dir;

  @Test
  void theCleanRecordingPasses() throws Exception {
    JsonNode actual = replay("clean", FlowTraceCli.EXIT_PASSED);
    assertThat(kinds(actual).values()).hasSize(3).allSatisfy(v -> assertThat(v).isEqualTo("PASSED"));
  }

  /**
   * Three orders each (two authorized, the second one declined): a duplicate webhook and a slow
   * e-mail only matter on the authorized path, so those recordings fail two orders, the rest three.
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "drop-enrichment,         MISSING_ENRICHMENT@order-requested:userId,     3",
      "wrong-total,             BAD_TRANSFORMATION@order-created:total,        3",
      "payment-amount-mismatch, BAD_TRANSFORMATION@payment-authorized:amount,  3",
      "non-idempotent-webhook,  NON_IDEMPOTENT@payment-captured:eventId,       2",
      "lose-traceparent,        BROKEN_PROPAGATION@notification-sent:,         3",
      "slow-notification,       LATENCY_BUDGET_EXCEEDED@notification-sent:,    2",
      "no-notification,         MISSING_STAGE@notification-sent:,              3",
      "broken-email-schema,     SCHEMA_VIOLATION@notification-sent:,           3"})
  void eachDefectRecordingFailsItsOrdersWithExactlyItsViolation(String recording, String violation, int failed)
      throws Exception {
    JsonNode actual = replay(recording, FlowTraceCli.EXIT_VIOLATIONS);
    Map<String, String> kinds = kinds(actual);
    assertThat(kinds).as("orders of %s", recording).hasSize(3);
    assertThat(kinds.values()).as("verdicts of %s", recording)
        .allSatisfy(v -> assertThat(v).isIn("PASSED", "FAILED " + violation))
        .filteredOn(v -> v.startsWith("FAILED")).hasSize(failed);
  }

  /** Replays the recording, checks the exit code and that it still matches its expected.json. */
  private JsonNode replay(String name, int exit) throws Exception {
    Path recording = RECORDINGS.resolve(name);
    Path report = dir.resolve(name + ".json");
    int actualExit = FlowTraceCli.run("replay", "--flows", FLOWS.toString(), "--no-progress", "--format", "json",
        "--output", report.toString(), recording.toString());
    JsonNode actual = JSON.readTree(Files.readString(report));
    JsonNode expected = JSON.readTree(Files.readString(recording.resolve("expected.json")));
    assertThat(actualExit).as("exit code of %s", name).isEqualTo(exit);
    assertThat(verdicts(actual)).as("verdicts of %s against its expected.json", name).isEqualTo(verdicts(expected));
    assertThat(actual.get("summary")).isEqualTo(expected.get("summary"));
    return actual;
  }

  /** Per requestId: orderId, status and violations. */
  private static Map<String, String> verdicts(JsonNode report) {
    Map<String, String> verdicts = new LinkedHashMap<>();
    for (JsonNode flow : report.get("flows")) {
      verdicts.put(flow.path("keys").path("requestId").asString(),
          flow.path("keys").path("orderId").asString() + " " + flow.get("status").asString() + " " + flow.get("violations"));
    }
    return verdicts;
  }

  /** Per requestId: the status then each violation as kind@stage:field. */
  private static Map<String, String> kinds(JsonNode report) {
    Map<String, String> kinds = new LinkedHashMap<>();
    for (JsonNode flow : report.get("flows")) {
      List<String> v = new ArrayList<>();
      v.add(flow.get("status").asString());
      for (JsonNode violation : flow.get("violations")) {
        v.add(violation.path("kind").asString() + "@" + violation.path("stage").asString() + ":"
            + violation.path("field").asString(""));
      }
      kinds.put(flow.path("keys").path("requestId").asString(), String.join(" ", v));
    }
    return kinds;
  }
}
