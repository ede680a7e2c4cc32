package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.flowtrace.cli.synth.Manifest;
import io.flowtrace.cli.synth.SyntheticOrderFlows;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * End to end: recordings written with spans from the real OpenTelemetry SDK go through
 * {@code flowtrace replay}, and the verdicts are compared with the generator's manifest.
 */
class ReplayCommandTest {

  private static final Path FLOWS = Path.of("../flows");
  private static final JsonMapper JSON = JsonMapper.builder().build();

  @TempDir static Path shared;
  static Path sample;
  static Manifest sampleManifest;

  @BeforeAll
  static void writeSample() throws IOException {
    sample = shared.resolve("order-flow");
    sampleManifest = SyntheticOrderFlows.sample().write(sample);
  }

  @Test
  void sampleRecordingReportsExactlyThePlantedViolations() throws IOException {
    Run run = replay(sample, "--format", "json");

    assertThat(run.exit).isEqualTo(FlowTraceCli.EXIT_VIOLATIONS);
    Map<String, JsonNode> byRequest = flowsByRequestId(run.report);
    assertThat(byRequest).hasSize(sampleManifest.flows().size());
    for (Manifest.Flow expected : sampleManifest.flows()) {
      JsonNode actual = byRequest.get(expected.requestId());
      assertThat(actual).as("flow %s (%s)", expected.index(), expected.defect()).isNotNull();
      assertThat(actual.get("status").asString())
          .as("status of flow %s (%s): %s", expected.index(), expected.defect(), actual)
          .isEqualTo(expected.status().name());
      List<String> actualKinds = new ArrayList<>();
      for (JsonNode v : actual.get("violations")) {
        actualKinds.add(v.get("kind").asString() + "@" + v.get("stage").asString());
      }
      List<String> expectedKinds = expected.violations().stream().map(v -> v.kind() + "@" + v.stage()).toList();
      assertThat(actualKinds).as("violations of flow %s (%s): %s", expected.index(), expected.defect(), actual)
          .containsExactlyInAnyOrderElementsOf(expectedKinds);
      for (Manifest.ExpectedViolation ev : expected.violations()) {
        if (ev.field() != null) {
          assertThat(actual.get("violations").get(0).get("field").asString()).isEqualTo(ev.field());
        }
      }
    }
    JsonNode summary = run.report.get("summary");
    Manifest.Summary s = sampleManifest.summary();
    assertThat(summary.get("flows").asInt()).isEqualTo(s.flows());
    assertThat(summary.get("passed").asInt()).isEqualTo(s.passed());
    assertThat(summary.get("failed").asInt()).isEqualTo(s.failed());
    assertThat(summary.get("incomplete").asInt()).isEqualTo(s.incomplete());
  }

  @Test
  void everyDefectPlantedRepeatedlyAcrossPartitionsAndConsumersIsFoundExactly(@TempDir Path dir) throws IOException {
    // Not the bundled sample: another seed, flows 50 ms apart (instances overlap in time), every
    // defect planted three times so it lands on different partitions and consumer shapes.
    var builder = SyntheticOrderFlows.builder().seed(77).flows(1400).interArrival(java.time.Duration.ofMillis(50));
    int index = 10;
    for (int round = 0; round < 3; round++) {
      for (io.flowtrace.cli.synth.Defect d : io.flowtrace.cli.synth.Defect.values()) {
        if (d != io.flowtrace.cli.synth.Defect.TRUNCATED) {
          builder.plant(d, index);
          index += 17;
        }
      }
    }
    builder.plant(io.flowtrace.cli.synth.Defect.TRUNCATED, 1399);
    Manifest manifest = builder.build().write(dir);

    Run run = replay(dir, "--format", "json");

    Map<String, JsonNode> byRequest = flowsByRequestId(run.report);
    List<String> mismatches = new ArrayList<>();
    for (Manifest.Flow expected : manifest.flows()) {
      JsonNode actual = byRequest.get(expected.requestId());
      List<String> kinds = new ArrayList<>();
      if (actual != null) {
        actual.get("violations").forEach(v -> kinds.add(v.get("kind").asString() + "@" + v.get("stage").asString()));
      }
      List<String> want = expected.violations().stream().map(v -> v.kind() + "@" + v.stage()).toList();
      if (actual == null || !actual.get("status").asString().equals(expected.status().name())
          || !new java.util.HashSet<>(kinds).equals(new java.util.HashSet<>(want)) || kinds.size() != want.size()) {
        mismatches.add("flow " + expected.index() + " " + expected.defect() + ": expected " + expected.status() + " "
            + want + ", got " + (actual == null ? "nothing" : actual.get("status").asString() + " " + kinds));
      }
    }
    assertThat(mismatches).isEmpty();
    assertThat(byRequest).hasSize(manifest.flows().size());
  }

