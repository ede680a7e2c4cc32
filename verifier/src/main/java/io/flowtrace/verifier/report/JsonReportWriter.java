package io.flowtrace.verifier.report;

import java.io.OutputStream;
import tools.jackson.core.JsonEncoding;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.ObjectWriteContext;
import tools.jackson.core.json.JsonFactory;

/**
 * Streams the contract's JSON report: {@code {"flows": [...], "summary": {...}}}. Each final
 * verdict is written as it is finalized, so memory does not grow with the number of instances.
 * Events that came after their instance's verdict was final (a replay with an amendment window)
 * follow as {@code "late": [...]} — the first {@value #LATE_SHOWN}, each as {@code {"flow",
 * "keys", "event", "where", "eventTime", "finalizedAt"}} — and are counted in the summary as
 * {@code lateEvents}.
 */
public final class JsonReportWriter implements VerdictListener, AutoCloseable {
  private final JsonGenerator g;
  private final ReportSummary summary = new ReportSummary();
  /** Late events written out at most; the rest are counted. */
  static final int LATE_SHOWN = 1000;
  private long inputProblems = -1;
  private final java.util.List<LateEvent> late = new java.util.ArrayList<>();
  private long lateEvents;
  private boolean closed;

  public JsonReportWriter(OutputStream out) {
    JsonFactory factory = new JsonFactory();
    this.g = factory.createGenerator(ObjectWriteContext.empty(), out, JsonEncoding.UTF8);
    g.writeStartObject();
    g.writeName("flows");
    g.writeStartArray();
  }

  @Override
  public void finalized(Verdict verdict) {
    summary.add(verdict);
    VerdictJson.write(verdict, g);
    g.flush();
  }

  @Override
  public void late(LateEvent event) {
    if (lateEvents++ < LATE_SHOWN) {
      late.add(event);
    }
  }

  public ReportSummary summary() {
    return summary;
  }

  /**
   * How many lines, records or files of the input could not be read (and so were not verified):
   * written to the summary as {@code inputProblems}, so that a job reading the JSON sees them too.
   */
  public void inputProblems(long count) {
    this.inputProblems = count;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    g.writeEndArray();
    if (!late.isEmpty()) {
      g.writeName("late");
      g.writeStartArray();
      for (LateEvent e : late) {
        VerdictJson.write(e, g);
      }
      g.writeEndArray();
    }
    g.writeName("summary");
    g.writeStartObject();
    g.writeNumberProperty("flows", summary.flows());
    g.writeNumberProperty("passed", summary.passed());
    g.writeNumberProperty("failed", summary.failed());
    g.writeNumberProperty("incomplete", summary.incomplete());
    if (inputProblems >= 0) {
      g.writeNumberProperty("inputProblems", inputProblems);
    }
    if (lateEvents > 0) {
      g.writeNumberProperty("lateEvents", lateEvents);
    }
    g.writeName("verification");
    g.writeStartObject();
    g.writeNumberProperty("full", summary.fullyVerified());
    g.writeNumberProperty("partial", summary.partlyVerified());
    g.writeEndObject();
    g.writeName("violations");
    g.writeStartObject();
    summary.byKind().forEach((k, n) -> g.writeNumberProperty(k.name(), n));
    g.writeEndObject();
    g.writeEndObject();
    g.writeEndObject();
    g.close();
  }
}
