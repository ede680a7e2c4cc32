package io.flowtrace.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code flowtrace} command. */
@Command(
    name = "flowtrace",
    mixinStandardHelpOptions = true,
    versionProvider = FlowTraceCli.Version.class,
    description = "Proves asynchronous business flows correct from OpenTelemetry spans and Kafka messages.",
    subcommands = {ReplayCommand.class, DocsCommand.class, RecordCommand.class, SidecarCommand.class, LintCommand.class, InferCommand.class, BenchCommand.class, SidecarBenchCommand.class, GenerateCommand.class,
        CommandLine.HelpCommand.class})
public final class FlowTraceCli {

  /** Exit code: every flow passed. */
  public static final int EXIT_PASSED = 0;
  /** Exit code: violations, or flows incomplete past their deadline. */
  public static final int EXIT_VIOLATIONS = 1;
  /** Exit code: bad usage or unreadable input. */
  public static final int EXIT_USAGE = 2;
  /** Exit code: the run could not finish (out of memory); nothing is said about the flows. */
  public static final int EXIT_FAILED = 3;

  public static void main(String[] args) {
    int code;
    try {
      code = run(args);
    } catch (Error e) {
      code = failed(System.err, e);
    }
    System.exit(code);
  }

  /**
   * The exit code of an error that escaped the command, when it is the heap running out: an
   * {@link OutOfMemoryError} may come wrapped, e.g. in the {@link InternalError} of a lambda that
   * could not be linked. Any other error is thrown on.
   */
  static int failed(java.io.PrintStream err, Error e) {
    OutOfMemoryError oom = outOfMemoryIn(e);
    if (oom == null) {
      throw e;
    }
    return outOfMemory(err, oom);
  }

  private static int outOfMemory(java.io.PrintStream err, OutOfMemoryError e) {
    try {
      err.println("flowtrace: out of memory (" + e.getMessage() + ", max heap "
          + ProgressLine.bytes(Runtime.getRuntime().maxMemory()) + "): " + MORE_HEAP);
    } catch (OutOfMemoryError again) {
      err.print("flowtrace: out of memory (max heap ");
      err.print(Runtime.getRuntime().maxMemory() >> 20);
      err.print(" MiB): ");
      err.println(MORE_HEAP);
    }
    return EXIT_FAILED;
  }

  private static final String MORE_HEAP = "give the JVM more, e.g. FLOWTRACE_JAVA_OPTS=-Xmx4g bin/flowtrace ... "
      + "or java -Xmx4g -jar flowtrace.jar ...; replay also holds less with a smaller --buffer-events";

  private static OutOfMemoryError outOfMemoryIn(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof OutOfMemoryError oom) {
        return oom;
      }
    }
    return null;
  }

  /** Runs the command line and returns its exit code (for tests). */
  public static int run(String... args) {
    CommandLine cl = new CommandLine(new FlowTraceCli());
    reflow(cl);
    cl.setExitCodeExceptionMapper(e -> EXIT_USAGE);
    cl.setParameterExceptionHandler((ex, a) -> {
      ex.getCommandLine().getErr().println("flowtrace: " + ex.getMessage());
      ex.getCommandLine().usage(ex.getCommandLine().getErr());
      return EXIT_USAGE;
    });
    cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
      OutOfMemoryError oom = outOfMemoryIn(ex);
      if (oom != null) {
        return outOfMemory(System.err, oom);
      }
      commandLine.getErr().println("flowtrace: " + ex.getMessage());
      return EXIT_USAGE;
    });
    return cl.execute(args);
  }

  /**
   * Joins each command's description into paragraphs, so picocli wraps them at its width: the
   * sources break lines where they fit the source, and wrapped again those read ragged. A line
   * ending a sentence ({@code .}, {@code :}) ends its paragraph.
   */
  private static void reflow(CommandLine cl) {
    CommandLine.Model.UsageMessageSpec usage = cl.getCommandSpec().usageMessage();
    List<String> paragraphs = new ArrayList<>();
    StringBuilder open = null;
    for (String line : usage.description()) {
      if (open == null) {
        open = new StringBuilder(line.strip());
      } else {
        open.append(' ').append(line.strip());
      }
      if (line.strip().matches(".*[.:]\\)?$")) {
        paragraphs.add(open.toString());
        open = null;
      }
    }
    if (open != null) {
      paragraphs.add(open.toString());
    }
    usage.description(paragraphs.toArray(String[]::new));
    cl.getSubcommands().values().forEach(FlowTraceCli::reflow);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = FlowTraceCli.class.getPackage().getImplementationVersion();
      return new String[] {"flowtrace " + (v == null ? "dev" : v)};
    }
  }
}