  @Test
  void violationsNameStageFieldExpectedActualAndWhereToLook() throws IOException {
    Run run = replay(sample, "--format", "json");
    Manifest.Flow dropped = sampleManifest.flows().stream()
        .filter(f -> f.defect() != null && f.defect().name().equals("DROP_ENRICHMENT")).findFirst().orElseThrow();
    JsonNode v = flowsByRequestId(run.report).get(dropped.requestId()).get("violations").get(0);

    assertThat(v.get("kind").asString()).isEqualTo("MISSING_ENRICHMENT");
    assertThat(v.get("stage").asString()).isEqualTo("order-requested");
    assertThat(v.get("field").asString()).isEqualTo("userId");
    assertThat(v.get("topic").asString()).isEqualTo("orders.requested");
    assertThat(v.get("message").asString()).matches(
        "orders\\.requested\\[\\d]@\\d+ lacks 'userId', which orders_requested must add to what it carries from client_request");
    assertThat(v.get("traceId").asString()).isEqualTo(dropped.traceId());
  }

  @Test
  void textReportShowsEachFailedInstanceWithTimeline() throws IOException {
    Run run = replay(sample);

    assertThat(run.stdout).contains("✗ NON_IDEMPOTENT at payment-captured, field eventId");
    assertThat(run.stdout).containsPattern(
        "webhook was delivered 2 times with 1 distinct eventId \\[evt_[0-9a-f]+]; orders_confirmed happened 2 times");
    assertThat(run.stdout).contains("timeline:");
    assertThat(run.stdout).contains("40 flows: 28 passed, 11 failed, 1 incomplete");
  }

  @Test
  void cleanRecordingPassesWithZeroViolations() throws IOException {
    Path clean = shared.resolve("clean");
    Manifest manifest = SyntheticOrderFlows.cleanSample().write(clean);

    Run run = replay(clean, "--format", "json");

    assertThat(run.exit).isEqualTo(FlowTraceCli.EXIT_PASSED);
    assertThat(run.report.get("summary").get("passed").asInt()).isEqualTo(manifest.flows().size());
    for (JsonNode flow : run.report.get("flows")) {
      assertThat(flow.get("violations")).as(flow.toString()).isEmpty();
    }
  }

  @Test
  void verdictsDoNotDependOnTheOrderOfLinesAndFiles(@TempDir Path shuffled) throws IOException {
    // All span lines into one file and all message lines split over two, every line shuffled.
    List<String> spans = new ArrayList<>();
    List<String> messages = new ArrayList<>();
    try (Stream<Path> files = Files.list(sample)) {
      for (Path f : files.toList()) {
        String name = f.getFileName().toString();
        if (name.endsWith(".otlp.jsonl")) {
          spans.addAll(Files.readAllLines(f));
        } else if (name.endsWith(".kcat.jsonl")) {
          messages.addAll(Files.readAllLines(f));
        }
      }
    }
    Collections.shuffle(spans, new Random(7));
    Collections.shuffle(messages, new Random(8));
    Files.write(shuffled.resolve("all.otlp.jsonl"), spans);
    int half = messages.size() / 2;
    Files.write(shuffled.resolve("b.kcat.jsonl"), messages.subList(0, half));
    Files.write(shuffled.resolve("a.kcat.jsonl"), messages.subList(half, messages.size()));

    Run original = replay(sample, "--format", "json");
    Run reordered = replay(shuffled, "--format", "json");

    assertThat(normalized(reordered.report)).isEqualTo(normalized(original.report));
  }

