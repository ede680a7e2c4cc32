package io.flowtrace.tracer.recording;

import io.flowtrace.tracer.model.SourcePosition;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.ToLongFunction;
import java.util.zip.GZIPInputStream;

/** Opening recording files: progress counting, optional gzip, names. */
final class RecordingFiles {
  static final String GZIP_SUFFIX = ".gz";
  private static final int BUFFER = 1 << 16;

  private RecordingFiles() {}

  /** Whether the file's name, ignoring case and a trailing {@code .gz}, ends with a suffix. */
  static boolean hasSuffix(Path file, String... suffixes) {
    Path name = file.getFileName();
    return name != null && hasSuffix(name.toString(), suffixes);
  }

  /** As {@link #hasSuffix(Path, String...)}, of a file's name or path as text. */
  static boolean hasSuffix(String file, String... suffixes) {
    String text = file.toLowerCase(Locale.ROOT);
    if (text.endsWith(GZIP_SUFFIX)) {
      text = text.substring(0, text.length() - GZIP_SUFFIX.length());
    }
    for (String suffix : suffixes) {
      if (text.endsWith(suffix)) {
        return true;
      }
    }
    return false;
  }

  static InputStream open(Path file, ReadListener listener) throws IOException {
    InputStream in = new ProgressInputStream(Files.newInputStream(file), file.toString(), listener);
    if (file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(GZIP_SUFFIX)) {
      try {
        return new GZIPInputStream(in, BUFFER);
      } catch (IOException e) {
        in.close();
        throw e;
      }
    }
    return new java.io.BufferedInputStream(in, BUFFER);
  }

  /**
   * Opens the file and reads it with {@code body}, which reports its own problems; returns what
   * {@code body} returns. A file that cannot be opened (missing, unreadable, not gzip although
   * named so) is reported at {@code start} and counts as empty.
   */
  static long read(Path file, ReadListener listener, SourcePosition start, ToLongFunction<InputStream> body) {
    InputStream in;
    try {
      in = open(file, listener);
    } catch (IOException e) {
      listener.problem(new ReadProblem(start, "cannot read the file: " + describe(e) + "; the file is skipped"));
      return 0;
    }
    try {
      return body.applyAsLong(in);
    } finally {
      try {
        in.close();
      } catch (IOException e) {
        listener.problem(new ReadProblem(start, "cannot close the file: " + describe(e)));
      }
    }
  }

  /**
   * The problem reported when reading stops at a stream error: a gzip file cut off or corrupt, or
   * a disk error.
   */
  static String cutOff(IOException e) {
    return "file cut off or corrupt here: " + describe(e) + "; " + ReadProblem.REST_SKIPPED;
  }

  /** What went wrong, without the file name a {@link FileSystemException}'s message repeats. */
  static String describe(IOException e) {
    if (e instanceof FileSystemException f) {
      if (f.getReason() != null) {
        return f.getReason();
      }
      if (e instanceof NoSuchFileException) {
        return "no such file";
      }
      if (e instanceof AccessDeniedException) {
        return "permission denied";
      }
      return e.getClass().getSimpleName();
    }
    String message = e.getMessage();
    if (message == null || message.isBlank()) {
      return e instanceof EOFException ? "unexpected end of file" : e.getClass().getSimpleName();
    }
    return message;
  }

  static boolean isBlank(String line) {
    for (int i = 0, n = line.length(); i < n; i++) {
      char c = line.charAt(i);
      if (c != ' ' && c != '\t' && c != '\r' && c != '\uFEFF') {
        return false;
      }
    }
    return true;
  }

  /** {@link #isBlank(String)} for a line given as UTF-8 bytes (U+FEFF is EF BB BF). */
  static boolean isBlank(byte[] line, int offset, int length) {
    for (int i = offset, end = offset + length; i < end; i++) {
      byte c = line[i];
      if (c == (byte) 0xEF && i + 2 < end && line[i + 1] == (byte) 0xBB && line[i + 2] == (byte) 0xBF) {
        i += 2;
      } else if (c != ' ' && c != '\t' && c != '\r') {
        return false;
      }
    }
    return true;
  }

  static String withoutBom(String line) {
    return !line.isEmpty() && line.charAt(0) == '\uFEFF' ? line.substring(1) : line;
  }
}
