package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The second example flow and its sample: the committed recording is what its generator writes,
 * replaying it against {@code flows/} gives the verdicts in its {@code expected.json}, and adding
 * the flow to {@code flows/} changed nothing for the order sample.
 *
 * <p>{@code -Dflowtrace.regenerate=true} rewrites {@code samples/shipment-tracking} instead of
 * comparing it.
 */
class ShipmentTrackingSampleTest {

  private static final Path FLOWS = Path.of("../flows");
  private static final Path SAMPLE = Path.of("../samples/shipment-tracking");
  private static final Path ORDER_SAMPLE = Path.of("../samples/order-flow");
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private static CliRun run(String... args) {
    return CliRun.of(args);
  }

  @Test
  void theCommittedSampleIsWhatTheGeneratorWrites(@TempDir Path dir) throws IOException {
    if (Boolean.getBoolean("flowtrace.regenerate")) {
      new ShipmentTrackingSample().write(SAMPLE);
    }
    new ShipmentTrackingSample().write(dir);
    List<String> generated = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      files.forEach(f -> generated.add(f.getFileName().toString()));
    }
    for (String name : generated) {
      assertThat(Files.readString(SAMPLE.resolve(name)))
          .as("%s differs from what ShipmentTrackingSample writes (regenerate: see its README)", name)
          .isEqualTo(Files.readString(dir.resolve(name)));
    }
    assertThat(generated).containsExactlyInAnyOrder("expected.json", "messages.kcat.jsonl",
        "shipping-api.otlp.jsonl", "shipment-service.otlp.jsonl", "tracking-service.otlp.jsonl");
  }

  @Test
  void replayingTheSampleGivesTheExpectedVerdicts(@TempDir Path dir) throws IOException {
    Path report = dir.resolve("report.json");
    CliRun run = run("replay", "--flows", FLOWS.toString(), "--no-progress", "--format", "json",
        "--output", report.toString(), SAMPLE.toString());

    assertThat(run.exit()).as(run.stderr()).isEqualTo(FlowTraceCli.EXIT_VIOLATIONS);
    JsonNode actual = JSON.readTree(Files.readString(report));
    JsonNode expected = JSON.readTree(Files.readString(SAMPLE.resolve("expected.json")));
    assertThat(verdicts(actual)).isEqualTo(verdicts(expected.get("flows")));
    assertThat(actual.get("summary").get("passed").asInt()).isEqualTo(8);
    assertThat(actual.get("summary").get("failed").asInt()).isEqualTo(2);
    assertThat(run.stderr()).contains("flowtrace: read 4 files", "123 spans, 51 records, 0 problems skipped;"
        + " 10 flows: 8 passed, 2 failed, 0 incomplete");
  }

  @Test
  void everyDeclaredEventMatchesTheSample() {
    CliRun run = run("lint", FLOWS.resolve("shipment-tracking").toString(), "--against", SAMPLE.toString());

    assertThat(run.exit()).as(run.stdout() + run.stderr()).isEqualTo(0);
    assertThat(run.stdout()).contains("all 8 declared events matched",
        "  ✓ carrier_event       SERVER span 'POST /webhooks/carrier' of tracking-service: 21 spans",
        "all HTTP server/client spans and topics in the recording are covered by a flow");
  }

  @Test
  void theOrderSampleStillHasExactlyItsFortyOrders(@TempDir Path dir) throws IOException {
    Path report = dir.resolve("report.json");
    CliRun run = run("replay", "--flows", FLOWS.toString(), "--no-progress", "--format", "json",
        "--output", report.toString(), ORDER_SAMPLE.toString());

    JsonNode actual = JSON.readTree(Files.readString(report));
    assertThat(actual.get("flows")).hasSize(40);
    actual.get("flows").forEach(f -> assertThat(f.get("flow").asString()).isEqualTo("order-creation"));
    assertThat(run.stderr()).contains("40 flows: 28 passed, 11 failed, 1 incomplete");
  }

  /** keys → status and violation kind/stage/field, for both report and expected.json. */
  private static Map<String, String> verdicts(JsonNode flows) {
    if (flows.has("flows")) {
      flows = flows.get("flows");
    }
    Map<String, String> out = new TreeMap<>();
    for (JsonNode f : flows) {
      StringBuilder v = new StringBuilder(f.get("status").asString());
      for (JsonNode x : f.get("violations")) {
        v.append(' ').append(x.get("kind").asString()).append('@').append(x.get("stage").asString())
            .append('/').append(x.path("field").asString(""));
      }
      out.put(f.get("keys").get("orderId").asString() + " " + f.get("keys").get("trackingNumber").asString(),
          v.toString());
    }
    return out;
  }
}