  @Test
  void spansAsProtobufOrPrettyPrintedJsonOrOtherwiseSpelledVerifyTheSame(@TempDir Path other) throws Exception {
    // The same spans in the other encodings the contract allows: length-delimited protobuf, one
    // pretty-printed request, and JSON lines respelled the way other exporters write them
    // (upper-case hex ids, 64-bit numbers as strings or numbers, enum kinds by name, unknown fields).
    List<String> lines = new ArrayList<>();
    try (Stream<Path> files = Files.list(sample)) {
      for (Path f : files.toList()) {
        String name = f.getFileName().toString();
        if (name.endsWith(".otlp.jsonl")) {
          lines.addAll(Files.readAllLines(f));
        } else if (name.endsWith(".kcat.jsonl")) {
          Files.copy(f, other.resolve(name));
        }
      }
    }
    int third = lines.size() / 3;
    try (var pb = io.flowtrace.tracer.recording.OtlpProtobufWriter.open(other.resolve("spans.otlp.pb"))) {
      for (String line : lines.subList(0, third)) {
        pb.write(io.flowtrace.tracer.otlp.OtlpJson.parse(line));
      }
    }
    JsonNode first = JSON.readTree(lines.get(third));
    Files.writeString(other.resolve("one-request.otlp.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(first));
    List<String> respelled = new ArrayList<>();
    for (String line : lines.subList(third + 1, lines.size())) {
      respelled.add(respell(JSON.readTree(line)).toString());
    }
    Files.write(other.resolve("respelled.otlp.jsonl"), respelled);

    Run original = replay(sample, "--format", "json");
    Run reencoded = replay(other, "--format", "json");

    assertThat(reencoded.stderr).contains("0 problems skipped");
    assertThat(normalized(reencoded.report)).isEqualTo(normalized(original.report));
  }

  /** Upper-cases ids, turns string nanos into numbers, kinds into enum names, adds unknown fields. */
  private static JsonNode respell(JsonNode node) {
    if (node instanceof tools.jackson.databind.node.ObjectNode o) {
      for (String name : new ArrayList<>(o.propertyNames())) {
        JsonNode v = o.get(name);
        if ((name.equals("traceId") || name.equals("spanId") || name.equals("parentSpanId")) && v.isString()) {
          o.put(name, v.asString().toUpperCase(java.util.Locale.ROOT));
        } else if (name.endsWith("UnixNano") && v.isString()) {
          o.put(name, Long.parseLong(v.asString()));
        } else if (name.equals("kind") && v.isNumber()) {
          o.put(name, new String[] {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
              "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"}[v.asInt()]);
        } else {
          respell(v);
        }
      }
      if (o.has("spanId")) {
        o.put("flags", 769);
        o.put("somethingNew", "ignored");
      }
    } else if (node instanceof tools.jackson.databind.node.ArrayNode a) {
      a.forEach(ReplayCommandTest::respell);
    }
    return node;
  }

  @Test
  void lintAcceptsTheReferenceFlowAndReportsProblemsWithFileLineColumn(@TempDir Path flows) throws IOException {
    Run ok = run("lint", FLOWS.toString());
    Files.writeString(flows.resolve("x.flow.yaml"), "flow: x\nkeys: [id]\nstages:\n  - id: a\n    after: b\n    terminal: true\n    events: [{id: e, topic: t}]\n");
    Run bad = run("lint", flows.toString());

    assertThat(ok.exit).isEqualTo(FlowTraceCli.EXIT_PASSED);
    assertThat(ok.stdout).contains("order-creation (7 stages, 11 events, 11 rules)");
    assertThat(bad.exit).isEqualTo(FlowTraceCli.EXIT_VIOLATIONS);
    assertThat(bad.stderr).contains(flows.resolve("x.flow.yaml") + ":5:12: 'after' names unknown stage 'b'");
  }

  @Test
  void spillingSortedRunsToDiskGivesTheSameVerdicts() throws IOException {
    Run inMemory = replay(sample, "--format", "json");
    Run spilled = replay(sample, "--format", "json", "--buffer-events", "50");

    assertThat(normalized(spilled.report)).isEqualTo(normalized(inMemory.report));
  }

  @Test
  void malformedLinesAreReportedWithFileAndLineAndSkipped(@TempDir Path broken) throws IOException {
    try (Stream<Path> files = Files.list(sample)) {
      for (Path f : files.toList()) {
        Files.copy(f, broken.resolve(f.getFileName()));
      }
    }
    Path kcat = broken.resolve("messages.kcat.jsonl");
    List<String> lines = new ArrayList<>(Files.readAllLines(kcat));
    lines.add(3, "{\"topic\":\"orders.created\",\"partition\":0,"); // truncated JSON, now line 4
    lines.add(7, "not json at all"); // line 8
    Files.write(kcat, lines);
    Path spans = broken.resolve("gateway.otlp.jsonl");
    List<String> spanLines = new ArrayList<>(Files.readAllLines(spans));
    spanLines.add(1, "{\"resourceSpans\": 42}"); // line 2
    Files.write(spans, spanLines);

    Run run = replay(broken, "--format", "json");

    assertThat(run.stderr).contains("skipped " + kcat + ":4: ");
    assertThat(run.stderr).contains("skipped " + kcat + ":8: ");
    assertThat(run.stderr).contains("skipped " + spans + ":2: ");
    assertThat(run.stderr).contains("3 problems skipped");
    assertThat(run.report.get("summary").get("inputProblems").asInt()).as("a job reading the JSON sees them").isEqualTo(3);
    JsonNode whole = replay(sample, "--format", "json").report;
    assertThat(whole.get("summary").get("inputProblems").asInt()).isZero();
    ((tools.jackson.databind.node.ObjectNode) run.report.get("summary")).remove("inputProblems");
    ((tools.jackson.databind.node.ObjectNode) whole.get("summary")).remove("inputProblems");
    assertThat(normalized(run.report)).isEqualTo(normalized(whole));
    assertThat(run.exit).as("violations win over read problems").isEqualTo(FlowTraceCli.EXIT_VIOLATIONS);
    assertThat(run.stderr).as("but the last line says the failures may come from what could not be read")
        .contains("the input also had 3 problems (above)", "may have failed only because");
    assertThat(replay(sample, "--format", "json").stderr).doesNotContain("the input also had");
  }

  @Test
  void aRecordOfAFlowThatNoInstanceCanTakeIsSaidNotDroppedSilently(@TempDir Path stray) throws IOException {
    Files.writeString(stray.resolve("messages.kcat.jsonl"), "{\"topic\":\"inventory.replies\",\"partition\":0,"
        + "\"offset\":1,\"tstype\":\"create\",\"ts\":1795597202228,\"broker\":-1,\"headers\":[],\"key\":null,"
        + "\"payload\":\"plain text, no key\"}\n");

    Run run = replay(stray, "--format", "json");

    assertThat(run.stderr).contains("1 event of the flows could be placed in no instance");
    assertThat(replay(sample, "--format", "json").stderr).doesNotContain("placed in no instance");
  }

  @Test
  void aRecordingOfRecordsOnlyThatFailsSuggestsSpansMayBeMissing(@TempDir Path recordsOnly) throws IOException {
    Files.copy(sample.resolve("messages.kcat.jsonl"), recordsOnly.resolve("messages.kcat.jsonl"));

    Run strict = replay(recordsOnly, "--format", "json");
    Run lenient = replay(recordsOnly, "--format", "json", "--spans", "may-be-missing");
    Run whole = replay(sample, "--format", "json");

    assertThat(strict.exit).isEqualTo(FlowTraceCli.EXIT_VIOLATIONS);
    assertThat(strict.stderr).contains("the recording held no spans at all", "--spans may-be-missing");
    assertThat(lenient.stderr).doesNotContain("held no spans");
    assertThat(whole.stderr).doesNotContain("held no spans");
  }

  /** A trial's tail sampler kept whole traces or none: 287 clean flows failed, and nothing named the option. */
  @Test
  void flowsWhoseSampledTracesLostEverySpanSuggestSpansMayBeMissing(@TempDir Path tailSampled) throws IOException {
    JsonMapper mapper = JsonMapper.builder().build();
    java.util.Set<String> dropped = new java.util.TreeSet<>();
    try (Stream<String> lines = Files.lines(sample.resolve("gateway.otlp.jsonl"))) {
      lines.forEach(l -> mapper.readTree(l).findValues("traceId").forEach(t -> {
        if (t.asString().compareTo("8") < 0) {
          dropped.add(t.asString());
        }
      }));
    }
    try (Stream<Path> files = Files.list(sample)) {
      for (Path f : files.filter(f -> f.toString().endsWith(".jsonl")).toList()) {
        List<String> kept = new ArrayList<>();
        for (String line : Files.readAllLines(f)) {
          JsonNode request = mapper.readTree(line);
          for (JsonNode spans : request.findValues("spans")) {
            ((tools.jackson.databind.node.ArrayNode) spans).removeIf(span -> dropped.contains(span.path("traceId").asString()));
          }
          kept.add(mapper.writeValueAsString(request));
        }
        Files.write(tailSampled.resolve(f.getFileName()), kept);
      }
    }

    Run strict = replay(tailSampled, "--format", "json");
    Run lenient = replay(tailSampled, "--format", "json", "--spans", "may-be-missing");

    assertThat(dropped).isNotEmpty();
    assertThat(strict.stderr).contains("failed flows had records but not one span of their traces",
        "--spans may-be-missing");
    assertThat(lenient.stderr).doesNotContain("not one span");
    assertThat(replay(sample, "--format", "json").stderr).doesNotContain("not one span");
  }

  @Test
  void aFlowOfRecordsAloneIsNotToldToAllowForMissingSpans(@TempDir Path dir) throws IOException {
    Path flows = Files.createDirectories(dir.resolve("flows/placed"));
    Files.writeString(flows.resolve("placed.flow.yaml"), String.join("\n", "flow: placed", "keys: [orderId]",
        "deadline: 1s", "stages:", "  - id: placed", "    events:", "      - {id: placed_msg, topic: t.placed}",
        "  - id: paid", "    after: placed", "    terminal: true", "    events:", "      - {id: paid_msg, topic: t.paid}",
        ""));
    Path recording = Files.createDirectories(dir.resolve("recording"));
    Files.writeString(recording.resolve("messages.kcat.jsonl"), String.join("\n",
        "{\"topic\":\"t.placed\",\"partition\":0,\"offset\":1,\"ts\":1795597202228,\"payload\":\"{\\\"orderId\\\":\\\"o-1\\\"}\"}",
        "{\"topic\":\"t.placed\",\"partition\":0,\"offset\":2,\"ts\":1795597262228,\"payload\":\"{\\\"orderId\\\":\\\"o-2\\\"}\"}",
        ""));

    Run run = run("replay", "--flows", dir.resolve("flows").toString(), "--no-progress", recording.toString());

    assertThat(run.exit).as(run.stderr).isEqualTo(FlowTraceCli.EXIT_VIOLATIONS);
    assertThat(run.stderr).doesNotContain("held no spans");
  }

  @Test
  void aServiceThatSentNoSpanAtAllIsNamedWhereFlowsFailedWaitingForIt(@TempDir Path silent) throws IOException {
    try (Stream<Path> files = Files.list(Path.of("../samples/order-flow-clean"))) {
      for (Path f : files.filter(f -> !f.getFileName().toString().startsWith("gateway")).toList()) {
        Files.copy(f, silent.resolve(f.getFileName()));
      }
    }

    Run run = replay(silent);
    Run whole = replay(Path.of("../samples/order-flow-clean"));

    assertThat(run.exit).isEqualTo(FlowTraceCli.EXIT_VIOLATIONS);
    // the last 2 orders' records came within a completion grace of the input's last span: their
    // spans may have been in an exporter's unsent batch when the capture stopped, so they pass
    assertThat(run.stderr).contains("flowtrace: no span of gateway was in the recording, and MISSING_STAGE failed"
        + " 18 flows of order-creation at order-requested, waiting for its spans: is gateway traced",
        "--spans may-be-missing", "20 flows: 2 passed, 18 failed");
    assertThat(whole.stderr).doesNotContain("no span of");
  }

  @Test
  void anEventThatMatchedNothingWhereFlowsFailedForItIsNamedWithTheLintThatShowsWhy(@TempDir Path dir) throws IOException {
    Path flows = copyOf(FLOWS, dir.resolve("flows"));
    Path spec = flows.resolve("order-creation/order-creation.flow.yaml");
    Files.writeString(spec, Files.readString(spec).replace("regex: \"/payments$\"", "regex: \"/charges$\""));

    Run run = run("replay", "--flows", flows.toString(), "--no-progress", "../samples/order-flow-clean");
    Run asWritten = replay(Path.of("../samples/order-flow-clean"));

    assertThat(run.exit).isEqualTo(FlowTraceCli.EXIT_VIOLATIONS);
    assertThat(run.stderr).contains("flowtrace: payment_request (CLIENT span of order-service with url.full matching"
        + " \"/charges$\") matched nothing in the recording, and MISSING_STAGE failed", "of order-creation at"
        + " payment-authorized: `flowtrace lint " + flows + " --against ../samples/order-flow-clean` shows what almost"
        + " matched it");
    assertThat(asWritten.stderr).doesNotContain("matched nothing");
  }

  @Test
  void spansOnTheOlderSemanticConventionsMatchAMatcherOfTheStableNames(@TempDir Path dir) throws IOException {
    Path older = copyOf(Path.of("../samples/order-flow-clean"), dir.resolve("older"));
    Path orders = older.resolve("order-service.otlp.jsonl");
    Files.writeString(orders, Files.readString(orders).replace("\"url.full\"", "\"http.url\""));

    Run run = replay(older);

    assertThat(Files.readString(orders)).contains("\"http.url\"").doesNotContain("\"url.full\"");
    assertThat(run.exit).as(run.stderr).isEqualTo(FlowTraceCli.EXIT_PASSED);
  }

  /** Copies a directory tree to {@code to}; returns {@code to}. */
  private static Path copyOf(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path f : files.toList()) {
        Path target = to.resolve(from.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(target);
        } else {
          Files.copy(f, target);
        }
      }
    }
    return to;
  }

