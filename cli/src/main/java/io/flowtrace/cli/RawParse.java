package io.flowtrace.cli;

import io.flowtrace.tracer.recording.LineChunks;
import io.flowtrace.tracer.recording.OtlpProtobufReader;
import io.flowtrace.tracer.recording.ReadListener;
import io.flowtrace.tracer.recording.ReadingPool;
import io.flowtrace.tracer.recording.RecordingReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.LongAdder;
import java.util.zip.GZIPInputStream;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.exc.UnexpectedEndOfInputException;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.core.json.JsonReadFeature;

/**
 * The yardstick replay is held to ("replay ≤ 1.5× a raw Jackson parse of the same files"): the
 * time to read every file of a recording and run Jackson's streaming parser over it, building
 * nothing. Each line of a JSON file (OTLP/JSON, kcat; a gzipped one is inflated) is parsed token by
 * token, every string value decoded, and a string value that itself holds JSON (its first non-blank
 * character is <code>{</code> or <code>[</code>, as the payloads records and span attributes embed)
 * is parsed too. A file whose first line opens a document that goes on over later lines
 * (pretty-printed OTLP/JSON) is parsed whole. Protobuf files are read fully as bytes, unparsed.
 * Files are read as replay reads them: in a {@link ReadingPool}, largest first, each file split
 * into lines by one thread and its lines parsed by any idle one ({@link LineChunks}), so a recording
 * of one large file is parsed on every core. A line that is not JSON, or a file that cannot be
 * read, is counted and skipped.
 */
final class RawParse {

  private static final JsonFactory FACTORY = JsonFactory.builder()
      .enable(JsonReadFeature.ALLOW_UNESCAPED_CONTROL_CHARS)
      .build();

  private RawParse() {}

  /**
   * What a raw parse read: files, bytes (after inflating), lines of the JSON files, the JSON values
   * found inside string values, and the lines (or files) that could not be parsed.
   */
  record Counts(int files, long bytes, long lines, long embedded, long unparsed) {
    static final Counts NONE = new Counts(0, 0, 0, 0, 0);

    Counts plus(Counts other) {
      return new Counts(files + other.files, bytes + other.bytes, lines + other.lines,
          embedded + other.embedded, unparsed + other.unparsed);
    }
  }

