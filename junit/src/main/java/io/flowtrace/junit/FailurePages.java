package io.flowtrace.junit;

import io.flowtrace.verifier.report.html.HtmlReportWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The page a failed flow assertion leaves behind: that instance's sequence diagram (the replay
 * report's, for one instance) at {@code <dir>/<test class>/<test method>-<flow>-<key>.html}, named
 * in the failure message so a red test can be looked at, not only read.
 */
final class FailurePages {
  /** Where the pages go unless the extension's builder says otherwise: beside Maven's test reports. */
  static final Path DEFAULT_DIRECTORY = Path.of("target", "flowtrace");
  private static final ThreadLocal<String[]> TEST = new ThreadLocal<>();
  private static volatile String[] lastTest;

  private FailurePages() {}

  /** Remembers which test runs on this thread (called before each test). */
  static void beginTest(ExtensionContext context) {
    String[] test = {context.getTestClass().map(Class::getSimpleName).orElse("tests"),
        context.getTestMethod().map(java.lang.reflect.Method::getName).orElse(context.getDisplayName())};
    TEST.set(test);
    lastTest = test;
  }

  /**
   * Writes the page of {@code o} where the running test's extension puts them (or the default
   * directory outside one) and returns the line for the failure message.
   */
  static String write(FlowOutcome o) {
    Path pages;
    try {
      pages = FlowTraceExtension.current().failurePages();
    } catch (IllegalStateException e) {
      pages = DEFAULT_DIRECTORY;
    }
    return write(pages, o);
  }

  /**
   * Writes the page of {@code o} under {@code directory} and returns the line for the failure
   * message; empty when pages are off ({@code directory == null}) or it could not be written (the
   * message then says why, the assertion's own text is unchanged).
   */
  static String write(Path directory, FlowOutcome o) {
    if (directory == null || o == null || o.verdict() == null || o.instance() == null) {
      return "";
    }
    String[] test = TEST.get() != null ? TEST.get() : lastTest != null ? lastTest : new String[] {"tests", "test"};
    String key = o.keys().isEmpty() ? "instance" : o.keys().values().iterator().next();
    Path file = directory.resolve(safe(test[0])).resolve(safe(test[1]) + "-" + safe(o.flow()) + "-" + safe(key) + ".html");
    try {
      HtmlReportWriter page = new HtmlReportWriter(file, List.of(o.instance().spec())).singleInstance()
          .title(test[0] + "." + test[1] + ": " + Messages.subject(o));
      page.finalized(o.verdict());
      page.close();
      return "\n  flow diagram: " + file.toAbsolutePath().normalize().toUri();
    } catch (IOException | RuntimeException e) {
      return "\n  (the flow diagram could not be written to " + file + ": " + e + ")";
    }
  }

  private static String safe(String s) {
    String t = s.replaceAll("[^A-Za-z0-9._-]+", "_");
    return t.length() > 60 ? t.substring(0, 60) : t;
  }
}
