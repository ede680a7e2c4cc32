package io.flowtrace.verifier.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;

/** What the JUnit XML report does with text that XML cannot hold. */
class JUnitXmlWriterTest {

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
}
