package io.flowtrace.tracer.files;

import static java.util.Objects.requireNonNull;

import java.io.Closeable;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * A file the user named, written whole or not at all: the bytes go to a hidden file beside it
 * ({@code .NAME.RANDOM.tmp}, same directory, so same file system), which {@link #commit()} forces
 * to disk and renames over the target in one step. A reader (a CI collector) never sees half a
 * report, and a run that fails before {@code commit()} leaves an earlier file at that path as it
 * was ({@link #close()} without {@code commit()} removes the hidden file).
 *
 * <p><b>Permissions.</b> The hidden file is created as any tool creates a file ({@code open(2)}
 * with mode 0666, less the process's umask: 0644 under the usual umask 022), not with {@code
 * Files.createTempFile}'s owner-only 0600, so a collector running as another user can read the
 * report. A file it replaces is replaced, permissions and all (as {@code mv} does).
 *
 * <p><b>Failures</b> are {@link CannotWriteException}s naming the path as given and why: {@code
 * /proc is not writable (AccessDeniedException)}, {@code /tmp/reports is a directory}, {@code
 * /data/a.txt is not a directory (FileAlreadyExistsException)} (a file where a directory of the
 * path should be), or what the file system said ({@code No space left on device (IOException)}).
 * They come from {@link #create} where possible, before any work is done.
 *
 * <p>A target that is a symbolic link is written through: the file it points to is replaced, the
 * link stays. Not thread-safe.
 */
public final class OutputFile implements Closeable {

  private final Path given;
  private final Path target;
  private final Path hidden;
  private final FileChannel channel;
  private final OutputStream stream;
  /** The first write that failed: a writer that swallows it (a {@code PrintStream}) does not hide it from commit(). */
  private CannotWriteException failure;
  private boolean done;

  private OutputFile(Path given, Path target, Path hidden, FileChannel channel) {
    this.given = given;
    this.target = target;
    this.hidden = hidden;
    this.channel = channel;
    this.stream = new FilterOutputStream(Channels.newOutputStream(channel)) {
      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        try {
          out.write(b, off, len);
        } catch (IOException e) {
          throw failed(e);
        }
      }

      @Override
      public void flush() throws IOException {
        try {
          out.flush();
        } catch (IOException e) {
          throw failed(e);
        }
      }

      @Override
      public void close() throws IOException {
        flush(); // the file is closed by commit() or close(): a writer closing its stream does not end it
      }
    };
  }

  /**
   * Creates the directories of {@code target} as needed and the hidden file beside it.
   *
   * @throws CannotWriteException when the target is a directory, a directory of its path cannot be
   *     made, or its directory is not writable
   */
  public static OutputFile create(Path target) throws CannotWriteException {
    requireNonNull(target, "target");
    Path real = target;
    if (Files.isSymbolicLink(target)) {
      try {
        real = target.toRealPath();
      } catch (IOException e) {
        real = target; // a dangling link: replaced by the file
      }
    }
    real = real.toAbsolutePath();
    if (Files.isDirectory(real)) {
      throw new CannotWriteException(target, target + " is a directory", null);
    }
    Path dir = createDirectories(target, real.getParent());
    Path hidden = dir.resolve("." + real.getFileName() + "." + UUID.randomUUID() + ".tmp");
    try {
      FileChannel channel = FileChannel.open(hidden, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      return new OutputFile(target, real, hidden, channel);
    } catch (IOException e) {
      throw notWritable(target, dir, e);
    }
  }

  /**
   * Makes sure {@code dir} (as the user gave it) exists and a file can be created in it, by
   * creating and removing one. For writers that keep files open and append (recordings, verdict
   * logs): they fail at start, with the reason, instead of at their first write.
   *
   * @return {@code dir}
   * @throws CannotWriteException naming {@code dir} and why
   */
  public static Path writableDirectory(Path dir) throws CannotWriteException {
    requireNonNull(dir, "dir");
    Path absolute = createDirectories(dir, dir.toAbsolutePath());
    Path probe = absolute.resolve(".flowtrace-probe." + UUID.randomUUID() + ".tmp");
    try {
      Files.newOutputStream(probe, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
      Files.deleteIfExists(probe);
    } catch (IOException e) {
      throw notWritable(dir, absolute, e);
    }
    return dir;
  }

  /** The path as the user gave it. */
  public Path path() {
    return given;
  }

  private CannotWriteException failed(IOException e) {
    if (failure == null) {
      failure = CannotWriteException.of(given, e);
    }
    return failure;
  }

  /**
   * Where the bytes go. Closing it only flushes: the file ends with {@link #commit()} or {@link
   * #close()}, so a writer that closes what it was given (a JSON generator) does no harm.
   */
  public OutputStream stream() {
    return stream;
  }

  /**
   * Forces the bytes to disk and puts the file in place (replacing one there) in one step.
   *
   * @throws CannotWriteException naming the path and why (also when a write to {@link #stream()}
   *     failed before, even if the writer swallowed it); the hidden file is removed then
   * @throws IllegalStateException after {@link #close()}
   */
  public void commit() throws CannotWriteException {
    if (done) {
      throw new IllegalStateException("already committed or closed: " + given);
    }
    done = true;
    if (failure != null) {
      discard();
      throw failure;
    }
    try {
      stream.flush();
      channel.force(true);
      channel.close();
      try {
        Files.move(hidden, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        if (Files.isDirectory(target)) {
          throw new CannotWriteException(given, given + " is a directory", null);
        }
        Files.move(hidden, target, StandardCopyOption.REPLACE_EXISTING); // a file system without atomic rename
      }
    } catch (IOException e) {
      discard();
      throw e instanceof CannotWriteException c ? c
          : e instanceof FileSystemException && Files.isDirectory(target)
              ? new CannotWriteException(given, given + " is a directory", e)
              : CannotWriteException.of(given, e);
    }
  }

  /** Without {@link #commit()}: removes the hidden file and leaves the target as it was. Idempotent. */
  @Override
  public void close() {
    if (!done) {
      done = true;
      discard();
    }
  }

  private void discard() {
    try {
      channel.close();
    } catch (IOException ignored) {
      // nothing was promised about these bytes
    }
    try {
      Files.deleteIfExists(hidden);
    } catch (IOException ignored) {
      // a hidden leftover in a directory that went away or turned read-only
    }
  }

  /** Creates {@code dir} and its parents; failures name the path the user gave. */
  private static Path createDirectories(Path given, Path dir) throws CannotWriteException {
    try {
      Files.createDirectories(dir);
      return dir;
    } catch (FileAlreadyExistsException e) {
      throw new CannotWriteException(given, e.getFile() + " is not a directory (FileAlreadyExistsException)", e);
    } catch (IOException e) {
      String file = e instanceof FileSystemException f && f.getFile() != null ? f.getFile() : dir.toString();
      String why = e instanceof FileSystemException f && f.getReason() != null ? ": " + f.getReason() : "";
      throw new CannotWriteException(given, "cannot create directory " + file + why + " ("
          + e.getClass().getSimpleName() + ")", e);
    }
  }

  /** A file could not be created in {@code dir}: the directory is what is not writable. */
  private static CannotWriteException notWritable(Path given, Path dir, IOException e) {
    if (e instanceof AccessDeniedException || e instanceof NoSuchFileException
        || e instanceof FileSystemException f && f.getReason() == null) {
      return new CannotWriteException(given, dir + " is not writable (" + e.getClass().getSimpleName() + ")", e);
    }
    String why = e instanceof FileSystemException f ? f.getReason() : e.getMessage();
    return new CannotWriteException(given, dir + " is not writable: " + why + " (" + e.getClass().getSimpleName() + ")",
        e);
  }
}