  @Test
  void aRecordingThatPassesButHadUnreadableInputIsNotGreen(@TempDir Path broken) throws IOException {
    Path clean = Path.of("../samples/order-flow-clean");
    try (Stream<Path> files = Files.list(clean)) {
      for (Path f : files.toList()) {
        Files.copy(f, broken.resolve(f.getFileName()));
      }
    }
    Files.writeString(broken.resolve("extra.kcat.jsonl"), "not json at all\n");

    Run run = replay(broken);

    assertThat(run.exit).isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(run.stderr).contains("1 problem skipped; 20 flows: 20 passed, 0 failed",
        "flowtrace: exit 2: the input had 1 problem (above); only what could be read was verified");
  }

  @Test
  void junitXmlHasOneTestCasePerInstance(@TempDir Path out) throws IOException {
    Path xml = out.resolve("reports/flowtrace.xml");
    Run run = replay(sample, "--junit", xml.toString());

    String text = Files.readString(xml);
    assertThat(run.exit).isEqualTo(FlowTraceCli.EXIT_VIOLATIONS);
    assertThat(text).startsWith("<?xml");
    // time: the sum of the instances' durations (first to last event), each in seconds to the millisecond
    assertThat(text).contains("<testsuite name=\"flowtrace\" tests=\"40\" failures=\"11\" errors=\"0\" skipped=\"1\""
        + " time=\"51.839\">");
    assertThat(text).doesNotContain("time=\"0\"");
    assertThat(text.split("<testcase ", -1)).hasSize(41);
    assertThat(text).contains("<failure type=\"MISSING_STAGE\"");
  }

