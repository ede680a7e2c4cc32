package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * End to end: the sample recording replayed with the reference flow redacting the customer's
 * e-mail address, name and shipping address. No byte of any output — console, JSON, JUnit XML, the
 * HTML report (its compressed details inflated) and the docs — holds one of those values, while a
 * rule on the redacted e-mail address still reads the real one and fails.
 */
class RedactedReplayTest {

  private static final Path SAMPLE = Path.of("../samples/order-flow");
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String MARKER = "‹redacted:[0-9a-f]{8}›";
  private static final Pattern CHUNK = Pattern.compile("<script type=\"application/octet-stream\" id=\"ft-c\\d+\">([^<]*)</script>");

  @TempDir static Path dir;
  static Path flows;
  static Set<String> secrets;

  @BeforeAll
  static void redactingFlows() throws IOException {
    flows = dir.resolve("flows");
    copy(Path.of("../flows"), flows);
    Path spec = flows.resolve("order-creation/order-creation.flow.yaml");
    String yaml = Files.readString(spec)
        .replace("tolerance: 1ms", "redact: [userEmail, userName, shipping.address]\ntolerance: 1ms")
        .replace("        keys: {orderId: data.orderId}\n",
            "        keys: {orderId: data.orderId}\n        redact: [to, data.customerName]\n")
        .replace("\nidempotency:", """
              - name: the e-mail address is not a test one
                stage: order-created
                field: userEmail
                expr: '!orders_created.userEmail.endsWith("@example.com")'

            idempotency:""");
    assertThat(yaml).contains("redact: [to, data.customerName]").contains("is not a test one");
    Files.writeString(spec, yaml);
    secrets = secretsOf(SAMPLE);
  }

  @Test
  void theSampleHoldsTheValuesThatMustNotLeak() {
    assertThat(secrets).contains("hedy.lamarr@example.com", "Hedy Lamarr", "Kalverstraat 92").hasSizeGreaterThan(30);
  }

  @Test
  void noOutputHoldsARedactedValue() throws IOException {
    Path json = dir.resolve("report.json");
    Path junit = dir.resolve("report.xml");
    Path html = dir.resolve("report.html");
    Path console = dir.resolve("report.txt");
    Path docs = dir.resolve("docs");

    CliRun jsonRun = run("replay", "--flows", flows.toString(), "--no-progress", "--format", "json", "--junit",
        junit.toString(), "--html", html.toString(), "--output", json.toString(), SAMPLE.toString());
    CliRun consoleRun = run("replay", "--flows", flows.toString(), "--no-progress", "--output", console.toString(),
        SAMPLE.toString());
    CliRun docsRun = run("docs", "--html", "--flows", flows.toString(), "--out", docs.toString(), SAMPLE.toString());

    assertThat(jsonRun.exit()).isEqualTo(FlowTraceCli.EXIT_VIOLATIONS);
    assertThat(docsRun.exit()).isZero();
    List<String> outputs = new ArrayList<>(List.of(jsonRun.stdout(), jsonRun.stderr(), consoleRun.stdout(), consoleRun.stderr(),
        docsRun.stdout(), docsRun.stderr(), read(json), read(junit), read(console)));
    String page = htmlWithDetails(html);
    outputs.add(page);
    try (Stream<Path> files = Files.walk(docs)) {
      files.filter(Files::isRegularFile).forEach(f -> outputs.add(read(f)));
    }
    assertThat(page).as("HTML details").contains("userEmail").containsPattern(MARKER);
    for (String secret : secrets) {
      for (String output : outputs) {
        assertThat(output).as("an output holding a redacted value").doesNotContain(secret);
      }
    }
  }

  @Test
  void aRuleOnARedactedFieldReadsTheRealValueAndItsViolationShowsTheMarker() throws IOException {
    Path json = dir.resolve("rule.json");
    assertThat(run("replay", "--flows", flows.toString(), "--no-progress", "--format", "json", "--output",
        json.toString(), SAMPLE.toString()).exit()).isEqualTo(FlowTraceCli.EXIT_VIOLATIONS);

    List<JsonNode> violations = new ArrayList<>();
    for (JsonNode flow : JSON.readTree(json.toFile()).get("flows")) {
      for (JsonNode v : flow.get("violations")) {
        if (v.path("field").asString("").equals("userEmail") && v.path("message").asString("").contains("test one")) {
          violations.add(v);
        }
      }
    }
    assertThat(violations).hasSizeGreaterThan(30).allSatisfy(v -> {
      assertThat(v.get("kind").asString()).isEqualTo("BAD_TRANSFORMATION");
      assertThat(v.get("message").asString()).containsPattern("orders_created.userEmail = \"" + MARKER + "\"");
    });
  }

  @Test
  void withoutRedactTheSameOutputsHoldTheValues() throws IOException {
    Path html = dir.resolve("plain.html");
    run("replay", "--flows", "../flows", "--no-progress", "--format", "json", "--html", html.toString(),
        "--output", dir.resolve("plain.json").toString(), SAMPLE.toString());

    assertThat(htmlWithDetails(html)).contains("hedy.lamarr@example.com", "Kalverstraat 92");
  }

  /** Every userEmail, userName and shipping.address in the recording's JSON payloads. */
  private static Set<String> secretsOf(Path recording) throws IOException {
    Set<String> out = new TreeSet<>();
    try (Stream<Path> files = Files.list(recording)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".jsonl")).toList()) {
        for (String line : Files.readAllLines(f)) {
          collect(JSON.readTree(line), out);
        }
      }
    }
    return out;
  }

  private static void collect(JsonNode node, Set<String> out) {
    if (node.isString() && node.asString().startsWith("{")) {
      try {
        collect(JSON.readTree(node.asString()), out);
      } catch (RuntimeException notJson) {
        // a text that only looks like an object
      }
      return;
    }
    if (node.isObject()) {
      for (String name : List.of("userEmail", "userName")) {
        if (node.path(name).isString()) {
          out.add(node.get(name).asString());
        }
      }
      if (node.path("shipping").path("address").isString()) {
        out.add(node.get("shipping").get("address").asString());
      }
    }
    node.forEach(child -> collect(child, out));
  }

  /** The page, with every compressed chunk of details inflated after it. */
  private static String htmlWithDetails(Path html) throws IOException {
    String page = Files.readString(html);
    StringBuilder all = new StringBuilder(page);
    Matcher m = CHUNK.matcher(page);
    while (m.find()) {
      byte[] gz = Base64.getDecoder().decode(m.group(1).strip());
      try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
        all.append('\n').append(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      }
    }
    return all.toString();
  }

  private static String read(Path f) {
    try {
      return Files.readString(f);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void copy(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path p : files.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }

  private static CliRun run(String... args) {
    return CliRun.of(args);
  }
}
