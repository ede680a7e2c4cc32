package io.flowtrace.tracer.recording;

import static java.util.Objects.requireNonNull;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.otlp.OtlpEncoder;
import io.flowtrace.tracer.receiver.TelemetrySink;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.Flushable;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes live telemetry into a recording directory that {@code replay} reads: spans as OTLP/JSON
 * lines in {@code spans-NNNN.otlp.jsonl} (one {@code ExportTraceServiceRequest} per line, a line
 * every {@link Builder#spansPerLine} spans or every {@link Builder#flushInterval}, whichever comes
 * first), Kafka records as kcat lines in {@code messages-NNNN.kcat.jsonl}. A file is closed and the
 * next number started once it has reached {@link Builder#maxFileBytes}. Numbers continue after
 * files already in the directory; files are created when their first line is written.
 *
 * <p>Thread-safe: {@link #accept} may be called from the receivers' queue and the Kafka tap at
 * once. It never throws into them: a write that fails is counted ({@link #failed()}), logged once,
 * and the writer goes on. {@link #close()} writes everything accepted and is idempotent.
 */
public final class RecordingWriter implements TelemetrySink, Closeable, Flushable {

  /** Spans per OTLP line: 512. */
  public static final int DEFAULT_SPANS_PER_LINE = 512;
  /** Longest time an accepted span waits for its line, and data for a flush to disk: 1 s. */
  public static final Duration DEFAULT_FLUSH_INTERVAL = Duration.ofSeconds(1);
  /** Size at which a file is rolled: 64 MiB. */
  public static final long DEFAULT_MAX_FILE_BYTES = 64L * 1024 * 1024;

  static final String SPANS_PREFIX = "spans-";
  static final String SPANS_SUFFIX = ".otlp.jsonl";
  static final String MESSAGES_PREFIX = "messages-";
  static final String MESSAGES_SUFFIX = ".kcat.jsonl";

  private static final Logger LOG = LoggerFactory.getLogger(RecordingWriter.class);

  private final Path dir;
  private final int spansPerLine;
  private final long maxFileBytes;
  private final ScheduledExecutorService flusher;

  // guarded by this
  private final List<Span> pendingSpans = new ArrayList<>();
  private OtlpJsonLinesWriter spanWriter;
  private CountingWriter spanBytes;
  private int spanFileNumber;
  private KcatJsonLinesWriter messageWriter;
  private CountingWriter messageBytes;
  private int messageFileNumber;
  private final List<Path> files = new ArrayList<>();
  private boolean closed;
  private boolean failureLogged;

  private final AtomicLong spansAccepted = new AtomicLong();
  private final AtomicLong recordsAccepted = new AtomicLong();
  private final AtomicLong spansWritten = new AtomicLong();
  private final AtomicLong recordsWritten = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();

  private RecordingWriter(Builder b) throws IOException {
    this.dir = b.dir;
    this.spansPerLine = b.spansPerLine;
    this.maxFileBytes = b.maxFileBytes;
    io.flowtrace.tracer.files.OutputFile.writableDirectory(dir); // unwritable: said now, with why, not at the first write
    this.spanFileNumber = lastNumber(dir, SPANS_PREFIX, SPANS_SUFFIX);
    this.messageFileNumber = lastNumber(dir, MESSAGES_PREFIX, MESSAGES_SUFFIX);
    this.flusher = Executors.newSingleThreadScheduledExecutor(task -> {
      Thread t = new Thread(task, "flowtrace-recording-flush");
      t.setDaemon(true);
      return t;
    });
    long interval = b.flushInterval.toMillis();
    flusher.scheduleWithFixedDelay(this::timedFlush, interval, interval, TimeUnit.MILLISECONDS);
  }

  /** A builder writing into {@code dir} (created if missing). */
  public static Builder builder(Path dir) {
    return new Builder(dir);
  }

  /**
   * A writer into {@code dir} with the defaults.
   *
   * @throws io.flowtrace.tracer.files.CannotWriteException when {@code dir} cannot be made or written, naming it and why
   */
  public static RecordingWriter open(Path dir) throws IOException {
    return builder(dir).build();
  }

  /** Takes a span or a record; never throws for a failed write (see the class comment). */
  @Override
  public synchronized void accept(Telemetry telemetry) {
    requireNonNull(telemetry, "telemetry");
    if (closed) {
      failed.incrementAndGet();
      logFailureOnce("telemetry arrived after close; dropped", null);
      return;
    }
    if (telemetry instanceof Telemetry.SpanEvent e) {
      spansAccepted.incrementAndGet();
      pendingSpans.add(e.span());
      if (pendingSpans.size() >= spansPerLine) {
        writePendingSpans();
      }
    } else if (telemetry instanceof Telemetry.RecordEvent e) {
      recordsAccepted.incrementAndGet();
      writeRecord(e.record());
    }
  }

  @Override
  public synchronized void acceptAll(List<? extends Telemetry> batch) {
    for (Telemetry telemetry : batch) {
      accept(telemetry);
    }
  }

  /** Writes pending spans as a line and flushes both files to the operating system. */
  @Override
  public synchronized void flush() throws IOException {
    if (closed) {
      return;
    }
    writePendingSpans();
    if (spanWriter != null) {
      spanWriter.flush();
    }
    if (messageWriter != null) {
      messageWriter.flush();
    }
  }

  /** Writes everything accepted, closes the files and stops the flush timer. Idempotent. */
  @Override
  public void close() throws IOException {
    flusher.shutdown(); // no interrupt: it could close a file channel mid-write
    synchronized (this) {
      if (closed) {
        return;
      }
      writePendingSpans();
      closed = true;
      IOException failure = null;
      try {
        closeSpanFile();
      } catch (IOException e) {
        failure = e;
      }
      try {
        closeMessageFile();
      } catch (IOException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
      if (failure != null) {
        throw failure;
      }
    }
  }

  /** The directory written to. */
  public Path directory() {
    return dir;
  }

  /** The files created so far, in creation order. */
  public synchronized List<Path> files() {
    return List.copyOf(files);
  }

  /** Spans taken by {@link #accept}. */
  public long spansAccepted() {
    return spansAccepted.get();
  }

  /** Kafka records taken by {@link #accept}. */
  public long recordsAccepted() {
    return recordsAccepted.get();
  }

  /** Spans written into a line (buffered or on disk). */
  public long spansWritten() {
    return spansWritten.get();
  }

  /** Kafka records written into a line (buffered or on disk). */
  public long recordsWritten() {
    return recordsWritten.get();
  }

  /** Spans and records that could not be written (I/O failure, or arrived after close). */
  public long failed() {
    return failed.get();
  }

  @Override
  public String toString() {
    return "RecordingWriter{" + dir + ", spans=" + spansWritten + "/" + spansAccepted + ", records="
        + recordsWritten + "/" + recordsAccepted + ", failed=" + failed + "}";
  }

  // ---------------------------------------------------------------------------------------------

  private void timedFlush() {
    try {
      flush();
    } catch (IOException | RuntimeException e) {
      logFailureOnce("periodic flush failed", e);
    }
  }

  private void writePendingSpans() {
    if (pendingSpans.isEmpty()) {
      return;
    }
    int n = pendingSpans.size();
    try {
      if (spanWriter == null) {
        Path file = dir.resolve(name(SPANS_PREFIX, ++spanFileNumber, SPANS_SUFFIX));
        spanBytes = openFile(file);
        spanWriter = new OtlpJsonLinesWriter(spanBytes);
      }
      spanWriter.write(OtlpEncoder.request(pendingSpans));
      spansWritten.addAndGet(n);
      if (spanBytes.bytes() >= maxFileBytes) {
        closeSpanFile();
      }
    } catch (IOException | RuntimeException e) {
      failed.addAndGet(n);
      logFailureOnce("cannot write " + n + " spans", e);
    } finally {
      pendingSpans.clear();
    }
  }

  private void writeRecord(KafkaRecord record) {
    try {
      if (messageWriter == null) {
        Path file = dir.resolve(name(MESSAGES_PREFIX, ++messageFileNumber, MESSAGES_SUFFIX));
        messageBytes = openFile(file);
        messageWriter = new KcatJsonLinesWriter(messageBytes);
      }
      messageWriter.write(record);
      recordsWritten.incrementAndGet();
      if (messageBytes.bytes() >= maxFileBytes) {
        closeMessageFile();
      }
    } catch (IOException | RuntimeException e) {
      failed.incrementAndGet();
      logFailureOnce("cannot write " + record.coordinates(), e);
    }
  }

  private void closeSpanFile() throws IOException {
    OtlpJsonLinesWriter w = spanWriter;
    spanWriter = null;
    spanBytes = null;
    if (w != null) {
      w.close();
    }
  }

  private void closeMessageFile() throws IOException {
    KcatJsonLinesWriter w = messageWriter;
    messageWriter = null;
    messageBytes = null;
    if (w != null) {
      w.close();
    }
  }

  private CountingWriter openFile(Path file) throws IOException {
    CountingWriter out = new CountingWriter(new BufferedWriter(new OutputStreamWriter(
        Files.newOutputStream(file), StandardCharsets.UTF_8), 1 << 16));
    files.add(file);
    return out;
  }

  private void logFailureOnce(String what, Exception e) {
    if (!failureLogged) {
      failureLogged = true;
      LOG.warn("Recording into {}: {}; going on (further failures are counted, not logged)", dir, what, e);
    }
  }

  static String name(String prefix, int number, String suffix) {
    return prefix + String.format("%04d", number) + suffix;
  }

  /** The highest number of an existing {@code prefixNNNNsuffix} file in {@code dir}, or 0. */
  private static int lastNumber(Path dir, String prefix, String suffix) throws IOException {
    int last = 0;
    try (Stream<Path> list = Files.list(dir)) {
      for (Path p : (Iterable<Path>) list::iterator) {
        String name = p.getFileName().toString();
        if (name.startsWith(prefix) && name.endsWith(suffix)) {
          try {
            last = Math.max(last, Integer.parseInt(name.substring(prefix.length(), name.length() - suffix.length())));
          } catch (NumberFormatException ignored) {
            // someone else's file; not ours to number after
          }
        }
      }
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    return last;
  }

  /** Counts the UTF-8 bytes of what passes through. */
  private static final class CountingWriter extends Writer {
    private final Writer out;
    private long bytes;

    CountingWriter(Writer out) {
      this.out = out;
    }

    long bytes() {
      return bytes;
    }

    @Override
    public void write(int c) throws IOException {
      out.write(c);
      bytes += utf8Length((char) c);
    }

    @Override
    public void write(char[] buf, int off, int len) throws IOException {
      out.write(buf, off, len);
      for (int i = off; i < off + len; i++) {
        bytes += utf8Length(buf[i]);
      }
    }

    @Override
    public void write(String s, int off, int len) throws IOException {
      out.write(s, off, len);
      for (int i = off; i < off + len; i++) {
        bytes += utf8Length(s.charAt(i));
      }
    }

    /** Bytes of one UTF-16 unit in UTF-8 (a surrogate pair's 4 bytes split 2 + 2). */
    private static int utf8Length(char c) {
      return c < 0x80 ? 1 : c < 0x800 || Character.isSurrogate(c) ? 2 : 3;
    }

    @Override
    public void flush() throws IOException {
      out.flush();
    }

    @Override
    public void close() throws IOException {
      out.close();
    }
  }

  /** Builds a {@link RecordingWriter}. */
  public static final class Builder {
    private final Path dir;
    private int spansPerLine = DEFAULT_SPANS_PER_LINE;
    private Duration flushInterval = DEFAULT_FLUSH_INTERVAL;
    private long maxFileBytes = DEFAULT_MAX_FILE_BYTES;

    private Builder(Path dir) {
      this.dir = requireNonNull(dir, "dir");
    }

    /** Spans per OTLP line. Defaults to 512. */
    public Builder spansPerLine(int spansPerLine) {
      if (spansPerLine < 1) {
        throw new IllegalArgumentException("spansPerLine must be >= 1, was " + spansPerLine);
      }
      this.spansPerLine = spansPerLine;
      return this;
    }

    /** How often pending spans are written and files flushed. Defaults to 1 s. */
    public Builder flushInterval(Duration flushInterval) {
      requireNonNull(flushInterval, "flushInterval");
      if (flushInterval.toMillis() < 1) {
        throw new IllegalArgumentException("flushInterval must be at least 1 ms, was " + flushInterval);
      }
      this.flushInterval = flushInterval;
      return this;
    }

    /** Size at which a file is closed and the next begun. Defaults to 64 MiB. */
    public Builder maxFileBytes(long maxFileBytes) {
      if (maxFileBytes < 1) {
        throw new IllegalArgumentException("maxFileBytes must be >= 1, was " + maxFileBytes);
      }
      this.maxFileBytes = maxFileBytes;
      return this;
    }

    /** Creates the directory if needed and starts the flush timer. */
    public RecordingWriter build() throws IOException {
      return new RecordingWriter(this);
    }
  }
}
