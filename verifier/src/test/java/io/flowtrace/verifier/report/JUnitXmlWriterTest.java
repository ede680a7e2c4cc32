package io.flowtrace.verifier.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.flowtrace.tracer.files.CannotWriteException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JUnit XML report: times, the file others read, and text that XML cannot hold. */
class JUnitXmlWriterTest {

  @TempDir Path dir;

  @Test
  void eachCaseTakesItsInstancesFirstToLastEventAndTheSuiteTheirSum() throws Exception {
    Path xml = dir.resolve("reports/flowtrace.xml");
    try (JUnitXmlWriter writer = new JUnitXmlWriter(xml)) {
      // 1.2344 s and 2.0005 s between first and last event: rounded half up to the millisecond.
      writer.finalized(verdict("O-1", VerdictStatus.PASSED, 0, 400_000_000, 1_234_400_000));
      writer.finalized(verdict("O-2", VerdictStatus.INCOMPLETE, 100_000_000, 2_100_500_000));
      writer.finalized(verdict("O-3", VerdictStatus.PASSED));
      assertThat(xml).as("nothing at the path before close").doesNotExist();
    }

    assertThat(Files.readString(xml)).isEqualTo("""
        <?xml version="1.0" encoding="UTF-8"?>
        <testsuite name="flowtrace" tests="3" failures="0" errors="0" skipped="1" time="3.235">
          <testcase classname="order-creation" name="orderId=O-1" time="1.234">
          </testcase>
          <testcase classname="order-creation" name="orderId=O-2" time="2.001">
            <skipped message="incomplete: the input ended before the flow's deadline"/>
          </testcase>
          <testcase classname="order-creation" name="orderId=O-3" time="0.000">
          </testcase>
        </testsuite>
        """);
    assertThat(names(xml.getParent())).as("no scratch left").containsExactly("flowtrace.xml");
  }

  @Test
  void theReportIsReadableByOthersAsAnyNewFileIsUnderTheUmask() throws Exception {
    assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"), "POSIX file system");
    Path reference = Files.createFile(dir.resolve("any-tool"));
    assumeTrue(PosixFilePermissions.toString(Files.getPosixFilePermissions(reference)).equals("rw-r--r--"), "umask 022");
    Path xml = dir.resolve("flowtrace.xml");

    new JUnitXmlWriter(xml).close();

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(xml))).isEqualTo("rw-r--r--");
  }

  @Test
  void aPathThatCannotBeWrittenIsNamedWithWhyBeforeAnythingIsVerified() throws Exception {
    Path file = Files.writeString(dir.resolve("notes.txt"), "x");
    Path xml = file.resolve("flowtrace.xml");

    assertThatThrownBy(() -> new JUnitXmlWriter(xml))
        .isInstanceOf(CannotWriteException.class)
        .hasMessage("cannot write " + xml + ": " + file + " is not a directory (FileAlreadyExistsException)");
  }

  @Test
  void anAbandonedReportLeavesNothing() throws Exception {
    Path xml = dir.resolve("flowtrace.xml");
    JUnitXmlWriter writer = new JUnitXmlWriter(xml);
    writer.finalized(verdict("O-1", VerdictStatus.PASSED, 0));

    writer.abandon();
    writer.close();

    assertThat(names(dir)).isEmpty();
  }

  @Test
  void textXmlCannotHoldBecomesAReplacementCharacterAndTheDocumentStaysWellFormed() throws Exception {
    String hostile = "id=a\uD800 \uDC00b \uFFFF\uFFFE <&\"> \u0001 ok \uD83D\uDE00";

    String escaped = JUnitXmlWriter.esc(hostile);

    assertThat(escaped).isEqualTo("id=a\uFFFD \uFFFDb \uFFFD\uFFFD &lt;&amp;&quot;&gt;   ok \uD83D\uDE00");
    byte[] xml = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><testcase name=\"" + escaped + "\"/>")
        .getBytes(StandardCharsets.UTF_8);
    var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new ByteArrayInputStream(xml));
    assertThat(doc.getDocumentElement().getAttribute("name")).endsWith("ok \uD83D\uDE00");
  }

  private static Verdict verdict(String orderId, VerdictStatus status, long... offsetsNanos) {
    List<TimelineEntry> timeline = Arrays.stream(offsetsNanos)
        .mapToObj(o -> new TimelineEntry("order-created", "orders_created", "orders.created[0]@" + o, o, null))
        .toList();
    long start = 1_790_000_000_000_000_000L;
    return new Verdict("order-creation", Map.of("orderId", orderId), status, List.of(), List.of(), start,
        start + 31_000_000_000L, 0, status == VerdictStatus.INCOMPLETE ? "deadline" : "", timeline);
  }

  private static List<String> names(Path dir) throws java.io.IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
