package io.flowtrace.tracer.recording;

import static io.flowtrace.tracer.TestObjects.SERVER_SPAN_ID;
import static io.flowtrace.tracer.TestObjects.id;
import static io.flowtrace.tracer.TestObjects.request;
import static io.flowtrace.tracer.TestObjects.span;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.TestObjects;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.Span.SpanKind;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OtlpProtobufReaderTest {

  @TempDir Path dir;

  private final OtlpProtobufReader reader = new OtlpProtobufReader();
  private final Collected collected = new Collected();

  private static byte[] delimited(ExportTraceServiceRequest... requests) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (OtlpProtobufWriter writer = new OtlpProtobufWriter(out)) {
      for (ExportTraceServiceRequest request : requests) {
        writer.write(request);
      }
    }
    return out.toByteArray();
  }

  private static ExportTraceServiceRequest named(String name) {
    return request("gateway", span(SERVER_SPAN_ID, "", name, SpanKind.SPAN_KIND_SERVER));
  }

  private Path file(byte[]... parts) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.write(part);
    }
    Path file = dir.resolve("spans.otlp.pb");
    Files.write(file, out.toByteArray());
    return file;
  }

  @Test
  void acceptsOtlpProtobufFileNamesOnly() {
    assertThat(reader.accepts(Path.of("spans.otlp.pb"))).isTrue();
    assertThat(reader.accepts(Path.of("spans.otlp.pb.gz"))).isTrue();
    assertThat(reader.accepts(Path.of("spans.otlp.jsonl"))).isFalse();
  }

  @Test
  void readsEveryLengthDelimitedRequest() throws IOException {
    Path file = file(delimited(TestObjects.gatewayRequest(), named("third")));

    assertThat(reader.read(file, collected, collected)).isEqualTo(3);

    assertThat(collected.problems).isEmpty();
    assertThat(collected.spanNames()).containsExactly("POST /api/orders", "send orders.requested", "third");
  }

  @Test
  void aSpanThatEndsBeforeItStartsIsReportedWithItsMessageAndReadAsEndingWhenItStarts() throws IOException {
    byte[] first = delimited(named("first"));
    Path file = file(first, delimited(request("gateway", span(SERVER_SPAN_ID, "", "backwards", SpanKind.SPAN_KIND_SERVER)
        .setStartTimeUnixNano(1_796_000_002_000_000_000L).setEndTimeUnixNano(1_796_000_001_999_999_500L))));

    assertThat(reader.read(file, collected, collected)).isEqualTo(2);

    assertThat(collected.spans().get(1).endEpochNanos()).isEqualTo(1_796_000_002_000_000_000L);
    assertThat(collected.problemTexts()).singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
        .startsWith(file + "@" + first.length + ": message 2: span 'backwards' (service gateway, trace ")
        .endsWith(") ends 500 ns before it starts; read as ending when it starts");
  }

  @Test
  void aCorruptMessageIsReportedWithItsOffsetAndTheNextOneIsRead() throws IOException {
    byte[] first = delimited(named("first"));
    Path file = file(first, new byte[] {3, 0x0a, 0x05, 0x01}, delimited(named("after")));

    reader.read(file, collected, collected);

    assertThat(collected.spanNames()).containsExactly("first", "after");
    assertThat(collected.problemTexts()).containsExactly(file + "@" + first.length
        + ": message 2 is not an OTLP ExportTraceServiceRequest: While parsing a protocol message, the input"
        + " ended unexpectedly in the middle of a field.  This could mean either that the input has been"
        + " truncated or that an embedded message misreported its own length.");
  }

  @Test
  void aCutOffLastMessageIsReportedAndWhatCameBeforeIsKept() throws IOException {
    byte[] good = delimited(named("first"), named("second"));
    byte[] last = delimited(named("cut"));
    Path file = file(good, java.util.Arrays.copyOf(last, 20));

    reader.read(file, collected, collected);

    assertThat(collected.spanNames()).containsExactly("first", "second");
    assertThat(collected.problemTexts()).containsExactly(file + "@" + good.length
        + ": message 3 is cut off: its length prefix says " + (last.length - 1)
        + " bytes but the file ends after 19");
  }

  @Test
  void aHugeLengthPrefixStopsTheFileWithoutAllocatingIt() throws IOException {
    byte[] good = delimited(named("first"));
    byte[] oneGiB = {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x04};
    Path file = file(good, oneGiB, delimited(named("unreachable")));

    reader.read(file, collected, collected);

    assertThat(collected.spanNames()).containsExactly("first");
    assertThat(collected.problemTexts()).containsExactly(file + "@" + good.length
        + ": message 2 claims 1073741824 bytes, more than the limit of 67108864;"
        + " its length prefix is probably corrupt, the rest of the file is skipped");
  }

  @Test
  void aLengthPrefixCutOffByTheEndOfTheFileIsReported() throws IOException {
    byte[] good = delimited(named("first"));
    Path file = file(good, new byte[] {(byte) 0x96});

    reader.read(file, collected, collected);

    assertThat(collected.spanNames()).containsExactly("first");
    assertThat(collected.problemTexts()).containsExactly(
        file + "@" + good.length + ": message 2 has its length prefix cut off by the end of the file");
  }

  @Test
  void aSpanWithAnInvalidIdIsReportedWithItsMessageOffset() throws IOException {
    byte[] good = delimited(named("first"));
    ExportTraceServiceRequest bad = request("gateway",
        span(SERVER_SPAN_ID, "", "short", SpanKind.SPAN_KIND_SERVER).setTraceId(id("0102")),
        span(SERVER_SPAN_ID, "", "fine", SpanKind.SPAN_KIND_SERVER));
    Path file = file(good, delimited(bad));

    reader.read(file, collected, collected);

    assertThat(collected.spanNames()).containsExactly("first", "fine");
    assertThat(collected.problemTexts()).containsExactly(file + "@" + good.length
        + ": message 2: span 1 'short' of resource 1, scope 1 has a traceId of 2 bytes (0102), not 16");
  }

  @Test
  void anEmptyFileHasNoSpansAndNoProblems() throws IOException {
    assertThat(reader.read(file(), collected, collected)).isZero();
    assertThat(collected.problems).isEmpty();
  }

  @Test
  void aCutOffGzipKeepsTheMessagesBeforeTheCutAndReportsTheOffsetOfTheMessageItCut() throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    java.util.List<Long> ends = new java.util.ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      all.write(delimited(named("span " + i)));
      ends.add((long) all.size());
    }
    byte[] cut = CutGzip.cut(all.toByteArray(), 100);
    int readable = CutGzip.readable(cut).length;
    int whole = (int) ends.stream().filter(end -> end <= readable).count();
    assertThat(whole).isBetween(1, 999);
    Path file = dir.resolve("spans.otlp.pb.gz");
    Files.write(file, cut);

    assertThat(reader.read(file, collected, collected)).isEqualTo(whole);

    assertThat(collected.spanNames()).hasSize(whole).last().isEqualTo("span " + (whole - 1));
    assertThat(collected.problemTexts()).containsExactly(file + "@" + ends.get(whole - 1)
        + ": file cut off or corrupt here: Unexpected end of ZLIB input stream; rest of the file skipped");
  }

  @Test
  void aFileThatIsNotGzipAlthoughNamedSoIsReportedAtOffsetZero() throws IOException {
    Path file = dir.resolve("spans.otlp.pb.gz");
    Files.write(file, delimited(named("plain")));

    assertThat(reader.read(file, collected, collected)).isZero();

    assertThat(collected.problemTexts())
        .containsExactly(file + "@0: cannot read the file: Not in GZIP format; the file is skipped");
  }
}
