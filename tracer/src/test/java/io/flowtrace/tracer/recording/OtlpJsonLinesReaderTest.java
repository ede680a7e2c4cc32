package io.flowtrace.tracer.recording;

import static io.flowtrace.tracer.TestObjects.SERVER_SPAN_ID;
import static io.flowtrace.tracer.TestObjects.TRACE_ID;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.Span;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OtlpJsonLinesReaderTest {

  @TempDir Path dir;

  private final OtlpJsonLinesReader reader = new OtlpJsonLinesReader();
  private final Collected collected = new Collected();

  static String line(String... spans) {
    return "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"
        + "{\"stringValue\":\"gateway\"}}]},\"scopeSpans\":[{\"spans\":[" + String.join(",", spans)
        + "]}]}]}";
  }

  static String span(String name) {
    return "{\"traceId\":\"" + TRACE_ID + "\",\"spanId\":\"" + SERVER_SPAN_ID + "\",\"name\":\"" + name + "\"}";
  }

  private Path write(String name, String... lines) throws IOException {
    Path file = dir.resolve(name);
    Files.writeString(file, Arrays.stream(lines).collect(Collectors.joining("\n", "", "\n")));
    return file;
  }

  private long read(Path file) throws IOException {
    return reader.read(file, collected, collected);
  }

  static Path resource(String name) throws URISyntaxException {
    return Path.of(OtlpJsonLinesReaderTest.class.getResource("/recordings/" + name).toURI());
  }

  @Test
  void acceptsOtlpJsonFileNamesOnly() {
    assertThat(reader.accepts(Path.of("rec/spans.otlp.jsonl"))).isTrue();
    assertThat(reader.accepts(Path.of("rec/SPANS.OTLP.JSON"))).isTrue();
    assertThat(reader.accepts(Path.of("rec/spans.otlp.jsonl.gz"))).isTrue();
    assertThat(reader.accepts(Path.of("rec/orders.kcat.jsonl"))).isFalse();
    assertThat(reader.accepts(Path.of("rec/spans.otlp.pb"))).isFalse();
    assertThat(reader.accepts(Path.of("rec/README.md"))).isFalse();
  }

  @Test
  void readsEveryRequestLineAndReportsEachMalformedLineWithItsNumber() throws IOException {
    String salvaged = line(span("salvaged before"), "{\"name\":\"wrong type\",\"endTimeUnixNano\":{\"n\":1}}",
        span("salvaged after"));
    Path file = write("spans.otlp.jsonl",
        line(span("first")),
        "garbage",
        line(span("kept before"),
            "{\"traceId\":\"xyz\",\"spanId\":\"" + SERVER_SPAN_ID + "\",\"name\":\"bad trace\"}",
            span("kept after")),
        "{\"resourceSpans\":[{\"resource\":{\"attributes\":[",
        "",
        line("{\"traceId\":\"" + TRACE_ID + "\",\"name\":\"no span id\"}", span("kept too")),
        salvaged,
        line(span("last")));

    long emitted = read(file);

    assertThat(collected.spanNames()).containsExactly("first", "kept before", "kept after", "kept too",
        "salvaged before", "salvaged after", "last");
    assertThat(emitted).isEqualTo(7);
    // Lines 2 and 4 once read "Expect message object but got: \"garbage\"" and "End of input at line 1
    // column 46 path $..." (protobuf's JsonFormat and the Gson parser under it); the streaming decoder
    // says the same in its own words, with the column and the place in the request.
    assertThat(collected.problemTexts()).containsExactly(
        file + ":2: not an OTLP ExportTraceServiceRequest: not JSON: Unrecognized token 'garbage' at column 1",
        file + ":3: span 2 'bad trace' of resource 1, scope 1 has traceId 'xyz' which is not 16 bytes of hex",
        file + ":4: not an OTLP ExportTraceServiceRequest: "
            + "the JSON ends early at column 46 ($.resourceSpans[0].resource.attributes[0])",
        file + ":6: span 1 'no span id' of resource 1, scope 1 has no spanId",
        file + ":7: span 2 of resource 1, scope 1 is skipped: expected a single value, found an object at column "
            + (salvaged.indexOf("{\"n\"") + 1) + " ($.resourceSpans[0].scopeSpans[0].spans[1].endTimeUnixNano); the request's other spans are read");
  }

  @Test
  void aLineCutShortKeepsTheSpansReadWholeBeforeTheCutAndNamesOnlyTheLostText() throws IOException {
    String kept = "11111111111111111111111111111111";
    String lost = "22222222222222222222222222222222";
    String whole = line(spanOf(kept, "whole one"), spanOf(kept, "whole two"), spanOf(lost, "cut short"));
    String resourceLast = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[" + spanOf(kept, "no service yet")
        + "]}],\"resource\":{\"attri";
    Path file = write("spans.otlp.jsonl",
        whole.substring(0, whole.indexOf("\"name\":\"cut short")),
        resourceLast,
        line(span("after")));

    long emitted = read(file);

    assertThat(collected.spanNames()).containsExactly("whole one", "whole two", "after");
    assertThat(emitted).isEqualTo(3);
    assertThat(collected.problemTexts()).containsExactly(
        file + ":1: the request is cut short: the JSON ends early at column " + (whole.indexOf("\"name\":\"cut short") + 1)
            + " ($.resourceSpans[0].scopeSpans[0].spans[2].spanId); the 2 spans before that are read,"
            + " the rest of the request is lost",
        file + ":2: not an OTLP ExportTraceServiceRequest: the JSON ends early at column " + (resourceLast.length() + 1)
            + " ($.resourceSpans[0].resource)");
    assertThat(collected.problems.get(0).names()).contains(lost).doesNotContain(kept);
  }

  @Test
  void aLineOfSomethingElseThanTracesIsReportedNotReadAsAnEmptyRequest() throws IOException {
    Path file = write("spans.otlp.jsonl",
        "{\"hello\":\"world\"}",
        "{\"resourceMetrics\":[{\"resource\":{},\"scopeMetrics\":[]}]}",
        "{\"resourceSpans\":[]}",
        "{}",
        line(span("after")));

    long emitted = read(file);

    assertThat(collected.spanNames()).containsExactly("after");
    assertThat(emitted).isEqualTo(1);
    assertThat(collected.problemTexts()).containsExactly(
        file + ":1: not an OTLP ExportTraceServiceRequest: it has no resourceSpans, only 'hello'; nothing is read from it",
        file + ":2: not an OTLP ExportTraceServiceRequest: it has no resourceSpans, only 'resourceMetrics'"
            + " (OTLP metrics, not traces); nothing is read from it");
  }

  @Test
  void linesInARowThatAreNotTextAreReportedAsOneRun() throws IOException {
    Path file = dir.resolve("spans.otlp.jsonl");
    byte[] notText = {(byte) 0xC3, 0x28, 0x00};
    try (var out = Files.newOutputStream(file)) {
      out.write((line(span("first")) + "\n").getBytes(StandardCharsets.UTF_8));
      for (int i = 0; i < 5; i++) {
        out.write(notText);
        out.write('\n');
      }
      out.write((line(span("between")) + "\n").getBytes(StandardCharsets.UTF_8));
      out.write(notText);
      out.write('\n');
    }

    long emitted = read(file);

    assertThat(collected.spanNames()).containsExactly("first", "between");
    assertThat(emitted).isEqualTo(2);
    assertThat(collected.problemTexts()).containsExactly(
        file + ":2: not UTF-8 at byte 1 of the line; skipped; so are the 4 lines after it, to line 6: binary data, not text?",
        file + ":8: not UTF-8 at byte 1 of the line; skipped");
  }

  private static String spanOf(String traceId, String name) {
    return "{\"traceId\":\"" + traceId + "\",\"spanId\":\"" + SERVER_SPAN_ID + "\",\"name\":\"" + name + "\"}";
  }

  @Test
  void aSpanThatEndsBeforeItStartsIsReportedWithItsLineAndReadAsEndingWhenItStarts() throws IOException {
    Path file = write("spans.otlp.jsonl",
        line(span("first")),
        line("{\"traceId\":\"" + TRACE_ID + "\",\"spanId\":\"" + SERVER_SPAN_ID + "\",\"name\":\"POST /orders\","
            + "\"startTimeUnixNano\":\"1796000000012500000\",\"endTimeUnixNano\":\"1796000000000000000\"}"));

    assertThat(read(file)).isEqualTo(2);

    assertThat(collected.spans()).extracting(Span::name, Span::startEpochNanos, Span::endEpochNanos).containsExactly(
        org.assertj.core.groups.Tuple.tuple("first", 0L, 0L),
        org.assertj.core.groups.Tuple.tuple("POST /orders", 1_796_000_000_012_500_000L, 1_796_000_000_012_500_000L));
    assertThat(collected.problemTexts()).containsExactly(file + ":2: span 'POST /orders' (service gateway, trace "
        + TRACE_ID + ", span " + SERVER_SPAN_ID + ") ends 12.5 ms before it starts; read as ending when it starts");
  }

  /** A trial wrote a span's start in seconds: read as nanoseconds, its order "took 498,920 h". */
  @Test
  void aSpanWhoseStartIsInSecondsOrMillisecondsIsReportedWithItsLineAndLeftOut() throws IOException {
    String seconds = "{\"traceId\":\"" + TRACE_ID + "\",\"spanId\":\"" + SERVER_SPAN_ID + "\",\"name\":\"POST /claims\","
        + "\"startTimeUnixNano\":\"1796112000\",\"endTimeUnixNano\":\"1796112000000000000\"}";
    String millis = seconds.replace("\"1796112000\"", "\"1796112000000\"");
    Path file = write("spans.otlp.jsonl", line(span("first")), line(seconds, span("beside it")), line(millis));

    assertThat(read(file)).isEqualTo(4);

    assertThat(collected.spanNames()).containsExactly("first", "beside it");
    assertThat(collected.problemTexts()).containsExactly(
        file + ":2: span 'POST /claims' (service gateway, trace " + TRACE_ID + ", span " + SERVER_SPAN_ID
            + ") starts at 1970-01-01T00:00:01.796112Z (startTimeUnixNano 1796112000): seconds, not nanoseconds?;"
            + " the span is left out",
        file + ":3: span 'POST /claims' (service gateway, trace " + TRACE_ID + ", span " + SERVER_SPAN_ID
            + ") starts at 1970-01-01T00:29:56.112Z (startTimeUnixNano 1796112000000): milliseconds, not nanoseconds?;"
            + " the span is left out");
    assertThat(collected.problems.get(0).names()).contains(TRACE_ID);
  }

  /** Each span passed over is named by its own text: its trace, not the trace of every span of its line. */
  @Test
  void aSpanSkippedForAWrongTypedFieldNamesItsOwnTrace() throws IOException {
    String other = "11111111111111111111111111111111";
    String bad = "{\"traceId\":\"" + TRACE_ID + "\",\"spanId\":\"" + SERVER_SPAN_ID + "\",\"name\":\"x\","
        + "\"startTimeUnixNano\":\"abc\"}";
    Path file = write("spans.otlp.jsonl", line(spanOf(other, "before"), bad, spanOf(other, "after")));

    read(file);

    assertThat(collected.spanNames()).containsExactly("before", "after");
    assertThat(collected.problems).hasSize(1);
    assertThat(collected.problems.get(0).names()).contains(TRACE_ID).doesNotContain(other);
  }

  @Test
  void aMalformedLineReadsAsTheDecoderDescribesItsText() throws Exception {
    String badNumber = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"kind\":2.5e,\"name\":\"x\"}]}]}]}";
    String cut = line(span("cut")).substring(0, 120);
    String nonAscii = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"Zürich 🚀\",\"kind\":2.5e}]}]}]}";
    Path file = write("spans.otlp.jsonl", line(span("first")), badNumber, cut, nonAscii);

    read(file);

    List<String> expected = new java.util.ArrayList<>();
    for (String text : List.of(badNumber, cut, nonAscii)) {
      try {
        new io.flowtrace.tracer.otlp.OtlpJsonDecoder().decode(text, s -> { }, id -> { });
      } catch (io.flowtrace.tracer.otlp.OtlpJsonDecoder.MalformedRequestException e) {
        expected.add(e.describe(expected.size() + 2));
      }
    }
    assertThat(expected).hasSize(3);
    assertThat(collected.problemTexts()).containsExactly(
        file + ":2: not an OTLP ExportTraceServiceRequest: " + expected.get(0),
        file + ":3: not an OTLP ExportTraceServiceRequest: " + expected.get(1),
        file + ":4: not an OTLP ExportTraceServiceRequest: " + expected.get(2));
    assertThat(collected.problemTexts().get(0)).contains("Exponent indicator not followed by a digit at column 53");
  }

  @Test
  void aUtf16FileIsNotReadAsUtf8Requests() throws IOException {
    Path file = dir.resolve("utf16.otlp.jsonl");
    Files.write(file, (line(span("first")) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_16LE));

    read(file);

    assertThat(collected.spanNames()).isEmpty();
    assertThat(collected.problemTexts()).isNotEmpty()
        .allSatisfy(p -> assertThat(p).contains("not an OTLP ExportTraceServiceRequest"));
  }

  @Test
  void readsTheAgentLineWithItsServiceAndIds() throws Exception {
    read(resource("agent.otlp.jsonl"));

    assertThat(collected.problems).isEmpty();
    assertThat(collected.spans()).extracting(Span::service).containsOnly("gateway");
    assertThat(collected.spans()).extracting(Span::traceId)
        .containsExactly(TRACE_ID, TRACE_ID, "0af7651916cd43dd8448eb211c80319c");
  }

  @Test
  void readsAPrettyPrintedRequestSpreadOverManyLines() throws Exception {
    Path file = resource("pretty.otlp.json");
    assertThat(Files.readAllLines(file)).hasSizeGreaterThan(20);

    read(file);

    assertThat(collected.problems).isEmpty();
    assertThat(collected.spans()).extracting(Span::service, Span::spanId, Span::parentSpanId).containsExactly(
        org.assertj.core.groups.Tuple.tuple("order-service", "c0ffee0000000001", "a1b2c3d4e5f60718"),
        org.assertj.core.groups.Tuple.tuple("order-service", "c0ffee0000000002", "c0ffee0000000001"));
    assertThat(collected.spans().get(1).attributes())
        .containsEntry("note", "braces { and [ inside a \"string\" }");
  }

  @Test
  void readsConcatenatedPrettyPrintedRequestsAndReportsProblemsAtTheLineTheyStart() throws Exception {
    String pretty = Files.readString(resource("pretty.otlp.json"));
    String bad = pretty.replace("c0ffee0000000002", "c0ffee");
    Path file = dir.resolve("two.otlp.json");
    Files.writeString(file, "\n\n" + pretty + bad);
    int secondStart = 3 + (int) pretty.lines().count();

    read(file);

    assertThat(collected.spans()).extracting(Span::spanId)
        .containsExactly("c0ffee0000000001", "c0ffee0000000002", "c0ffee0000000001");
    assertThat(collected.problemTexts()).containsExactly(file + ":" + secondStart
        + ": span 2 'send inventory.requests' of resource 1, scope 1 has spanId 'c0ffee' which is not 8 bytes of hex");
  }

  @Test
  void anUnfinishedPrettyPrintedRequestIsOneProblem() throws Exception {
    List<String> lines = Files.readAllLines(resource("pretty.otlp.json"));
    Path file = write("cut.otlp.json", lines.subList(0, 12).toArray(String[]::new));

    read(file);

    assertThat(collected.telemetry).isEmpty();
    assertThat(collected.problemTexts()).containsExactly(file + ":1: not an OTLP ExportTraceServiceRequest: "
        + "the JSON document that starts here does not end; the file ends at line 12");
  }

  @Test
  void aCutOffFirstLineDoesNotHideTheLinesAfterIt() throws IOException {
    String good = line(span("second"));
    Path file = write("spans.otlp.jsonl", good.substring(0, 60), good, line(span("third")));

    read(file);

    assertThat(collected.spanNames()).containsExactly("second", "third");
    assertThat(collected.problemTexts()).singleElement().asString()
        .startsWith(file + ":1: not an OTLP ExportTraceServiceRequest: ");
  }

  @Test
  void skipsBlankLinesAndAByteOrderMarkSilently() throws IOException {
    Path file = dir.resolve("spans.otlp.jsonl");
    Files.write(file, ("\uFEFF" + line(span("a")) + "\r\n\r\n   \n\t\n" + line(span("b")) + "\r\n")
        .getBytes(StandardCharsets.UTF_8));

    read(file);

    assertThat(collected.problems).isEmpty();
    assertThat(collected.spanNames()).containsExactly("a", "b");
  }

  @Test
  void aLineLongerThanTheLimitIsReportedAndSkippedAndTheNextLineIsRead() throws IOException {
    String first = line(span("first"));
    Path file = write("spans.otlp.jsonl", first, line(span("x".repeat(first.length()))), line(span("third")));

    new OtlpJsonLinesReader(first.length() + 10).read(file, collected, collected);

    assertThat(collected.spanNames()).containsExactly("first", "third");
    assertThat(collected.problemTexts())
        .containsExactly(file + ":2: line longer than " + (first.length() + 10) + " bytes; skipped");
  }

  @Test
  void aLineThatIsNotUtf8IsReportedAndSkippedBetweenTwoGoodOnes() throws IOException {
    Path file = dir.resolve("spans.otlp.jsonl");
    byte[] bad = line(span("caf\u00e9")).getBytes(StandardCharsets.ISO_8859_1);
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    bytes.writeBytes((line(span("before")) + "\n").getBytes(StandardCharsets.UTF_8));
    bytes.writeBytes(bad);
    bytes.writeBytes(("\n" + line(span("after")) + "\n").getBytes(StandardCharsets.UTF_8));
    Files.write(file, bytes.toByteArray());

    read(file);

    assertThat(collected.spanNames()).containsExactly("before", "after");
    assertThat(collected.problemTexts()).containsExactly(
        file + ":2: not UTF-8 at byte " + (line(span("caf")).indexOf("caf") + 4) + " of the line; skipped");
  }

  @Test
  void aBadLineInsideAPrettyPrintedRequestSkipsThatRequestOnly() throws Exception {
    String pretty = Files.readString(resource("pretty.otlp.json"));
    List<String> lines = pretty.lines().toList();
    int bad = 7;
    Path file = dir.resolve("two.otlp.json");
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    for (int i = 0; i < lines.size(); i++) {
      bytes.writeBytes(lines.get(i).getBytes(StandardCharsets.UTF_8));
      if (i == bad - 1) {
        bytes.write(0xFF);
      }
      bytes.write('\n');
    }
    bytes.writeBytes(pretty.getBytes(StandardCharsets.UTF_8));
    Files.write(file, bytes.toByteArray());

    read(file);

    assertThat(collected.spans()).extracting(Span::spanId).containsExactly("c0ffee0000000001", "c0ffee0000000002");
    assertThat(collected.problemTexts()).containsExactly(
        file + ":" + bad + ": not UTF-8 at byte " + (lines.get(bad - 1).length() + 1) + " of the line; skipped",
        file + ":1: not an OTLP ExportTraceServiceRequest: the JSON document that starts here has line " + bad
            + ", which could not be read; the document is skipped");
  }

  @Test
  void aCutOffGzipKeepsTheRequestsBeforeTheCutAndNamesTheDocumentItCut() throws Exception {
    String pretty = Files.readString(resource("pretty.otlp.json"));
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < 400; i++) {
      text.append(pretty.replace("order-service", "service-" + i));
    }
    byte[] cut = CutGzip.cut(text.toString().getBytes(StandardCharsets.UTF_8), 100);
    int whole = CutGzip.wholeLines(CutGzip.readable(cut));
    long perDocument = pretty.lines().count();
    long documents = whole / perDocument;
    assertThat(documents).isBetween(1L, 399L);
    Path file = dir.resolve("spans.otlp.json.gz");
    Files.write(file, cut);

    read(file);

    assertThat(collected.spans()).hasSize((int) documents * 2);
    assertThat(collected.spans()).last().extracting(Span::service).isEqualTo("service-" + (documents - 1));
    assertThat(collected.problemTexts()).containsExactly(file + ":" + (whole + 1)
        + ": file cut off or corrupt here: Unexpected end of ZLIB input stream; the JSON document that starts at line "
        + (documents * perDocument + 1) + " is incomplete; rest of the file skipped");
  }
}
