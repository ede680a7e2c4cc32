package io.flowtrace.verifier.replay;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.otlp.OtlpEncoder;
import io.flowtrace.tracer.recording.KcatJsonLinesWriter;
import io.flowtrace.tracer.recording.OtlpJsonLinesWriter;
import io.flowtrace.tracer.recording.ReadListener;
import io.flowtrace.verifier.assembly.FlowEngine;
import io.flowtrace.verifier.assembly.ShopFlows;
import io.flowtrace.verifier.check.ViolationKind;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictListener;
import io.flowtrace.verifier.report.VerdictStatus;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file cut off part-way (a gzip whose end is lost). Past the cut of a service's spans, flows lost
 * those spans to unreadable input, not to the system: they are not verified where only those spans
 * tell, rather than failed, and what the records still show is judged. A flow that fails says when
 * what it lacks may have been in what could not be read.
 */
class CutFileTest {

  private static final int ORDERS = 60;

  @TempDir Path dir;

  @Test
  void flowsPastTheCutOfAServicesSpanFileAreNotFailedForTheSpansItLost() throws Exception {
    Path recording = write(List.of(), false);

    Map<String, Verdict> finals = replay(recording, "ord.otlp.jsonl.gz");

    assertThat(finals).hasSize(ORDERS);
    assertThat(finals.values()).allSatisfy(v -> assertThat(v.status()).as(v.toString()).isEqualTo(VerdictStatus.PASSED));
    List<Verdict> partly = finals.values().stream().filter(v -> !v.unverified().isEmpty()).toList();
    assertThat(partly).as("the flows past the cut").hasSizeBetween(ORDERS / 4, ORDERS - ORDERS / 4);
    assertThat(partly).allSatisfy(v -> assertThat(v.unverified().toString())
        .contains("did not reach this run", "a file of spans could not be read"));
    assertThat(finals.get("o-0").unverified()).as("a flow long before the cut").isEmpty();
  }

  @Test
  void aDefectPastTheCutThatTheRecordsShowIsStillFoundAndSaysTheInputWasCut() throws Exception {
    ShopFlows.Order wrongTotal = ShopFlows.order("o-45", 45_000L);
    wrongTotal.wrongAcceptedTotal = true;
    ShopFlows.Order noDone = ShopFlows.order("o-46", 46_000L);
    noDone.noDone = true;
    Path recording = write(List.of(wrongTotal, noDone), false);

    Map<String, Verdict> finals = replay(recording, "ord.otlp.jsonl.gz");

    Verdict total = finals.get(wrongTotal.orderId);
    assertThat(total.status()).isEqualTo(VerdictStatus.FAILED);
    assertThat(total.violations()).anySatisfy(x -> assertThat(x.kind()).isEqualTo(ViolationKind.BAD_TRANSFORMATION));
    assertThat(total.notes()).anySatisfy(n -> assertThat(n).contains("ord.otlp.jsonl.gz:", "could not be read to its end",
        "its spans were read up to", "this verdict may be wrong for that alone"));
    Verdict done = finals.get(noDone.orderId);
    assertThat(done.violations()).anySatisfy(x -> {
      assertThat(x.kind()).isEqualTo(ViolationKind.MISSING_STAGE);
      assertThat(x.stage()).isEqualTo("done");
    });
    assertThat(done.notes()).anySatisfy(n -> assertThat(n).contains("could not be read to its end"));
    assertThat(finals.values().stream().filter(v -> v.status() != VerdictStatus.PASSED))
        .extracting(v -> v.keys().get("orderId")).containsExactlyInAnyOrder(wrongTotal.orderId, noDone.orderId);
  }

  @Test
  void everyFlowThatFailsWhenAFileOfRecordsWasCutSaysItsEventsMayHaveBeenInIt() throws Exception {
    Path recording = write(List.of(), true);

    Map<String, Verdict> finals = replay(recording, "messages.kcat.jsonl.gz");

    List<Verdict> failed = finals.values().stream().filter(v -> v.status() == VerdictStatus.FAILED).toList();
    assertThat(failed).as("the flows whose records were past the cut").isNotEmpty();
    assertThat(failed).allSatisfy(v -> assertThat(v.notes()).as(v.toString()).anySatisfy(n -> assertThat(n)
        .contains("messages.kcat.jsonl.gz:", "could not be read to its end: what followed may have held this flow's events")));
    assertThat(finals.values().stream().filter(v -> v.status() == VerdictStatus.PASSED))
        .as("passed flows carry no note").isNotEmpty().allSatisfy(v -> assertThat(v.notes()).isEmpty());
  }

