package io.flowtrace.tracer.recording;

/**
 * Told what a reader skipped and how far it got. Readers never throw for a bad line or record:
 * they report it here and go on.
 */
public interface ReadListener {

  /** A line, record or block was malformed and skipped. */
  void problem(ReadProblem problem);

  /** Called now and then while a source is read; {@code bytesRead} is cumulative for that source. */
  default void progress(String source, long bytesRead) {}

  /** A listener that drops everything (for tests and benchmarks that count elsewhere). */
  static ReadListener ignoring() {
    return problem -> {};
  }
}
