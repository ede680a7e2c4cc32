package io.flowtrace.kafka.testkit.internal;

import java.io.PrintStream;
import java.time.Instant;
import java.util.Locale;
import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.Logger;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.BasicMDCAdapter;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * Internal, not API: a minimal SLF4J provider that the forked broker JVM selects with {@code
 * -Dslf4j.provider=...} (it is deliberately not registered in {@code META-INF/services}, so it
 * never competes with the logging of the JVM that uses the testkit). Kafka's jars bring no SLF4J
 * binding; without one the broker logs nothing and a failed start could not show why. Writes
 * {@code time level logger - message} lines to stderr, which the launcher sends to the broker's log
 * file. The threshold is {@code -Dflowtrace.broker.log.level} (default {@code INFO}).
 */
public final class BrokerLogProvider implements SLF4JServiceProvider {
  private static final Level THRESHOLD = Level.valueOf(
      System.getProperty("flowtrace.broker.log.level", "INFO").toUpperCase(Locale.ROOT));

  private final IMarkerFactory markers = new BasicMarkerFactory();
  private final MDCAdapter mdc = new BasicMDCAdapter();
  private final ILoggerFactory factory = StderrLogger::new;

  @Override
  public ILoggerFactory getLoggerFactory() {
    return factory;
  }

  @Override
  public IMarkerFactory getMarkerFactory() {
    return markers;
  }

  @Override
  public MDCAdapter getMDCAdapter() {
    return mdc;
  }

  @Override
  public String getRequestedApiVersion() {
    return "2.0.99";
  }

  @Override
  public void initialize() {}

  private static final class StderrLogger extends LegacyAbstractLogger {
    private static final long serialVersionUID = 1L;

    StderrLogger(String name) {
      this.name = name;
    }

    private static boolean on(Level level) {
      return level.toInt() >= THRESHOLD.toInt();
    }

    @Override public boolean isTraceEnabled() { return on(Level.TRACE); }
    @Override public boolean isDebugEnabled() { return on(Level.DEBUG); }
    @Override public boolean isInfoEnabled() { return on(Level.INFO); }
    @Override public boolean isWarnEnabled() { return on(Level.WARN); }
    @Override public boolean isErrorEnabled() { return on(Level.ERROR); }

    @Override
    protected String getFullyQualifiedCallerName() {
      return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern,
        Object[] arguments, Throwable throwable) {
      String message = MessageFormatter.basicArrayFormat(pattern, arguments);
      PrintStream err = System.err;
      synchronized (err) {
        err.println(Instant.now() + " " + level + " " + name + " - " + message);
        if (throwable != null) {
          throwable.printStackTrace(err);
        }
      }
    }
  }
}