  /**
   * One line of ord's spans cut in two, the file read on (trial M: 20 clean claims failed
   * MISSING_STAGE, no note saying why): the flows whose spans that request held are not failed for
   * them — those whose records' producer spans it held, and those that lost only a span of their
   * own (a webhook's server span), whose trace the lost text names.
   */
  @Test
  void flowsWhoseSpansWereInARequestCutInTwoAreNotFailedForThem() throws Exception {
    Path recording = write(List.of(), false);
    Path ord = dir.resolve("ord.otlp.jsonl");
    List<String> lines = new ArrayList<>(Files.readAllLines(ord));
    String cut = lines.get(lines.size() / 2);
    lines.set(lines.size() / 2, cut.substring(0, cut.length() / 2));
    Files.delete(recording.resolve("ord.otlp.jsonl.gz"));
    Files.write(recording.resolve("ord.otlp.jsonl"), lines);

    Map<String, Verdict> finals = replay(recording, "ord.otlp.jsonl:" + (lines.size() / 2 + 1),
        "the request is cut short");

    assertThat(finals).hasSize(ORDERS);
    List<Verdict> partly = finals.values().stream().filter(v -> !v.unverified().isEmpty()).toList();
    assertThat(finals.values()).allSatisfy(v -> assertThat(v.status()).as(v.toString()).isEqualTo(VerdictStatus.PASSED));
    assertThat(partly).as("the flows whose spans the lost half of the request held").hasSizeBetween(2, 10)
        .allSatisfy(v -> assertThat(v.unverified().toString()).contains("did not reach this run"));
    assertThat(partly).as("one that lost only its webhook's server span").anySatisfy(v -> assertThat(v.unverified())
        .anySatisfy(u -> assertThat(u.toString()).contains("SERVER span", "not observed")));
  }

  private Map<String, Verdict> replay(Path recording, String cutFile) throws Exception {
    return replay(recording, cutFile, "rest of the file skipped");
  }

  private Map<String, Verdict> replay(Path recording, String cutFile, String problem) throws Exception {
    Map<String, Verdict> finals = new ConcurrentHashMap<>();
    FlowEngine engine = FlowEngine.builder(TestRecordings.shopFlows(dir)).listener(new VerdictListener() {
      @Override
      public void finalized(Verdict v) {
        finals.put(v.keys().getOrDefault("orderId", "no key, trace " + v.traceIds()), v);
      }
    }).build();
    List<String> problems = new ArrayList<>();
    ReadListener listener = p -> problems.add(p.toString());
    ReplayResult result = Replay.builder(engine).problems(listener).build().run(recording);
    assertThat(result.readProblems()).isEqualTo(1);
    assertThat(problems).singleElement().asString().contains(cutFile, problem);
    return finals;
  }

  /**
   * Orders 1 s apart (the {@code changed} ones in place of clean ones); service ord's spans, or
   * when {@code cutRecords} all records, in a gzip cut at half.
   */
  private Path write(List<ShopFlows.Order> changed, boolean cutRecords) throws Exception {
    Path recording = Files.createDirectories(dir.resolve("recording"));
    ShopFlows shop = new ShopFlows();
    List<KafkaRecord> records = new ArrayList<>();
    List<Span> ord = new ArrayList<>();
    List<Span> others = new ArrayList<>();
    for (int i = 0; i < ORDERS; i++) {
      String id = "o-" + i;
      ShopFlows.Order order = changed.stream().filter(o -> o.orderId.equals(id)).findFirst()
          .orElse(ShopFlows.order(id, i * 1000L));
      for (Telemetry t : shop.telemetry(order)) {
        if (t instanceof Telemetry.RecordEvent r) {
          records.add(r.record());
        } else {
          Span s = ((Telemetry.SpanEvent) t).span();
          (s.service().equals("ord") ? ord : others).add(s);
        }
      }
    }
    Path messages = (cutRecords ? dir : recording).resolve("messages.kcat.jsonl");
    try (KcatJsonLinesWriter w = KcatJsonLinesWriter.open(messages)) {
      for (KafkaRecord r : records) {
        w.write(r);
      }
    }
    spans(recording.resolve("others.otlp.jsonl"), others);
    Path ordSpans = spans((cutRecords ? recording : dir).resolve("ord.otlp.jsonl"), ord);
    Path whole = cutRecords ? messages : ordSpans;
    ByteArrayOutputStream gz = new ByteArrayOutputStream();
    try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
      out.write(Files.readAllBytes(whole));
    }
    byte[] bytes = gz.toByteArray();
    Files.write(recording.resolve(whole.getFileName() + ".gz"), Arrays.copyOf(bytes, bytes.length / 2));
    return recording;
  }

  /** Spans as an exporter writes them: in batches of 10, in end-time order. */
  private static Path spans(Path file, List<Span> spans) throws Exception {
    List<Span> sorted = new ArrayList<>(spans);
    sorted.sort(Comparator.comparingLong(Span::endEpochNanos));
    try (OtlpJsonLinesWriter w = OtlpJsonLinesWriter.open(file)) {
      for (int from = 0; from < sorted.size(); from += 10) {
        w.write(OtlpEncoder.request(sorted.subList(from, Math.min(sorted.size(), from + 10))));
      }
    }
    return file;
  }
}
