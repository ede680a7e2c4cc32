package io.flowtrace.example.order;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.cli.FlowTraceCli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Replaying the committed recording of the real, agent-instrumented system gives its expected verdicts. */
class RecordedSampleTest {

  private static final Path FLOWS = Path.of("../../flows");
  private static final Path CLEAN = Path.of("recordings/clean");
  private static final JsonMapper JSON = JsonMapper.builder().build();

  @TempDir Path dir;

  @Test
  void theCleanRecordingPasses() throws Exception {
    Path report = dir.resolve("report.json");
    int exit = FlowTraceCli.run("replay", "--flows", FLOWS.toString(), "--no-progress", "--format", "json",
        "--output", report.toString(), CLEAN.toString());
    JsonNode actual = JSON.readTree(Files.readString(report));
    JsonNode expected = JSON.readTree(Files.readString(CLEAN.resolve("expected.json")));
    assertThat(exit).isEqualTo(FlowTraceCli.EXIT_PASSED);
    assertThat(verdicts(actual)).hasSize(3).isEqualTo(verdicts(expected));
    assertThat(actual.get("summary")).isEqualTo(expected.get("summary"));
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
}
