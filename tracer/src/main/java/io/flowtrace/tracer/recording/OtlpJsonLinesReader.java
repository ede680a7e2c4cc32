package io.flowtrace.tracer.recording;

import io.flowtrace.tracer.model.SourcePosition;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.otlp.OtlpJsonDecoder;
import io.flowtrace.tracer.otlp.OtlpSpans;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Reads spans from OTLP/JSON files ({@code *.otlp.jsonl}, {@code *.otlp.json}, optionally
 * gzipped): one {@code ExportTraceServiceRequest} per line, as the OpenTelemetry Collector's file
 * exporter writes them, or a pretty-printed request spread over many lines, decoded by {@link
 * OtlpJsonDecoder} (which streams: no protobuf message or JSON tree is built). Blank lines are
 * skipped. A line that is not a request, is not UTF-8 or is longer than {@link #MAX_LINE_BYTES},
 * or a span with a missing or invalid id, is reported with its line number and skipped; the rest is
 * read. A file cut off or corrupt (a truncated gzip) is reported at the line where reading
 * stopped; the lines before it are kept.
 */
public final class OtlpJsonLinesReader implements TelemetryFileReader {

  /**
   * The largest pretty-printed (multi-line) request read as one document: 64 Mi characters. A
   * longer one is read line by line instead, which reports its lines as malformed.
   */
  public static final int MAX_DOCUMENT_CHARS = 64 << 20;

  /** The longest line read: 64 MiB. A longer line is reported and skipped. */
  public static final int MAX_LINE_BYTES = LineReader.MAX_LINE_BYTES;

  private static final int MAX_REASON_CHARS = 240;
  private static final String REASON_PREFIX = "not an OTLP ExportTraceServiceRequest: ";

  private final int maxLineBytes;

  public OtlpJsonLinesReader() {
    this(MAX_LINE_BYTES);
  }

  /** A reader with another line limit (for tests). */
  OtlpJsonLinesReader(int maxLineBytes) {
    this.maxLineBytes = maxLineBytes;
  }

  @Override
  public boolean accepts(Path file) {
    return RecordingFiles.hasSuffix(file, ".otlp.jsonl", ".otlp.json");
  }

  /** Reads the file; a file that cannot be opened is reported at line 1. Never throws for bad input. */
  @Override
  public long read(Path file, Consumer<Telemetry> sink, ReadListener listener) {
    String source = file.toString();
    return RecordingFiles.read(file, listener, SourcePosition.line(source, 1),
        in -> read(in, source, sink, listener));
  }

  /**
   * Reads OTLP/JSON text (UTF-8); {@code source} names it in problem reports. A read error is
   * reported at the line it cut off and ends the input; what was read before it is kept. Does not
   * close {@code in}.
   */
  public long read(InputStream in, String source, Consumer<Telemetry> sink, ReadListener listener) {
    LineReader lines = new LineReader(in, maxLineBytes);
    UnreadableRuns problems = new UnreadableRuns(listener);
    Parse parse = new Parse(source, sink, problems, true);
    try {
      read(lines, parse);
    } catch (IOException e) {
      parse.problem(lines.number(), RecordingFiles.cutOff(e));
    }
    parse.drain();
    problems.flush();
    return parse.total();
  }

  private static void read(LineReader in, Parse parse) throws IOException {
    boolean lineMode = false;
    while (in.next()) {
      long lineNumber = in.number();
      if (lineMode && in.plainUtf8()) {
        if (!RecordingFiles.isBlank(in.bytes(), in.offset(), in.length())) {
          parse.line(in.bytes(), in.offset(), in.length(), lineNumber);
        }
        continue;
      }
      String line = in.text();
      if (line == null) {
        parse.problem(lineNumber, in.problem());
        continue;
      }
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
      boolean ended = false;
      long unreadable = 0;
      IOException cut = null;
      while (!closed && chars <= MAX_DOCUMENT_CHARS) {
        try {
          if (!in.next()) {
            ended = true;
            break;
          }
        } catch (IOException e) {
          cut = e;
          break;
        }
        lineNumber = in.number();
        line = in.text();
        if (line == null) {
          parse.problem(lineNumber, in.problem());
          if (unreadable == 0) {
            unreadable = lineNumber;
          }
          line = "";
        }
        lines.add(line);
        chars += line.length() + 1;
        closed = depth.closedAfter(line);
      }
      if (closed && unreadable > 0) {
        parse.problem(start, REASON_PREFIX + "the JSON document that starts here has line " + unreadable
            + ", which could not be read; the document is skipped");
      } else if (closed) {
        parse.record(String.join("\n", lines), start);
      } else if (containsRecordLine(lines)) {
        lineMode = true;
        for (int i = 0; i < lines.size(); i++) {
          if (!RecordingFiles.isBlank(lines.get(i))) {
            parse.record(lines.get(i), start + i);
          }
        }
      } else if (cut != null) {
        throw new DocumentCut(start, cut);
      } else if (ended) {
        parse.problem(start, REASON_PREFIX
            + "the JSON document that starts here does not end; the file ends at line " + lineNumber);
      } else {
        parse.problem(start, REASON_PREFIX + "the JSON document that starts here is longer than "
            + MAX_DOCUMENT_CHARS + " characters; the rest of the file is skipped");
        return;
      }
      if (cut != null) {
        throw cut;
      }
    }
  }

  /** A read error inside a pretty-printed document: the message also names where the document started. */
  private static final class DocumentCut extends IOException {
    DocumentCut(long start, IOException cause) {
      super(RecordingFiles.describe(cause) + "; the JSON document that starts at line " + start
          + " is incomplete", cause);
    }
  }

  /**
   * Decodes requests and reports problems. In a {@link ReadingPool}, lines of plain UTF-8 are
   * decoded by whichever worker takes them ({@link LineChunks}); everything else — a problem, a
   * line read as text — first waits for the chunks before it, so problems come in the file's order.
   */
  private static final class Parse {
    final String source;
    final Consumer<Telemetry> sink;
    final ReadListener listener;
    final OtlpJsonDecoder decoder = new OtlpJsonDecoder();
    final Consumer<Span> spans;
    final Consumer<OtlpSpans.InvalidId> invalidIds;
    final Consumer<OtlpJsonDecoder.SkippedSpan> skippedSpans;
    final LineChunks chunks;
    long emitted;
    /** The line the request being decoded starts at. */
    long line;
    /** The request being decoded: its text, or its UTF-8 bytes from {@link #utf8Offset}. */
    private String text;
    private byte[] utf8;
    private int utf8Offset;
    /** The latest end of a span read from the request being decoded. */
    private long lastSpanEnd = ReadProblem.NO_TIME;

    Parse(String source, Consumer<Telemetry> sink, ReadListener listener, boolean chunked) {
      this.source = source;
      this.sink = sink;
      this.listener = listener;
      this.spans = span -> {
        String implausible = OtlpSpans.implausibleStart(span);
        if (implausible != null) {
          problem(line, implausible, implausible);
          return;
        }
        if (span.endEpochNanos() < span.startEpochNanos()) {
          problem(line, OtlpSpans.endsBeforeItStarts(span));
          span = OtlpSpans.endingNoEarlierThanItStarts(span);
        }
        lastSpanEnd = Math.max(lastSpanEnd, span.endEpochNanos());
        sink.accept(Telemetry.of(span));
      };
      this.invalidIds = invalid -> problem(line, invalid.describe());
      this.skippedSpans = skipped -> problem(line, skipped.describe(line) + "; the request's other spans are read",
          spanText(skipped));
      this.chunks = !chunked ? null : LineChunks.inReadingPool(problems -> {
        Parse chunk = new Parse(source, sink, problems, false);
        return (utf8, offset, length, lineNumber) -> {
          long before = chunk.emitted;
          chunk.record(utf8, offset, length, lineNumber);
          return chunk.emitted - before;
        };
      }, listener);
    }

    /** A line of plain UTF-8 (not blank): decoded now, or by a worker of the reading pool. */
    void line(byte[] utf8, int offset, int length, long lineNumber) {
      if (chunks == null) {
        record(utf8, offset, length, lineNumber);
      } else {
        chunks.add(utf8, offset, length, lineNumber);
      }
    }

    /** Waits for every line handed out, reporting their problems. */
    void drain() {
      if (chunks != null) {
        chunks.drain();
      }
    }

    /** Spans decoded here and by the chunks reported so far. */
    long total() {
      return emitted + (chunks == null ? 0 : chunks.emitted());
    }

    void record(String json, long lineNumber) {
      drain();
      line = lineNumber;
      text = json;
      utf8 = null;
      lastSpanEnd = ReadProblem.NO_TIME;
      try {
        long read = decoder.decode(json, spans, invalidIds, skippedSpans);
        emitted += read;
        if (read == 0) {
          notTraces(json, lineNumber);
        }
      } catch (OtlpJsonDecoder.MalformedRequestException e) {
        if (e.spansKept() > 0) {
          cutShort(e, lineNumber, json.substring((int) Math.min(e.lostFrom(), json.length())));
        } else {
          problem(lineNumber, REASON_PREFIX + cut(e.describe(lineNumber)), json);
        }
      } catch (RuntimeException e) {
        // not expected: reported like a malformed line rather than ending the file
        problem(lineNumber, REASON_PREFIX + reason(e), json);
      }
    }

    /**
     * {@link #record(String, long)} for a line of UTF-8 bytes, parsed as bytes; a line the decoder
     * refuses is decoded again as a String, so that the problem reads (wording, column) as it does
     * for any other line.
     */
    void record(byte[] utf8, int offset, int length, long lineNumber) {
      line = lineNumber;
      this.text = null;
      this.utf8 = utf8;
      this.utf8Offset = offset;
      this.lastSpanEnd = ReadProblem.NO_TIME;
      try {
        long read = decoder.decode(utf8, offset, length, spans, invalidIds, skippedSpans);
        emitted += read;
        if (read == 0) {
          notTraces(new String(utf8, offset, length, StandardCharsets.UTF_8), lineNumber);
        }
        return;
      } catch (OtlpJsonDecoder.MalformedRequestException e) {
        if (e.spansKept() > 0) { // handed over already: not decoded again
          int lost = (int) Math.min(e.lostFrom(), length);
          cutShort(e, lineNumber, new String(utf8, offset + lost, length - lost, StandardCharsets.UTF_8));
          return;
        }
      } catch (RuntimeException e) {
        // below
      }
      record(new String(utf8, offset, length, StandardCharsets.UTF_8), lineNumber);
    }

    /**
     * Reports a request without spans that has fields but no {@code resourceSpans}: decoded as the
     * reference decodes it, an empty request, but written by something else (OTLP metrics or logs,
     * another JSON format), so that a recording of the wrong thing is not read as no traffic.
     */
    private void notTraces(String json, long lineNumber) {
      List<String> fields = OtlpJsonDecoder.fieldNames(json);
      if (fields.isEmpty() || fields.contains("resourceSpans") || fields.contains("resource_spans")) {
        return;
      }
      String kind = fields.contains("resourceMetrics") || fields.contains("resource_metrics") ? " (OTLP metrics, not traces)"
          : fields.contains("resourceLogs") || fields.contains("resource_logs") ? " (OTLP logs, not traces)" : "";
      problem(lineNumber, REASON_PREFIX + "it has no resourceSpans, only " + fields.stream().limit(5)
          .map(f -> "'" + cut(f) + "'").collect(Collectors.joining(", ")) + (fields.size() > 5 ? ", ..." : "")
          + kind + "; nothing is read from it");
    }

    /**
     * A request whose text stopped being JSON part way, after the salvaging decoder had handed over
     * the spans read whole before that; {@code lost} is the text from the first span cut short.
     */
    private void cutShort(OtlpJsonDecoder.MalformedRequestException e, long lineNumber, String lost) {
      emitted += e.spansKept();
      drain();
      ReadProblem p = ReadProblem.naming(SourcePosition.line(source, lineNumber), "the request is cut short: "
          + cut(e.describe(lineNumber)) + "; the " + e.spansKept()
          + (e.spansKept() == 1 ? " span before that is read" : " spans before that are read")
          + ", the rest of the request is lost", lost);
      listener.problem(lastSpanEnd == ReadProblem.NO_TIME ? p : p.losingSpansAfter(lastSpanEnd));
    }

    /** The text of a span the decoder passed over, for the names it holds (its trace id, its key values). */
    private String spanText(OtlpJsonDecoder.SkippedSpan skipped) {
      int from = (int) Math.max(0, skipped.startOffset());
      int to = (int) Math.max(from, skipped.endOffset());
      if (text != null) {
        return text.substring(Math.min(from, text.length()), Math.min(to, text.length()));
      }
      int start = Math.min(utf8Offset + from, utf8.length);
      return new String(utf8, start, Math.min(utf8Offset + to, utf8.length) - start, StandardCharsets.UTF_8);
    }

    void problem(long lineNumber, String reason) {
      drain();
      listener.problem(new ReadProblem(SourcePosition.line(source, lineNumber), reason));
    }

    /** A problem with the text it was found in, for the names that text holds ({@link ReadProblem#naming}). */
    void problem(long lineNumber, String reason, String text) {
      drain();
      listener.problem(ReadProblem.naming(SourcePosition.line(source, lineNumber), reason, text));
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
    return cut(message.replaceFirst("^(?:[a-z][\\w$]*\\.)+[A-Z][\\w$]*: ", "").strip());
  }

  private static String cut(String reason) {
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
