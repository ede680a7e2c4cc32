package io.flowtrace.verifier.report.html;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MarkdownPageTest {

  /** A trial's stage table ran off a 1,400 px page: its schema column was one unbreakable path. */
  @Test
  void aTableCellOfIdentifiersMayWrapAtTheirSeparatorsAndTheTableScrollsRatherThanSpill() {
    String page = MarkdownPage.render("t", String.join("\n",
        "| event | schema |",
        "|---|---|",
        "| `v2_preauthorizations_request` | JSON Schema schemas/v2_preauthorizations.schema.json, p50 1.5 s |",
        ""));

    assertThat(page).contains("<div class=\"tablewrap\"><table class=\"doc\">")
        .contains("<th>event</th><th>schema</th>")
        .contains("<code>v2_<wbr>preauthorizations_<wbr>request</code>")
        .contains("schemas/<wbr>v2_<wbr>preauthorizations.<wbr>schema.<wbr>json, p50 1.5 s");
  }

  @Test
  void breaksGoNeitherIntoMarkupNorIntoEscapes() {
    assertThat(MarkdownPage.breakable("<a href=\"x_y/z.html\">a_b</a> &lt;x_y&gt; 1.5"))
        .isEqualTo("<a href=\"x_y/z.html\">a_<wbr>b</a> &lt;x_<wbr>y&gt; 1.5");
  }
}
