package io.flowtrace.tracer.recording;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.zip.GZIPInputStream;

/** Opening recording files: progress counting, optional gzip, names. */
final class RecordingFiles {
  static final String GZIP_SUFFIX = ".gz";
  private static final int BUFFER = 1 << 16;

  private RecordingFiles() {}

  /** Whether the file's name, ignoring case and a trailing {@code .gz}, ends with a suffix. */
  static boolean hasSuffix(Path file, String... suffixes) {
    Path name = file.getFileName();
    if (name == null) {
      return false;
    }
    String text = name.toString().toLowerCase(Locale.ROOT);
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

  static BufferedReader openText(Path file, ReadListener listener) throws IOException {
    return new BufferedReader(new InputStreamReader(open(file, listener), StandardCharsets.UTF_8), BUFFER);
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

  static String withoutBom(String line) {
    return !line.isEmpty() && line.charAt(0) == '\uFEFF' ? line.substring(1) : line;
  }
}
