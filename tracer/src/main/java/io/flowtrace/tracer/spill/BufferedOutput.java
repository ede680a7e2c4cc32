package io.flowtrace.tracer.spill;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Objects;

/**
 * A buffered output stream for one thread: {@link java.io.DataOutputStream} writes an int as four
 * single bytes, and {@link java.io.BufferedOutputStream} takes a lock for each.
 */
final class BufferedOutput extends OutputStream {
  private final OutputStream out;
  private final byte[] buffer;
  private int position;

  BufferedOutput(OutputStream out, int size) {
    this.out = Objects.requireNonNull(out, "out");
    this.buffer = new byte[size];
  }

  @Override
  public void write(int b) throws IOException {
    if (position == buffer.length) {
      drain();
    }
    buffer[position++] = (byte) b;
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (len >= buffer.length) {
      drain();
      out.write(b, off, len);
      return;
    }
    if (len > buffer.length - position) {
      drain();
    }
    System.arraycopy(b, off, buffer, position, len);
    position += len;
  }

  private void drain() throws IOException {
    if (position > 0) {
      out.write(buffer, 0, position);
      position = 0;
    }
  }

  @Override
  public void flush() throws IOException {
    drain();
    out.flush();
  }

  @Override
  public void close() throws IOException {
    try (OutputStream o = out) {
      flush();
    }
  }
}
