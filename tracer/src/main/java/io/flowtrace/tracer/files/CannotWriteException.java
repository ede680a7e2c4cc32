package io.flowtrace.tracer.files;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Path;

/**
 * A file or directory the user named cannot be written: {@link #path()} is the path as the user gave
 * it, {@link #reason()} says why in words, ending with the kind of failure, as in {@code /proc is not
 * writable (AccessDeniedException)}. The message is {@code cannot write PATH: REASON}; a command puts
 * the option's name in front ({@code cannot write --junit report PATH: REASON}).
 */
public final class CannotWriteException extends IOException {

  private static final long serialVersionUID = 1L;

  private final transient Path path;
  private final String reason;

  public CannotWriteException(Path path, String reason, Throwable cause) {
    super("cannot write " + requireNonNull(path, "path") + ": " + requireNonNull(reason, "reason"), cause);
    this.path = path;
    this.reason = reason;
  }

  /** The path as the user gave it. */
  public Path path() {
    return path;
  }

  /** Why it cannot be written, ending with the kind of failure in parentheses. */
  public String reason() {
    return reason;
  }

  /**
   * {@code failure} while writing {@code path}, in words: its own reason when it is already one of
   * these, else what the file system said about which file ({@code No space left on device
   * (IOException)}, {@code /data/r.xml: Read-only file system (FileSystemException)}).
   */
  public static CannotWriteException of(Path path, IOException failure) {
    if (failure instanceof CannotWriteException c) {
      return c.path().equals(path) ? c : new CannotWriteException(path, c.reason(), c.getCause());
    }
    return new CannotWriteException(path, describe(failure), failure);
  }

  /** What the file system said, with the failing file when it names one, and the kind of failure. */
  static String describe(IOException failure) {
    String kind = " (" + failure.getClass().getSimpleName() + ")";
    if (failure instanceof FileSystemException f) {
      String what = f.getReason() != null ? f.getReason() : "failed";
      return (f.getFile() != null ? f.getFile() + ": " : "") + what + kind;
    }
    return (failure.getMessage() != null ? failure.getMessage() : "failed") + kind;
  }
}
