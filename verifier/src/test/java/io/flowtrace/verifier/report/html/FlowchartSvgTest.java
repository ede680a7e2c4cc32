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
  void labelsOfEdgesLeavingOneNodeNeitherCoverEachOtherNorANodeNorLeaveThePicture() {
    String svg = FlowchartSvg.render(String.join("\n",
        "flowchart LR",
        "  e_s[(\"claims_scored<br/>topic claims.scored\")]",
        "  e_r[(\"claims_rejected\")]",
        "  e_t[(\"claims_settled\")]",
        "  e_u[(\"claims_referred\")]",
        "  e_s -->|\"when claims_scored.riskLevel == #quot;HIGH#quot; · p50 212.0 ms\"| e_r",
        "  e_s -->|\"when claims_scored.riskLevel in [#quot;LOW#quot;, #quot;MEDIUM#quot;] · p50 216.0 ms\"| e_t",
        "  e_s -->|\"when claims_scored.riskLevel == #quot;REVIEW#quot; · p50 1.2 s\"| e_u",
        ""));

    java.util.List<int[]> labels = new java.util.ArrayList<>();
    Matcher t = Pattern.compile("<text x=\"(-?\\d+)\" y=\"(-?\\d+)\" font-size=\"10\" text-anchor=\"(start|end)\"[^>]*>([^<]*)</text>")
        .matcher(svg);
    while (t.find()) {
      int w = 6 * t.group(4).replace("&quot;", "\"").length();
      int x = Integer.parseInt(t.group(1));
      labels.add(new int[] {t.group(3).equals("end") ? x - w : x, Integer.parseInt(t.group(2)) - 10, w, 13});
    }
    Matcher width = Pattern.compile("width=\"(\\d+)\"").matcher(svg);
    assertThat(width.find()).isTrue();
    assertThat(labels).hasSize(3).allSatisfy(l -> assertThat(l[0]).isNotNegative()
        .isLessThanOrEqualTo(Integer.parseInt(width.group(1)) - l[2]));
    for (int i = 0; i < labels.size(); i++) {
      for (int j = i + 1; j < labels.size(); j++) {
        int[] a = labels.get(i);
        int[] b = labels.get(j);
        assertThat(a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3])
            .as("labels %d and %d overlap%n%s", i, j, svg).isFalse();
      }
    }
    Matcher node = Pattern.compile("<rect x=\"(\\d+)\" y=\"(\\d+)\" width=\"(\\d+)\" height=\"(\\d+)\"").matcher(svg);
    while (node.find()) {
      int[] n = {Integer.parseInt(node.group(1)), Integer.parseInt(node.group(2)), Integer.parseInt(node.group(3)),
          Integer.parseInt(node.group(4))};
      assertThat(labels).noneSatisfy(l -> assertThat(
          l[0] < n[0] + n[2] && n[0] < l[0] + l[2] && l[1] < n[1] + n[3] && n[1] < l[1] + l[3]).isTrue());
    }
  }

  @Test
  void anEdgePastARowGoesAroundTheNodeInItsWayWithItsLabelBesideIt() {
    String svg = FlowchartSvg.render(String.join("\n",
        "flowchart LR",
        "  e_a[(\"a\")]",
        "  e_b[(\"b in the way\")]",
        "  e_c[(\"c\")]",
        "  e_a --> e_b",
        "  e_b --> e_c",
        "  e_a -->|\"p50 16 ms\"| e_c",
        ""));

    Matcher rect = Pattern.compile("<rect x=\"(\\d+)\" y=\"(\\d+)\" width=\"(\\d+)\" height=\"(\\d+)\"[^>]*/>\\n<text[^>]*>b in the way")
        .matcher(svg);
    assertThat(rect.find()).as(svg).isTrue();
    int left = Integer.parseInt(rect.group(1));
    int right = left + Integer.parseInt(rect.group(3));
    Matcher lane = Pattern.compile("<path d=\"M[^\"]* L(\\d+),[^\"]*\" fill=\"none\"").matcher(svg);
    assertThat(lane.find()).as("the a -> c edge has a straight lane beside b%n%s", svg).isTrue();
    int laneX = Integer.parseInt(lane.group(1));
    assertThat(laneX < left || laneX > right).as("lane at %d, b from %d to %d", laneX, left, right).isTrue();
    Matcher label = Pattern.compile("<text x=\"(\\d+)\"[^>]*>p50 16 ms</text>").matcher(svg);
    assertThat(label.find()).isTrue();
    int lx = Integer.parseInt(label.group(1));
    assertThat(lx < left || lx > right).as("label at %d", lx).isTrue();
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
