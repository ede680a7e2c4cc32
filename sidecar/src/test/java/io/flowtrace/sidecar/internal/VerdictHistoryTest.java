package io.flowtrace.sidecar.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading back the verdicts of an earlier run from its JSON-lines files. */
class VerdictHistoryTest {

  @TempDir Path dir;

  @Test
  void theWindowEndsWhenTheLastRunStoppedWritingNotNowSoALongDowntimeLosesNothing() throws Exception {
    Instant stoppedWriting = Instant.now().minus(Duration.ofHours(3));
    write("verdicts-0000.jsonl", stoppedWriting.minus(Duration.ofHours(1)), verdict("O-1", "aaaa"));
    write("verdicts-0001.jsonl", stoppedWriting.minus(Duration.ofMinutes(1)), verdict("O-2", "bbbb"));
    write("verdicts-0002.jsonl", stoppedWriting, verdict("O-3", "cccc"), "not json", verdict("O-4", "dddd"));
    Files.createFile(dir.resolve("verdicts-0003.jsonl")); // opened by this run's output, empty: not the end of the window

    List<VerdictHistory.Decided> read = plain(VerdictHistory.fromDirectory(dir, Duration.ofMinutes(5)));

    assertThat(read).containsExactly(
        new VerdictHistory.Decided("order-creation", Map.of("orderId", "O-2"), List.of("bbbb"), 0, "PASSED", List.of()),
        new VerdictHistory.Decided("order-creation", Map.of("orderId", "O-3"), List.of("cccc"), 0, "PASSED", List.of()),
        new VerdictHistory.Decided("order-creation", Map.of("orderId", "O-4"), List.of("dddd"), 0, "PASSED", List.of()));
  }

  @Test
  void eachInstanceIsRememberedWithItsLatestRevisionAndWhatItSaid() throws Exception {
    write("verdicts-0000.jsonl", Instant.now(), verdict("O-1", "aaaa"),
        "{\"instanceKey\":\"order-creation|orderId=O-1\",\"revision\":1,\"verdict\":{\"flow\":\"order-creation\","
            + "\"status\":\"FAILED\",\"keys\":{\"orderId\":\"O-1\"},\"traceIds\":[\"aaaa\"],\"violations\":["
            + "{\"kind\":\"NON_IDEMPOTENT\",\"stage\":\"payment-captured\"},{\"kind\":\"BAD_TRANSFORMATION\","
            + "\"stage\":\"order-created\"}]}}",
        verdict("O-2", "bbbb"));

    List<VerdictHistory.Decided> latest = plain(VerdictHistory.latest(VerdictHistory.fromDirectory(dir, Duration.ofMinutes(5))));

    assertThat(latest).containsExactly(
        new VerdictHistory.Decided("order-creation", Map.of("orderId", "O-1"), List.of("aaaa"), 1,
            "FAILED", List.of("NON_IDEMPOTENT@payment-captured", "BAD_TRANSFORMATION@order-created")),
        new VerdictHistory.Decided("order-creation", Map.of("orderId", "O-2"), List.of("bbbb"), 0, "PASSED", List.of()));
  }

  @Test
  void whatOneOutputHoldsAndTheOtherLacksIsFoundByInstanceAndRevisionWithItsTextAsWritten() throws Exception {
    write("verdicts-0000.jsonl", Instant.now(), verdict("O-1", "aaaa"), verdict("O-2", "bbbb"));
    List<VerdictHistory.Decided> files = VerdictHistory.fromDirectory(dir, Duration.ofMinutes(5));
    Files.delete(dir.resolve("verdicts-0000.jsonl"));
    write("verdicts-0000.jsonl", Instant.now(), verdict("O-1", "aaaa"), verdict("O-3", "cccc"),
        verdict("O-2", "bbbb").replace("\"revision\":0", "\"revision\":1"));
    List<VerdictHistory.Decided> topic = VerdictHistory.fromDirectory(dir, Duration.ofMinutes(5));

    assertThat(VerdictHistory.missing(topic, files)).extracting(VerdictHistory.Decided::id)
        .containsExactly("order-creation|orderId=O-3#0", "order-creation|orderId=O-2#1");
    assertThat(VerdictHistory.missing(topic, files).get(0).json()).isEqualTo(verdict("O-3", "cccc"));
    assertThat(VerdictHistory.missing(files, topic)).extracting(VerdictHistory.Decided::id)
        .containsExactly("order-creation|orderId=O-2#0");
  }

  /**
   * A topic is read back for a window, files whole: verdicts the files hold from before the
   * earliest one read from the topic are not missing from it, only unread — copied, they were
   * published again at every restart.
   */
  @Test
  void onlyWhatTheOtherOutputWasReadForIsMissingFromIt() throws Exception {
    Instant t = Instant.parse("2026-12-06T08:00:00Z");
    write("verdicts-0000.jsonl", Instant.now(), decided(verdict("O-1", "aaaa"), t), decided(verdict("O-2", "bbbb"),
        t.plusSeconds(60)), decided(verdict("O-3", "cccc"), t.plusSeconds(90)));
    List<VerdictHistory.Decided> files = VerdictHistory.fromDirectory(dir, Duration.ofMinutes(5));
    Files.delete(dir.resolve("verdicts-0000.jsonl"));
    write("verdicts-0000.jsonl", Instant.now(), decided(verdict("O-2", "bbbb"), t.plusSeconds(60)));
    List<VerdictHistory.Decided> topicWindow = VerdictHistory.fromDirectory(dir, Duration.ofMinutes(5));

    assertThat(VerdictHistory.missing(files, topicWindow, false)).extracting(VerdictHistory.Decided::id)
        .as("O-1 was decided before anything read of the topic; O-3 after, and is not there")
        .containsExactly("order-creation|orderId=O-3#0");
    assertThat(VerdictHistory.missing(files, topicWindow, true)).extracting(VerdictHistory.Decided::id)
        .as("read whole: what it lacks, it lacks").containsExactly("order-creation|orderId=O-1#0",
            "order-creation|orderId=O-3#0");
    assertThat(VerdictHistory.missing(files, List.of(), false)).as("an output with nothing read lacks everything")
        .hasSize(3);
  }

  private static String decided(String verdict, Instant at) {
    return verdict.replace("\"revision\":0,", "\"revision\":0,\"decided\":\"" + at + "\",");
  }

  @Test
  void anEmptyOrMissingDirectoryHasNoHistory() throws Exception {
    assertThat(VerdictHistory.fromDirectory(dir, Duration.ofMinutes(5))).isEmpty();
    assertThat(VerdictHistory.fromDirectory(dir.resolve("missing"), Duration.ofMinutes(5))).isEmpty();
  }

  /** Without what identifies the text read (instance key, JSON), to compare what was understood. */
  private static List<VerdictHistory.Decided> plain(List<VerdictHistory.Decided> read) {
    return read.stream().map(d -> new VerdictHistory.Decided(d.flow(), d.keys(), d.traceIds(), d.revision(), d.status(),
        d.violations())).toList();
  }

  private void write(String name, Instant modified, String... lines) throws Exception {
    Path f = dir.resolve(name);
    Files.write(f, List.of(lines));
    Files.setLastModifiedTime(f, FileTime.from(modified));
  }

  private static String verdict(String orderId, String traceId) {
    return "{\"instanceKey\":\"order-creation|orderId=" + orderId + "\",\"revision\":0,\"verdict\":{\"flow\":\"order-creation\","
        + "\"status\":\"PASSED\",\"keys\":{\"orderId\":\"" + orderId + "\"},\"traceIds\":[\"" + traceId + "\"]}}";
  }
}
