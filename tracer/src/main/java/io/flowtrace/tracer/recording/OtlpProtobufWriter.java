package io.flowtrace.tracer.recording;

import static java.util.Objects.requireNonNull;

import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.Flushable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes {@code *.otlp.pb}: length-delimited {@code ExportTraceServiceRequest}s (a varint size,
 * then the message), which {@link OtlpProtobufReader} reads. For use by one thread at a time.
 */
public final class OtlpProtobufWriter implements Closeable, Flushable {

  private final OutputStream out;
  private boolean closed;

  /** Writes to {@code out}, which {@link #close()} closes. */
  public OtlpProtobufWriter(OutputStream out) {
    this.out = requireNonNull(out, "out");
  }

  /** Creates (or truncates) the file. */
  public static OtlpProtobufWriter open(Path file) throws IOException {
    return new OtlpProtobufWriter(new BufferedOutputStream(Files.newOutputStream(file), 1 << 16));
  }

  public void write(ExportTraceServiceRequest request) throws IOException {
    requireNonNull(request, "request");
    ensureOpen();
    request.writeDelimitedTo(out);
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
