package io.flowtrace.verifier.replay;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.recording.ReadListener;
import io.flowtrace.tracer.recording.ReadProblem;
import io.flowtrace.tracer.recording.RecordingReader;
import io.flowtrace.verifier.assembly.FlowEngine;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictListener;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A broken recording file is a problem of that file: replay reads the rest and decides what it read. */
class ReplayReadProblemsTest {

  private static final String SPEC = String.join("\n",
      "flow: placed-only",
      "keys: [orderId]",
      "deadline: 10s",
      "stages:",
      "  - id: placed",
      "    terminal: true",
      "    events:",
      "      - id: placed_msg",
      "        topic: t.placed",
      "");

  private static final long T0 = 1_764_000_000_000L;

  @TempDir Path dir;
  private Path recording;
  private Path specs;
  private final List<String> problems = new CopyOnWriteArrayList<>();
  private final ReadListener listener = new ReadListener() {
    @Override
    public void problem(ReadProblem problem) {
      problems.add(problem.toString());
    }
  };

  @BeforeEach
  void writeSpec() throws IOException {
    specs = Files.createDirectories(dir.resolve("flows"));
    Files.writeString(specs.resolve("placed.flow.yaml"), SPEC);
    recording = Files.createDirectories(dir.resolve("recording"));
  }

  private static String lines(int from, int to) {
    StringBuilder text = new StringBuilder();
    for (int i = from; i < to; i++) {
      text.append("{\"topic\":\"t.placed\",\"partition\":0,\"offset\":").append(i).append(",\"ts\":")
          .append(T0 + i).append(",\"payload\":\"{\\\"orderId\\\":\\\"o-").append(i).append("\\\"}\"}\n");
    }
    return text.toString();
  }

  private static byte[] gzip(byte[] bytes) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
      gzip.write(bytes);
    }
    return out.toByteArray();
  }

  /** How many whole lines gunzip delivers from a cut gzip before it fails. */
  private static int wholeLinesBeforeTheCut(byte[] cut) throws IOException {
    int lines = 0;
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(cut))) {
      for (int b; (b = in.read()) >= 0; ) {
        lines += b == '\n' ? 1 : 0;
      }
    } catch (EOFException e) {
      return lines;
    }
    throw new AssertionError("the gzip is not cut off");
  }

  /** Writes good.kcat.jsonl (orders 0..99) and cut.kcat.jsonl.gz (orders 1000..3999, its end cut off); returns the orders the cut file still holds. */
  private int writeAGoodFileAndACutGzip() throws IOException {
    Files.writeString(recording.resolve("good.kcat.jsonl"), lines(0, 100));
    byte[] whole = gzip(lines(1000, 4000).getBytes(StandardCharsets.UTF_8));
    byte[] cut = Arrays.copyOf(whole, whole.length - 100);
    Files.write(recording.resolve("cut.kcat.jsonl.gz"), cut);
    int kept = wholeLinesBeforeTheCut(cut);
    assertThat(kept).isBetween(1000, 2999);
    return kept;
  }

  @ParameterizedTest(name = "{0} read threads")
  @ValueSource(ints = {1, 2})
  void aCutOffGzipDoesNotAbortTheReplay(int threads) throws Exception {
    int kept = writeAGoodFileAndACutGzip();
    Set<String> decided = ConcurrentHashMap.newKeySet();
    FlowEngine engine = FlowEngine.builder(new FlowSpecLoader().load(specs)).listener(new VerdictListener() {
      @Override
      public void decided(Verdict v) {
        decided.add(v.keys().get("orderId"));
      }
    }).build();

    ReplayResult result = Replay.builder(engine).problems(listener).readThreads(threads).build().run(recording);

    assertThat(result.files()).isEqualTo(2);
    assertThat(result.records()).isEqualTo(100 + kept);
    assertThat(result.readProblems()).isEqualTo(1);
    assertThat(problems).containsExactly(recording.resolve("cut.kcat.jsonl.gz") + ":" + (kept + 1)
        + ": file cut off or corrupt here: Unexpected end of ZLIB input stream; rest of the file skipped");
    assertThat(decided).hasSize(100 + kept).contains("o-0", "o-99", "o-1000", "o-" + (1000 + kept - 1));
  }

  @ParameterizedTest(name = "{0} read threads")
  @ValueSource(ints = {1, 2})
  void aFileGoneOrUnreadableAfterListingIsReportedAndTheOthersAreRead(int threads) throws Exception {
    int kept = writeAGoodFileAndACutGzip();
    Files.writeString(recording.resolve("more.kcat.jsonl"), lines(5000, 5010));
    RecordingReader reader = RecordingReader.defaults();
    List<Path> files = reader.files(recording);
    Files.delete(recording.resolve("more.kcat.jsonl"));
    List<Telemetry> read = new CopyOnWriteArrayList<>();

    ParallelRead.read(reader, files, threads, read::add, listener);

    assertThat(read).hasSize(100 + kept);
    assertThat(problems).hasSize(2).contains(
        recording.resolve("more.kcat.jsonl") + ":1: cannot read the file: no such file; the file is skipped");
  }
}
