package io.flowtrace.verifier.report.html;

import io.flowtrace.verifier.check.Evidence;
import io.flowtrace.verifier.check.Unverified;
import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.report.TimelineEntry;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.spec.BudgetSpec;
import io.flowtrace.verifier.spec.EventSpec;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.IdempotencySpec;
import io.flowtrace.verifier.spec.StageSpec;
import java.io.StringWriter;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import tools.jackson.core.JsonGenerator;
import tools.jackson.databind.json.JsonMapper;

/**
 * The JSON the pages' script draws from — one shape for the replay report, the sidecar's live page
 * and the JUnit failure page, so the one script ({@link HtmlAssets#script()}) reads them all:
 *
 * <ul>
 *   <li>{@link #flows}: each flow's stages (events, {@code after}, {@code when}, terminal), budgets
 *       and idempotency, for stage bands and the hops a missing stage should have had;
 *   <li>{@link #row}: the table line of an instance (keys, status, kinds, stages, start, duration);
 *   <li>{@link #detail}: everything one sequence diagram needs (violations, unverified checks,
 *       the timeline with each hop's span, record, consumers and payload).
 * </ul>
 *
 * <p>The text is JSON, not yet safe inside HTML: {@link HtmlPage#scriptSafe} makes it so.
 */
public final class HtmlData {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private HtmlData() {}

