package io.flowtrace.tracer.recording;

import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Splits a byte stream into UTF-8 lines, as {@link java.io.BufferedReader#readLine} does ({@code
 * \n}, {@code \r\n} or {@code \r} end a line; the last line needs none), but with a limit: a line
 * longer than {@code maxLineBytes} is skipped up to its end without being held in memory, and a
 * line that is not UTF-8 is skipped rather than decoded with replacement characters. Either way
 * {@link #problem()} says why and the next line is read normally.
 *
 * <p>Lines are found by scanning a byte buffer, eight bytes at a time; a line that lies within
 * the buffer is read from it without a copy. Parsers read a line as bytes ({@link #bytes()},
 * {@link #offset()}, {@link #length()}) when {@link #plainUtf8()} says they can; a line of ASCII
 * only (the common case: JSON escapes what is not) is then not decoded into a {@link String} unless
 * {@link #text()} asks for it.
 */
final class LineReader {

  /** The longest line read: 64 MiB. A longer line is skipped and reported. */
  static final int MAX_LINE_BYTES = 64 << 20;

  private static final int BUFFER = 1 << 16;
  private static final char REPLACEMENT = '\uFFFD';

  private final InputStream in;
  private final int maxLineBytes;
  private final byte[] buffer = new byte[BUFFER];
  private int pos;
  private int limit;
  private boolean eof;
  /** The previous line ended with {@code \r}: a {@code \n} right after it belongs to that line end. */
  private boolean afterCr;
  /** A line that spans buffer fills is gathered here (up to the limit). */
  private byte[] line = new byte[1024];
  private long number;
  private String text;
  private String problem;
  /** The bytes of the line last read (a range of {@link #buffer} or {@link #line}). */
  private byte[] lineBytes;
  private int lineOffset;
  private int lineLength;
  private boolean ascii;
  /** A NUL byte was seen in the line being read. */
  private boolean nul;
  /** The bitwise or of every byte of the line being read: negative when one is not ASCII. */
  private int seen;
  private CharsetDecoder decoder;

  LineReader(InputStream in, int maxLineBytes) {
    if (maxLineBytes < 1) {
      throw new IllegalArgumentException("maxLineBytes must be positive: " + maxLineBytes);
    }
    this.in = in;
    this.maxLineBytes = maxLineBytes;
  }

  /**
   * Reads the next line: afterwards exactly one of {@link #text()} and {@link #problem()} is set.
   *
   * @return false at the end of the input
   * @throws IOException from the stream; {@link #number()} is then the line being read
   */
  boolean next() throws IOException {
    text = null;
    problem = null;
    lineBytes = null;
    ascii = false;
    nul = false;
    seen = 0;
    number++;
    if (afterCr) {
      if (pos == limit && !fill()) {
        number--;
        return false;
      }
      afterCr = false;
      if (buffer[pos] == '\n') {
        pos++;
      }
    }
    if (pos == limit && !fill()) {
      number--;
      return false;
    }
    long total = 0;
    while (true) {
      byte[] b = buffer;
      int start = pos;
      int end = limit;
      int i = start;
      long words = 0;
      boolean zero = false;
      while (i + 8 <= end) {
        long w = (long) LONGS.get(b, i);
        if (hasByte(w, 0x0A0A0A0A0A0A0A0AL) || hasByte(w, 0x0D0D0D0D0D0D0D0DL)) {
          break;
        }
        words |= w;
        zero |= hasByte(w, 0);
        i += 8;
      }
      int or = (words & 0x8080808080808080L) != 0 ? -1 : 0;
      while (i < end) {
        byte c = b[i];
        if (c == '\n' || c == '\r') {
          break;
        }
        or |= c;
        zero |= c == 0;
        i++;
      }
      nul |= zero;
      seen |= or;
      int n = i - start;
      if (i < end) {
        pos = i + 1;
        afterCr = b[i] == '\r';
        if (total == 0 && n <= maxLineBytes) {
          decode(b, start, n);
          return true;
        }
        total = gather(b, start, n, total);
        break;
      }
      total = gather(b, start, n, total);
      pos = end;
      if (!fill()) {
        break;
      }
    }
    if (total > maxLineBytes) {
      problem = "line longer than " + maxLineBytes + " bytes; skipped";
    } else {
      decode(line, 0, (int) total);
    }
    return true;
  }

  private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  /** Whether one of the 8 bytes of {@code word} is the byte repeated in {@code bytes} (exact: no false alarm). */
  private static boolean hasByte(long word, long bytes) {
    long x = word ^ bytes;
    return ((x - 0x0101010101010101L) & ~x & 0x8080808080808080L) != 0;
  }

  /** The number (1-based) of the line last read, or being read when {@link #next()} threw. */
  long number() {
    return number;
  }

  /** The line last read, without its line end; null when it was skipped. */
  String text() {
    if (text == null && ascii) {
      text = new String(lineBytes, lineOffset, lineLength, StandardCharsets.ISO_8859_1);
    }
    return text;
  }

  /**
   * Whether the line last read can go to a byte parser as it is: it was read (so it is UTF-8), has
   * no NUL byte (from which Jackson would take it for UTF-16 or UTF-32) and does not start with a
   * byte order mark (which Jackson would skip where a String parser refuses it).
   */
  boolean plainUtf8() {
    return lineBytes != null && !nul && !(lineLength >= 3 && lineBytes[lineOffset] == (byte) 0xEF
        && lineBytes[lineOffset + 1] == (byte) 0xBB && lineBytes[lineOffset + 2] == (byte) 0xBF);
  }

  /**
   * The UTF-8 bytes of the line last read, from {@link #offset()} for {@link #length()} bytes;
   * null when it was skipped. Valid until the next {@link #next()}; not to be changed.
   */
  byte[] bytes() {
    return lineBytes;
  }

  /** Where the line last read starts in {@link #bytes()}. */
  int offset() {
    return lineOffset;
  }

  /** The length in bytes of the line last read. */
  int length() {
    return lineLength;
  }

  /** Why the line last read was skipped; null when it was not. */
  String problem() {
    return problem;
  }

  /** Keeps {@code n} more bytes of the current line while it is within the limit; returns its length so far. */
  private long gather(byte[] b, int start, int n, long total) {
    long length = total + n;
    if (length <= maxLineBytes) {
      if (length > line.length) {
        line = java.util.Arrays.copyOf(line, (int) Math.min(maxLineBytes, Math.max(length, 2L * line.length)));
      }
      System.arraycopy(b, start, line, (int) total, n);
    }
    return length;
  }

  private boolean fill() throws IOException {
    if (eof) {
      return false;
    }
    int n;
    do {
      n = in.read(buffer, 0, buffer.length);
    } while (n == 0);
    if (n < 0) {
      eof = true;
      pos = 0;
      limit = 0;
      return false;
    }
    pos = 0;
    limit = n;
    return true;
  }

  /**
   * Takes the line's bytes. An ASCII line is UTF-8 as it is and stays undecoded. Any other is
   * decoded with the JDK's fast path, which replaces malformed input with U+FFFD; only when the
   * result holds one (rare: a real U+FFFD or bad bytes) does a reporting decoder look for the bad
   * byte. Both apply the same UTF-8 rules.
   */
  private void decode(byte[] bytes, int offset, int length) {
    lineBytes = bytes;
    lineOffset = offset;
    lineLength = length;
    if (seen >= 0) {
      ascii = true;
      return;
    }
    String s = new String(bytes, offset, length, StandardCharsets.UTF_8);
    if (s.indexOf(REPLACEMENT) >= 0) {
      int bad = malformedAt(bytes, offset, length);
      if (bad >= 0) {
        problem = "not UTF-8 at byte " + (bad + 1) + " of the line; skipped";
        lineBytes = null;
        return;
      }
    }
    text = s;
  }

  /** The index (0-based, from {@code offset}) of the first byte that is not UTF-8, or -1. */
  private int malformedAt(byte[] bytes, int offset, int length) {
    if (decoder == null) {
      decoder = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT);
    }
    decoder.reset();
    ByteBuffer input = ByteBuffer.wrap(bytes, offset, length);
    CharBuffer output = CharBuffer.allocate(length);
    CoderResult result = decoder.decode(input, output, true);
    if (result.isError()) {
      return input.position() - offset;
    }
    return decoder.flush(output).isError() ? input.position() - offset : -1;
  }
}
