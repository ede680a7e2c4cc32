package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code --schema-registry URL}: replay of the reference flow with its e-mail schema taken from a
 * registry ({@code {avro-registry: true, ids: [1]}}) instead of the local .avsc gives the bundled
 * sample exactly the same verdicts, and {@code infer} drafts from the fields of the Avro e-mails it
 * could not read without one. A tiny JDK HTTP server stands in for the registry.
 */
class SchemaRegistryOptionTest {

  private static final Path FLOWS = Path.of("../flows");
  private static final Path SAMPLE = Path.of("../samples/order-flow");
  private static final Path CLEAN = Path.of("../samples/order-flow-clean");
  private static final String LOCAL = "schema: {avro: schemas/email-notification.avsc, ids: [1]}";
  private static final JsonMapper JSON = JsonMapper.builder().build();

  @TempDir Path dir;
  private HttpServer registry;
  private final AtomicInteger requests = new AtomicInteger();
  private String url;

  @BeforeEach
  void startRegistry() throws IOException {
    String avsc = Files.readString(FLOWS.resolve("order-creation/schemas/email-notification.avsc"));
    byte[] body = JSON.writeValueAsString(Map.of("schema", avsc)).getBytes(StandardCharsets.UTF_8);
    registry = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    registry.createContext("/schemas/ids/1", exchange -> {
      requests.incrementAndGet();
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    registry.start();
    url = "http://127.0.0.1:" + registry.getAddress().getPort();
  }

  @AfterEach
  void stopRegistry() {
    registry.stop(0);
  }

  @Test
  void theSampleGetsTheSameVerdictsWithTheEmailSchemaFromARegistry() throws IOException {
    Path flows = copyFlows();
    Path spec = flows.resolve("order-creation/order-creation.flow.yaml");
    String text = Files.readString(spec);
    assertThat(text).contains(LOCAL);
    Files.writeString(spec, text.replace(LOCAL, "schema: {avro-registry: true, ids: [1]}"));

    Run local = replay(FLOWS);
    Run remote = replay(flows, "--schema-registry", url);

    assertThat(remote.exit).as(remote.stderr).isEqualTo(local.exit).isEqualTo(FlowTraceCli.EXIT_VIOLATIONS);
    assertThat(verdicts(remote.report)).hasSize(40).isEqualTo(verdicts(local.report));
    assertThat(verdicts(remote.report).values()).anyMatch(v -> v.contains("SCHEMA_VIOLATION@notification-sent"));
    assertThat(requests).as("registry requests (one per id)").hasValue(1);

    Run without = replay(flows);
    assertThat(without.exit).isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(without.stderr).contains("avro-registry: true needs a schema registry URL (flowtrace --schema-registry URL)");
    Run bad = replay(flows, "--schema-registry", "registry:8081");
    assertThat(bad.exit).isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(bad.stderr).contains("flowtrace: --schema-registry: schema registry URL must be http(s)://host[:port][/path],"
        + " was 'registry:8081'");
  }

  @Test
  void inferReadsAvroPayloadsThroughTheRegistryAndDraftsFromTheirFields() throws IOException {
    Run without = run("infer", "--out", dir.resolve("without").toString(), CLEAN.toString());
    Run with = run("infer", "--out", dir.resolve("with").toString(), "--schema-registry", url, CLEAN.toString());

    assertThat(without.exit).as(without.stderr).isZero();
    assertThat(without.stdout).contains("notifications.email: 20 Avro payloads (Confluent wire format, schema id 1) not"
        + " read: no schema registry given; give --schema-registry URL to draft from their fields");
    String unread = Files.readString(dir.resolve("without/orders-requested/orders-requested.flow.yaml"));
    assertThat(unread).contains("schema: binary   # Confluent wire format, schema id 1")
        .doesNotContain("notifications_email.to");

    assertThat(with.exit).as(with.stderr).isZero();
    assertThat(with.stdout).doesNotContain("not read").contains("replayed against the draft: 20 flows: 20 passed");
    Path draft = dir.resolve("with/orders-requested");
    assertThat(Files.readString(draft.resolve("orders-requested.flow.yaml")))
        .contains("keys: {orderId: data.orderId}\n        schema: {avro-registry: true, ids: [1]}   # Avro, read through"
            + " --schema-registry " + url + "\n")
        .contains("expr: 'notifications_email.to == orders_created.userEmail'",
            "expr: 'money_eq(notifications_email.data.total, orders_created.total)'");
    assertThat(draft.resolve("schemas/notifications_email.schema.json")).doesNotExist();

    // the draft checks the e-mails through the registry: the sample's e-mail of another schema is found
    assertThat(with.stdout).contains("Next: flowtrace replay --flows " + dir.resolve("with") + " --schema-registry " + url);
    assertThat(run("lint", draft.toString()).exit).isEqualTo(FlowTraceCli.EXIT_VIOLATIONS);
    Run lint = run("lint", draft.toString(), "--schema-registry", url);
    assertThat(lint.exit).as(lint.stderr).isZero();
    Run defects = replay(dir.resolve("with"), "--schema-registry", url);
    assertThat(defects.exit).as(defects.stderr).isEqualTo(FlowTraceCli.EXIT_VIOLATIONS);
    assertThat(verdicts(defects.report).values()).filteredOn(v -> v.contains("SCHEMA_VIOLATION@notifications-email"))
        .hasSize(1);
    assertThat(verdicts(replay(dir.resolve("without")).report).values())
        .noneMatch(v -> v.contains("SCHEMA_VIOLATION@notifications-email"));
  }

  /**
   * A registry that does not answer is no fault of the payloads: their schemas are not checked (not
   * failed), the run says so and is not green; an id the registry does not have is the payload's.
   */
  @Test
  void aRegistryThatDoesNotAnswerLeavesSchemasUncheckedWhereAnUnknownIdFailsThePayload() throws IOException {
    Path flows = copyFlows();
    Path spec = flows.resolve("order-creation/order-creation.flow.yaml");
    // and an enrichment into the e-mail, which cannot be checked either without its payload
    Files.writeString(spec, Files.readString(spec).replace(LOCAL, "schema: {avro-registry: true, ids: [1]}")
        .replace("enrichment:\n", "enrichment:\n  - from: orders_created\n    to: email\n    carry: [total]\n"));
    registry.stop(0);

    Run down = replay(flows, "--schema-registry", url);

    assertThat(down.exit).as(down.stderr).isEqualTo(FlowTraceCli.EXIT_VIOLATIONS);
    Map<String, String> local = verdicts(replay(FLOWS).report);
    Map<String, String> expected = new TreeMap<>();
    local.forEach((id, v) -> expected.put(id, v.replace("SCHEMA_VIOLATION@notification-sent:", "")
        .replace(", ]", "]").replace("[, ", "[").replace("FAILED []", "PASSED []")));
    assertThat(verdicts(down.report)).as("the e-mail's schema unchecked, everything else as with its .avsc")
        .isEqualTo(expected);
    assertThat(down.report.toString()).contains("schema id 1 from schema registry " + url + "/schemas/ids/1: cannot reach"
        + " the registry", "reads email, whose payload could not be read (schema id 1 from schema registry " + url);
    assertThat(down.report.toString()).contains("the payload of email could not be read (schema id 1 from schema"
        + " registry " + url).doesNotContain("observed in their trace");
    assertThat(down.stderr).contains("39 payloads could not be checked: the schema registry did not answer");

    Path clean = dir.resolve("clean-flows");
    Files.move(flows, clean);
    Run cleanDown = run("replay", "--flows", clean.toString(), "--no-progress", "--schema-registry", url, CLEAN.toString());
    assertThat(cleanDown.exit).as(cleanDown.stderr).isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(cleanDown.stderr).contains("exit 2: the schemas of 20 payloads were not checked");

    Run inferDown = run("infer", "--out", dir.resolve("draft").toString(), "--schema-registry", url, CLEAN.toString());
    assertThat(inferDown.exit).as(inferDown.stdout).isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(inferDown.stdout).contains("notifications.email: 20 Avro payloads (Confluent wire format, schema id 1) not"
        + " read: schema id 1 from schema registry " + url);
    assertThat(inferDown.stderr).contains("exit 2: the schema registry did not answer for 20 payloads (above)");
  }

  @Test
  void anIdTheRegistryDoesNotHaveIsTheSchemaViolationOfItsPayload() throws IOException {
    Path flows = copyFlows();
    Path spec = flows.resolve("order-creation/order-creation.flow.yaml");
    Files.writeString(spec, Files.readString(spec).replace(LOCAL, "schema: {avro-registry: true}"));
    registry.removeContext("/schemas/ids/1");
    registry.createContext("/schemas/ids/1", exchange -> {
      byte[] page = "<!DOCTYPE HTML><html><body>Not found</body></html>".getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(404, page.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(page);
      }
    });

    Run unknown = replay(flows, "--schema-registry", url);

    assertThat(unknown.exit).isEqualTo(FlowTraceCli.EXIT_VIOLATIONS);
    assertThat(verdicts(unknown.report).values()).filteredOn(v -> v.contains("SCHEMA_VIOLATION@notification-sent"))
        .hasSizeGreaterThan(30);
    assertThat(unknown.report.toString()).contains("HTTP 404: the registry has no schema with this id")
        .doesNotContain("DOCTYPE");
    assertThat(unknown.stderr).doesNotContain("could not be checked");
  }

  private Path copyFlows() throws IOException {
    Path target = dir.resolve("flows");
    try (Stream<Path> files = Files.walk(FLOWS)) {
      for (Path f : files.toList()) {
        Path to = target.resolve(FLOWS.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(to);
        } else {
          Files.copy(f, to);
        }
      }
    }
    return target;
  }

  record Run(int exit, String stdout, String stderr, JsonNode report) {}

  private Run replay(Path flows, String... options) throws IOException {
    Path report = Files.createTempFile(dir, "report-", ".json");
    List<String> args = new ArrayList<>(List.of("replay", "--flows", flows.toString(), "--no-progress", "--format", "json",
        "--output", report.toString()));
    args.addAll(List.of(options));
    args.add(SAMPLE.toString());
    Run run = run(args.toArray(String[]::new));
    String out = Files.readString(report);
    return new Run(run.exit, run.stdout, run.stderr, out.startsWith("{") ? JSON.readTree(out) : null);
  }

  private static Run run(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit;
    synchronized (SchemaRegistryOptionTest.class) {
      try {
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        exit = FlowTraceCli.run(args);
      } finally {
        System.setOut(oldOut);
        System.setErr(oldErr);
      }
    }
    return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8), null);
  }

  /** Per requestId: status and violation kind@stage:field, sorted. */
  private static Map<String, String> verdicts(JsonNode report) {
    Map<String, String> verdicts = new TreeMap<>();
    for (JsonNode flow : report.get("flows")) {
      List<String> kinds = new ArrayList<>();
      for (JsonNode v : flow.get("violations")) {
        kinds.add(v.get("kind").asString() + "@" + v.get("stage").asString() + ":" + v.path("field").asString(""));
      }
      kinds.sort(null);
      verdicts.put(flow.path("keys").path("requestId").asString(), flow.get("status").asString() + " " + kinds);
    }
    return verdicts;
  }
}
