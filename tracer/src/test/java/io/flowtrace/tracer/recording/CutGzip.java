package io.flowtrace.tracer.recording;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/** A real gzip with its end cut off, as a copy interrupted by a full disk leaves it. */
final class CutGzip {
  private CutGzip() {}

  static byte[] gzip(byte[] bytes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
      gzip.write(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** The gzip of {@code bytes} without its last {@code cut} bytes ({@code head -c -cut}). */
  static byte[] cut(byte[] bytes, int cut) {
    byte[] gzip = gzip(bytes);
    return Arrays.copyOf(gzip, gzip.length - cut);
  }

  /** What gunzip delivers of a cut gzip before it fails with "Unexpected end of ZLIB input stream". */
  static byte[] readable(byte[] cutGzip) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buffer = new byte[1 << 16];
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(cutGzip))) {
      for (int n; (n = in.read(buffer)) >= 0; ) {
        out.write(buffer, 0, n);
      }
    } catch (EOFException e) {
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    throw new AssertionError("the gzip is not cut off");
  }

  /** How many whole lines (ending in \n) the bytes hold. */
  static int wholeLines(byte[] bytes) {
    int lines = 0;
    for (byte b : bytes) {
      if (b == '\n') {
        lines++;
      }
    }
    return lines;
  }
}
