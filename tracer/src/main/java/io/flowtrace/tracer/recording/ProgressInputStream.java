package io.flowtrace.tracer.recording;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/** Counts the bytes read and tells the listener every {@link #STEP} bytes and once at close. */
final class ProgressInputStream extends FilterInputStream {
  static final long STEP = 1L << 20;

  private final String source;
  private final ReadListener listener;
  private long count;
  private long next = STEP;
  private boolean closed;

  ProgressInputStream(InputStream in, String source, ReadListener listener) {
    super(in);
    this.source = source;
    this.listener = listener;
  }

  @Override
  public int read() throws IOException {
    int b = in.read();
    if (b >= 0) {
      advance(1);
    }
    return b;
  }

  @Override
  public int read(byte[] buffer, int offset, int length) throws IOException {
    int n = in.read(buffer, offset, length);
    if (n > 0) {
      advance(n);
    }
    return n;
  }

  @Override
  public long skip(long n) throws IOException {
    long skipped = in.skip(n);
    advance(skipped);
    return skipped;
  }

  @Override
  public boolean markSupported() {
    return false;
  }

  @Override
  public void close() throws IOException {
    if (!closed) {
      closed = true;
      in.close();
      listener.progress(source, count);
    }
  }

  private void advance(long n) {
    count += n;
    if (count >= next) {
      next = (count / STEP + 1) * STEP;
      listener.progress(source, count);
    }
  }
}
