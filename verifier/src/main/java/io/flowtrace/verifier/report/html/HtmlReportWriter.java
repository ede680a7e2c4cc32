package io.flowtrace.verifier.report.html;

import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictListener;
import io.flowtrace.verifier.spec.FlowSpec;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import io.flowtrace.tracer.files.CannotWriteException;
import io.flowtrace.tracer.files.OutputFile;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes one self-contained HTML page of final verdicts: a summary, a filterable table of every
 * instance, and per instance a sequence diagram drawn when it is opened. No network: stylesheet,
 * script and data are inline.
 *
 * <p>Memory stays flat however many instances there are: each verdict's table line and detail are
 * written to temporary files as it is finalized, and the page is assembled from them on {@link
 * #close()}. The data is embedded once: the table lines as JSON, the details (the bulk: every
 * hop's payload) as JSON too but gzip-compressed in chunks of {@value #CHUNK} instances, each chunk
 * base64 in a block of its own, so that a page of 20,000 instances is a fifth of the size and the browser's parser
 * gets through it quickly; a chunk is inflated ({@code DecompressionStream}) only when one of its
 * instances is opened (the table line knows which chunk and where in it).
 */
public final class HtmlReportWriter implements VerdictListener, AutoCloseable {
  private final OutputFile page;
  private final List<FlowSpec> specs;
  private final Set<String> sharedStages;
  private Path rowsFile;
  private Path detailsFile;
  private BufferedWriter rows;
  private BufferedWriter details;
  /** Instances per compressed chunk of details: small enough to inflate at a click, big enough to compress well. */
  static final int CHUNK = 64;
  private final StringBuilder chunk = new StringBuilder();
  private int inChunk;
  private final List<long[]> chunks = new java.util.ArrayList<>();
  private String title = "flowtrace report";
  private String mode = "report";
  private long instances;
  private long passed;
  private long failed;
  private long incomplete;
  private long partial;
  private long inputProblems;
  private long firstStart = Long.MAX_VALUE;
  private long lastEnd = Long.MIN_VALUE;
  private final Map<String, Long> byKind = new TreeMap<>();
  private final Map<String, Long> byStage = new TreeMap<>();
  /** Per topic, how often each service was seen producing to it (for records whose producer span was not). */
  private final Map<String, Map<String, Long>> producers = new TreeMap<>();
  /** flow, then event: the hosts its CLIENT spans called, counted. */
  private final Map<String, Map<String, Map<String, Long>>> called = new TreeMap<>();
  private static final int MAX_TOPICS = 10_000;
  private final Map<String, Long> instancesByKind = new TreeMap<>();
  private boolean closed;

  /**
   * @param target the page to write (replaced on {@link #close()})
   * @param specs the flows, for stage bands and the hops a missing stage should have had
   */
  public HtmlReportWriter(Path target, List<FlowSpec> specs) throws IOException {
    this.specs = List.copyOf(specs);
    this.sharedStages = HtmlData.sharedStageIds(this.specs);
    this.page = OutputFile.create(target); // fails now, naming the path, if it cannot be written
    try {
      Path dir = target.toAbsolutePath().getParent();
      this.rowsFile = Files.createTempFile(dir, ".flowtrace-html-rows-", ".json");
      this.detailsFile = Files.createTempFile(dir, ".flowtrace-html-details-", ".html");
      this.rows = Files.newBufferedWriter(rowsFile, StandardCharsets.UTF_8);
      this.details = Files.newBufferedWriter(detailsFile, StandardCharsets.UTF_8);
    } catch (IOException e) {
      page.close();
      throw CannotWriteException.of(target, e);
    }
  }

  /** The page's title (default {@code flowtrace report}). */
  public HtmlReportWriter title(String newTitle) {
    this.title = newTitle;
    return this;
  }

  /**
   * Draws a single instance (no table): the page a failed JUnit assertion writes. Default: the
   * report with its table.
   */
  public HtmlReportWriter singleInstance() {
    this.mode = "single";
    return this;
  }

  /** How many input problems were skipped (shown in the summary). */
  public void inputProblems(long count) {
    this.inputProblems = count;
  }

  @Override
  public synchronized void finalized(Verdict v) {
    if (closed) {
      return;
    }
    instances++;
    switch (v.status()) {
      case PASSED -> passed++;
      case FAILED -> failed++;
      case INCOMPLETE -> incomplete++;
    }
    if (v.verification() == Verdict.Verification.PARTIAL) {
      partial++;
    }
    java.util.Set<String> kinds = new java.util.TreeSet<>();
    for (Violation x : v.violations()) {
      byKind.merge(x.kind().name(), 1L, Long::sum);
      byStage.merge(HtmlData.stageLabel(sharedStages, v.flow(), x.stage()), 1L, Long::sum);
      kinds.add(x.kind().name());
    }
    kinds.forEach(k -> instancesByKind.merge(k, 1L, Long::sum));
    for (io.flowtrace.verifier.report.TimelineEntry t : v.timeline()) {
      var d = t.detail();
      if (d != null && d.topic() != null && d.service() != null
          && (producers.containsKey(d.topic()) || producers.size() < MAX_TOPICS)) {
        producers.computeIfAbsent(d.topic(), k -> new TreeMap<>()).merge(d.service(), 1L, Long::sum);
      }
      String host = d == null ? null : d.calledHost();
      if (host != null) {
        Map<String, Map<String, Long>> events = called.computeIfAbsent(v.flow(), k -> new TreeMap<>());
        if (events.containsKey(t.event()) || events.size() < MAX_TOPICS) {
          events.computeIfAbsent(t.event(), k -> new TreeMap<>()).merge(host, 1L, Long::sum);
        }
      }
    }
    firstStart = Math.min(firstStart, v.startEpochNanos());
    lastEnd = Math.max(lastEnd, v.startEpochNanos() + HtmlData.durationNanos(v));
    try {
      chunk.append(inChunk == 0 ? '[' : ',').append(HtmlPage.scriptSafe(HtmlData.detail(v)));
      int chunkIndex = chunks.size();
      int index = inChunk++;
      if (inChunk == CHUNK) {
        flushChunk();
      }
      if (instances > 1) {
        rows.write(",\n");
      }
      rows.write(HtmlPage.scriptSafe(HtmlData.write(g -> HtmlData.row(v, g, more -> {
        more.writeName("d");
        more.writeStartArray();
        more.writeNumber(chunkIndex);
        more.writeNumber(index);
        more.writeEndArray();
      }))));
    } catch (IOException e) {
      throw new UncheckedIOException(CannotWriteException.of(page.path(), e));
    }
  }

  /** Leaves no page (nor replaces an earlier one) and removes the temporary files: for a run that failed. */
  public synchronized void abandon() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      rows.close();
      details.close();
    } catch (IOException e) {
      // being thrown away
    }
    page.close();
    deleteQuietly(rowsFile);
    deleteQuietly(detailsFile);
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      // a leftover hidden temporary file is harmless
    }
  }

  /**
   * Assembles the page and puts it at the target in one step.
   *
   * @throws CannotWriteException naming the path and why; nothing is left at the path then
   */
  @Override
  public synchronized void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      flushChunk();
      rows.close();
      details.close();
      try (Writer w = new java.io.BufferedWriter(new java.io.OutputStreamWriter(page.stream(), StandardCharsets.UTF_8))) {
        HtmlPage.head(w, title, mode);
        HtmlPage.openData(w, "ft-meta");
        w.write(HtmlPage.scriptSafe(meta()));
        HtmlPage.closeData(w);
        HtmlPage.openData(w, "ft-rows");
        w.write('[');
        copy(rowsFile, w);
        w.write(']');
        HtmlPage.closeData(w);
        copy(detailsFile, w);
        HtmlPage.tail(w);
      }
      page.commit();
    } catch (CannotWriteException e) {
      throw e;
    } catch (IOException e) {
      throw CannotWriteException.of(page.path(), e);
    } finally {
      page.close();
      deleteQuietly(rowsFile);
      deleteQuietly(detailsFile);
    }
  }

  /** Compresses the details collected so far into one base64 line of the details block. */
  private void flushChunk() throws IOException {
    if (inChunk == 0) {
      return;
    }
    chunk.append(']');
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream(chunk.length() / 4);
    try (java.util.zip.GZIPOutputStream gz = new java.util.zip.GZIPOutputStream(bytes)) {
      gz.write(chunk.toString().getBytes(StandardCharsets.UTF_8));
    }
    // base64: nothing in it can end the block or mean markup
    details.write("<script type=\"application/octet-stream\" id=\"ft-c" + chunks.size() + "\">");
    details.write(java.util.Base64.getEncoder().encodeToString(bytes.toByteArray()));
    details.write("</script>\n");
    chunks.add(new long[] {chunks.size(), inChunk});
    chunk.setLength(0);
    inChunk = 0;
  }

  private String meta() {
    return HtmlData.write(g -> {
      g.writeStartObject();
      g.writeStringProperty("title", title);
      g.writeName("flows");
      g.writeRawValue(HtmlData.flows(specs));
      g.writeNumberProperty("chunks", chunks.size());
      // the service that produced each topic's records where their producer spans were seen: who
      // most likely produced one whose span was not (an unsampled trace), and a missing one
      g.writeName("producers");
      g.writeStartObject();
      producers.forEach((topic, by) -> g.writeStringProperty(topic,
          by.entrySet().stream().max(Map.Entry.comparingByValue()).get().getKey()));
      g.writeEndObject();
      // the host each call event reached where its CLIENT span was seen: where one that was not
      // (an unsampled trace) went, rather than one "external service" for every party
      g.writeName("called");
      g.writeStartObject();
      for (Map.Entry<String, Map<String, Map<String, Long>>> flow : called.entrySet()) {
        g.writeName(flow.getKey());
        g.writeStartObject();
        flow.getValue().forEach((event, by) -> g.writeStringProperty(event,
            by.entrySet().stream().max(Map.Entry.comparingByValue()).get().getKey()));
        g.writeEndObject();
      }
      g.writeEndObject();
      g.writeName("summary");
      g.writeStartObject();
      g.writeNumberProperty("instances", instances);
      g.writeNumberProperty("passed", passed);
      g.writeNumberProperty("failed", failed);
      g.writeNumberProperty("incomplete", incomplete);
      g.writeNumberProperty("full", instances - partial);
      g.writeNumberProperty("partial", partial);
      g.writeNumberProperty("inputProblems", inputProblems);
      if (instances > 0) {
        g.writeStringProperty("from", java.time.Instant.ofEpochSecond(0, firstStart).toString());
        g.writeStringProperty("to", java.time.Instant.ofEpochSecond(0, lastEnd).toString());
      }
      counts(g, "byKind", byKind);
      counts(g, "instancesByKind", instancesByKind);
      counts(g, "byStage", byStage);
      g.writeEndObject();
      g.writeEndObject();
    });
  }

  private static void counts(tools.jackson.core.JsonGenerator g, String name, Map<String, Long> counts) {
    g.writeName(name);
    g.writeStartObject();
    counts.forEach(g::writeNumberProperty);
    g.writeEndObject();
  }

  private static void copy(Path file, Writer w) throws IOException {
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      r.transferTo(w);
    }
  }
}
