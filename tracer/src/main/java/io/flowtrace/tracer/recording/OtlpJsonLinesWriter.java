package io.flowtrace.tracer.recording;

import static java.util.Objects.requireNonNull;

import io.flowtrace.tracer.otlp.OtlpJson;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.Flushable;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes {@code *.otlp.jsonl}: one OTLP/JSON {@code ExportTraceServiceRequest} per line, as the
 * OpenTelemetry Collector's file exporter does (hex ids, enums as integers, 64-bit integers as
 * strings). For use by one thread at a time.
 */
public final class OtlpJsonLinesWriter implements Closeable, Flushable {

  private final Writer out;
  private boolean closed;

  /** Writes to {@code out}, which {@link #close()} closes. */
  public OtlpJsonLinesWriter(Writer out) {
    this.out = requireNonNull(out, "out");
  }

  /** Creates (or truncates) the file. */
  public static OtlpJsonLinesWriter open(Path file) throws IOException {
    return new OtlpJsonLinesWriter(new BufferedWriter(
        new OutputStreamWriter(Files.newOutputStream(file), StandardCharsets.UTF_8), 1 << 16));
  }

  /** Writes the request as one line. */
  public void write(ExportTraceServiceRequest request) throws IOException {
    requireNonNull(request, "request");
    ensureOpen();
    OtlpJson.appendTo(request, out);
    out.write('\n');
  }

  @Override
  public void flush() throws IOException {
    ensureOpen();
    out.flush();
  }

  @Override
  public void close() throws IOException {
    if (!closed) {
      closed = true;
      out.close();
    }
  }

  private void ensureOpen() throws IOException {
    if (closed) {
      throw new IOException("writer is closed");
    }
  }
}
