package io.flowtrace.sidecar.output;

import static java.util.Objects.requireNonNull;

import io.flowtrace.tracer.files.CannotWriteException;
import io.flowtrace.tracer.files.OutputFile;
import io.flowtrace.verifier.report.LateEvent;
import io.flowtrace.verifier.report.Verdict;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Verdicts as JSON lines ({@link VerdictText#json}) in {@code verdicts-NNNN.jsonl} files of a
 * directory, a new file once one reaches its size. A restart appends to a new file after the
 * highest existing number. {@link #flush()} forces the bytes to disk; after a failed write (a full
 * disk) {@link #rewind()} cuts the files back to what the last flush made durable.
 */
public final class JsonLinesVerdictSink implements VerdictSink {

  /** Names of the files written. */
  public static final Pattern FILE_NAME = Pattern.compile("verdicts-(\\d{4,})\\.jsonl");

  private final Path dir;
  private final long rollBytes;
  private int index;
  private FileChannel channel;
  private OutputStream out;
  private long written;
  /** The file and its length at the last successful flush. */
  private int flushedIndex;
  private long flushedBytes;

  public JsonLinesVerdictSink(Path dir, long rollBytes) throws IOException {
    this.dir = requireNonNull(dir, "dir");
    if (rollBytes <= 0) {
      throw new IllegalArgumentException("rollBytes must be positive: " + rollBytes);
    }
    this.rollBytes = rollBytes;
    OutputFile.writableDirectory(dir); // unwritable: said at start, with why
    try (Stream<Path> files = Files.list(dir)) {
      index = files.map(p -> FILE_NAME.matcher(p.getFileName().toString()))
          .filter(Matcher::matches).mapToInt(m -> Integer.parseInt(m.group(1))).max().orElse(0);
    }
    open();
    flushedIndex = index;
    flushedBytes = 0;
  }

  private Path file(int i) {
    return dir.resolve(String.format("verdicts-%04d.jsonl", i));
  }

  private void open() throws IOException {
    index++;
    Path file = file(index);
    try {
      // Mode 0666 less the umask, as any tool's files: readable by a collector running as another user.
      channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw CannotWriteException.of(dir, e);
    }
    out = new java.io.BufferedOutputStream(Channels.newOutputStream(channel), 64 * 1024);
    written = 0;
  }

  @Override
  public void write(Verdict verdict) throws IOException {
    append(VerdictText.json(verdict));
  }

  @Override
  public void copy(String instanceKey, int revision, String json) throws IOException {
    append(json);
  }

  @Override
  public void late(LateEvent event) throws IOException {
    append(VerdictText.json(event));
  }

  private void append(String json) throws IOException {
    byte[] line = (json + "\n").getBytes(StandardCharsets.UTF_8);
    if (written > 0 && written + line.length > rollBytes) {
      force(); // the rewind point stays where the caller last flushed
      out.close();
      open();
    }
    out.write(line);
    written += line.length;
  }

  private void force() throws IOException {
    out.flush();
    channel.force(false);
  }

  @Override
  public void flush() throws IOException {
    force();
    flushedIndex = index;
    flushedBytes = written;
  }

  @Override
  public void rewind() throws IOException {
    try {
      channel.close(); // what the buffer holds is dropped with it
    } catch (IOException e) {
      // already broken: the file is cut back below
    }
    for (int i = index; i > flushedIndex; i--) {
      Files.deleteIfExists(file(i)); // files begun since the flush
    }
    index = flushedIndex;
    try {
      channel = FileChannel.open(file(index), StandardOpenOption.WRITE);
      channel.truncate(flushedBytes);
      channel.position(flushedBytes);
      channel.force(false);
    } catch (IOException e) {
      throw CannotWriteException.of(dir, e);
    }
    out = new java.io.BufferedOutputStream(Channels.newOutputStream(channel), 64 * 1024);
    written = flushedBytes;
  }

  /** Flushes and closes; a file left empty (a run that wrote nothing into it) is removed. */
  @Override
  public void close() throws IOException {
    flush();
    out.close();
    if (written == 0) {
      Files.deleteIfExists(file(index));
    }
  }
}
