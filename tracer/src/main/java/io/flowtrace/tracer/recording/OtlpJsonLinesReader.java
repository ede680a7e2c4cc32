package io.flowtrace.tracer.recording;

import com.google.protobuf.InvalidProtocolBufferException;
import io.flowtrace.tracer.model.SourcePosition;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.otlp.OtlpJson;
import io.flowtrace.tracer.otlp.OtlpSpans;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Reads spans from OTLP/JSON files ({@code *.otlp.jsonl}, {@code *.otlp.json}, optionally
 * gzipped): one {@code ExportTraceServiceRequest} per line, as the OpenTelemetry Collector's file
 * exporter writes them, or a pretty-printed request spread over many lines. Blank lines are
 * skipped. A line that is not a request, or a span with a missing or invalid id, is reported with
 * its line number and skipped; the rest is read.
 */
public final class OtlpJsonLinesReader implements TelemetryFileReader {

  /**
   * The largest pretty-printed (multi-line) request read as one document: 64 Mi characters. A
   * longer one is read line by line instead, which reports its lines as malformed.
   */
  public static final int MAX_DOCUMENT_CHARS = 64 << 20;

  private static final int MAX_REASON_CHARS = 240;
  private static final String REASON_PREFIX = "not an OTLP ExportTraceServiceRequest: ";

  @Override
  public boolean accepts(Path file) {
    return RecordingFiles.hasSuffix(file, ".otlp.jsonl", ".otlp.json");
  }

  @Override
  public long read(Path file, Consumer<Telemetry> sink, ReadListener listener) throws IOException {
    try (BufferedReader in = RecordingFiles.openText(file, listener)) {
      return read(in, file.toString(), sink, listener);
    }
  }

  /** Reads OTLP/JSON text; {@code source} names it in problem reports. Does not close {@code in}. */
  public long read(BufferedReader in, String source, Consumer<Telemetry> sink, ReadListener listener)
      throws IOException {
    Parse parse = new Parse(source, sink, listener);
    boolean lineMode = false;
    long lineNumber = 0;
    String line;
    while ((line = in.readLine()) != null) {
      lineNumber++;
      if (lineNumber == 1) {
        line = RecordingFiles.withoutBom(line);
      }
      if (RecordingFiles.isBlank(line)) {
        continue;
      }
      if (lineMode) {
        parse.record(line, lineNumber);
        continue;
      }
      JsonDepth depth = new JsonDepth();
      if (!depth.startsObject(line) || depth.closedAfter(line)) {
        lineMode = true;
        parse.record(line, lineNumber);
        continue;
      }
      long start = lineNumber;
      List<String> lines = new ArrayList<>();
      lines.add(line);
      long chars = line.length();
      boolean closed = false;
      while (!closed && chars <= MAX_DOCUMENT_CHARS && (line = in.readLine()) != null) {
        lineNumber++;
        lines.add(line);
        chars += line.length() + 1;
        closed = depth.closedAfter(line);
      }
      if (closed) {
        parse.record(String.join("\n", lines), start);
      } else if (containsRecordLine(lines)) {
        lineMode = true;
        for (int i = 0; i < lines.size(); i++) {
          if (!RecordingFiles.isBlank(lines.get(i))) {
            parse.record(lines.get(i), start + i);
          }
        }
      } else if (line == null) {
        parse.problem(start, REASON_PREFIX
            + "the JSON document that starts here does not end; the file ends at line " + lineNumber);
      } else {
        parse.problem(start, REASON_PREFIX + "the JSON document that starts here is longer than "
            + MAX_DOCUMENT_CHARS + " characters; the rest of the file is skipped");
        break;
      }
    }
    return parse.emitted;
  }

  private static final class Parse {
    final String source;
    final Consumer<Telemetry> sink;
    final ReadListener listener;
    long emitted;

    Parse(String source, Consumer<Telemetry> sink, ReadListener listener) {
      this.source = source;
      this.sink = sink;
      this.listener = listener;
    }

    void record(String json, long lineNumber) {
      ExportTraceServiceRequest request;
      try {
        request = OtlpJson.parse(json);
      } catch (InvalidProtocolBufferException | RuntimeException e) {
        problem(lineNumber, REASON_PREFIX + reason(e));
        return;
      }
      Function<OtlpSpans.InvalidId, String> describer = OtlpJson.describer(json);
      emitted += OtlpSpans.convert(
          request,
          span -> sink.accept(Telemetry.of(span)),
          invalid -> problem(lineNumber, describer.apply(invalid)));
    }

    void problem(long lineNumber, String reason) {
      listener.problem(new ReadProblem(SourcePosition.line(source, lineNumber), reason));
    }
  }

  /**
   * Whether a line after the first is a whole JSON object starting in column 0: then the file is
   * line-delimited (and its first line broken), not one unfinished pretty-printed document.
   */
  private static boolean containsRecordLine(List<String> lines) {
    for (int i = 1; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.startsWith("{") && new JsonDepth().closedAfter(line)) {
        return true;
      }
    }
    return false;
  }

  /** The parser's message, without the Java class name it may start with, cut to a readable length. */
  static String reason(Exception e) {
    String message = e.getMessage();
    if (message == null || message.isBlank()) {
      return e.getClass().getSimpleName();
    }
    String reason = message.replaceFirst("^(?:[a-z][\\w$]*\\.)+[A-Z][\\w$]*: ", "").strip();
    return reason.length() > MAX_REASON_CHARS ? reason.substring(0, MAX_REASON_CHARS) + "..." : reason;
  }

  /** Tracks JSON nesting depth across lines, ignoring brackets inside strings. */
  private static final class JsonDepth {
    private int depth;
    private boolean inString;
    private boolean escaped;

    boolean startsObject(String line) {
      return line.strip().startsWith("{");
    }

    /** Feeds the line; true when the value that began on the first line has closed. */
    boolean closedAfter(String line) {
      for (int i = 0, n = line.length(); i < n; i++) {
        char c = line.charAt(i);
        if (inString) {
          if (escaped) {
            escaped = false;
          } else if (c == '\\') {
            escaped = true;
          } else if (c == '"') {
            inString = false;
          }
        } else if (c == '"') {
          inString = true;
        } else if (c == '{' || c == '[') {
          depth++;
        } else if ((c == '}' || c == ']') && --depth == 0) {
          return true;
        }
      }
      return false;
    }
  }
}
