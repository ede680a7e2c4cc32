package io.flowtrace.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The {@code --verification-threads} option of the commands that replay a recording. */
final class VerificationThreads {

  @Spec(Spec.Target.MIXEE)
  CommandSpec command;

  @Option(names = "--verification-threads", paramLabel = "N|auto", defaultValue = "auto",
      description = "Threads that run the checks of decided instances beside the engine thread (default auto: "
          + "the cores less two — one reads ahead and prepares, one assembles —, at least 0).")
  String value;

  /** The number chosen, or for {@code auto} the cores less two. */
  int threads() {
    if (value == null || value.equalsIgnoreCase("auto")) {
      return Math.max(0, Runtime.getRuntime().availableProcessors() - 2);
    }
    try {
      int n = Integer.parseInt(value.strip());
      if (n >= 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // said below
    }
    throw new ParameterException(command.commandLine(), "--verification-threads: '" + value + "' is neither a count (0 or more) nor auto");
  }
}