  /** {@code {"order-creation": {stages:[…], budgets:[…], idempotency:[…], keys:[…]}}}. */
  public static String flows(List<FlowSpec> specs) {
    return write(g -> {
      g.writeStartObject();
      for (FlowSpec f : specs) {
        g.writeName(f.name());
        g.writeStartObject();
        g.writeName("keys");
        g.writeStartArray();
        f.keys().forEach(g::writeString);
        g.writeEndArray();
        g.writeNumberProperty("deadlineMs", f.deadline().toMillis());
        g.writeName("stages");
        g.writeStartArray();
        for (StageSpec s : f.stages()) {
          g.writeStartObject();
          g.writeStringProperty("id", s.id());
          g.writeName("after");
          g.writeStartArray();
          s.after().forEach(g::writeString);
          g.writeEndArray();
          if (s.when() != null) {
            g.writeStringProperty("when", s.when().oneLine());
          }
          g.writeBooleanProperty("terminal", s.terminal());
          if (s.optional()) {
            g.writeBooleanProperty("optional", true);
          }
          if (s.choice() != null) {
            g.writeStringProperty("choice", s.choice());
          }
          g.writeName("events");
          g.writeStartArray();
          for (EventSpec e : s.events()) {
            g.writeStartObject();
            g.writeStringProperty("id", e.id());
            if (e.topic() != null) {
              g.writeStringProperty("topic", e.topic());
            } else {
              if (e.span().service() != null) g.writeStringProperty("service", e.span().service());
              if (e.span().kind() != null) g.writeStringProperty("kind", e.span().kind().name());
              g.writeStringProperty("span", e.span().toString());
              if (e.payload() != null && e.payload().attribute() != null) {
                g.writeStringProperty("attribute", e.payload().attribute());
              }
            }
            if (e.newTrace()) g.writeBooleanProperty("newTrace", true);
            g.writeEndObject();
          }
          g.writeEndArray();
          g.writeEndObject();
        }
        g.writeEndArray();
        g.writeName("budgets");
        g.writeStartArray();
        for (BudgetSpec b : f.budgets()) {
          g.writeStartObject();
          g.writeStringProperty("from", b.from());
          g.writeStringProperty("to", b.to());
          g.writeNumberProperty("withinMs", b.within().toMillis());
          g.writeEndObject();
        }
        g.writeEndArray();
        g.writeName("idempotency");
        g.writeStartArray();
        for (IdempotencySpec i : f.idempotency()) {
          g.writeStartObject();
          g.writeStringProperty("trigger", i.trigger());
          g.writeName("effects");
          g.writeStartArray();
          i.effects().forEach(g::writeString);
          g.writeEndArray();
          g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
      }
      g.writeEndObject();
    });
  }

  /** The stage ids that more than one of {@code flows} declares: in counts over all flows, each is named with its flow. */
  public static Set<String> sharedStageIds(List<FlowSpec> flows) {
    Set<String> seen = new java.util.HashSet<>();
    Set<String> shared = new java.util.TreeSet<>();
    for (FlowSpec f : flows) {
      for (StageSpec s : new LinkedHashSet<>(f.stages())) {
        if (!seen.add(s.id())) {
          shared.add(s.id());
        }
      }
    }
    return shared;
  }

  /** A stage as counts over all flows name it: {@code returns · inspected} where another flow has an {@code inspected} too. */
  public static String stageLabel(Set<String> shared, String flow, String stage) {
    return shared.contains(stage) ? flow + " \u00b7 " + stage : stage;
  }

  /**
   * One table line: {@code {flow, keys, status, v: "full"|"partial", kinds, stages, start (epoch
   * ms), dur (ms)}}; the page adds where the instance's detail is.
   */
  public static void row(Verdict v, JsonGenerator g) {
    row(v, g, null);
  }

  /** A table line with extra properties written by {@code more} (e.g. where the detail is). */
  public static void row(Verdict v, JsonGenerator g, JsonWriting more) {
    g.writeStartObject();
    g.writeStringProperty("flow", v.flow());
    keys(v, g);
    g.writeStringProperty("status", v.status().name());
    g.writeStringProperty("v", v.verification() == Verdict.Verification.FULL ? "full" : "partial");
    Set<String> kinds = new LinkedHashSet<>();
    Set<String> stages = new LinkedHashSet<>();
    for (Violation x : v.violations()) {
      kinds.add(x.kind().name());
      stages.add(x.stage());
    }
    g.writeName("kinds");
    g.writeStartArray();
    kinds.forEach(g::writeString);
    g.writeEndArray();
    g.writeName("stages");
    g.writeStartArray();
    stages.forEach(g::writeString);
    g.writeEndArray();
    g.writeNumberProperty("start", v.startEpochNanos() / 1_000_000L);
    g.writeNumberProperty("dur", round3(durationNanos(v) / 1e6));
    if (v.revision() > 0) g.writeNumberProperty("rev", v.revision());
    if (more != null) more.write(g);
    g.writeEndObject();
  }

  /** From the first event to the last thing seen of the instance (a span's end, a consumer's start). */
  public static long durationNanos(Verdict v) {
    long end = 0;
    for (TimelineEntry t : v.timeline()) {
      end = Math.max(end, t.offsetNanos());
      TimelineEntry.Detail d = t.detail();
      if (d != null) {
        end = Math.max(end, t.offsetNanos() + d.durationNanos());
        for (TimelineEntry.Consumer c : d.consumers()) {
          end = Math.max(end, c.offsetNanos());
        }
      }
    }
    return end;
  }

  /** The instance as one JSON object (see the class comment). */
  public static String detail(Verdict v) {
    return write(g -> detail(v, g));
  }

  public static void detail(Verdict v, JsonGenerator g) {
    g.writeStartObject();
    g.writeStringProperty("flow", v.flow());
    keys(v, g);
    g.writeStringProperty("status", v.status().name());
    g.writeStringProperty("v", v.verification() == Verdict.Verification.FULL ? "full" : "partial");
    g.writeStringProperty("start", java.time.Instant.ofEpochSecond(0, v.startEpochNanos()).toString());
    g.writeNumberProperty("dur", round3(durationNanos(v) / 1e6));
    if (!v.reason().isEmpty()) g.writeStringProperty("reason", v.reason());
    if (v.revision() > 0) g.writeNumberProperty("rev", v.revision());
    g.writeName("traceIds");
    g.writeStartArray();
    v.traceIds().forEach(g::writeString);
    g.writeEndArray();
    g.writeName("violations");
    g.writeStartArray();
    for (Violation x : v.violations()) {
      g.writeStartObject();
      g.writeStringProperty("kind", x.kind().name());
      g.writeStringProperty("stage", x.stage());
      if (x.event() != null) g.writeStringProperty("event", x.event());
      if (x.field() != null) g.writeStringProperty("field", x.field());
      g.writeStringProperty("message", x.message());
      if (x.expected() != null) g.writeStringProperty("expected", x.expected());
      if (x.actual() != null) g.writeStringProperty("actual", x.actual());
      Evidence e = x.evidence();
      if (e.traceId() != null) g.writeStringProperty("traceId", e.traceId());
      if (e.spanId() != null) g.writeStringProperty("spanId", e.spanId());
      if (e.topic() != null) {
        g.writeStringProperty("topic", e.topic());
        if (e.partition() != null) g.writeNumberProperty("partition", e.partition());
        if (e.offset() != null) g.writeNumberProperty("offset", e.offset());
      }
      g.writeEndObject();
    }
    g.writeEndArray();
    g.writeName("unverified");
    g.writeStartArray();
    for (Unverified u : v.unverified()) {
      g.writeStartObject();
      g.writeStringProperty("check", u.check());
      g.writeStringProperty("stage", u.stage());
      g.writeStringProperty("subject", u.subject());
      g.writeStringProperty("reason", u.reason());
      g.writeEndObject();
    }
    g.writeEndArray();
    g.writeName("notes");
    g.writeStartArray();
    v.notes().forEach(g::writeString);
    g.writeEndArray();
    g.writeName("hops");
    g.writeStartArray();
    for (TimelineEntry t : v.timeline()) {
      g.writeStartObject();
      g.writeStringProperty("stage", t.stage());
      g.writeStringProperty("event", t.event());
      g.writeStringProperty("where", t.where());
      g.writeNumberProperty("t", round3(t.offsetNanos() / 1e6));
      if (t.traceId() != null) g.writeStringProperty("traceId", t.traceId());
      TimelineEntry.Detail d = t.detail();
      if (d != null) {
        if (d.service() != null) g.writeStringProperty("service", d.service());
        if (d.spanKind() != null) g.writeStringProperty("kind", d.spanKind());
        if (d.spanName() != null) g.writeStringProperty("name", d.spanName());
        if (d.spanId() != null) g.writeStringProperty("spanId", d.spanId());
        if (d.parentSpanId() != null) g.writeStringProperty("parent", d.parentSpanId());
        if (d.durationNanos() > 0) g.writeNumberProperty("dur", round3(d.durationNanos() / 1e6));
        if (d.topic() != null) {
          g.writeStringProperty("topic", d.topic());
          if (d.partition() != null) g.writeNumberProperty("partition", d.partition());
          if (d.offset() != null) g.writeNumberProperty("offset", d.offset());
          g.writeNumberProperty("rt", round3(d.recordOffsetNanos() / 1e6));
        }
        if (!d.consumers().isEmpty()) {
          g.writeName("consumers");
          g.writeStartArray();
          for (TimelineEntry.Consumer c : d.consumers()) {
            g.writeStartObject();
            if (c.service() != null) g.writeStringProperty("service", c.service());
            if (c.traceId() != null) g.writeStringProperty("traceId", c.traceId());
            if (c.spanId() != null) g.writeStringProperty("spanId", c.spanId());
            g.writeNumberProperty("t", round3(c.offsetNanos() / 1e6));
            if (c.dwellEstimated()) g.writeBooleanProperty("est", true);
            g.writeEndObject();
          }
          g.writeEndArray();
        }
        if (d.payload() != null) {
          g.writeName("payload");
          g.writePOJO(d.payload());
        }
        if (!d.schemaProblems().isEmpty()) {
          g.writeName("problems");
          g.writeStartArray();
          d.schemaProblems().forEach(g::writeString);
          g.writeEndArray();
        }
        if (!d.sampled()) g.writeBooleanProperty("unsampled", true);
        if (d.spansLost()) g.writeBooleanProperty("spansLost", true);
        if (d.url() != null) g.writeStringProperty("url", d.url());
        if (d.retried() != null) g.writeStringProperty("retried", d.retried());
      }
      g.writeEndObject();
    }
    g.writeEndArray();
    g.writeEndObject();
  }

  private static void keys(Verdict v, JsonGenerator g) {
    g.writeName("keys");
    g.writeStartObject();
    v.keys().forEach(g::writeStringProperty);
    if (v.keys().isEmpty() && !v.traceIds().isEmpty()) {
      g.writeStringProperty("trace", v.traceIds().get(0));
    }
    g.writeEndObject();
  }

  static double round3(double d) {
    return Math.round(d * 1000) / 1000.0;
  }

  /** Something that writes JSON to a generator. */
  @FunctionalInterface
  public interface JsonWriting {
    void write(JsonGenerator g);
  }

  /** Runs {@code writing} on a generator over a string and returns the text. */
  public static String write(JsonWriting writing) {
    StringWriter out = new StringWriter();
    try (JsonGenerator g = JSON.createGenerator(out)) {
      writing.write(g);
    }
    return out.toString();
  }
}
