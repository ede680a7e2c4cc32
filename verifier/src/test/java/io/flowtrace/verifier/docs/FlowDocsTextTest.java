package io.flowtrace.verifier.docs;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FlowDocsTextTest {

  /** A trial's raw page read "returns-api (POST /returns) -&gt; returns.requested". */
  @Test
  void anArrowInTextStaysReadableWhileMarkupStaysText() {
    assertThat(FlowDocs.md("returns-api (POST /returns) -> returns.requested"))
        .isEqualTo("returns-api (POST /returns) -> returns.requested");
    assertThat(FlowDocs.md("<script>alert(1)</script> a|b")).isEqualTo("&lt;script>alert(1)&lt;/script> a\\|b");
    assertThat(FlowDocs.md("> not a quote")).isEqualTo("&gt; not a quote");
  }
}
