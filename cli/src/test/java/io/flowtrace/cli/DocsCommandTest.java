package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code flowtrace docs} of the reference flow and the bundled sample: the pages are the golden
 * ones in {@code src/test/resources/docs-golden} (regenerate with {@code -Dflowtrace.updateGolden=true}
 * and review the diff), and two runs write the same bytes.
 */
class DocsCommandTest {
  private static final Path GOLDEN = Path.of("src/test/resources/docs-golden");

  @TempDir Path dir;

  @Test
  void theReferenceFlowsDocsAreTheGoldenOnes() throws IOException {
    Path out = dir.resolve("docs");
    assertThat(FlowTraceCli.run("docs", "--flows", "../flows/order-creation", "--out", out.toString(), "../samples/order-flow")).isZero();
    for (String page : List.of("index.md", "order-creation.md")) {
      String actual = Files.readString(out.resolve(page));
      if (Boolean.getBoolean("flowtrace.updateGolden")) {
        Files.writeString(GOLDEN.resolve(page), actual);
      }
      assertThat(actual).as("%s (regenerate with -Dflowtrace.updateGolden=true and review the diff)", page)
          .isEqualTo(Files.readString(GOLDEN.resolve(page)));
    }
    String flow = Files.readString(out.resolve("order-creation.md"));
    assertThat(flow).contains("| **order-requested** | `client_request` | gateway |",
        "| `orders_confirmed` → `email` | 5.000 s |", "```mermaid\nflowchart LR\n",
        "- **order-cancelled** when `payment_response.status == \"declined\"` — taken by 7 of the 40 observed instances"
            + " that reached payment-authorized",
        "| `total` | `orders_created` | — | — |  | *total is the sum of the items* |");
  }

  @Test
  void aRecordSentWhileServingARequestHasTheRequestAsItsInputNotTheResponseDeclaredBeforeIt() throws IOException {
    Path flows = Files.createDirectories(dir.resolve("flows/shipment-tracking"));
    Path original = Path.of("../flows/shipment-tracking");
    try (var files = Files.walk(original)) {
      for (Path from : files.filter(Files::isRegularFile).toList()) {
        Path to = flows.resolve(original.relativize(from).toString());
        Files.createDirectories(to.getParent());
        Files.copy(from, to);
      }
    }
    Path spec = flows.resolve("shipment-tracking.flow.yaml");
    String yaml = Files.readString(spec);
    String request = "        payload: {attribute: http.request.body}\n        schema: schemas/shipment-request.schema.json\n";
    assertThat(yaml).contains(request);
    Files.writeString(spec, yaml.replace(request, request
        + "      - id: api_response\n        span: {service: shipping-api, kind: SERVER, name: POST /api/shipments}\n"
        + "        payload: {attribute: http.response.body}\n"));
    Path out = dir.resolve("docs");

    assertThat(FlowTraceCli.run("docs", "--flows", flows.toString(), "--out", out.toString(),
        "../samples/shipment-tracking")).isZero();

    assertThat(Files.readString(out.resolve("shipment-tracking.md")))
        .contains("|  | `shipment_requested` | shipping-api | `api_request` |");
  }

  @Test
  void latenciesAcrossClocksTheDataShowsApartSaySo() throws IOException {
    Path recording = dir.resolve("skewed");
    assertThat(FlowTraceCli.run("generate", "--count", "20", "--clock-skew", "inventory-service=+40ms",
        recording.toString())).isZero();
    Path out = dir.resolve("docs");

    assertThat(FlowTraceCli.run("docs", "--flows", "../flows/order-creation", "--out", out.toString(),
        recording.toString())).isZero();

    String page = Files.readString(out.resolve("order-creation.md"));
    assertThat(page).contains("**Clocks differ.**")
        .containsPattern("- inventory-service reads [^\\n]*\\d ms ahead of order-service \\(20 instances\\)");
    assertThat(Files.readString(GOLDEN.resolve("order-creation.md"))).as("the unskewed sample").doesNotContain("Clocks differ");
  }

  @Test
  void eachPairOfHostsWhoseClocksDifferIsOneLineWhicheverWayRoundItsInstancesNotedIt() throws IOException {
    Path recording = dir.resolve("opposite");
    assertThat(FlowTraceCli.run("generate", "--count", "60", "--sample-ratio", "0.5", "--clock-skew", "gateway=+50ms",
        "--clock-skew", "notification-service=-50ms", recording.toString())).isZero();
    Path out = dir.resolve("docs");

    assertThat(FlowTraceCli.run("docs", "--flows", "../flows/order-creation", "--out", out.toString(),
        recording.toString())).isZero();

    java.util.regex.Matcher line = java.util.regex.Pattern.compile("(?m)^- (.+?) reads .+? (?:behind|ahead of) (.+?) \\(\\d+ instances?\\)$")
        .matcher(Files.readString(out.resolve("order-creation.md")));
    List<String> pairs = new java.util.ArrayList<>();
    while (line.find()) {
      pairs.add(java.util.stream.Stream.of(line.group(1), line.group(2)).sorted().toList().toString());
    }
    assertThat(pairs).hasSizeGreaterThan(2).doesNotHaveDuplicates();
  }

  @Test
  void twoRunsWriteTheSameBytes() throws IOException {
    Path a = dir.resolve("a");
    Path b = dir.resolve("b");
    assertThat(FlowTraceCli.run("docs", "--flows", "../flows/order-creation", "--out", a.toString(), "../samples/order-flow")).isZero();
    assertThat(FlowTraceCli.run("docs", "--flows", "../flows/order-creation", "--out", b.toString(), "../samples/order-flow")).isZero();
    for (String page : List.of("index.md", "order-creation.md")) {
      assertThat(Files.readAllBytes(a.resolve(page))).isEqualTo(Files.readAllBytes(b.resolve(page)));
    }
  }

  @Test
  void withoutARecordingTheSpecAloneIsDocumented() throws IOException {
    Path out = dir.resolve("spec-only");
    assertThat(FlowTraceCli.run("docs", "--html", "--flows", "../flows", "--out", out.toString())).isZero();
    assertThat(Files.readString(out.resolve("order-creation.md")))
        .contains("Nothing observed: generated from the spec alone", "| **notification-sent** (terminal) | `email` |",
            "(producer not observed)", "| `userEmail` | `orders_created` |");
    assertThat(Files.readString(out.resolve("order-creation.html")))
        .contains("<table class=\"doc\">", "<td><strong>notification-sent</strong> (terminal)</td><td><code>email</code></td>")
        .contains("<div class=\"flowchart\"><svg class=\"flowchart\"", "<summary>Mermaid source</summary>")
        .doesNotContain("<script", "Mermaid diagram (drawn where");
    assertThat(Files.readString(out.resolve("index.html"))).contains("<a href=\"order-creation.html\">order-creation</a>");
  }
}
