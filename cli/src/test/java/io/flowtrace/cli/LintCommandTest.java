package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code flowtrace lint}: problems, counts, and holding specs up against a recording. */
class LintCommandTest {

  private static final Path FLOWS = Path.of("../flows");
  private static final Path ORDER_FLOWS = Path.of("../flows/order-creation");
  private static final Path SAMPLE = Path.of("../samples/order-flow");

  private static CliRun run(String... args) {
    return CliRun.of(args);
  }

  @Test
  void everyBundledFlowLintsCleanWithItsCountsInWords() {
    CliRun run = run("lint", FLOWS.toString());

    assertThat(run.exit()).isEqualTo(0);
    assertThat(run.stdout()).contains(
        "ok  ../flows/order-creation/order-creation.flow.yaml  order-creation (7 stages, 11 events, 11 rules)");
  }

  @Test
  void aStageThatAlwaysFollowsATerminalOneIsAWarning(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("visit.flow.yaml");
    Files.writeString(file, """
        flow: visit
        keys: [id]
        stages:
          - id: reminded
            terminal: true
            events: [{id: reminded_msg, topic: t.reminded}]
          - id: visited
            after: reminded
            terminal: true
            events: [{id: visited_msg, topic: t.visited}]
          - id: reviewed
            after: visited
            optional: true
            events: [{id: reviewed_msg, topic: t.reviewed}]
        """);

    CliRun run = run("lint", file.toString());

    assertThat(run.exit()).isEqualTo(0);
    assertThat(run.stderr()).startsWith(file + ":8:12: warning: stage 'visited' always follows 'reminded', which is"
        + " terminal: an instance is decided once 'reminded' is seen").doesNotContain("'reviewed'");
  }

  @Test
  void aRedactedKeyIsSaidAsAWarningAndTheSpecStillPasses(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("mail.flow.yaml");
    Files.writeString(file, """
        flow: mail
        keys: [email]
        redact: [email]
        stages:
          - id: only
            terminal: true
            events:
              - {id: e, topic: t}
        """);

    CliRun run = run("lint", file.toString());

    assertThat(run.exit()).isEqualTo(0);
    assertThat(run.stderr()).isEqualTo(file + ":3:10: warning: 'redact' names 'email', which holds the instance key"
        + " 'email': reports show the key masked too (instances stay apart: equal values get equal markers)"
        + System.lineSeparator());
    assertThat(run.stdout()).contains("ok  " + file + "  mail (1 stage, 1 event, 0 rules)");
  }

  @Test
  void oneOfAThingIsSingular(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("one.flow.yaml"), """
        flow: one
        keys: [id]
        stages:
          - id: only
            terminal: true
            events:
              - {id: e, topic: t}
        rules:
          - {name: r, expr: "e.id != ''"}
        """);
    CliRun run = run("lint", dir.toString());
    assertThat(run.stdout()).contains("one (1 stage, 1 event, 1 rule)");

    Files.writeString(dir.resolve("one.flow.yaml"), "flow: one\nkeys: [id]\nstages: []\n");
    CliRun broken = run("lint", dir.toString());
    assertThat(broken.exit()).isEqualTo(1);
    assertThat(broken.stderr()).endsWith("1 problem" + System.lineSeparator());
  }

  @Test
  void theReferenceFlowsMatchEverythingInTheSample() {
    CliRun run = run("lint", ORDER_FLOWS.toString(), "--against", SAMPLE.toString());

    assertThat(run.exit()).as(run.stdout() + run.stderr()).isEqualTo(0);
    assertThat(run.stdout()).contains(
        "../samples/order-flow: 514 spans, 239 records in 5 files",
        "order-creation (../flows/order-creation/order-creation.flow.yaml): all 11 declared events matched",
        "  ✓ client_request     SERVER span 'POST /api/orders' of gateway: 40 spans",
        "  ✓ webhook            SERVER span 'POST /webhooks/payment' of order-service: 35 spans",
        "  ✓ email              topic notifications.email: 39 records",
        "all HTTP server/client spans and topics in the recording are covered by a flow");
  }

  @Test
  void aBrokenSpecShowsWhatMatchedNothingAndTheNearMisses(@TempDir Path dir) throws IOException {
    Path copy = dir.resolve("order-creation");
    try (Stream<Path> files = Files.walk(ORDER_FLOWS)) {
      for (Path f : files.toList()) {
        Path target = copy.resolve(ORDER_FLOWS.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(target);
        } else {
          Files.copy(f, target);
        }
      }
    }
    Path spec = copy.resolve("order-creation.flow.yaml");
    Files.writeString(spec, Files.readString(spec)
        .replace("name: POST /api/orders", "name: POST /api/order")
        .replace("topic: orders.created", "topic: orders.Created"));

    CliRun run = run("lint", copy.toString(), "--against", SAMPLE.toString());

    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.stdout()).contains(
        "order-creation (" + spec + "): 9 of 11 declared events matched; 2 matched nothing",
        "  ✗ client_request     SERVER span 'POST /api/order' of gateway: matched nothing\n"
            + "      near miss: gateway SERVER 'POST /api/orders' (40 spans): its name differs by 1 character\n",
        "  ✗ orders_created     topic orders.Created: matched nothing\n"
            + "      near miss: topic orders.created (40 records): its name differs only in case\n",
        "traffic no flow covers:\n"
            + "  topic orders.created: 40 records, 40 spans\n"
            + "  gateway SERVER 'POST /api/orders': 40 spans\n");
  }

  @Test
  void aRecordingThatIsNotThereIsBadUsage(@TempDir Path dir) {
    CliRun run = run("lint", ORDER_FLOWS.toString(), "--against", dir.resolve("nothing").toString());
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.stderr()).contains("flowtrace: --against " + dir.resolve("nothing") + ": not a recording directory");
  }
}
