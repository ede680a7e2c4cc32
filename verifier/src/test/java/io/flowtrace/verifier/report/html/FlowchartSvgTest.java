package io.flowtrace.verifier.report.html;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class FlowchartSvgTest {

  @Test
  void eachNodeIsDrawnBelowEveryNodeThatLeadsToIt() {
    String svg = FlowchartSvg.render(String.join("\n",
        "flowchart LR",
        "  subgraph s_a[\"stage a\"]",
        "    e_a([\"a<br/>SERVER span\"])",
        "  end",
        "  e_b[(\"b\")]",
        "  e_c[(\"c\")]",
        "  e_d[\"d\"]",
        "  e_a -->|\"when x == 1\"| e_b",
        "  e_a --> e_c",
        "  e_b --> e_d",
        "  e_c -->|\"p50 3 ms\"| e_d",
        ""));

    assertThat(svg).startsWith("<svg class=\"flowchart\"").contains(">stage a</text>", ">when x == 1</text>",
        ">p50 3 ms</text>", ">SERVER span</text>");
    assertThat(top(svg, "a")).isLessThan(top(svg, "b"));
    assertThat(top(svg, "b")).isEqualTo(top(svg, "c"));
    assertThat(top(svg, "d")).isGreaterThan(top(svg, "c"));
  }

  @Test
  void aCycleOfServicesAndTopicsIsLaidOutInRows() {
    String svg = FlowchartSvg.render(String.join("\n",
        "flowchart LR",
        "  s_ord[\"order-service\"]",
        "  t_req[(\"requests\")]",
        "  s_inv[\"inventory-service\"]",
        "  t_rep[(\"replies\")]",
        "  s_ord -->|produces| t_req",
        "  t_req -->|consumed by| s_inv",
        "  s_inv -->|produces| t_rep",
        "  t_rep -->|consumed by| s_ord",
        ""));

    assertThat(top(svg, "order-service")).isLessThan(top(svg, "requests"));
    assertThat(top(svg, "inventory-service")).isLessThan(top(svg, "replies"));
    Matcher h = Pattern.compile("height=\"(\\d+)\"").matcher(svg);
    assertThat(h.find()).isTrue();
    assertThat(Integer.parseInt(h.group(1))).isLessThan(600);
  }

  @Test
  void labelsAreTextNeverMarkup() {
    String svg = FlowchartSvg.render("flowchart LR\n  e_x[\"#lt;script#gt;alert(1)#lt;/script#gt; #quot;q#quot; & co\"]\n");

    assertThat(svg).contains("&lt;script&gt;alert(1)&lt;/script&gt; &quot;q&quot; &amp; co").doesNotContain("<script");
  }

  @Test
  void anythingElseIsLeftToTheSource() {
    assertThat(FlowchartSvg.render("sequenceDiagram\n  a->>b: hi\n")).isNull();
    assertThat(FlowchartSvg.render("flowchart LR\n  a --> b\n")).as("edge between undeclared nodes").isNull();
    assertThat(FlowchartSvg.render("flowchart LR\n  click a call x()\n")).isNull();
  }

  /** The y of the first text line naming the node. */
  private static int top(String svg, String label) {
    Matcher m = Pattern.compile("<text x=\"\\d+\" y=\"(\\d+)\"[^>]*>" + Pattern.quote(label) + "</text>").matcher(svg);
    assertThat(m.find()).as(label).isTrue();
    return Integer.parseInt(m.group(1));
  }
}
