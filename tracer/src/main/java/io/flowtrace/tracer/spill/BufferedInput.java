package io.flowtrace.tracer.spill;

import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;

/**
 * A buffered input stream for one thread. {@link java.io.DataInputStream} reads an int as four
 * single-byte reads, and {@link java.io.BufferedInputStream} takes a lock for each; reading spilled
 * runs back spent a fifth of its time in those locks.
 */
final class BufferedInput extends InputStream {
  private final InputStream in;
  private final byte[] buffer;
  private int position;
  private int limit;

  BufferedInput(InputStream in, int size) {
    this.in = Objects.requireNonNull(in, "in");
    this.buffer = new byte[size];
  }

  @Override
  public int read() throws IOException {
    if (position == limit && !fill()) {
      return -1;
    }
    return buffer[position++] & 0xFF;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (len == 0) {
      return 0;
    }
    if (position == limit) {
      if (len >= buffer.length) {
        return in.read(b, off, len);
      }
      if (!fill()) {
        return -1;
      }
    }
    int n = Math.min(len, limit - position);
    System.arraycopy(buffer, position, b, off, n);
    position += n;
    return n;
  }

  private boolean fill() throws IOException {
    int n = in.read(buffer, 0, buffer.length);
    position = 0;
    limit = Math.max(n, 0);
    return n > 0;
  }

  @Override
  public int available() throws IOException {
    return limit - position + in.available();
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
