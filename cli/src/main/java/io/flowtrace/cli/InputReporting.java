package io.flowtrace.cli;

import io.flowtrace.tracer.recording.ReadListener;
import io.flowtrace.tracer.recording.ReadProblem;
import java.io.PrintWriter;
import picocli.CommandLine.Option;

/**
 * The {@code --progress} and {@code --max-problems} options of the commands that read a recording
 * (replay, infer, docs): how its reading shows on stderr.
 */
final class InputReporting {

  @Option(names = "--progress", negatable = true, description = "Show progress on stderr (default: when stderr is a terminal).")
  Boolean progress;

  @Option(names = "--max-problems", defaultValue = "20", paramLabel = "N",
      description = "Print at most N input problems in full (all are counted; default ${DEFAULT-VALUE}).")
  int maxProblems;

  /** A progress line on stderr, shown when asked for or, by default, when stderr is a terminal. */
  ProgressLine progressLine() {
    return new ProgressLine(System.err, progress != null ? progress : System.console() != null);
  }

  /** Prints the first {@code --max-problems} input problems to {@code err}, then says more are counted. Any thread. */
  ReadListener problems(PrintWriter err) {
    long[] count = {0};
    return (ReadProblem p) -> {
      synchronized (count) {
        count[0]++;
        if (count[0] <= maxProblems) {
          err.println("flowtrace: skipped " + p);
        } else if (count[0] == maxProblems + 1) {
          err.println("flowtrace: more input problems; they are counted in the summary");
        }
        err.flush();
      }
    };
  }
}