  /** Parses the recording's files (as {@code reader} lists them) on up to {@code threads} threads. */
  static Counts parse(RecordingReader reader, List<Path> files, int threads) throws IOException {
    List<Path> ordered = new ArrayList<>(files);
    ordered.sort(Comparator.comparingLong((Path p) -> p.toFile().length()).reversed());
    ReadingPool pool = new ReadingPool(Math.max(1, threads));
    try {
      List<Future<Counts>> parts = new ArrayList<>();
      for (Path file : ordered) {
        parts.add(pool.submit(() -> file(reader, file)));
      }
      Counts sum = Counts.NONE;
      for (Future<Counts> part : parts) {
        sum = sum.plus(part.get());
      }
      return sum;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("raw parse interrupted");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }

  private static Counts file(RecordingReader reader, Path file) {
    try {
      if (reader.readerFor(file).orElse(null) instanceof OtlpProtobufReader) {
        try (InputStream in = open(file)) {
          return new Counts(1, in.transferTo(OutputStream.nullOutputStream()), 0, 0, 0);
        }
      }
      Counts counts;
      try (InputStream in = open(file)) {
        counts = lines(in, true);
      }
      if (counts == null) {
        try (InputStream in = open(file)) {
          counts = document(in.readAllBytes());
        }
      }
      if (counts == null) {
        try (InputStream in = open(file)) {
          counts = lines(in, false);
        }
      }
      return counts;
    } catch (IOException e) {
      return new Counts(1, 0, 0, 0, 1);
    }
  }

  private static InputStream open(Path file) throws IOException {
    InputStream in = Files.newInputStream(file);
    return file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gz") ? new GZIPInputStream(in, 1 << 16) : in;
  }

  /**
   * Parses each line as JSON. Returns null when {@code documents} is set and the first line that
   * is not blank opens a JSON value that it does not close.
   */
  private static Counts lines(InputStream in, boolean documents) throws IOException {
    Lines lines = new Lines(in);
    long[] embedded = new long[1];
    long count = 0;
    long unparsed = 0;
    boolean first = true;
    LongAdder embeddedByChunks = new LongAdder();
    LongAdder unparsedByChunks = new LongAdder();
    LineChunks chunks = LineChunks.inReadingPool(problems -> (utf8, offset, length, lineNumber) -> {
      long[] found = new long[1];
      try (JsonParser p = FACTORY.createParser(ObjectReadContext.empty(), utf8, offset, length)) {
        walk(p, found);
      } catch (JacksonException e) {
        unparsedByChunks.increment();
      }
      embeddedByChunks.add(found[0]);
      return 0;
    }, ReadListener.ignoring());
    while (lines.next()) {
      count++;
      if (!first && chunks != null) {
        chunks.add(lines.buffer, lines.start, lines.length, count);
        continue;
      }
      try (JsonParser p = FACTORY.createParser(ObjectReadContext.empty(), lines.buffer, lines.start, lines.length)) {
        if (walk(p, embedded)) {
          first = false;
        }
      } catch (UnexpectedEndOfInputException e) {
        if (first && documents) {
          return null;
        }
        first = false;
        unparsed++;
      } catch (JacksonException e) {
        first = false;
        unparsed++;
      }
    }
    if (chunks != null) {
      chunks.drain();
    }
    return new Counts(1, lines.bytes, count, embedded[0] + embeddedByChunks.sum(), unparsed + unparsedByChunks.sum());
  }

  /** Parses the whole text as a sequence of JSON values; null when it is not one. */
  private static Counts document(byte[] text) {
    long[] embedded = new long[1];
    try (JsonParser p = FACTORY.createParser(ObjectReadContext.empty(), text)) {
      walk(p, embedded);
    } catch (JacksonException e) {
      return null;
    }
    long newlines = 0;
    for (byte b : text) {
      if (b == '\n') {
        newlines++;
      }
    }
    long lines = text.length == 0 || text[text.length - 1] == '\n' ? newlines : newlines + 1;
    return new Counts(1, text.length, lines, embedded[0], 0);
  }

  /**
   * Reads every token to the end of the input, parsing the JSON that string values hold; adds
   * those to {@code embedded[0]}. Returns whether there was any token.
   */
  private static boolean walk(JsonParser p, long[] embedded) {
    JsonToken token = p.nextToken();
    if (token == null) {
      return false;
    }
    for (; token != null; token = p.nextToken()) {
      if (token == JsonToken.VALUE_STRING && holdsJson(p)) {
        try (JsonParser inner = FACTORY.createParser(ObjectReadContext.empty(), p.getStringCharacters(),
            p.getStringOffset(), p.getStringLength())) {
          walk(inner, embedded);
          embedded[0]++;
        } catch (JacksonException e) {
          // text that merely starts like JSON
        }
      }
    }
    return true;
  }

  private static boolean holdsJson(JsonParser p) {
    char[] chars = p.getStringCharacters();
    for (int i = p.getStringOffset(), end = i + p.getStringLength(); i < end; i++) {
      char c = chars[i];
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
        return c == '{' || c == '[';
      }
    }
    return false;
  }

  /** Splits a byte stream at {@code \n} into ranges of one buffer, without decoding them. */
  private static final class Lines {
    private final InputStream in;
    byte[] buffer = new byte[1 << 16];
    int start;
    int length;
    long bytes;
    private int pos;
    private int limit;
    private boolean eof;

    Lines(InputStream in) {
      this.in = in;
    }

    boolean next() throws IOException {
      int scan = pos;
      while (true) {
        for (int i = scan; i < limit; i++) {
          if (buffer[i] == '\n') {
            start = pos;
            length = i - pos;
            pos = i + 1;
            return true;
          }
        }
        if (eof) {
          if (pos == limit) {
            return false;
          }
          start = pos;
          length = limit - pos;
          pos = limit;
          return true;
        }
        int kept = limit - pos;
        if (pos > 0) {
          System.arraycopy(buffer, pos, buffer, 0, kept);
        } else if (kept == buffer.length) {
          buffer = Arrays.copyOf(buffer, 2 * buffer.length);
        }
        pos = 0;
        limit = kept;
        scan = kept;
        int n = in.read(buffer, limit, buffer.length - limit);
        if (n < 0) {
          eof = true;
        } else {
          limit += n;
          bytes += n;
        }
      }
    }
  }
}
