package io.flowtrace.tracer.recording;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LineReaderTest {

  /** Every line as "number:text" or "number!problem". */
  private static List<String> lines(LineReader reader) throws IOException {
    List<String> lines = new ArrayList<>();
    while (reader.next()) {
      lines.add(reader.number() + (reader.text() != null ? ":" + reader.text() : "!" + reader.problem()));
    }
    return lines;
  }

  private static LineReader reader(byte[] bytes, int maxLineBytes) {
    return new LineReader(new ByteArrayInputStream(bytes), maxLineBytes);
  }

  private static LineReader reader(String text, int maxLineBytes) {
    return reader(text.getBytes(StandardCharsets.UTF_8), maxLineBytes);
  }

  @Test
  void endsLinesAtLfCrLfAndCrLikeReadLineAndReadsALastLineWithoutLineEnd() throws IOException {
    assertThat(lines(reader("a\nb\r\nc\rd\n\ne", 100)))
        .containsExactly("1:a", "2:b", "3:c", "4:d", "5:", "6:e");
    assertThat(lines(reader("", 100))).isEmpty();
    assertThat(lines(reader("only\r", 100))).containsExactly("1:only");
  }

  @Test
  void readsLinesThatSpanManyBufferFills() throws IOException {
    String long1 = "x".repeat(200_000);
    String long2 = "é".repeat(100_000);
    assertThat(lines(reader(long1 + "\r\n" + long2 + "\nshort", 1 << 20)))
        .containsExactly("1:" + long1, "2:" + long2, "3:short");
  }

  @Test
  void skipsALineLongerThanTheLimitUpToItsEndAndReadsOn() throws IOException {
    String tooLong = "y".repeat(150_000);
    assertThat(lines(reader("ok\n" + "z".repeat(11) + "\n" + tooLong + "\n" + "0123456789\n" + tooLong, 10)))
        .containsExactly("1:ok", "2!line longer than 10 bytes; skipped", "3!line longer than 10 bytes; skipped",
            "4:0123456789", "5!line longer than 10 bytes; skipped");
  }

  @Test
  void skipsALineThatIsNotUtf8AndNamesTheFirstBadByte() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    bytes.writeBytes("good\nab".getBytes(StandardCharsets.UTF_8));
    bytes.write(0xC3); // a two-byte sequence cut short by 'x'
    bytes.writeBytes("x\nüber\n".getBytes(StandardCharsets.UTF_8));
    bytes.write(0xFF);

    assertThat(lines(reader(bytes.toByteArray(), 100))).containsExactly(
        "1:good", "2!not UTF-8 at byte 3 of the line; skipped", "3:über", "4!not UTF-8 at byte 1 of the line; skipped");
  }

  @Test
  void handsALineOverAsBytesUnlessAByteParserWouldReadItOtherwise() throws IOException {
    String longAscii = "a".repeat(150_000);
    String nonAsciiAfterAFill = "b".repeat(100_000) + "ü";
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    bytes.writeBytes(("plain {\"x\":1}\n" + longAscii + "\n" + nonAsciiAfterAFill + "\r\nzürich\n\n"
        + "\uFEFF{\"bom\":1}\n{\"nul\":\"").getBytes(StandardCharsets.UTF_8));
    bytes.write(0);
    bytes.writeBytes("\"}\nab".getBytes(StandardCharsets.UTF_8));
    bytes.write(0xFF);
    LineReader reader = reader(bytes.toByteArray(), 1 << 20);
    List<String> seen = new ArrayList<>();
    while (reader.next()) {
      String asBytes = reader.plainUtf8()
          ? new String(reader.bytes(), reader.offset(), reader.length(), StandardCharsets.UTF_8) : null;
      seen.add(reader.plainUtf8() + ":" + (asBytes == null ? reader.text() : asBytes.equals(reader.text()) ? asBytes : "!"));
    }
    assertThat(seen).containsExactly("true:plain {\"x\":1}", "true:" + longAscii, "true:" + nonAsciiAfterAFill,
        "true:zürich", "true:", "false:\uFEFF{\"bom\":1}", "false:{\"nul\":\"\u0000\"}", "false:null");
  }

  @Test
  void findsEveryLineEndWhereverItFallsInAWordOrABufferFill() throws IOException {
    java.util.Random random = new java.util.Random(20261204);
    String alphabet = "abcdefgh{}\":, é\r\n\n";
    for (int round = 0; round < 200; round++) {
      StringBuilder text = new StringBuilder();
      for (int i = 0, n = random.nextInt(round < 190 ? 200 : 200_000); i < n; i++) {
        text.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      List<String> expected = new ArrayList<>();
      try (java.io.BufferedReader lines = new java.io.BufferedReader(new java.io.StringReader(text.toString()))) {
        for (String line = lines.readLine(); line != null; line = lines.readLine()) {
          expected.add(expected.size() + 1 + ":" + line);
        }
      }
      LineReader reader = reader(text.toString(), 1 << 20);
      List<String> actual = new ArrayList<>();
      while (reader.next()) {
        actual.add(reader.number() + ":" + reader.text());
        assertThat(reader.plainUtf8()).isTrue();
        assertThat(new String(reader.bytes(), reader.offset(), reader.length(), StandardCharsets.UTF_8))
            .isEqualTo(reader.text());
      }
      assertThat(actual).as("round %d", round).isEqualTo(expected);
    }
  }

  @Test
  void keepsAReplacementCharacterThatIsInTheInput() throws IOException {
    assertThat(lines(reader("a\uFFFDb\n", 100))).containsExactly("1:a\uFFFDb");
  }

  @Test
  void aReadErrorLeavesTheNumberOfTheLineItCutOff() throws IOException {
    InputStream failing = new InputStream() {
      @Override
      public int read() throws IOException {
        throw new IOException("disk on fire");
      }
    };
    LineReader reader = new LineReader(new SequenceInputStream(
        new ByteArrayInputStream("one\ntwo\nthr".getBytes(StandardCharsets.UTF_8)), failing), 100);

    assertThat(reader.next()).isTrue();
    assertThat(reader.text()).isEqualTo("one");
    assertThat(reader.next()).isTrue();
    assertThat(reader.text()).isEqualTo("two");
    assertThatThrownBy(reader::next).hasMessage("disk on fire");
    assertThat(reader.number()).isEqualTo(3);
  }
}
