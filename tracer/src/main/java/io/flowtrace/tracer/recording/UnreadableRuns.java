package io.flowtrace.tracer.recording;

/**
 * Passes problems on, but reports lines in a row that are not UTF-8 text as one problem: a binary
 * file read as lines of text ("lines" cut wherever a byte is 0x0A) gives one report saying so, not
 * one per such line. Call {@link #flush()} when the source ends.
 */
final class UnreadableRuns implements ReadListener {
  private static final String NOT_TEXT = "not UTF-8 ";

  private final ReadListener listener;
  private ReadProblem first;
  private long last;

  UnreadableRuns(ReadListener listener) {
    this.listener = listener;
  }

  @Override
  public void problem(ReadProblem problem) {
    boolean notText = problem.reason().startsWith(NOT_TEXT) && problem.position().line() > 0;
    if (notText && first != null && problem.position().line() == last + 1
        && problem.position().source().equals(first.position().source())) {
      last++;
      return;
    }
    flush();
    if (notText) {
      first = problem;
      last = problem.position().line();
    } else {
      listener.problem(problem);
    }
  }

  @Override
  public void progress(String source, long bytesRead) {
    listener.progress(source, bytesRead);
  }

  /** Reports the run of unreadable lines held, if any. */
  void flush() {
    if (first == null) {
      return;
    }
    long more = last - first.position().line();
    listener.problem(more == 0 ? first : new ReadProblem(first.position(), first.reason() + "; so are the "
        + (more == 1 ? "next line" : more + " lines after it") + ", to line " + last
        + ": binary data, not text?", first.names()));
    first = null;
  }
}
