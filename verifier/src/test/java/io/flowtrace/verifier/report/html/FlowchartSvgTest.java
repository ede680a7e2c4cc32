package io.flowtrace.verifier.report.html;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
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

  /** A trial's branch: the condition on the page's edge was drawn across the report's edge, so the report read as conditional. */
  @Test
  void aBranchsLabelCrossesNoOtherEdge() {
    String svg = FlowchartSvg.render(String.join("\n",
        "flowchart LR",
        "  e_x[(\"lab_orders_addon<br/>topic lab.orders.addon<br/>order-gateway\")]",
        "  e_v[(\"lab_results_verified<br/>topic lab.results.verified<br/>lab-middleware\")]",
        "  e_p([\"v1_pages_request<br/>CLIENT span, http.request.body<br/>notification-service\"])",
        "  e_r[(\"lab_reports_final<br/>topic lab.reports.final<br/>reporting-service\")]",
        "  e_v -->|\"when lab_results_verified.critical == true · p50 223.6 ms\"| e_p",
        "  e_v -->|\"p50 41.964 s\"| e_r",
        ""));

    List<int[]> labels = labels(svg);
    List<List<int[]>> courses = courses(svg);
    assertThat(labels).hasSize(2);
    assertThat(courses).hasSize(2);
    for (int i = 0; i < 2; i++) {
      int[] l = labels.get(i);
      for (int[] q : courses.get(1 - i)) {
        assertThat(q[0] >= l[0] && q[0] <= l[0] + l[2] && q[1] >= l[1] && q[1] <= l[1] + l[3])
            .as("label %d covers the other edge at %d,%d%n%s", i, q[0], q[1], svg).isFalse();
      }
    }
  }

  /**
   * A loan trial's data flow (documents asked for again, a payout webhook delivered again): the
   * label of the edge back up from a delivery crossed the lane of a long edge going around the same
   * rows. No label may cover a straight run of any edge.
   */
  @Test
  void noLabelOfALoanFlowWithLoopsCoversALaneOfAnyEdge() throws Exception {
    String source;
    try (var in = getClass().getResourceAsStream("/flowcharts/loan-origination.mmd")) {
      source = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
    String svg = FlowchartSvg.render(source);

    List<int[]> labels = labels(svg);
    assertThat(labels).hasSizeGreaterThan(20);
    Matcher path = Pattern.compile("<path d=\"([^\"]*)\" fill=\"none\"").matcher(svg);
    while (path.find()) {
      Matcher step = Pattern.compile("([MLC ])(-?\\d+),(-?\\d+)").matcher(path.group(1));
      int[] last = null;
      String op = "M";
      while (step.find()) {
        op = step.group(1).equals(" ") ? op : step.group(1);
        int[] p = {Integer.parseInt(step.group(2)), Integer.parseInt(step.group(3))};
        if (op.equals("L") && last != null) {
          for (int k = 0; k <= 20; k++) {
            int qx = last[0] + (p[0] - last[0]) * k / 20;
            int qy = last[1] + (p[1] - last[1]) * k / 20;
            for (int[] l : labels) {
              assertThat(qx >= l[0] && qx <= l[0] + l[2] && qy >= l[1] && qy <= l[1] + l[3])
                  .as("a label at %d,%d covers a line at %d,%d", l[0], l[1], qx, qy).isFalse();
            }
          }
        }
        last = p;
      }
    }
  }

  /** Callers from outside (a nurse's handheld, a lab instrument) stand above what they call, not in the top row. */
  @Test
  void aCallerFromOutsideStandsRightAboveWhatItCalls() {
    String svg = FlowchartSvg.render(String.join("\n",
        "flowchart LR",
        "  h_client{{\"client\"}}",
        "  s_gw[\"order-gateway\"]",
        "  t_created[(\"orders.created\")]",
        "  s_coll[\"collection-service\"]",
        "  t_coll[(\"specimens.collected\")]",
        "  s_lab[\"lab-middleware\"]",
        "  h_nurse{{\"external caller\"}}",
        "  h_analyzer{{\"external caller\"}}",
        "  h_client -->|\"POST /api/lab-orders\"| s_gw",
        "  s_gw -->|produces| t_created",
        "  t_created -->|consumed by| s_coll",
        "  s_coll -->|produces| t_coll",
        "  t_coll -->|consumed by| s_lab",
        "  h_nurse -->|\"POST /api/specimens/{id}/collected\"| s_coll",
        "  h_analyzer -->|\"POST /webhooks/analyzer/results\"| s_lab",
        ""));

    int[] callers = tops(svg, "external caller");
    assertThat(callers).hasSize(2);
    assertThat(callers[0]).isGreaterThan(top(svg, "order-gateway")).isLessThan(top(svg, "collection-service"));
    assertThat(callers[1]).isGreaterThan(top(svg, "collection-service")).isLessThan(top(svg, "lab-middleware"));
  }

  @Test
  void edgesGoingAroundTheSameRowsRunInLanesOfTheirOwn() {
    String svg = FlowchartSvg.render(String.join("\n",
        "flowchart LR",
        "  e_a[\"a\"]",
        "  e_b[\"b in the way\"]",
        "  e_c[\"c in the way too\"]",
        "  e_d[\"d\"]",
        "  e_e[\"e\"]",
        "  e_a --> e_b",
        "  e_b --> e_c",
        "  e_c --> e_d",
        "  e_d --> e_e",
        "  e_a -->|\"one\"| e_d",
        "  e_a -->|\"two\"| e_e",
        ""));

    Matcher lane = Pattern.compile("<path d=\"M[^\"]* L(\\d+),[^\"]*\" fill=\"none\"").matcher(svg);
    java.util.List<Integer> lanes = new java.util.ArrayList<>();
    while (lane.find()) {
      lanes.add(Integer.parseInt(lane.group(1)));
    }
    assertThat(lanes).as(svg).hasSize(2);
    assertThat(Math.abs(lanes.get(0) - lanes.get(1))).as("lanes at %s", lanes).isGreaterThanOrEqualTo(10);
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

  /** Every edge label's box: x, top, width, height. */
  private static List<int[]> labels(String svg) {
    List<int[]> labels = new ArrayList<>();
    Matcher t = Pattern.compile("<text x=\"(-?\\d+)\" y=\"(-?\\d+)\" font-size=\"10\" text-anchor=\"(start|end)\"[^>]*>([^<]*)</text>")
        .matcher(svg);
    while (t.find()) {
      int w = 6 * t.group(4).replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").length();
      int x = Integer.parseInt(t.group(1));
      labels.add(new int[] {t.group(3).equals("end") ? x - w : x, Integer.parseInt(t.group(2)) - 10, w, 13});
    }
    return labels;
  }

  /** Points along every edge drawn as one curve ("M x,y C x,y x,y x,y"). */
  private static List<List<int[]>> courses(String svg) {
    List<List<int[]>> out = new ArrayList<>();
    Matcher m = Pattern.compile("<path d=\"M(-?\\d+),(-?\\d+) C(-?\\d+),(-?\\d+) (-?\\d+),(-?\\d+) (-?\\d+),(-?\\d+)\" fill=\"none\"")
        .matcher(svg);
    while (m.find()) {
      double[] v = new double[8];
      for (int i = 0; i < 8; i++) {
        v[i] = Integer.parseInt(m.group(i + 1));
      }
      List<int[]> course = new ArrayList<>();
      for (int k = 0; k <= 40; k++) {
        double t = k / 40.0;
        double u = 1 - t;
        course.add(new int[] {
            (int) Math.round(u * u * u * v[0] + 3 * u * u * t * v[2] + 3 * u * t * t * v[4] + t * t * t * v[6]),
            (int) Math.round(u * u * u * v[1] + 3 * u * u * t * v[3] + 3 * u * t * t * v[5] + t * t * t * v[7])});
      }
      out.add(course);
    }
    return out;
  }

  /** The ys of every node's first text line that reads {@code label}, in order. */
  private static int[] tops(String svg, String label) {
    Matcher m = Pattern.compile("<text x=\"\\d+\" y=\"(\\d+)\"[^>]*>" + Pattern.quote(label) + "</text>").matcher(svg);
    List<Integer> out = new ArrayList<>();
    while (m.find()) {
      out.add(Integer.parseInt(m.group(1)));
    }
    return out.stream().mapToInt(Integer::intValue).sorted().toArray();
  }

  /** The y of the first text line naming the node. */
  private static int top(String svg, String label) {
    Matcher m = Pattern.compile("<text x=\"\\d+\" y=\"(\\d+)\"[^>]*>" + Pattern.quote(label) + "</text>").matcher(svg);
    assertThat(m.find()).as(label).isTrue();
    return Integer.parseInt(m.group(1));
  }
}