  @Test
  void junitAndOutputReportsAreReadableByOthersAsAnyNewFileIs(@TempDir Path out) throws IOException {
    assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"), "POSIX file system");
    Path reference = Files.createFile(out.resolve("any-tool"));
    assumeTrue(PosixFilePermissions.toString(Files.getPosixFilePermissions(reference)).equals("rw-r--r--"), "umask 022");
    Path xml = out.resolve("flowtrace.xml");
    Path report = out.resolve("report.txt");

    Run run = run("replay", "--flows", FLOWS.toString(), "--no-progress", "--junit", xml.toString(),
        "--output", report.toString(), sample.toString());

    assertThat(run.exit).isEqualTo(FlowTraceCli.EXIT_VIOLATIONS);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(xml))).isEqualTo("rw-r--r--");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(report))).isEqualTo("rw-r--r--");
    try (Stream<Path> files = Files.list(out)) {
      assertThat(files.map(p -> p.getFileName().toString()).sorted().toList()).as("nothing hidden left")
          .containsExactly("any-tool", "flowtrace.xml", "report.txt");
    }
  }

  @Test
  void aReportPathThatCannotBeWrittenIsNamedAsGivenWithWhyBeforeTheRecordingIsRead(@TempDir Path out) throws IOException {
    Path file = Files.writeString(out.resolve("notes.txt"), "not a directory");
    Path report = out.resolve("report.txt");

    Run junitRun = run("replay", "--flows", FLOWS.toString(), "--no-progress", "--junit", file.resolve("r.xml").toString(),
        "--output", report.toString(), sample.toString());
    Run outputRun = run("replay", "--flows", FLOWS.toString(), "--no-progress",
        "--output", file.resolve("report.txt").toString(), sample.toString());

    assertThat(junitRun.exit).isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(junitRun.stderr).isEqualTo("flowtrace: cannot write --junit report " + file.resolve("r.xml") + ": " + file
        + " is not a directory (FileAlreadyExistsException)" + System.lineSeparator());
    assertThat(report).as("no half of the other report either").doesNotExist();
    assertThat(outputRun.exit).isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(outputRun.stderr).isEqualTo("flowtrace: cannot write --output report " + file.resolve("report.txt") + ": "
        + file + " is not a directory (FileAlreadyExistsException)" + System.lineSeparator());
  }

  @Test
  void aReportInProcIsSaidToBeUnwritableNotAsATemporaryFilesName() throws IOException {
    assumeTrue(Files.isDirectory(Path.of("/proc/self")), "Linux /proc");

    Run run = run("replay", "--flows", FLOWS.toString(), "--no-progress", "--junit", "/proc/x.xml", sample.toString());

    assertThat(run.exit).isEqualTo(FlowTraceCli.EXIT_USAGE);
    // root is told ENOENT there, anyone else EACCES
    assertThat(run.stderr).matches(
        "flowtrace: cannot write --junit report /proc/x\\.xml: /proc is not writable \\((AccessDenied|NoSuchFile)Exception\\)\\R");
  }

  @Test
  void missingRecordingIsBadUsage() throws IOException {
    Run run = replay(shared.resolve("no-such-dir"));

    assertThat(run.exit).isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(run.stderr).contains("does not exist");
  }

  @Test
  void invalidFlowSpecIsBadUsageWithFileLineAndColumn(@TempDir Path flows) throws IOException {
    Files.writeString(flows.resolve("bad.flow.yaml"), "flow: x\nkeys: [id]\nstages:\n  - id: a\n    terminal: true\n    events:\n      - id: e\n        topik: t\n");

    Run run = run("replay", "--flows", flows.toString(), sample.toString());

    assertThat(run.exit).isEqualTo(FlowTraceCli.EXIT_USAGE);
    assertThat(run.stderr).contains(flows.resolve("bad.flow.yaml") + ":8:9: unknown key 'topik' in an event");
  }

  // ---- helpers ----

  record Run(int exit, String stdout, String stderr, JsonNode report) {}

  private static Run replay(Path recording, String... options) throws IOException {
    List<String> args = new ArrayList<>(List.of("replay", "--flows", FLOWS.toString(), "--no-progress"));
    Path out = Files.createTempFile(shared, "report-", ".out");
    args.addAll(List.of(options));
    args.addAll(List.of("--output", out.toString(), recording.toString()));
    Run r = run(args.toArray(String[]::new));
    String stdout = Files.readString(out);
    JsonNode report = stdout.startsWith("{") ? JSON.readTree(stdout) : null;
    return new Run(r.exit, stdout, r.stderr, report);
  }

  private static Run run(String... args) {
    CliRun r = CliRun.of(args);
    return new Run(r.exit(), r.stdout(), r.stderr(), null);
  }


  private static Map<String, JsonNode> flowsByRequestId(JsonNode report) {
    Map<String, JsonNode> out = new TreeMap<>();
    for (JsonNode f : report.get("flows")) {
      out.put(f.get("keys").get("requestId").asString(), f);
    }
    return out;
  }

  /** Flows sorted by keys, so reports can be compared regardless of emission order. */
  private static String normalized(JsonNode report) {
    Map<String, String> byKeys = new TreeMap<>();
    for (JsonNode f : report.get("flows")) {
      byKeys.put(f.get("keys").toString(), f.toString());
    }
    return byKeys.values() + report.get("summary").toString();
  }
}
